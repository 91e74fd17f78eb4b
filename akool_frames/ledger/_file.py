"""The ledger's file before SQLite opens it: where it may live, whether it is a database at all, and what a failed
open leaves beside it. A damaged ledger is named as damaged, never as a path to replace: a new ledger knows none of
the jobs the old one recorded, and would pay for each of them again. Then opening it: WAL, the tables, and the
columns a ledger from an earlier version lacks.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .._errors import LedgerError
from ._campaigns import SQLITE, campaign_tables
from ._entries import _ADDED, _SCHEMA
from ._writer import BUSY_STEP, busy_message, is_busy

__all__ = [
    "HEADER", "check_header", "check_place", "connect", "guarded", "is_damage", "ledger_damaged", "open_ledger",
    "setup", "sides_made",
]

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
        msg = (f"The ledger path {path} is a folder; the ledger is a file.\n\n"
               f"Hint: pass ledger= a file path, e.g. {path / 'ledger.sqlite'}.")
        raise LedgerError(msg)
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        msg = (f"Cannot make the ledger at {path}: {blocking} is a file, and a folder is needed there to "
               "hold the ledger.\n\nHint: pass ledger= a path inside a folder, or move that file away.")
        raise LedgerError(msg)


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


# --------------------------------------------------------------------------------- opening it
def open_ledger(path: Path, timeout: float) -> sqlite3.Connection:
    """Connect and set up, waiting (up to ``timeout``) while another process holds the database. A damaged
    file is refused as such, and leaves no -wal/-shm files of this attempt beside it."""
    check_place(path)
    made = sides_made(path)
    deadline = time.monotonic() + timeout
    while True:
        db = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            check_header(path)  # before connecting: a file that is no database gets nothing beside it
            db = connect(path, BUSY_STEP)
            setup(db)
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")  # reads wait as long as writes
            return db
        except sqlite3.OperationalError as exc:
            if db is not None:
                db.close()
            if is_busy(exc) and time.monotonic() < deadline:
                continue
            if is_busy(exc):
                msg = (f"{busy_message(None, path, timeout)}.\n\nHint: let that run finish, or give "
                       "this one its own ledger= path.")
            else:
                msg = f"Cannot open the ledger at {path}: {exc}.\n\nHint: pass ledger= a writable path."
            raise LedgerError(msg) from exc
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                db.close()
            if isinstance(exc, sqlite3.DatabaseError) and is_damage(exc):
                made()  # the -wal/-shm this failed open made beside the file: removed
                raise ledger_damaged(path, exc) from exc
            msg = f"Cannot open the ledger at {path}: {exc}.\n\nHint: pass ledger= a writable path."
            raise LedgerError(msg) from exc


CHECKPOINT_PAGES = 10_000  # WAL pages (4 KiB) between automatic checkpoints


def connect(path: Path, busy: float) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=busy)
    db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process
    # Checkpoints (the WAL copied back into the file, with an fsync) every ~40 MB of WAL rather than SQLite's 4 MB:
    # a run rewrites the same pages again and again, and at 4 MB a checkpoint came every ~10 transactions, a
    # quarter of the client's CPU per row at 100,000 rows (bench/README.md). The file shrinks back to 8 MB after.
    db.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
    db.execute(f"PRAGMA journal_size_limit={8 << 20}")
    return db


def setup(db: sqlite3.Connection) -> None:
    """WAL, the tables, and the tables and columns a ledger from an earlier version lacks (``saves``, ``owner``
    ...); a ledger that has them all is not written to (opening it never waits for another writer)."""
    db.execute("PRAGMA journal_mode=WAL")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = {row[1] for row in db.execute("PRAGMA table_info(submissions)")}
    if {"submissions", "writers", "balances", "media", "saves", "campaigns", "campaign_rows"} <= tables \
            and set(_ADDED) <= columns:
        return
    db.execute("BEGIN IMMEDIATE")  # one process at a time; a deferred one could not wait for another
    try:
        for statement in filter(str.strip, (_SCHEMA + ";" + campaign_tables(SQLITE)).split(";")):  # (executescript commits)
            db.execute(statement)
        have = {row[1] for row in db.execute("PRAGMA table_info(submissions)")}
        for name, kind in _ADDED.items():
            if name not in have:
                db.execute(f"ALTER TABLE submissions ADD COLUMN {name} {kind}")
        db.execute("CREATE INDEX IF NOT EXISTS submissions_owner ON submissions (owner) WHERE owner IS NOT NULL")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
