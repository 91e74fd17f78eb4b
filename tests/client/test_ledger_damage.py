"""A damaged ledger is named as damaged: "file is not a database" or "malformed" says what that means (a
fresh ledger would pay again for every job this one recorded) and how to recover (sqlite3 ".recover", or the
backup), as ``af.LedgerError``, never "pass ledger= a writable path"; nothing is sent; opening it leaves no -wal/-shm
files of its own beside it. A ledger path under a file says a folder is needed."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

import akool_frames as af
from akool_frames.ledger._file import guarded
from tests.client.conftest import VOICE

PAGE = 4096


def _open(path: Path) -> af.LedgerError:
    with pytest.raises(af.LedgerError) as caught:
        af.Client(api_key="K" * 32, ledger=path).ledger  # opening it is what fails
    return caught.value


def _says_damaged(error: BaseException, path: Path) -> None:
    text = str(error)
    assert f"The ledger at {path} is damaged" in text
    assert "pay again for every job this one recorded" in text  # what a fresh ledger would mean
    assert f'sqlite3 "{path}" ".recover" | sqlite3 "{path}.recovered"' in text and "backup" in text  # how to recover
    assert "writable path" not in text


def _sides(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.glob(path.name + "-*"))


def _run(client: af.Client, rows: int) -> pd.DataFrame:
    df = pd.DataFrame({"t": [f"Line {i} of a campaign that fills the ledger's pages. " * 4 for i in range(rows)]})
    return df.akool.run("tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False)


@pytest.fixture
def real_ledger(sb: af.Sandbox, tmp_path: Path) -> Path:
    """A ledger a run of 200 rows wrote (closed: its WAL checkpointed into the file), of some 40 pages."""
    path = tmp_path / "ledger.sqlite"
    with af.Client(**sb.client_options(), ledger=path) as client:
        assert set(_run(client, 200)["akool_status"]) == {"completed"}
    assert _sides(path) == [] and path.stat().st_size >= 30 * PAGE
    return path


@pytest.mark.parametrize("garbage", [random.Random(0).randbytes(5000), b"hello", b"SQLite format 2\x00" + bytes(500)])
def test_a_file_that_is_no_database_is_named_damaged_and_left_alone(tmp_path: Path, garbage: bytes) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(garbage)
    error = _open(path)
    _says_damaged(error, path)
    assert "file is not a database" in str(error)
    assert _sides(path) == []  # no -wal, no -shm beside it
    assert path.read_bytes() == garbage  # not touched


def test_a_truncated_ledger_is_named_damaged_and_its_failed_open_leaves_nothing(real_ledger: Path) -> None:
    with open(real_ledger, "r+b") as fh:
        fh.truncate(5 * PAGE)  # the schema says tables reach pages that are gone
    error = _open(real_ledger)
    _says_damaged(error, real_ledger)
    assert "malformed" in str(error)
    assert _sides(real_ledger) == []  # the -wal and -shm SQLite made while failing are removed


def test_a_ledger_with_pages_overwritten_stops_the_run_before_anything_is_sent(sb: af.Sandbox,
                                                                               real_ledger: Path) -> None:
    pages = real_ledger.stat().st_size // PAGE
    with open(real_ledger, "r+b") as fh:  # page 1 (the schema) intact: the file opens; its tables do not read
        fh.seek(2 * PAGE)
        fh.write(random.Random(1).randbytes((pages - 3) * PAGE))
    creates = sb.stats()["creates"]
    with af.Client(**sb.client_options(), ledger=real_ledger) as client:
        with pytest.raises(af.LedgerError) as caught:
            _run(client, 200)  # the same rows: each was paid for once, and must not be again
    _says_damaged(caught.value, real_ledger)
    assert sb.stats()["creates"] == creates  # nothing sent
    assert _sides(real_ledger) == []


def test_a_wal_there_before_is_never_removed(real_ledger: Path) -> None:
    """An earlier run's -wal may hold writes the file lacks: a failed open keeps it as it was."""
    with open(real_ledger, "r+b") as fh:
        fh.truncate(5 * PAGE)
    wal = Path(f"{real_ledger}-wal")
    wal.write_bytes(b"")  # (an empty WAL: SQLite reads it as one without frames)
    _says_damaged(_open(real_ledger), real_ledger)
    assert wal.exists()


def test_a_write_meeting_a_damaged_page_is_named_damaged(tmp_path: Path) -> None:
    def broken(db: sqlite3.Connection) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    def busy(db: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("database is locked")

    path = tmp_path / "l.sqlite"
    with pytest.raises(af.LedgerError) as caught:
        guarded(path, broken)(sqlite3.connect(":memory:"))
    _says_damaged(caught.value, path)
    with pytest.raises(sqlite3.OperationalError):  # not damage: left to the writer's own handling
        guarded(path, busy)(sqlite3.connect(":memory:"))


@pytest.mark.parametrize("under", ["notes.txt/ledger.sqlite", "notes.txt/runs/ledger.sqlite"])
def test_a_ledger_path_under_a_file_says_a_folder_is_needed(tmp_path: Path, under: str) -> None:
    (tmp_path / "notes.txt").write_text("not a folder")
    error = _open(tmp_path / under)
    assert f"{tmp_path / 'notes.txt'} is a file, and a folder is needed" in str(error)
    assert "is damaged" not in str(error)
    assert (tmp_path / "notes.txt").read_text() == "not a folder"


def test_a_ledger_path_that_is_a_folder_says_so(tmp_path: Path) -> None:
    error = _open(tmp_path)
    assert "is a folder; the ledger is a file" in str(error) and str(tmp_path / "ledger.sqlite") in str(error)


def test_an_empty_file_is_a_new_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.touch()
    with af.Client(api_key="K" * 32, ledger=path) as client:
        assert client.ledger.entries() == []
