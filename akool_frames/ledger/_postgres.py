"""The ledger on PostgreSQL: the SQLite ledger's promises (``_store``), for runs on several machines at once.

``af.Client(ledger="postgresql://user@host:5432/db")`` (or ``AKOOL_FRAMES_LEDGER``) selects it. The same rows
(``Entry``), the same decisions (``decide``) and the same reads and writes as the SQLite ``Ledger``; what differs
is how they are made atomic across machines:

- a claim's transaction takes the advisory lock of each of its keys (``(KEYS, first 32 bits of the key)``, in
  ascending order, so two claims never wait on each other in a circle), then reads each key's latest attempt
  and decides: exactly one run, on any machine, wins a row; the others follow its job or wait for it;
- a run is alive while its process holds its liveness lock (``_pg_writer.Liveness``): a killed process's
  claims are taken over by the next run that meets them, and reconciled through the provider's list before
  anything is sent again, never resent blind;
- runs following the same jobs share the polling (``lease_polls``): each job is polled by one run at a time,
  which holds its lease (renewed at each poll, freed when the run ends, taken over once it expires); the
  others read what it found from the ledger.

Reads use a small pool of connections (psycopg-pool); writes go, in order, to one thread (``_pg_writer``).
The URL's password is kept apart (``DatabaseAddress``) and never shown: reprs, messages and logs use the URL
with ``***`` in its place.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError
from ._address import DatabaseAddress
from ._campaigns import POSTGRES, Campaigns, over_budget
from ._entries import _COLUMNS, _NAMES, Claim, decide_all
from ._pg_reads import PgReads
from ._pg_schema import CAMPAIGNS, CONNECT_TIMEOUT, SCHEMA, WRITERS, connect, driver, driver_error, key_lock, setup
from ._pg_writer import Liveness, PgWriter
from ._writer import HOST, Written, process_start

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresLedger"]

S = SCHEMA  # (every table is the schema's: the SQL below names it)
_INSERT = f"INSERT INTO {S}.submissions ({_COLUMNS}) VALUES ({', '.join(['%s'] * len(_NAMES))})"
STALE_LEASES = 3600.0  # seconds after which expired poll leases (of runs that died) are cleared away


class PostgresLedger(PgReads, Campaigns):
    """The ledger in a PostgreSQL database; see the module docstring. ``timeout``: seconds a claim waits for
    other processes' claims on the same rows before it fails."""

    def __init__(self, address: DatabaseAddress | str, *, timeout: float = 60.0) -> None:
        self.address = address if isinstance(address, DatabaseAddress) else DatabaseAddress(address)
        self.path = self.address.shown  # (for messages: never the password)
        self.timeout = timeout
        self.pid = os.getpid()  # the process that opened it
        self._mine: dict[str, int] = {}  # writers registered through this object and not ended -> lock id
        conn = connect(self.address)
        try:
            setup(conn, self.address)
        except BaseException:
            conn.close()
            raise
        self._liveness = Liveness(self.address, conn)  # (the setup's connection, kept for the liveness locks)
        self._pool = self._open_pool()
        self._writer = PgWriter(self.address, timeout, weakref.WeakMethod(self._beat))
        # Closed when closed, or when dropped unclosed (af.ledger(client=af.Client(ledger=url))): its connections
        # go with it. Never from a forked child: closing there would end the parent's sessions (and free its runs'
        # liveness locks).
        self._closer = weakref.finalize(self, _close, os.getpid(), self._writer, self._pool, self._liveness)

    def _open_pool(self) -> Any:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:  # (the postgres extra brings it with psycopg)
            self._liveness.close()
            msg = ("ledger= names a PostgreSQL database, which needs psycopg-pool.\n\n"
                   "Hint: pip install 'akool-frames[postgres]' (psycopg 3 with its binary package, and psycopg-pool).")
            raise ConfigError(msg) from None
        kwargs: dict[str, Any] = {"autocommit": True, "application_name": "akool_frames ledger reader",
                                  "connect_timeout": CONNECT_TIMEOUT}
        if self.address.password() is not None:
            kwargs["password"] = self.address.password()
        pool = ConnectionPool(self.address.conninfo, kwargs=kwargs, min_size=1, max_size=4, open=False,
                              name="akool-frames-ledger", num_workers=1, timeout=self.timeout,
                              check=ConnectionPool.check_connection)
        try:
            pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except driver().Error as exc:
            pool.close()
            self._liveness.close()
            raise driver_error(self.address, exc, "open") from None
        return pool

    dialect = POSTGRES

    def __repr__(self) -> str:
        return f"PostgresLedger({self.path!r})"

    def _fetch(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._query(sql, args)

    def close(self) -> None:
        self._closer()

    @property
    def max_wait(self) -> float:
        """The longest a claim of this process waited for another process's claims, in seconds."""
        return self._writer.max_wait

    def _submit(self, op: Callable[[psycopg.Connection[Any]], Any], locks: Sequence[int] = ()) -> Written:
        return self._writer.submit(op, locks)

    # ------------------------------------------------------------------ writers (runs)
    def register(self, what: str) -> str:
        """A new writer (one run) in this process; returns its owner id. Its liveness lock is held, and its row
        committed, before this returns: no claim in its name can be found without them."""
        owner = uuid.uuid4().hex
        lock_id = self._liveness.hold()
        now = time.time()
        self._writer.start()  # its heartbeat notices a lost liveness connection
        row = (owner, HOST, os.getpid(), process_start(os.getpid()), what, now, now, lock_id)

        def op(db: psycopg.Connection[Any]) -> None:
            db.execute(f"INSERT INTO {S}.writers (owner, host, pid, pid_start, what, started_at, heartbeat_at, "
                       "lock_id) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)", row)
            db.execute(f"DELETE FROM {S}.polls WHERE leased_until < %s", (now - STALE_LEASES,))
        # Committed before this returns (a round trip, once a run): before any claim in its name, and seen by every
        # process from now on.
        try:
            self._submit(op).result(self.timeout + 5)
        except BaseException:
            self._liveness.free(lock_id)
            raise
        self._mine[owner] = lock_id
        return owner

    def release(self, owner: str) -> Written:
        """The run is over: its unanswered claims become crash leftovers for the next run to reconcile, its poll
        leases are freed, and once that is committed, its liveness lock."""
        lock_id = self._mine.pop(owner, None)
        waited = self.max_wait

        def op(db: psycopg.Connection[Any]) -> None:
            now = time.time()
            db.execute(f"UPDATE {S}.submissions SET owner = NULL, updated_at = %s WHERE owner = %s", (now, owner))
            db.execute(f"UPDATE {S}.writers SET ended_at = %s, max_wait = GREATEST(max_wait, %s) WHERE owner = %s",
                       (now, waited, owner))
            db.execute(f"DELETE FROM {S}.polls WHERE owner = %s", (owner,))
        written = self._submit(op)
        if lock_id is not None:
            written.add_done_callback(lambda _: self._liveness.free(lock_id))
        return written

    def _beat(self, db: psycopg.Connection[Any]) -> None:
        """(Called by the writer's thread every few seconds, in a transaction of its own writes.)"""
        if self._mine:
            db.execute(f"UPDATE {S}.writers SET heartbeat_at = %s, max_wait = GREATEST(max_wait, %s) "
                       "WHERE owner = ANY(%s)", (time.time(), self.max_wait, list(self._mine)))
            self._liveness.check()

    @staticmethod
    def _alive(db: psycopg.Connection[Any]) -> Callable[[str], bool]:
        """Whether a writer still runs: not ended, and its process still holds its liveness lock (a shared lock
        on its id is refused). A writer this ledger does not know is not running."""
        seen: dict[str, bool] = {}

        def alive(owner: str) -> bool:
            if owner not in seen:
                row = db.execute(f"SELECT ended_at IS NULL AND NOT pg_try_advisory_xact_lock_shared(%s, lock_id) "
                                 f"FROM {S}.writers WHERE owner = %s", (WRITERS, owner)).fetchone()
                seen[owner] = bool(row and row[0])
            return seen[owner]
        return alive

    # ------------------------------------------------------------------ writes
    def turn(self, owner: str, writes: Sequence[tuple[str, Any]]) -> Written:
        """The claims (``("claim", Claim)``) and job ids (``("submitted", (key, attempt, job id, status, credits))``)
        a run asked for together, in one transaction: per write, the claim's (decision, entry), or None. As
        ``Ledger.turn``; the claims hold their keys' locks until it commits."""
        claims = [w for kind, w in writes if kind == "claim"]
        ids = [w for kind, w in writes if kind == "submitted"]
        claim_op, ids_op = self._claim_op(owner, claims), self._submitted_op(ids)

        def op(db: psycopg.Connection[Any]) -> list[Any]:
            decided = iter(claim_op(db) if claims else ())
            if ids:
                ids_op(db)
            return [next(decided) if kind == "claim" else None for kind, _ in writes]
        # The claims' key locks, which the writer takes for its whole transaction before any write in it: every
        # key of every claim in the transaction at once, in ascending order (taken turn by turn, two transactions
        # could each hold a key the other waits for). A claim of any of these keys elsewhere waits for its commit.
        return self._submit(op, locks=[key_lock(claim.key) for claim in claims])

    def _claim_op(self, owner: str, claims: Sequence[Claim]) -> Callable[[psycopg.Connection[Any]], list[Any]]:
        def op(db: psycopg.Connection[Any]) -> list[tuple[str, Any]]:  # (decision, entry; or "over", why)
            keys = sorted({claim.key for claim in claims})  # (locked by now: see turn)
            latest = self._latest_in(db, keys)  # one read for the batch, under the locks
            budgets: dict[str, Any] = {}  # the campaigns' figures, as this transaction changes them

            def reserve(claim: Claim) -> str | None:
                if claim.campaign not in budgets:  # the campaign held till commit: its figures cannot move
                    db.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (CAMPAIGNS, claim.campaign))
                return over_budget(db, str(claim.campaign), claim.key, claim.estimate, budgets, POSTGRES)

            out, new, owned = decide_all(claims, latest, owner, self._alive(db), reserve)
            inserts = [tuple(getattr(entry, name) for name in _NAMES) for entry in new]
            with db.cursor() as cursor:
                if inserts:  # (no other claim can add these attempts: their keys are locked)
                    cursor.executemany(_INSERT, inserts)
                if owned:
                    cursor.executemany(f"UPDATE {S}.submissions SET owner = %s WHERE key = %s AND attempt = %s", owned)
            return out
        return op

    @staticmethod
    def _submitted_op(rows: Sequence[tuple[str, int, str, str, float | None]]) -> Callable[[Any], None]:
        now = time.time()
        values = [(job_id, status, credits, now, now, now if status == "completed" else None, key, attempt)
                  for key, attempt, job_id, status, credits in rows]

        def op(db: psycopg.Connection[Any]) -> None:
            with db.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {S}.submissions SET job_id = %s, status = %s, credits = COALESCE(%s, credits), "
                    "error = NULL, submitted_at = %s, updated_at = %s, owner = NULL, completed_at = %s "
                    "WHERE key = %s AND attempt = %s", values)
        return op

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> Written:
        def op(db: psycopg.Connection[Any]) -> None:
            if rows:
                with db.cursor() as cursor:
                    cursor.executemany(sql, rows)
        return self._submit(op)

    def add_videos(self, key: str, attempt: int, jobs: Sequence[tuple[str, str, float | None]]) -> Written:
        """The other jobs an attempt's create made (job id, status, credits): attempts ``{key}#2``, ... of the
        same attempt, copying the main one's provider, job and body; nobody claims them."""
        now = time.time()
        rows = [(f"{key}#{n}", job_id, status, credits, now, now, now, now if status == "completed" else None, key,
                 attempt) for n, (job_id, status, credits) in enumerate(jobs, start=2)]
        return self._many(
            f"INSERT INTO {S}.submissions (key, attempt, provider, job, body, job_id, status, credits, created_at, "
            "submitted_at, updated_at, completed_at, price_basis) SELECT %s, attempt, provider, job, body, %s, %s, "
            f"%s::float8, %s, %s, %s, %s::float8, price_basis FROM {S}.submissions WHERE key = %s AND attempt = %s "
            "ON CONFLICT DO NOTHING", rows)

    def settle(self, key: str, attempt: int, status: str, error: str | None, *, keep: bool = False) -> Written:
        """An attempt that made no job (``rejected``, ``skipped``) or may have made one (``unknown``). The
        claim ends, unless ``keep`` (the run is about to look the create up itself)."""
        return self._many(f"UPDATE {S}.submissions SET status = %s, error = %s, updated_at = %s, "
                          "owner = CASE WHEN %s THEN owner END WHERE key = %s AND attempt = %s",
                          [(status, error, time.time(), keep, key, attempt)])

    def update(self, updates: Iterable[Sequence[Any]]) -> Written:
        """Poll results in one transaction: (job_id, status, url, credits, error[, extra])."""
        now = time.time()
        rows = sorted(((u[1], u[2], u[3], u[4], u[5] if len(u) > 5 else None, now,
                        now if u[1] == "completed" else None, u[0]) for u in updates), key=lambda r: str(r[-1]))
        return self._many(  # (in job id order: two processes updating the same jobs take their rows in one order)
            f"UPDATE {S}.submissions SET status = %s, url = COALESCE(%s, url), credits = COALESCE(%s::float8, "
            "credits), error = COALESCE(%s, error), extra = COALESCE(%s, extra), updated_at = %s, "
            "completed_at = COALESCE(completed_at, %s::float8) WHERE job_id = %s", rows)

    def remember_lengths(self, lengths: Mapping[str, float]) -> Written:
        """Keep probed lengths of media URLs, so no later run fetches them again."""
        now = time.time()
        return self._many(f"INSERT INTO {S}.media VALUES (%s, %s, %s) ON CONFLICT (url) DO UPDATE SET "
                          "seconds = EXCLUDED.seconds, probed_at = EXCLUDED.probed_at",
                          [(url, seconds, now) for url, seconds in sorted(lengths.items())])

    def record_balance(self, owner: str, job: str, provider: str, before: float, after: float, started_at: float,
                       job_ids: Sequence[str]) -> Written:
        """The account balance before and after a run that made ``job_ids`` (what calibration attributes to them)."""
        return self._many(f"INSERT INTO {S}.balances VALUES (%s,%s,%s,%s,%s,%s,%s,%s)",
                          [(owner, job, provider, before, after, started_at, time.time(), json.dumps(list(job_ids)))])

    def record_saves(self, saves: Sequence[tuple[str, str, str, str, int]]) -> Written:
        """Results now saved: (job id, folder, name without extension, file name, size); the last save of a name
        in a folder is the one kept."""
        now = time.time()
        return self._many(f"INSERT INTO {S}.saves VALUES (%s,%s,%s,%s,%s,%s) ON CONFLICT (job_id, folder, name) "
                          "DO UPDATE SET file = EXCLUDED.file, size = EXCLUDED.size, saved_at = EXCLUDED.saved_at",
                          [(*save, now) for save in saves])

    def deleted(self, job_ids: Iterable[str], *, cancelled: bool = False) -> Written:
        """Results removed at the provider by ``delete()``; a cancelled job is failed, and says so."""
        now = time.time()
        return self._many(f"UPDATE {S}.submissions SET deleted_at = %s, status = CASE WHEN %s THEN 'failed' ELSE "
                          "status END, error = CASE WHEN %s THEN 'cancelled by delete()' ELSE error END, "
                          "updated_at = %s WHERE job_id = %s",
                          [(now, cancelled, cancelled, now, job_id) for job_id in sorted(set(job_ids))])

    def note_error(self, job_id: str, error: str) -> Written:
        """Say why a job is no longer followed, leaving its status as last seen."""
        return self._many(f"UPDATE {S}.submissions SET error = %s, updated_at = %s WHERE job_id = %s",
                          [(error, time.time(), job_id)])

    # ------------------------------------------------------------------ shared polling
    def lease_polls(self, owner: str, job_ids: Sequence[str], seconds: float) -> list[str]:
        """Of ``job_ids`` (jobs ``owner`` is about to poll), those it may poll now: free, its own, or leased by a
        run whose lease expired; each now leased to ``owner`` for ``seconds``. Another run's are left to it: its
        polls land in the ledger, where ``owner`` reads them."""
        ids = sorted({str(i) for i in job_ids})  # (in one order everywhere: two upserts never wait in a circle)
        if not ids:
            return []
        now = time.time()
        try:
            with self._pool.connection() as conn:
                rows = conn.execute(
                    f"INSERT INTO {S}.polls (job_id, owner, leased_until) SELECT j, %s, %s FROM unnest(%s::text[]) "
                    "AS j ON CONFLICT (job_id) DO UPDATE SET owner = EXCLUDED.owner, leased_until = "
                    f"EXCLUDED.leased_until WHERE {S}.polls.owner = EXCLUDED.owner OR {S}.polls.leased_until < %s "
                    "RETURNING job_id", (owner, now + seconds, ids, now)).fetchall()
        except driver().Error as exc:
            raise driver_error(self.address, exc, "write") from None
        granted = {row[0] for row in rows}
        return [str(i) for i in job_ids if str(i) in granted]


def _close(pid: int, writer: PgWriter, pool: Any, liveness: Liveness) -> None:
    if os.getpid() != pid:
        return
    writer.close()
    pool.close()
    liveness.close()
