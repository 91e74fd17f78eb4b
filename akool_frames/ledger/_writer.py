"""How the ledger writes: inline when the database is free, else on one patient thread; who the writers are.

Every write of a ``Ledger`` is a small function of a sqlite connection, run in a ``BEGIN IMMEDIATE``
transaction and committed before its ``Written`` future resolves (so an intent is durable before its
create leaves). When no other process holds the database, the write runs at once in the caller's thread
(a few tens of microseconds; no thread hop). When another process holds it, the write, and every write
after it until the queue is empty (so writes keep their order), goes to the ledger's writer thread,
which waits for the database without blocking the event loop, commits as many queued writes as it has
in one transaction (each in a savepoint, so that one failing write fails alone), and says who it is
waiting for: a warning naming the writers the ledger knows of after a couple of seconds, and, past the
ledger's ``timeout``, an error with the same names and what to change.

Writers are runs: each registers an owner id with its host, pid and the pid's start time, so that another
process can tell whether the run that claimed a row is still alive (same host: the process still exists;
another host: its heartbeat, renewed by the writer thread every few seconds, is recent).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import queue
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from .._errors import LedgerError

__all__ = ["HOST", "Written", "WriterThread", "busy_message", "is_busy", "process_alive", "process_start", "take"]

log = logging.getLogger("akool_frames")

HOST = socket.gethostname()
HEARTBEAT = 5.0  # seconds between heartbeats of this process's live writers
GROUP = 256  # writes committed together at most
BUSY_STEP = 0.5  # sqlite's own busy wait per try; between tries we log and check the deadline
WARN_AFTER = 2.0  # a wait longer than this is logged, naming who else writes


class Written(concurrent.futures.Future):
    """A write's future: ``.result()`` blocks until it is committed, ``await`` waits without blocking."""

    def __await__(self) -> Generator[Any, None, Any]:
        if self.done():  # written inline: no trip through the event loop
            return self.result()
        return (yield from asyncio.wrap_future(self).__await__())


def process_start(pid: int) -> str | None:
    """When ``pid`` started (Linux: clock ticks since boot), to tell it from a later process given the same pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def process_alive(pid: int, started: str | None) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs on this host (zombies do not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    fields = stat[stat.rfind(")") + 2:].split()
    if fields and fields[0] in ("Z", "X"):
        return False
    return started is None or (len(fields) > 19 and fields[19] == started)


def busy_message(db: sqlite3.Connection | None, path: Path, waited: float) -> str:
    """Who else writes to the ledger (from its writers table), for a message about waiting on it."""
    others = []
    if db is not None:
        try:
            rows = db.execute("SELECT host, pid, what, started_at FROM writers WHERE ended_at IS NULL "
                              "ORDER BY started_at").fetchall()
        except sqlite3.Error:
            rows = []
        others = [f"pid {pid} on {host} ({what}, since {time.strftime('%H:%M:%S', time.localtime(started))})"
                  for host, pid, what, started in rows if not (host == HOST and pid == os.getpid())]
    holder = "; ".join(others) if others else "another program (no akool_frames run is registered)"
    return f"The ledger at {path} has been busy for {waited:.0f} s, held by {holder}"


Op = Callable[[sqlite3.Connection], Any]


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """The database is held by another connection (as opposed to broken or unwritable)."""
    return "locked" in str(exc) or "busy" in str(exc)


def _owned(value: Any) -> Any:
    """A write's result as it may leave the connection's thread: a cursor is closed here (finalised elsewhere,
    while this thread uses the connection, sqlite answers "bad parameter or other API misuse") and gives None."""
    if isinstance(value, sqlite3.Cursor):
        value.close()
        return None
    return value


class WriterThread:
    """Runs writes inline or on one thread, as many per transaction as are waiting; see the module docstring."""

    def __init__(self, path: Path, timeout: float, connect: Callable[[float], sqlite3.Connection],
                 heartbeat: Callable[[sqlite3.Connection], None]) -> None:
        self.path, self.timeout = path, timeout
        self._connect, self._heartbeat = connect, heartbeat
        self._queue: queue.SimpleQueue[tuple[Op, Written] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._inline_db: sqlite3.Connection | None = None
        self._pending = 0  # writes queued for the thread and not yet done: later writes queue behind them
        self.max_wait = 0.0  # the longest this process waited for another writer's transaction

    def submit(self, op: Op) -> Written:
        future = Written()
        with self._lock:
            if self._pending == 0 and self._inline(op, future):
                return future
            self._pending += 1
            self._start()
            self._queue.put((op, future))
        return future

    def start(self) -> None:
        """Start the thread now (it keeps this process's writers' heartbeats)."""
        with self._lock:
            self._start()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"akool-frames-ledger:{self.path.name}",
                                            daemon=True)
            self._thread.start()

    def _inline(self, op: Op, future: Written) -> bool:
        """Run ``op`` now if the database is free (never waiting); False if another process holds it."""
        if self._inline_db is None:
            self._inline_db = self._connect(0.0)
        db = self._inline_db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                return False
            future.set_exception(LedgerError(f"Cannot write the ledger at {self.path}: {exc}"))
            return True
        try:
            value = _owned(op(db))
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            future.set_exception(LedgerError(f"Cannot write the ledger at {self.path}: {exc}"))
            return True
        except Exception as exc:  # noqa: BLE001  # handed to the caller, as from the thread
            if db.in_transaction:
                db.execute("ROLLBACK")
            future.set_exception(exc)
            return True
        future.set_result(value)
        return True

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
            inline, self._inline_db = self._inline_db, None
        if thread is not None:
            thread.join(self.timeout + 5)
        if inline is not None:
            inline.close()

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        db = self._connect(BUSY_STEP)
        last_beat = 0.0
        try:
            while True:
                batch, stop = self._take()
                beat = time.monotonic() - last_beat >= HEARTBEAT
                if beat:
                    last_beat = time.monotonic()
                try:
                    if batch or beat:
                        self._transaction(db, batch, beat)
                except BaseException as exc:  # never leave a caller waiting on a write that will not come
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    raise
                finally:
                    with self._lock:
                        self._pending -= len(batch)
                if stop:
                    return
        finally:
            db.close()

    def _take(self) -> tuple[list[tuple[Op, Written]], bool]:
        return take(self._queue)

    def _transaction(self, db: sqlite3.Connection, batch: list[tuple[Op, Written]], beat: bool) -> None:
        live = [(op, f) for op, f in batch if f.set_running_or_notify_cancel()]
        try:
            self._begin(db)
        except LedgerError as exc:
            for _, future in live:
                future.set_exception(exc)
            return
        results: list[tuple[Written, bool, Any]] = []
        try:
            for op, future in live:
                db.execute("SAVEPOINT op")
                try:
                    value = _owned(op(db))
                except Exception as exc:  # noqa: BLE001  # this write fails alone; the others commit
                    db.execute("ROLLBACK TO op")
                    db.execute("RELEASE op")
                    results.append((future, False, exc))
                    continue
                db.execute("RELEASE op")
                results.append((future, True, value))
            if beat:
                self._heartbeat(db)
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            error = LedgerError(f"Cannot write the ledger at {self.path}: {exc}")
            for _, future in live:
                future.set_exception(error)
            return
        for future, ok, value in results:
            if not ok and isinstance(value, sqlite3.Error):
                value = LedgerError(f"Cannot write the ledger at {self.path}: {value}")
            (future.set_result if ok else future.set_exception)(value)

    def _begin(self, db: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, waiting for another writer up to ``timeout`` (and saying who it is)."""
        started = time.monotonic()
        warned = False
        while True:
            try:
                db.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                waited = time.monotonic() - started
                if not is_busy(exc):
                    msg = f"Cannot write the ledger at {self.path}: {exc}"
                    raise LedgerError(msg) from exc
                if waited >= self.timeout:
                    msg = (f"{busy_message(db, self.path, waited)}.\n\nHint: let that run finish, give this one its "
                           "own ledger= path (AKOOL_FRAMES_LEDGER), or wait longer with af.Client(ledger_timeout=...).")
                    raise LedgerError(msg) from exc
                if waited >= WARN_AFTER and not warned:
                    log.warning("%s; waiting up to %.0f s.", busy_message(db, self.path, waited), self.timeout)
                    warned = True
        self.max_wait = max(self.max_wait, time.monotonic() - started)


def take(waiting: queue.SimpleQueue[Any]) -> tuple[list[Any], bool]:
    """A writer thread's next batch: the writes waiting now (up to GROUP; none after a heartbeat's wait), and
    whether to stop after them (a None queued: the ledger is closing)."""
    batch: list[Any] = []
    try:
        item = waiting.get(timeout=HEARTBEAT)
    except queue.Empty:
        return batch, False
    while item is not None:
        batch.append(item)
        if len(batch) >= GROUP:
            return batch, False
        try:
            item = waiting.get_nowait()
        except queue.Empty:
            return batch, False
    return batch, True

