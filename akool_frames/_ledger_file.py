"""The ledger's file before SQLite opens it: where it may live, whether it is a database at all, and what a failed
open leaves beside it. A damaged ledger is named as damaged, never as a path to replace: a new ledger knows none of
the jobs the old one recorded, and would pay for each of them again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ._errors import LedgerError

__all__ = ["HEADER", "check_header", "check_place", "guarded", "is_damage", "ledger_damaged", "sides_made"]

T = TypeVar("T")

HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def ledger_damaged(path: Path, cause: object) -> LedgerError:
    """The error for a ledger SQLite cannot read ("file is not a database", "database disk image is malformed")."""
    return LedgerError(
        f"The ledger at {path} is damaged ({cause}): SQLite cannot read it, so it cannot tell which rows were "
        "already sent and paid for. A new ledger would send and pay again for every job this one recorded.\n\n"
        f'Hint: recover what it holds with sqlite3 "{path}" ".recover" | sqlite3 "{path}.recovered" (an sqlite3 '
        "with .recover: 3.29 or newer, built with it; Debian 12's is not) and pass ledger= the recovered file, "
        "or restore the file from a backup; keep the damaged file. (If ledger= names "
        "another file by mistake, give the ledger's path.)")


def is_damage(exc: sqlite3.DatabaseError) -> bool:
    """SQLite says the file is no database, or a page of it is corrupt (as opposed to busy or unwritable)."""
    name = getattr(exc, "sqlite_errorname", "")
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or any(
        words in str(exc) for words in ("malformed", "not a database"))


def guarded(path: Path, op: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """``op``, a write on the ledger's connection, with a damaged page it meets named as such (the writer would
    only say it cannot write)."""
    def write(db: sqlite3.Connection) -> T:
        try:
            return op(db)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise ledger_damaged(path, exc) from exc
            raise
    return write


def check_place(path: Path) -> None:
    """The ledger is a file in a folder: say so when its path is a folder, or when a file stands where a folder on
    the way to it is needed (mkdir alone would say "File exists", or "Not a directory")."""
    if path.is_dir():
        raise LedgerError(f"The ledger path {path} is a folder; the ledger is a file.\n\n"
                          f"Hint: pass ledger= a file path, e.g. {path / 'ledger.sqlite'}.")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise LedgerError(f"Cannot make the ledger at {path}: {blocking} is a file, and a folder is needed there to "
                          "hold the ledger.\n\nHint: pass ledger= a path inside a folder, or move that file away.")


def check_header(path: Path) -> None:
    """A file that is not empty and does not begin as every SQLite database does is damaged (or not a ledger).
    Checked before connecting, so that nothing is made beside it. (An empty file is a new database to SQLite.)"""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(HEADER))
    except FileNotFoundError:
        return
    if head and head != HEADER:
        raise ledger_damaged(path, "file is not a database: it does not begin as SQLite files do")


def sides_made(path: Path) -> Callable[[], None]:
    """Note the -wal and -shm files beside ``path`` now; the function returned removes those that appeared since
    (a failed open's: the -shm, and a -wal that is empty). Files there before are never touched: an earlier run's
    WAL may hold writes the database file does not have yet."""
    sides = [Path(f"{path}{end}") for end in ("-wal", "-shm")]
    before = [side.exists() for side in sides]

    def remove() -> None:
        for side, existed in zip(sides, before, strict=True):
            if not existed and side.exists() and (side.name.endswith("-shm") or side.stat().st_size == 0):
                side.unlink(missing_ok=True)
    return remove
