"""The shared gate of one machine (``FileGate``): the slots are lock files taken with ``flock`` (whole-file locks
of an open file: the kernel frees a dead process's at once, no lease to run out), the rate's state a small file
mapped in memory and changed under an exclusive ``flock``. The first process to open the gate while nobody holds
it starts from a fresh state: a rate learnt by an earlier run, or clock readings from before a reboot, are not
carried over.

``gate_place`` says where a Client's gate lives, ``gate_for`` makes it: per process, this one, or ``_pg_gate``'s
(PostgreSQL).
"""

from __future__ import annotations

import logging
import mmap
import os
import struct
import time
import weakref
from pathlib import Path
from typing import Any

from .._errors import ConfigError
from ..typing import Gate
from ._limiter import ProcessGate
from ._shared_gate import SharedGate, SharedLimiter, is_postgres, lets_through

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; each process keeps its own gate
    fcntl = None  # type: ignore[assignment]

__all__ = ["FileGate", "gate_for", "gate_place"]

log = logging.getLogger("akool_frames")


def gate_place(shared_gate: bool | str | Path, ledger: str | Path) -> str | Path | None:
    """Where a Client's gate lives (``Client(shared_gate=...)``): None for its own (False), beside or in its
    ``ledger`` (True: the folder ``.<ledger file name>-gate`` beside it, hidden and named apart from the ledger's
    own files, which tools copy as ``ledger.sqlite*``; or the ledger's PostgreSQL database), or the place given."""
    if not isinstance(shared_gate, bool | str | Path) or not str(shared_gate).strip():
        msg = f"shared_gate is {shared_gate!r}; it takes True, False, a postgresql:// URL or a folder."
        raise ConfigError(msg)
    if shared_gate is False:
        return None
    where = ledger if shared_gate is True else shared_gate
    if is_postgres(str(where)):
        return str(where)
    if shared_gate is not True:
        return Path(where)
    ledger_file = Path(os.path.realpath(where))
    return ledger_file.with_name(f".{ledger_file.name}-gate")


def gate_for(cap: int, rate: float | None, where: str | Path | None) -> Gate:
    """The gate for a Client: per process (``where`` None), a PostgreSQL one (a ``postgresql://`` URL), or one in
    the folder ``where`` (one machine)."""
    if where is None:
        return ProcessGate(cap, rate)
    if is_postgres(where):
        from ._pg_gate import PostgresGate

        return PostgresGate(str(where), cap, rate)
    if fcntl is None:  # pragma: no cover - Windows
        log.warning("No file locks on this system: max_concurrency and rate_limit hold per process, not per ledger.")
        return ProcessGate(cap, rate)
    return FileGate(Path(where), cap, rate)


_SIZE = 1024  # the state file: the state at 0, the waiting hint at _HINT
_HINT = struct.Struct("<dq")  # until when a process polling for a slot said so, and which process
_HINT_AT = 512
_OPEN: weakref.WeakSet[FileGate] = weakref.WeakSet()  # gates with files open, closed in a forked child at once


class FileGate(SharedGate):
    """The shared gate of one machine, in ``folder`` (beside the ledger: ``.ledger.sqlite-gate``): ``slot-N`` lock
    files, a ``state`` file (mapped; changed under its ``flock``), and a ``presence`` file every gate holds shared
    (whoever opens it with nobody there starts from a fresh state). Opened at first use, and again in a forked
    child (a parent's files are closed without unlocking: its locks stay its own). A folder that cannot be made
    leaves this process with a gate of its own, and says so."""

    def __init__(self, folder: Path, cap: int, rate: float | None) -> None:
        super().__init__(cap, rate)
        self.folder = folder
        self.fallback: ProcessGate | None = None  # when the folder cannot be used
        self._pid = 0  # the process that opened the files (0: not yet)
        self._state = self._presence = -1
        self._map: mmap.mmap | None = None
        self._slots: list[int] = []  # a descriptor per slot tried so far (-1: not opened yet)
        self._held: list[bool] = []

    def __repr__(self) -> str:
        return f"FileGate({str(self.folder)!r}, cap={self.cap})"

    # opening and closing
    def _open(self) -> None:
        self._forget()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._state = os.open(self.folder / "state", os.O_RDWR | os.O_CREAT, 0o666)
            self._presence = os.open(self.folder / "presence", os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(self._state, fcntl.LOCK_EX)  # openers one at a time: the presence check and reset together
            try:
                if os.fstat(self._state).st_size < _SIZE:
                    os.ftruncate(self._state, _SIZE)
                self._map = mmap.mmap(self._state, _SIZE)
                try:
                    fcntl.flock(self._presence, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # others hold it: their state stands
                    pass
                else:
                    self.limiter.reset()
                    self.limiter.store(self._map)
                fcntl.flock(self._presence, fcntl.LOCK_SH)
            finally:
                fcntl.flock(self._state, fcntl.LOCK_UN)
        except OSError as exc:
            self._forget()
            log.warning("The gate shared with other processes cannot be kept in %s (%s): max_concurrency and "
                        "rate_limit hold for this process alone.", self.folder, exc)
            self.fallback = ProcessGate(self.cap, self.limiter.ceiling)
        self._slots, self._held = [-1] * self.cap, [False] * self.cap
        self._pid = os.getpid()
        _OPEN.add(self)

    def _forget(self) -> None:
        """Close what this object had open (in a forked child: the parent's descriptors, whose locks stay the
        parent's: flock locks go only with the last descriptor of an open file, and the parent keeps its own)."""
        if self._map is not None:
            self._map.close()
        for fd in (self._state, self._presence, *self._slots):
            if fd >= 0:
                os.close(fd)
        self._map, self._state, self._presence, self._slots, self._held = None, -1, -1, [], []
        self._pending.clear()
        self._polling = self._turn = self._waiter = None  # (a forked child's loop is another)

    async def aclose(self) -> None:
        if self._pid == os.getpid():
            self._forget()  # (closing a slot's file frees it)
        self._pid = 0
        _OPEN.discard(self)

    def _ready(self) -> ProcessGate | None:
        if self._pid != os.getpid():
            self._open()
        return self.fallback

    # the protocol, where the folder could not be used
    def slot(self) -> Any:
        fallback = self._ready()
        return super().slot() if fallback is None else fallback.slot()

    async def acquire(self) -> float:
        fallback = self._ready()
        if fallback is not None:
            return await fallback.acquire()
        turn = self._turn  # (the common case first, without the layers below: nothing to space by, no pause)
        if (turn is None or not turn.locked()) and len(self._pending) < 64 and self._map is not None:
            now = time.monotonic()
            if lets_through(self._map, now):
                return now
        return await super().acquire()

    # (the answers: after slot(), which opened the gate in this process)
    def throttled(self, ticket: float, retry_after: float | None, now: float) -> None:
        if self.fallback is None:
            super().throttled(ticket, retry_after, now)
        else:
            self.fallback.throttled(ticket, retry_after, now)

    def pause(self, seconds: float, now: float) -> None:
        if self.fallback is None:
            super().pause(seconds, now)
        else:
            self.fallback.pause(seconds, now)

    def succeeded(self, now: float) -> None:
        if self.fallback is None:
            super().succeeded(now)
        else:
            self.fallback.succeeded(now)

    async def refresh(self) -> SharedLimiter:
        self._ready()
        return await super().refresh()

    # slots
    async def take_slot(self) -> int:
        polling = self._polling  # (as SharedGate's, without a coroutine for the first look)
        if (polling is None or not polling.locked()) and not self._others_wait():
            found = self._take_now()
            if found is not None:
                return found
        return await self._wait_slot()

    async def _take(self) -> int | None:
        return self._take_now()

    def _take_now(self) -> int | None:
        slots, held, cap = self._slots, self._held, self.cap
        if not held:
            return None  # (closed meanwhile)
        for n in self._order():
            i = n % cap
            if held[i]:
                continue
            fd = slots[i]
            if fd < 0:
                fd = slots[i] = os.open(self.folder / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            held[i] = True
            return i
        return None

    async def give_slot(self, slot: int) -> None:
        if self._pid == os.getpid() and self._held and self._held[slot]:  # (not after aclose or a fork)
            fcntl.flock(self._slots[slot], fcntl.LOCK_UN)
            self._held[slot] = False
            self._released()

    def _others_wait(self) -> bool:
        if self._map is None:
            return False
        until, pid = _HINT.unpack_from(self._map, _HINT_AT)
        return pid != self._pid and until > time.monotonic()

    def _note_waiting(self, waiting: bool) -> None:
        if self._map is not None:  # (a hint, written without the lock: it runs out by itself if left behind)
            _HINT.pack_into(self._map, _HINT_AT, time.monotonic() + 4 * self.POLL[1] if waiting else 0.0, self._pid)

    # the state
    async def _sync(self, admit: bool) -> tuple[float, float]:
        return self._locked(admit)

    def _locked(self, admit: bool) -> tuple[float, float]:
        if self._pid != os.getpid() or self._map is None:
            return 0.0, 0.0  # (closed meanwhile)
        if admit and len(self._pending) < 64:  # (successes only: a throttle or a pause is applied at once)
            now = time.monotonic()
            if lets_through(self._map, now):
                return now, 0.0
        limiter, events = self.limiter, self._pending
        self._pending = []
        fcntl.flock(self._state, fcntl.LOCK_EX)
        try:
            limiter.load(self._map)
            ticket, wait = limiter.turn(events, time.monotonic(), admit)
            limiter.store(self._map)
        finally:
            fcntl.flock(self._state, fcntl.LOCK_UN)
        return ticket, wait

    def _flush_soon(self) -> None:
        if self._ready() is None:
            self._locked(False)


def _close_in_child() -> None:
    """In a forked child, the parent's gate files are closed at once: a copy left open would keep a slot the
    parent later closes held for as long as the child lives. (The parent's locks stay: it has its own copies.)"""
    for gate in list(_OPEN):
        gate._forget()  # noqa: SLF001 - the module's own class
    _OPEN.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_in_child)
