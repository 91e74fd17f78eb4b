"""What the ledger remembers of saved results (the ``saves`` table): which job's result was written, as which file,
in which folder, at what size, so that a re-run of ``run(..., save_to=...)`` saves nothing twice and ``download``
knows the size a file it finds should have. A folder is recorded as ``Storage.address`` (an absolute path, or a
URI without credentials); a ledger from before this table gets it when opened (``_file.setup``)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

__all__ = ["Saved", "Saves"]


class Saved(NamedTuple):
    """One result saved: the file's name in its folder (with its extension), its size, and when."""

    file: str
    size: int
    saved_at: float


class Saves:
    """The ledger's reads and writes of ``saves`` (mixed into ``Ledger``, whose connection and writer they use)."""

    _rows: Callable[..., Iterator[tuple[Any, ...]]]
    _submit: Callable[[Callable[[sqlite3.Connection], Any]], Any]

    def saved(self, folder: str, job_ids: Iterable[str]) -> dict[tuple[str, str], Saved]:
        """What was saved in ``folder`` of these jobs' results: (job id, name without extension) -> ``Saved``."""
        ids = [i for i in dict.fromkeys(job_ids) if i]
        found: dict[tuple[str, str], Saved] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i: i + 500]
            for job_id, name, file, size, at in self._rows(
                    f"SELECT job_id, name, file, size, saved_at FROM saves WHERE folder = ? AND job_id IN "
                    f"({','.join('?' * len(chunk))})", (folder, *chunk)):
                found[(job_id, name)] = Saved(file, size, at)
        return found

    def record_saves(self, saves: Sequence[tuple[str, str, str, str, int]]) -> Any:
        """Results now saved: (job id, folder, name without extension, file name, size); the last save of a name
        in a folder is the one kept."""
        now = time.time()
        rows = [(*save, now) for save in saves]
        return self._submit(lambda db: db.executemany("INSERT OR REPLACE INTO saves VALUES (?,?,?,?,?,?)", rows))
