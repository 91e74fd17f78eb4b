"""How the PostgreSQL ledger writes, and how its runs show they are alive.

Writes: every write is a small function of a psycopg connection. They go, in the order asked, to one thread
with one connection (a write is a round trip to a server, too slow to make on the event loop); the thread
commits as many queued writes as it has in one transaction (each in a savepoint when there are several, so that
one failing write fails alone) and resolves each ``Written`` future once committed: an intent is durable before
its create leaves. A deadlock or serialization failure (two processes writing the same rows in another order)
rolls the transaction back and runs it again. A claim that waits for another process's claim on the same rows
longer than the ledger's ``timeout`` fails with a message naming the runs that write.

Liveness: each run registers with a lock id and holds the session-level advisory lock ``(WRITERS, id)`` on a
connection of its process kept for that alone, from before its first claim until its release is committed.
Another process tells a run is dead when it can take a shared lock on that id: the server frees a session's
locks the moment its connection ends (a killed process: at once; a machine that vanished: when the server's
TCP keepalive gives up on it, set to about 25 s here). No heartbeat timeout is needed; ``heartbeat_at`` is still
written every few seconds, for people reading the writers table.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .._errors import AkoolError, LedgerError
from ._address import DatabaseAddress
from ._pg_schema import KEYS, SCHEMA, TRANSIENT, WRITERS, connect, driver, driver_error
from ._writer import HEARTBEAT, Written, take

if TYPE_CHECKING:
    import psycopg

__all__ = ["Liveness", "PgWriter"]

log = logging.getLogger("akool_frames")

TRIES = 5  # runs of a transaction that met a deadlock or a serialization failure
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout passed
# The server gives up on a connection whose machine vanished after idle + interval * count seconds.
KEEPALIVE = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5", "SET tcp_keepalives_count = 3")

Op = Callable[["psycopg.Connection[Any]"], Any]


def _state(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None)


class _OneFailed(Exception):
    """A write failed in a batch run without savepoints: the batch is run again with them."""


class PgWriter:
    """Runs writes on one thread, as many per transaction as are waiting; see the module docstring."""

    def __init__(self, address: DatabaseAddress, timeout: float,
                 heartbeat: Callable[[], Callable[[psycopg.Connection[Any]], None] | None]) -> None:
        """``heartbeat``: a weak reference to the ledger's heartbeat (the thread does not keep the ledger alive)."""
        self.address, self.timeout = address, timeout
        self._heartbeat = heartbeat
        self._queue: queue.SimpleQueue[tuple[Op, Written, tuple[int, ...]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self.max_wait = 0.0  # the longest a claim of this process waited for another process's claim

    def submit(self, op: Op, locks: Sequence[int] = ()) -> Written:
        """``op`` committed in order; ``locks``: the claim locks (``(KEYS, n)``) its transaction must hold first."""
        future = Written()
        with self._lock:
            self._start()
            self._queue.put((op, future, tuple(locks)))
        return future

    def start(self) -> None:
        """Start the thread now (it keeps this process's writers' heartbeats)."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="akool-frames-ledger:postgresql", daemon=True)
            self._thread.start()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None and thread is not threading.current_thread():  # (dropped by a collection on it)
            thread.join(self.timeout + 5)
        elif thread is None and self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        last_beat = 0.0
        try:
            while True:
                batch, stop = self._take()
                beat = time.monotonic() - last_beat >= HEARTBEAT
                if beat:
                    last_beat = time.monotonic()
                if batch or beat:
                    self._transaction(batch, beat)
                if stop:
                    return
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _take(self) -> tuple[list[tuple[Op, Written, tuple[int, ...]]], bool]:
        return take(self._queue)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is not None and (self._conn.closed or self._conn.broken):
            self._conn.close()
            self._conn = None
        if self._conn is None:
            conn = connect(self.address, name="akool_frames ledger writer")
            conn.execute(f"SET lock_timeout = '{max(1, int(self.timeout * 1000))}ms'")
            self._conn = conn
        return self._conn

    def _transaction(self, batch: list[tuple[Op, Written, tuple[int, ...]]], beat: bool) -> None:
        """Run the batch in one transaction and resolve its futures; never raises (a caller always hears back).
        The writes run one after the other; if one fails, the transaction is rolled back and the batch run again
        with each write in a savepoint, so that it fails alone (savepoints cost two round trips a write, and
        writes rarely fail)."""
        live = [(op, f) for op, f, _ in batch if f.set_running_or_notify_cancel()]
        locks = sorted({n for _, f, ns in batch if not f.cancelled() for n in ns})
        pg = driver()
        careful, tries = False, 0
        while True:
            try:
                results = self._once(self._connection(), live, locks, beat, careful)
            except _OneFailed:
                careful = True
                continue
            except pg.Error as exc:
                tries += 1
                if _state(exc) in TRANSIENT and tries < TRIES:
                    log.debug("ledger transaction tried again after %s", _state(exc))
                    continue
                error: BaseException = (self._busy(exc) if _state(exc) == LOCK_NOT_AVAILABLE
                                        else driver_error(self.address, exc, "write"))
            except Exception as exc:  # noqa: BLE001 - the only write's own failure, or no connection
                error = exc
            else:
                for future, ok, value in results:
                    (future.set_result if ok else future.set_exception)(value)
                return
            for _, future in live:
                if not future.done():
                    future.set_exception(error)
            return

    def _once(self, conn: psycopg.Connection[Any], live: list[tuple[Op, Written]], locks: list[int], beat: bool,
              careful: bool) -> list[tuple[Written, bool, Any]]:
        pg = driver()
        results: list[tuple[Written, bool, Any]] = []
        with conn.transaction():
            if locks:  # every claim's key locks first, at once, in ascending order: no two claims wait in a circle
                started = time.monotonic()
                conn.execute("SELECT pg_advisory_xact_lock(%s, n) FROM unnest(%s::int4[]) AS n", (KEYS, locks))
                self.max_wait = max(self.max_wait, time.monotonic() - started)
            for op, future in live:
                if not careful or len(live) == 1:  # (the only write's failure is its own: no savepoint)
                    try:
                        results.append((future, True, op(conn)))
                    except Exception as exc:
                        if len(live) == 1 or (isinstance(exc, pg.Error) and self._whole(conn, exc)):
                            raise
                        raise _OneFailed from exc  # (the batch again, carefully)
                    continue
                try:
                    with conn.transaction():  # a savepoint: this write fails alone
                        value = op(conn)
                except pg.Error as exc:
                    if self._whole(conn, exc):
                        raise  # the whole transaction: tried again, or every write told
                    results.append((future, False, driver_error(self.address, exc, "write")))
                    continue
                except Exception as exc:  # noqa: BLE001 - this write fails alone; the others commit
                    results.append((future, False, exc))
                    continue
                results.append((future, True, value))
            heartbeat = self._heartbeat() if beat else None
            if heartbeat is not None:
                heartbeat(conn)
        return results

    @staticmethod
    def _whole(conn: psycopg.Connection[Any], exc: BaseException) -> bool:
        """An error that is the transaction's, not one write's: tried again, or told to every write."""
        return _state(exc) in (*TRANSIENT, LOCK_NOT_AVAILABLE) or conn.broken

    def _busy(self, exc: BaseException) -> LedgerError:
        """A claim waited past the timeout for other processes' claims on the same rows: who writes."""
        try:
            with connect(self.address, name="akool_frames ledger") as conn:
                rows = conn.execute(f"SELECT host, pid, what, started_at FROM {SCHEMA}.writers WHERE ended_at IS NULL "
                                    "ORDER BY started_at").fetchall()
        except (AkoolError, driver().Error):
            rows = []
        others = [f"pid {pid} on {host} ({what}, since {time.strftime('%H:%M:%S', time.localtime(started))})"
                  for host, pid, what, started in rows]
        holder = "; ".join(others) or "another program"
        return LedgerError(
            f"The ledger at {self.address.shown} has been busy for {self.timeout:.0f} s ({self.address.clean(exc)}), "
            f"its rows held by {holder}.\n\nHint: let that run finish, give this one another database "
            "(ledger= / AKOOL_FRAMES_LEDGER), or wait longer with af.Client(ledger_timeout=...).")


class Liveness:
    """This process's hold on its runs' liveness locks: one connection, kept for that alone (see the module
    docstring). ``hold`` gives a new run its lock id, ``free`` ends it, ``check`` (each heartbeat) notices a lost
    connection and takes the locks again."""

    def __init__(self, address: DatabaseAddress, conn: psycopg.Connection[Any] | None = None) -> None:
        self.address = address
        self._conn = conn
        self._held: set[int] = set()
        self._lock = threading.Lock()
        if conn is not None:
            self._keepalive(conn)

    def _keepalive(self, conn: psycopg.Connection[Any]) -> None:
        for statement in KEEPALIVE:  # (a Unix socket has no keepalive: the server ignores them there)
            conn.execute(statement)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = connect(self.address, name="akool_frames ledger liveness")
            self._keepalive(self._conn)
        return self._conn

    def hold(self) -> int:
        """A fresh lock id, locked by this process until ``free``."""
        pg = driver()
        with self._lock:
            try:
                conn = self._connection()
                for _ in range(100):  # (an id is only taken when the sequence went round 2**31 ids)
                    row = conn.execute(f"SELECT nextval('{SCHEMA}.writer_locks')").fetchone()
                    assert row is not None
                    got = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (WRITERS, int(row[0]))).fetchone()
                    if got and got[0]:
                        self._held.add(int(row[0]))
                        return int(row[0])
            except pg.Error as exc:
                raise driver_error(self.address, exc, "register a run in") from None
        msg = f"Cannot register a run in the ledger at {self.address.shown}: no free lock id."
        raise LedgerError(msg)

    def free(self, lock_id: int) -> None:
        with self._lock:
            self._held.discard(lock_id)
            conn = self._conn
            if conn is None or conn.closed or conn.broken:
                return
            try:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (WRITERS, lock_id))
            except driver().Error:  # the connection went: its locks went with it
                pass

    def check(self) -> None:
        """Notice a lost connection (its locks were freed with it: other processes now take this process's runs
        for dead, and reconcile their claims) and take the locks again."""
        pg = driver()
        with self._lock:
            if not self._held:
                return
            try:
                if self._conn is not None and not self._conn.closed and not self._conn.broken:
                    self._conn.execute("SELECT 1")
                    return
            except pg.Error:
                pass
            log.warning("The ledger at %s lost this process's liveness connection: other processes may take its "
                        "runs' claims over (they look each create up before sending it again). Connecting again.",
                        self.address.shown)
            try:
                conn = self._connection()
                for lock_id in sorted(self._held):
                    conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (WRITERS, lock_id))
            except (AkoolError, pg.Error) as exc:
                log.warning("Cannot reach the ledger at %s again yet: %s", self.address.shown,
                            self.address.clean(exc))

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._held.clear()
        if conn is not None:
            conn.close()
