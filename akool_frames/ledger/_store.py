"""The ledger: one SQLite (WAL) row per submission attempt, so that no row is ever paid for twice.

Key = sha256 of provider, job and the canonical body (callback fields excluded). States: ``intent`` is
written and committed *before* the create is sent; the job id the moment the create answers; the
terminal state when known. A key whose latest attempt is only an intent after a crash is ``unknown``: it
may or may not exist at the provider, and is never resubmitted on its own.

Several runs may share one ledger at once (two notebooks in one folder, a notebook and the CLI, two
``arun`` tasks). Each run registers as a *writer*; before a create is sent, the run *claims* the row's key
in one ``BEGIN IMMEDIATE`` transaction that reads the key's latest attempt and decides (``decide``):
send it (a new attempt, owned by this run), follow the job another run made, wait for the run that is
sending it right now, or take over a create nobody is working on any more (a killed run's) and reconcile
it through the provider's list before anyone sends again. A claim belongs to its run until the create
answers or the run ends; a run is alive while its process is (or, from another host, its heartbeat).

It stores request bodies and results, never a credential.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._errors import LedgerError
from ._campaigns import SQLITE, Campaigns, over_budget
from ._entries import _AS_ROW, _COLUMNS, _COLUMNS_NO_BODY, _INSERT, _LATEST, PUBLIC_COLUMNS, Claim, Entry, decide_all
from ._file import connect, guarded, is_damage, ledger_damaged, open_ledger
from ._saves import Saves
from ._writer import HOST, WriterThread, Written, busy_message, process_alive, process_start

__all__ = ["Ledger"]

LEASE = 60.0  # seconds without a heartbeat after which a writer on another host is taken for dead
_ACTIVE: set[str] = set()  # writers of this process that have not ended (checked without the database)


class Ledger(Saves, Campaigns):
    """The ledger file. Reads run in the caller's thread; writes run on the ledger's writer thread and
    return a ``Written`` future (``await`` it, or ``.result()``), resolved once committed.

    ``timeout``: seconds a write waits for another process holding the database before it fails.
    """

    def __init__(self, path: str | Path, *, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.pid = os.getpid()  # the process that opened it
        self._mine: set[str] = set()  # writers registered through this object and not ended
        self._db = open_ledger(self.path, timeout)
        self._lock = threading.Lock()
        self._writer = WriterThread(self.path, timeout, functools.partial(connect, self.path), self._beat)

    dialect = SQLITE

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._rows(sql, args))

    def close(self) -> None:
        self._writer.close()
        with self._lock:
            self._db.close()

    @property
    def max_wait(self) -> float:
        """The longest a write of this process waited for another writer, in seconds."""
        return self._writer.max_wait

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Entry]:
        return [Entry(*row) for row in self._rows(sql, args)]

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """The rows of a read, one at a time (a whole ledger read is not held twice), under the ledger's lock."""
        with self._reading() as db:
            yield from db.execute(sql, args)

    def _submit(self, op: Callable[[sqlite3.Connection], Any]) -> Written:
        return self._writer.submit(guarded(self.path, op))

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        """The reading connection, under the ledger's lock; a page found damaged mid-read is named as such."""
        with self._lock:
            try:
                yield self._db
            except sqlite3.DatabaseError as exc:
                if is_damage(exc):
                    raise ledger_damaged(self.path, exc) from exc
                if isinstance(exc, sqlite3.OperationalError):
                    msg = f"{busy_message(self._db, self.path, self.timeout)}: {exc}"
                    raise LedgerError(msg) from exc
                raise

    # ------------------------------------------------------------------ reads
    def latest(self, keys: Iterable[str], *, bodies: bool = True) -> dict[str, Entry]:
        """The latest attempt of each key that has one (``bodies=False``: with an empty body, for outcomes)."""
        wanted = set(keys)
        columns = _COLUMNS if bodies else _COLUMNS_NO_BODY
        [(size,)] = self._rows("SELECT MAX(rowid) FROM submissions")  # about the attempts it holds, at no cost
        if wanted and len(wanted) * 4 >= (size or 0):
            # A quarter of the ledger or more (a re-run of a whole campaign): reading it in its own order is
            # faster than looking each key up (100,000 keys: 0.4 s instead of 0.7 s).
            rows: dict[str, tuple[Any, ...]] = {}
            for row in self._rows(f"SELECT {columns} FROM submissions"):
                if row[0] in wanted and (row[0] not in rows or rows[row[0]][1] < row[1]):  # (key, attempt)
                    rows[row[0]] = row
            return {key: Entry(*row) for key, row in rows.items()}
        keys = sorted(wanted)  # in the index's order: each chunk reads neighbouring pages (100,000 keys: 2x faster)
        found: dict[str, Entry] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i: i + 500]
            for entry in self._read(_LATEST.format(columns=columns, marks=",".join("?" * len(chunk))), chunk):
                found[entry.key] = entry
        return found

    @staticmethod
    def _latest_in(db: sqlite3.Connection, keys: Sequence[str]) -> dict[str, Entry]:
        """The latest attempt of each key, read on ``db`` (a write's own connection, inside its transaction)."""
        found: dict[str, Entry] = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i: i + 500]
            for row in db.execute(_LATEST.format(columns=_COLUMNS, marks=",".join("?" * len(chunk))), chunk):
                found[row[0]] = Entry(*row)
        return found

    def videos(self, entries: Iterable[Entry]) -> dict[str, list[Entry]]:
        """The other jobs one create made (an image-to-video batch's videos 2..n), by the main entry's key: the
        attempts ``{key}#2``, ``{key}#3``, ... of the same attempt, in order."""
        found: dict[str, list[Entry]] = {}
        for entry in entries:
            # keys are hex digests: "#" < "$" brackets exactly the "{key}#..." ones, using the primary key's index
            rows = self._read(f"SELECT {_COLUMNS} FROM submissions WHERE key > ? AND key < ? AND attempt = ?",
                              (entry.key + "#", entry.key + "$", entry.attempt))
            if rows:
                found[entry.key] = sorted(rows, key=lambda e: int(e.key.rsplit("#", 1)[1]))
        return found

    def by_job_ids(self, job_ids: Iterable[str]) -> dict[str, Entry]:
        ids = [i for i in dict.fromkeys(job_ids) if i]
        found: dict[str, Entry] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i: i + 500]
            for entry in self._read(f"SELECT {_COLUMNS} FROM submissions WHERE job_id IN ({','.join('?' * len(chunk))})", chunk):
                found[str(entry.job_id)] = entry
        return found

    def made_since(self, job: str, since: float) -> int:
        """Jobs of ``job`` that runs on this ledger made after ``since``: how deep in the provider's list (newest
        first) a create claimed at ``since`` can sit, as far as this ledger knows."""
        with self._reading() as db:
            row = db.execute("SELECT COUNT(*) FROM submissions WHERE job = ? AND job_id IS NOT NULL "
                             "AND created_at >= ?", (job, since)).fetchone()
            return int(row[0])

    def made_before(self, job: str, before: float, n: int) -> set[str]:
        """Up to ``n`` of the latest jobs of ``job`` whose ids this ledger learnt before ``before``: each was made
        at the provider before then (its id came back from it), so a newest-first list shows it below any job
        made after ``before``."""
        with self._reading() as db:
            rows = db.execute("SELECT job_id FROM submissions WHERE job = ? AND job_id IS NOT NULL AND "
                              "submitted_at <= ? ORDER BY submitted_at DESC LIMIT ?", (job, before, n))
            return {r[0] for r in rows.fetchall()}

    def entries(self) -> list[dict[str, Any]]:
        """Every attempt, oldest first, as plain dicts of ``PUBLIC_COLUMNS`` (for ``af.ledger()``)."""
        return [{name: getattr(e, name) for name in PUBLIC_COLUMNS}
                for e in self._read(f"SELECT {_COLUMNS} FROM submissions ORDER BY created_at, key, attempt")]

    # ------------------------------------------------------------------ writers (runs)
    def register(self, what: str) -> str:
        """A new writer (one run) in this process; returns its owner id. ``what`` says what it does."""
        owner = uuid.uuid4().hex
        now = time.time()
        _ACTIVE.add(owner)
        self._mine.add(owner)
        self._writer.start()  # its heartbeat tells other hosts this writer is alive
        # Committed before any claim in its name (writes keep their order): another process reading a
        # claim always finds its writer.
        self._submit(lambda db: db.execute(
            "INSERT INTO writers (owner, host, pid, pid_start, what, started_at, heartbeat_at) VALUES (?,?,?,?,?,?,?)",
            (owner, HOST, os.getpid(), process_start(os.getpid()), what, now, now)))
        return owner

    def release(self, owner: str) -> Written:
        """The run is over: its unanswered claims become crash leftovers for the next run to reconcile.
        Marked in this process at once (other runs here stop waiting on it); written when the writer gets to it."""
        _ACTIVE.discard(owner)
        self._mine.discard(owner)
        waited = self.max_wait

        def op(db: sqlite3.Connection) -> None:
            # A claim left here may have had its create on the wire: a later run looks it up only
            # reconcile_after from now (updated_at), not from when it was written.
            db.execute("UPDATE submissions SET owner = NULL, updated_at = ? WHERE owner = ?", (time.time(), owner))
            db.execute("UPDATE writers SET ended_at = ?, max_wait = MAX(max_wait, ?) WHERE owner = ?",
                       (time.time(), waited, owner))
        return self._submit(op)

    def _beat(self, db: sqlite3.Connection) -> None:
        for owner in list(self._mine):
            db.execute("UPDATE writers SET heartbeat_at = ?, max_wait = MAX(max_wait, ?) WHERE owner = ?",
                       (time.time(), self.max_wait, owner))

    @staticmethod
    def _alive(db: sqlite3.Connection) -> Callable[[str], bool]:
        """Whether a writer still runs: in this process, by the registry; on this host, by its process;
        elsewhere, by its heartbeat."""
        seen: dict[str, bool] = {}

        def alive(owner: str) -> bool:
            if owner not in seen:
                row = db.execute("SELECT host, pid, pid_start, heartbeat_at, ended_at FROM writers WHERE owner = ?",
                                 (owner,)).fetchone()
                if row is None or row[4] is not None:
                    seen[owner] = False
                elif row[0] == HOST and row[1] == os.getpid():
                    seen[owner] = owner in _ACTIVE
                elif row[0] == HOST:
                    seen[owner] = process_alive(row[1], row[2])
                else:
                    seen[owner] = time.time() - row[3] < LEASE
            return seen[owner]
        return alive

    # ------------------------------------------------------------------ writes
    def turn(self, owner: str, writes: Sequence[tuple[str, Any]]) -> Written:
        """The claims (``("claim", Claim)``) and job ids (``("submitted", (key, attempt, job id, status, credits))``)
        a run asked for together, in one transaction: per write, the claim's (decision, entry), or None.
        (A transaction apiece was a third of a run's CPU.)

        Each claim is decided (``decide``) against the key's latest attempt: ``send`` writes a new attempt as an
        intent owned by ``owner``; ``reconcile`` makes ``owner`` the owner of the latest attempt. Its entry: after
        ``send``, the new attempt; otherwise as found (for ``reconcile``, with the owner it had: None if its run
        ended). A job id ends the claim on its attempt."""
        claims = [w for kind, w in writes if kind == "claim"]
        ids = [w for kind, w in writes if kind == "submitted"]
        claim_op, ids_op = self._claim_op(owner, claims), self._submitted_op(ids)

        def op(db: sqlite3.Connection) -> list[Any]:
            decided = iter(claim_op(db) if claims else ())
            if ids:
                ids_op(db).close()
            return [next(decided) if kind == "claim" else None for kind, _ in writes]
        return self._submit(op)

    def _claim_op(self, owner: str, claims: Sequence[Claim]) -> Callable[[sqlite3.Connection], list[Any]]:
        def op(db: sqlite3.Connection) -> list[tuple[str, Any]]:  # (decision, entry; or "over", why)
            latest = self._latest_in(db, list({claim.key for claim in claims}))  # one read for the batch
            budgets: dict[str, Any] = {}  # the campaigns' figures, as this transaction changes them
            out, new, owned = decide_all(claims, latest, owner, self._alive(db), lambda claim: over_budget(
                db, str(claim.campaign), claim.key, claim.estimate, budgets, SQLITE))
            inserts = [_AS_ROW(entry) for entry in new]
            db.executemany(_INSERT, inserts)  # (one statement for the batch: the same writes, fewer calls)
            db.executemany("UPDATE submissions SET owner = ? WHERE key = ? AND attempt = ?", owned)
            return out
        return op

    @staticmethod
    def _submitted_op(rows: Sequence[tuple[str, int, str, str, float | None]]) -> Callable[[sqlite3.Connection], Any]:
        now = time.time()
        values = [(job_id, status, credits, now, now, status, now, key, attempt)
                  for key, attempt, job_id, status, credits in rows]
        return lambda db: db.executemany(
            "UPDATE submissions SET job_id = ?, status = ?, credits = COALESCE(?, credits), error = NULL, "
            "submitted_at = ?, updated_at = ?, owner = NULL, completed_at = CASE WHEN ? = 'completed' THEN ? END "
            "WHERE key = ? AND attempt = ?", values)

    def add_videos(self, key: str, attempt: int, jobs: Sequence[tuple[str, str, float | None]]) -> Written:
        """The other jobs an attempt's create made (job id, status, credits): attempts ``{key}#2``, ... of the
        same attempt, copying the main one's provider, job and body; nobody claims them."""
        now = time.time()
        rows = [(f"{key}#{n}", job_id, status, credits, now, now, now, status, now, key, attempt)
                for n, (job_id, status, credits) in enumerate(jobs, start=2)]
        return self._submit(lambda db: db.executemany(
            "INSERT OR IGNORE INTO submissions (key, attempt, provider, job, body, job_id, status, credits, "
            "created_at, submitted_at, updated_at, completed_at, price_basis) "
            "SELECT ?, attempt, provider, job, body, ?, ?, ?, ?, ?, ?, CASE WHEN ? = 'completed' THEN ? END, "
            "price_basis FROM submissions WHERE key = ? AND attempt = ?", rows))

    def settle(self, key: str, attempt: int, status: str, error: str | None, *, keep: bool = False) -> Written:
        """An attempt that made no job (``rejected``, ``skipped``) or may have made one (``unknown``). The
        claim ends, unless ``keep`` (the run is about to look the create up itself)."""
        now = time.time()
        return self._submit(lambda db: db.execute(
            "UPDATE submissions SET status = ?, error = ?, updated_at = ?, owner = CASE WHEN ? THEN owner END "
            "WHERE key = ? AND attempt = ?", (status, error, now, keep, key, attempt)))

    def update(self, updates: Iterable[Sequence[Any]]) -> Written:
        """Poll results in one transaction: (job_id, status, url, credits, error[, extra])."""
        now = time.time()
        rows = [(u[1], u[2], u[3], u[4], u[5] if len(u) > 5 else None, now, u[1], now, u[0]) for u in updates]
        return self._submit(lambda db: db.executemany(
            "UPDATE submissions SET status = ?, url = COALESCE(?, url), credits = COALESCE(?, credits), "
            "error = COALESCE(?, error), extra = COALESCE(?, extra), updated_at = ?, "
            "completed_at = COALESCE(completed_at, CASE WHEN ? = 'completed' THEN ? END) WHERE job_id = ?", rows))

    def media_lengths(self, urls: Iterable[str]) -> dict[str, float]:
        """Lengths in seconds of media URLs probed before (by any run on this ledger)."""
        urls = list(dict.fromkeys(urls))
        found: dict[str, float] = {}
        with self._reading() as db:
            for i in range(0, len(urls), 500):
                chunk = urls[i: i + 500]
                rows = db.execute(f"SELECT url, seconds FROM media WHERE url IN ({','.join('?' * len(chunk))})",
                                  chunk)
                found.update(rows.fetchall())
        return found

    def remember_lengths(self, lengths: Mapping[str, float]) -> Written:
        """Keep probed lengths of media URLs, so no later run fetches them again."""
        now = time.time()
        rows = [(url, seconds, now) for url, seconds in lengths.items()]
        return self._submit(lambda db: db.executemany("INSERT OR REPLACE INTO media VALUES (?,?,?)", rows))

    def record_balance(self, owner: str, job: str, provider: str, before: float, after: float, started_at: float,
                       job_ids: Sequence[str]) -> Written:
        """The account balance before and after a run that made ``job_ids`` (jobs whose answers report no
        credits): what calibration attributes to them."""
        now = time.time()
        return self._submit(lambda db: db.execute(
            "INSERT INTO balances VALUES (?,?,?,?,?,?,?,?)",
            (owner, job, provider, before, after, started_at, now, json.dumps(list(job_ids)))))

    def balance_records(self) -> list[dict[str, Any]]:
        with self._reading() as db:
            cursor = db.execute("SELECT * FROM balances ORDER BY started_at")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def others_wrote(self, owner: str, since: float) -> bool:
        """Whether another run wrote to the ledger since ``since`` (it may have spent credits meanwhile)."""
        with self._reading() as db:
            row = db.execute("SELECT COUNT(*) FROM writers WHERE owner != ? AND started_at <= ? AND "
                             "(ended_at IS NULL OR ended_at >= ?)", (owner, time.time(), since)).fetchone()
            return bool(row[0])

    def deleted(self, job_ids: Iterable[str], *, cancelled: bool = False) -> Written:
        """Results removed at the provider by ``delete()``; a cancelled job is failed, and says so."""
        now = time.time()
        rows = [(now, cancelled, cancelled, now, job_id) for job_id in job_ids]
        return self._submit(lambda db: db.executemany(
            "UPDATE submissions SET deleted_at = ?, status = CASE WHEN ? THEN 'failed' ELSE status END, "
            "error = CASE WHEN ? THEN 'cancelled by delete()' ELSE error END, updated_at = ? WHERE job_id = ?", rows))

    def lease_polls(self, owner: str, job_ids: Sequence[str], seconds: float) -> list[str]:
        """Every job: runs sharing an SQLite ledger (one machine) poll their jobs each (PostgreSQL shares them)."""
        return list(job_ids)

    def note_error(self, job_id: str, error: str) -> Written:
        """Say why a job is no longer followed, leaving its status as last seen."""
        now = time.time()
        return self._submit(lambda db: db.execute(
            "UPDATE submissions SET error = ?, updated_at = ? WHERE job_id = ?", (error, now, job_id)))
