"""The ledger's one writing thread: group commit, patient with a busy database, and the identity of writers.

Every write of a ``Ledger`` is a small function of a sqlite connection. They queue here and run on one
thread in ``BEGIN IMMEDIATE`` transactions, as many as are waiting at once in one transaction (each in a
savepoint, so that one failing write fails alone), and each caller's future resolves once its write is
committed. So the event loop never blocks on the database, concurrent creates share a commit, and an
intent is durable before its create leaves.

A database held by another process (another run, a notebook, a ``sqlite3`` shell) is waited for, up to
the ledger's ``timeout``, with a warning naming the writers the ledger knows of; only then does the write
fail, with the same names and what to change.

Writers are runs: each registers an owner id with its host, pid and the pid's start time, so that another
process can tell whether the run that claimed a row is still alive (same host: the process still exists;
another host: its heartbeat, renewed here every few seconds, is recent).
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

from ._errors import LedgerError

__all__ = ["HOST", "Written", "WriterThread", "busy_message", "process_alive", "process_start"]

log = logging.getLogger("akool_frames")

HOST = socket.gethostname()
HEARTBEAT = 5.0  # seconds between heartbeats of this process's live writers
GROUP = 256  # writes committed together at most
BUSY_STEP = 0.5  # sqlite's own busy wait per try; between tries we log and check the deadline
WARN_AFTER = 2.0  # a wait longer than this is logged, naming who else writes


class Written(concurrent.futures.Future):  # type: ignore[type-arg]
    """A write's future: ``.result()`` blocks until it is committed, ``await`` waits without blocking."""

    def __await__(self) -> Generator[Any, None, Any]:
        return asyncio.wrap_future(self).__await__()


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


class WriterThread:
    """Runs writes on one thread, as many per transaction as are waiting; see the module docstring."""

    def __init__(self, path: Path, timeout: float, connect: Callable[[], sqlite3.Connection],
                 heartbeat: Callable[[sqlite3.Connection], None]) -> None:
        self.path, self.timeout = path, timeout
        self._connect, self._heartbeat = connect, heartbeat
        self._queue: queue.SimpleQueue[tuple[Op, Written] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.max_wait = 0.0  # the longest this process waited for another writer's transaction

    def submit(self, op: Op) -> Written:
        future = Written()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"akool-frames-ledger:{self.path.name}",
                                                daemon=True)
                self._thread.start()
            self._queue.put((op, future))
        return future

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(None)
        if thread is not None:
            thread.join(self.timeout + 5)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        db = self._connect()
        last_beat = 0.0
        try:
            while True:
                try:
                    first = self._queue.get(timeout=HEARTBEAT)
                except queue.Empty:
                    first = ()  # type: ignore[assignment]  # nothing to write: just the heartbeat
                if first is None:
                    return
                batch = [first] if first else []
                while len(batch) < GROUP:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)  # stop after this batch
                        break
                    batch.append(more)
                beat = time.monotonic() - last_beat >= HEARTBEAT
                if beat:
                    last_beat = time.monotonic()
                if batch or beat:
                    self._transaction(db, batch, beat)
        finally:
            db.close()

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
                    value = op(db)
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
            db.execute("ROLLBACK") if db.in_transaction else None
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
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise LedgerError(f"Cannot write the ledger at {self.path}: {exc}") from exc
                if waited >= self.timeout:
                    msg = (f"{busy_message(db, self.path, waited)}.\n\nHint: let that run finish, give this one its "
                           "own ledger= path (AKOOL_FRAMES_LEDGER), or wait longer with af.Client(ledger_timeout=...).")
                    raise LedgerError(msg) from exc
                if waited >= WARN_AFTER and not warned:
                    log.warning("%s; waiting up to %.0f s.", busy_message(db, self.path, waited), self.timeout)
                    warned = True
        self.max_wait = max(self.max_wait, time.monotonic() - started)
