"""One gate for every process of an account (``typing.Gate``): the concurrency cap and the adaptive rate held in a
place all of them share, so that processes sharing a ledger never send more than the account's cap at once nor
faster than its rate, and throttling seen by one slows all.

- ``SharedLimiter``: the adaptive limiter's decisions (``_limiter.AdaptiveLimiter``: the same spacing, cuts, pauses
  and growth) over a state of a few numbers that is loaded, changed and stored back under a lock: the successes of
  the last second as counts per 50 ms (the accepted rate a throttling answer cuts to) instead of a list of times.
- ``SharedGate``: a slot under the cap and a ticket under the rate, over hooks that hold them somewhere shared.
  Waiting never spins: a slot is polled for by one coroutine per process with short sleeps; a ticket is waited
  for by sleeping until it is due, then asking again (a throttle meanwhile may have paused everyone).

Every process on a gate should be given the account's ``max_concurrency`` and ``rate_limit``: the slots are
numbered from 0, so the largest cap among them is what holds; the rate starts at the first opener's and grows no
further than the ceiling of the process that succeeds.

The gates themselves: ``_file_gate.FileGate`` (one machine: lock files beside the ledger) and
``_pg_gate.PostgresGate`` (across machines: advisory locks and a row in the ledger's database).
"""

from __future__ import annotations

import asyncio
import collections
import math
import random
import struct
import time
from typing import Any

from ._limiter import AdaptiveLimiter

__all__ = ["OK", "PAUSE", "THROTTLED", "SharedGate", "SharedLimiter", "is_postgres", "lets_through"]

# The state: a tag (a layout not ours is started afresh), rate, level, next start, paused until, last cut, first
# request (NaN: None), cuts, pauses, the newest 50 ms slice counted, and the successes per slice (a ring).
SLICE = 0.05
SLICES = 20  # 1 s (AdaptiveLimiter.WINDOW) of slices
_STATE = struct.Struct("<8s6d3q" + "I" * SLICES)
_TAG = b"akgate01"
_NAN = float("nan")
_FREE = struct.Struct("<8sd16xd8xd")  # the tag, the rate, paused until, the first request

OK, THROTTLED, PAUSE = 0, 1, 2  # events a process saw, applied to the shared state at its next turn


def is_postgres(where: object) -> bool:
    return isinstance(where, str) and where.split("://", 1)[0].lower() in ("postgresql", "postgres")


def lets_through(state: Any, now: float) -> bool:
    """Whether a request may go at ``now`` without taking the state's lock: no rate to space by (none given, no
    throttling seen), no pause, and the first request's time written (nothing in the state would change)."""
    tag, rate, paused, first = _FREE.unpack_from(state)
    return bool(tag == _TAG and math.isnan(rate) and paused <= now and not math.isnan(first))


class SharedLimiter(AdaptiveLimiter):
    """``AdaptiveLimiter``'s decisions over a state loaded from, and stored back to, a shared place (``load``,
    ``store``/``dump``). Times are the shared clock's (one machine: ``time.monotonic``; PostgreSQL: the server's)."""

    def __init__(self, ceiling: float | None) -> None:
        super().__init__(ceiling)
        self._ok = collections.deque(maxlen=1)  # (unused: successes are counted per slice)
        self._head = 0  # the newest slice counted
        self._counts = [0] * SLICES

    def reset(self) -> None:
        """A fresh state: the ceiling as the rate, nothing learnt, nothing due."""
        self.rate, self.level, self.cuts, self.pauses = self.ceiling, None, 0, 0
        self._next = self._paused_until = float("-inf")
        self._cut_at = self._first = None
        self._head, self._counts = 0, [0] * SLICES

    def load(self, buffer: Any) -> None:
        """The state in ``buffer`` (bytes or a mapped file); a fresh one when it holds none of ours."""
        if buffer is None or len(buffer) < _STATE.size:
            self.reset()
            return
        tag, rate, level, self._next, self._paused_until, cut_at, first, self.cuts, self.pauses, self._head, \
            *counts = _STATE.unpack_from(buffer)
        if tag != _TAG:
            self.reset()
            return
        self.rate = None if math.isnan(rate) else rate
        self.level = None if math.isnan(level) else level
        self._cut_at = None if math.isnan(cut_at) else cut_at
        self._first = None if math.isnan(first) else first
        self._counts = counts

    def _fields(self) -> tuple[Any, ...]:
        def num(value: float | None) -> float:
            return _NAN if value is None else value

        return (_TAG, num(self.rate), num(self.level), self._next, self._paused_until, num(self._cut_at),
                num(self._first), self.cuts, self.pauses, self._head, *self._counts)

    def store(self, buffer: Any) -> None:
        _STATE.pack_into(buffer, 0, *self._fields())

    def dump(self) -> bytes:
        return _STATE.pack(*self._fields())

    def accepted(self, now: float) -> float:
        """Successes per second over the last WINDOW seconds (or since the first request, if sooner), by slice."""
        if self._first is None:
            return 0.0
        span = max(min(self.WINDOW, now - self._first), 0.25)
        last = min(int(now // SLICE), self._head)
        first = max(int(now // SLICE) - math.ceil(span / SLICE) + 1, self._head - SLICES + 1)
        return sum(self._counts[i % SLICES] for i in range(first, last + 1)) / span

    def succeeded(self, now: float) -> None:
        current = int(now // SLICE)
        if current > self._head:  # the slices between the newest counted and now had no successes
            for i in range(max(self._head + 1, current - SLICES + 1), current + 1):
                self._counts[i % SLICES] = 0
            self._head = current
        if current > self._head - SLICES:  # (older than the ring: only the growth counts)
            self._counts[current % SLICES] += 1
        super().succeeded(now)

    def apply(self, events: list[tuple[Any, ...]]) -> None:
        """What a process saw since its last turn, in order."""
        for kind, *args in events:
            if kind == OK:
                self.succeeded(*args)
            elif kind == THROTTLED:
                self.throttled(*args)
            else:
                self.pause(*args)

    def turn(self, events: list[tuple[Any, ...]], now: float, admit: bool) -> tuple[float, float]:
        """One process's turn on the shared state (loaded, and stored after, by the gate): what it saw applied, then,
        if ``admit``, a ticket now or the wait before one: (ticket, seconds to wait)."""
        self.apply(events)
        ticket, wait = now, 0.0
        if admit:
            wait = self.delay(now)
            if wait <= 0:
                ticket = self.admit(now)
        return ticket, wait


class SharedGate:
    """A ``typing.Gate`` whose slots and rate state live outside the process. Subclasses hold them: ``_take`` a free
    slot now (None: none), ``give_slot`` it back, ``_sync`` the state (apply this process's events; with ``admit``,
    take a ticket if one is due: returns the ticket and the seconds to wait, 0 once admitted); ``clock``, the clock
    they share."""

    POLL = (0.0005, 0.004)  # seconds between looks for a free slot: first, longest

    def __init__(self, cap: int, rate: float | None) -> None:
        self.cap = cap
        self.limiter = SharedLimiter(rate)
        self._pending: list[tuple[Any, ...]] = []
        self._polling: asyncio.Lock | None = None  # one coroutine per process looks for a free slot
        self._turn: asyncio.Lock | None = None  # and one waits for a ticket (first come, first served)
        self._waiter: asyncio.Future[None] | None = None  # the slot looker's nap, cut short by a slot given back
        self._start = random.randrange(cap)  # (see _order)

    # hooks
    async def _take(self) -> int | None:
        raise NotImplementedError

    async def give_slot(self, slot: int) -> None:
        raise NotImplementedError

    async def _sync(self, admit: bool) -> tuple[float, float]:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Let go of the shared place (its slots with it); opened again at the next use."""

    def clock(self) -> float:
        """The shared clock (tickets and the state's times are on it)."""
        return time.monotonic()

    def _others_wait(self) -> bool:
        """Whether another process is waiting for a slot (then a free one is left to it, not taken first)."""
        return False

    def _note_waiting(self, waiting: bool) -> None:
        """Tell the others that this process is (no longer) waiting for a slot."""

    def _flush_soon(self) -> None:
        """Apply the events seen so far to the shared state soon (a throttle must slow the others at once)."""

    # the protocol
    def slot(self) -> Any:
        return _Slot(self)

    async def acquire(self) -> float:
        if self._turn is None:
            self._turn = asyncio.Lock()  # made on the loop that uses it
        if not self._turn.locked():
            ticket, wait = await self._sync(True)
            if wait <= 0:
                return ticket
        async with self._turn:
            self.limiter.waits += 1
            while True:  # asked again after each sleep: another process may have gone first, or paused all
                ticket, wait = await self._sync(True)
                if wait <= 0:
                    return ticket
                await asyncio.sleep(wait)

    def throttled(self, ticket: float, retry_after: float | None, now: float) -> None:
        self._pending.append((THROTTLED, ticket, retry_after, self.clock()))
        self._flush_soon()

    def pause(self, seconds: float, now: float) -> None:
        self._pending.append((PAUSE, seconds, self.clock()))
        self._flush_soon()

    def succeeded(self, now: float) -> None:
        self._pending.append((OK, self.clock()))  # applied at this process's next turn
        if len(self._pending) >= 256:
            self._flush_soon()

    async def refresh(self) -> SharedLimiter:
        """The shared state as it is now (this process's events applied): the limiter, for tests and benches."""
        await self._sync(False)
        return self.limiter

    # waiting for a slot
    def _order(self) -> range:
        """Where to start looking for a free slot (to go round from there): each look one further, from a random
        first, so that processes seldom try the same slot first."""
        self._start = start = (self._start + 1) % self.cap
        return range(start, start + self.cap)

    async def take_slot(self) -> int:
        polling = self._polling
        if (polling is None or not polling.locked()) and not self._others_wait():
            found = await self._take()
            if found is not None:
                return found
        return await self._wait_slot()

    async def _wait_slot(self) -> int:
        """One coroutine per process looks, napping between looks (``_nap``); the others queue behind it."""
        if self._polling is None:
            self._polling = asyncio.Lock()
        async with self._polling:
            delay, first = self.POLL[0], True
            try:
                while True:
                    if not first or self._others_wait():
                        self._note_waiting(True)
                        await self._nap(delay)
                        delay = min(delay * 1.5, self.POLL[1])
                    first = False
                    found = await self._take()
                    if found is not None:
                        return found
            finally:
                self._note_waiting(False)

    async def _nap(self, seconds: float) -> None:
        """Sleep ``seconds``, or less: until a slot of this process's is given back (``_released``)."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(seconds, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _released(self) -> None:
        """A slot of this process's was given back: the coroutine waiting for one looks at once (unless another
        process waits too: it is left its chance, as the next look is)."""
        waiter = self._waiter
        if waiter is not None and not self._others_wait():
            _wake(waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Slot:
    """A slot under the shared cap, held for one exchange."""

    __slots__ = ("gate", "index")

    def __init__(self, gate: SharedGate) -> None:
        self.gate = gate
        self.index = -1

    async def __aenter__(self) -> _Slot:
        self.index = await self.gate.take_slot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.gate.give_slot(self.index)
