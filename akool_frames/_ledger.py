"""The ledger: one SQLite (WAL) row per submission, so that no row is ever paid for twice.

Key = sha256 of provider, job and the canonical body (callback fields excluded). States:
``intent`` is written and committed *before* the create is sent; the job id the moment the create
answers; the terminal state when known. A key whose latest attempt is only an intent after a crash
is ``unknown``: it may or may not exist at the provider, and is never resubmitted on its own.
It stores request bodies and results, never a credential.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._errors import LedgerError

__all__ = ["CALLBACK_FIELDS", "Entry", "Ledger", "ledger_key"]

CALLBACK_FIELDS = frozenset({"webhookUrl", "webhookurl", "callback_url"})
TERMINAL = frozenset({"completed", "failed", "rejected"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    provider TEXT NOT NULL,
    job TEXT NOT NULL,
    body TEXT NOT NULL,
    job_id TEXT,
    status TEXT NOT NULL,
    url TEXT,
    credits_est REAL,
    credits REAL,
    error TEXT,
    created_at REAL NOT NULL,
    submitted_at REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (key, attempt)
);
CREATE INDEX IF NOT EXISTS submissions_job_id ON submissions (job_id);
"""


def ledger_key(provider: str, job: str, body: Mapping[str, Any]) -> str:
    canonical = {k: v for k, v in body.items() if k not in CALLBACK_FIELDS}
    text = json.dumps([provider, job, canonical], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Entry:
    key: str
    attempt: int
    provider: str
    job: str
    body: str
    job_id: str | None
    status: str  # intent | queued | processing | completed | failed | rejected | unknown
    url: str | None
    credits_est: float | None
    credits: float | None
    error: str | None
    created_at: float
    submitted_at: float | None
    updated_at: float

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


class Ledger:
    """Thread-safe access to the ledger file; every write is committed before it returns."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            msg = f"Cannot open the ledger at {self.path}: {exc}.\n\nHint: pass ledger= a writable path."
            raise LedgerError(msg) from exc
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise LedgerError(f"Cannot write the ledger at {self.path}: {exc}") from exc

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Entry]:
        with self._lock:
            cursor = self._db.execute(sql, args)
            return [Entry(*row) for row in cursor.fetchall()]

    # ------------------------------------------------------------------ reads
    def latest(self, keys: Iterable[str]) -> dict[str, Entry]:
        """The latest attempt of each key that has one."""
        keys = list(dict.fromkeys(keys))
        found: dict[str, Entry] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i: i + 500]
            marks = ",".join("?" * len(chunk))
            for entry in self._read(
                f"SELECT * FROM submissions s WHERE key IN ({marks}) AND attempt = "
                "(SELECT MAX(attempt) FROM submissions WHERE key = s.key)", chunk):
                found[entry.key] = entry
        return found

    def by_job_ids(self, job_ids: Iterable[str]) -> dict[str, Entry]:
        ids = [i for i in dict.fromkeys(job_ids) if i]
        found: dict[str, Entry] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i: i + 500]
            for entry in self._read(f"SELECT * FROM submissions WHERE job_id IN ({','.join('?' * len(chunk))})", chunk):
                found[str(entry.job_id)] = entry
        return found

    def claimed_job_ids(self, job: str) -> set[str]:
        with self._lock:
            rows = self._db.execute("SELECT job_id FROM submissions WHERE job = ? AND job_id IS NOT NULL", (job,))
            return {r[0] for r in rows.fetchall()}

    def entries(self) -> list[dict[str, Any]]:
        """Every attempt, oldest first, as plain dicts (for ``af.ledger()``)."""
        return [asdict(e) for e in self._read("SELECT * FROM submissions ORDER BY created_at, key, attempt")]

    # ------------------------------------------------------------------ writes
    def intend(self, items: Sequence[tuple[str, str, str, Mapping[str, Any], float | None]], *, new_attempt: bool) -> None:
        """Write intents (key, provider, job, body, estimate) before anything is sent.

        ``new_attempt`` adds an attempt after the latest (a key the ledger already has: ``force=True``,
        a rejected or skipped row sent again, a lost create proven absent); otherwise the key's first
        attempt is written.
        """
        now = time.time()
        rows = []
        latest = self.latest(k for k, *_ in items) if new_attempt else {}
        for key, provider, job, body, estimate in items:
            attempt = latest[key].attempt + 1 if key in latest else 1
            canonical = json.dumps({k: v for k, v in body.items() if k not in CALLBACK_FIELDS}, sort_keys=True,
                                   ensure_ascii=False, default=str)
            rows.append((key, attempt, provider, job, canonical, None, "intent", None, estimate, None, None, now,
                         None, now))
        self._write("INSERT INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def submitted(self, key: str, job_id: str, status: str, credits: float | None = None) -> None:
        """The job id of the key's latest attempt: from the create's answer, or found again after the
        answer was lost (the error that said so is cleared)."""
        now = time.time()
        self._write(
            "UPDATE submissions SET job_id = ?, status = ?, credits = COALESCE(?, credits), error = NULL, "
            "submitted_at = ?, updated_at = ? WHERE key = ? AND attempt = "
            "(SELECT MAX(attempt) FROM submissions WHERE key = ?)",
            [(job_id, status, credits, now, now, key, key)])

    def settle(self, key: str, status: str, error: str | None) -> None:
        """A create that made no job (``rejected``, ``skipped``) or may have made one (``unknown``)."""
        now = time.time()
        self._write("UPDATE submissions SET status = ?, error = ?, updated_at = ? WHERE key = ? AND attempt = "
                    "(SELECT MAX(attempt) FROM submissions WHERE key = ?)", [(status, error, now, key, key)])

    def update(self, updates: Iterable[tuple[str, str, str | None, float | None, str | None]]) -> None:
        """Poll results in one transaction: (job_id, status, url, credits, error)."""
        now = time.time()
        self._write("UPDATE submissions SET status = ?, url = COALESCE(?, url), credits = COALESCE(?, credits), "
                    "error = COALESCE(?, error), updated_at = ? WHERE job_id = ?",
                    [(status, url, credits, error, now, job_id) for job_id, status, url, credits, error in updates])

    def note_error(self, job_id: str, error: str) -> None:
        """Say why a job is no longer followed, leaving its status as last seen."""
        self._write("UPDATE submissions SET error = ?, updated_at = ? WHERE job_id = ?", [(error, time.time(), job_id)])
