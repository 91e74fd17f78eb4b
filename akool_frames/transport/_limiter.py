"""How fast requests may go: spacing at a rate learnt from the provider's throttling answers (``AdaptiveLimiter``).
``_http`` asks it before each request and tells it how each went."""

from __future__ import annotations

import asyncio
import collections

__all__ = ["AdaptiveLimiter", "ProcessGate"]


class AdaptiveLimiter:
    """Spaces requests at ``rate`` per second and learns the provider's limit from its throttling answers.

    ``rate`` None means no spacing: nothing is known yet (no ``ceiling`` given, no throttling seen).

    - A throttling answer to a request admitted *after* the last cut cuts the rate to CUT x the rate the
      provider accepted over the last WINDOW seconds. Against a token bucket (what providers run) the
      accepted rate while pushing past the limit *is* the limit, so one cut lands just under it instead
      of halving blindly. Answers to requests admitted before the cut (or within SETTLE after it, while
      the provider's bucket is still empty from the old rate) only extend the pause; cutting again for
      each would collapse the rate.
    - Every throttling answer pauses all requests for its Retry-After (or one interval when none is given).
    - Every success grows the rate by a factor ``1 + g`` per second of successes (``(1 + g) ** (1 / rate)``
      each): GROW_FAST while below the level where throttling was last seen (a cut that went too deep, or
      a passing throttle), GROW_SLOW beyond it, probing whether the limit went up. Never above ``ceiling``.

    The decisions are plain methods of a ``now`` (``delay``, ``admit``, ``throttled``, ``succeeded``), so
    tests can count them without a clock; ``acquire`` applies them on the running loop.
    """

    WINDOW = 1.0  # seconds of successes that measure the accepted rate
    CUT = 0.95  # of the accepted rate, after a throttling answer
    SETTLE = 0.25  # seconds after a cut whose throttling answers are the old rate's (in flight, emptied bucket)
    GROW_FAST = 0.5  # per second of successes, below the level where throttling was last seen
    GROW_SLOW = 0.03  # per second of successes, at or above it
    LEVEL_DECAY = 0.9  # per cut: how fast the remembered level follows a limit that went down
    MIN_RATE = 0.2  # requests per second: never slower than one every 5 s

    def __init__(self, ceiling: float | None) -> None:
        self.ceiling = ceiling
        self.rate = ceiling
        self.level: float | None = None  # the limit as measured at the last cuts (forgets slowly)
        self.cuts = 0  # decisions, for tests and the bench
        self.pauses = 0
        self.waits = 0  # acquires that had to wait
        self._next = float("-inf")  # earliest start of the next request at ``rate``
        self._paused_until = float("-inf")
        self._cut_at: float | None = None
        self._first: float | None = None
        self._ok: collections.deque[float] = collections.deque(maxlen=1 << 14)
        self._lock: asyncio.Lock | None = None

    # ------------------------------------------------------------------ decisions
    def delay(self, now: float) -> float:
        """Seconds a request arriving at ``now`` must wait (0: it may go)."""
        return max(0.0, self._paused_until - now, (self._next - now) if self.rate else 0.0)

    def admit(self, now: float) -> float:
        """Record a request sent at ``now``; returns its ticket (for ``throttled``)."""
        if self._first is None:
            self._first = now
        if self.rate:
            # From the slot it was due at when it is a little late (a sleep wakes up late, and that must
            # not slow the schedule down); from ``now`` after an idle spell (no burst to make up for it).
            interval = 1.0 / self.rate
            self._next = (self._next if now - self._next < interval / 2 else now) + interval
        return now

    def accepted(self, now: float) -> float:
        """Successes per second over the last WINDOW seconds (or since the first request, if sooner)."""
        if self._first is None:
            return 0.0
        span = max(min(self.WINDOW, now - self._first), 0.25)
        return sum(1 for t in self._ok if t > now - span) / span

    def throttled(self, ticket: float, retry_after: float | None, now: float) -> None:
        """The request admitted at ``ticket`` was answered with throttling at ``now``."""
        if self._cut_at is None or ticket >= self._cut_at + self.SETTLE:  # sent well after the last cut: too fast
            accepted = self.accepted(now) or (self.rate or 1.0) / 2
            # The level forgets slowly: one throttle in a quiet spell (or a passing one) must not make
            # the slow probing start from there; a limit that really dropped is reached in a few cuts.
            self.level = max(accepted, (self.level or 0.0) * self.LEVEL_DECAY)
            # No deeper than halving at once: when fewer requests were wanted than the rate allowed, the
            # accepted rate says little about the limit (and a limit far lower is reached in a few cuts).
            cut = max(accepted * self.CUT, (self.rate or 0.0) / 2)
            self.rate = max(self.MIN_RATE, min(cut, self.ceiling or float("inf")))
            self._cut_at = now
            self.cuts += 1
        self.pause(retry_after if retry_after is not None else 1.0 / (self.rate or 1.0), now)

    def pause(self, seconds: float, now: float) -> None:
        """Hold every request back until ``now + seconds`` (a longer pause already set stays)."""
        if now + seconds > self._paused_until:
            self._paused_until = now + seconds
            self.pauses += 1

    def succeeded(self, now: float) -> None:
        self._ok.append(now)
        if self.rate is None:
            return
        fast = self.level is not None and self.rate < self.level * self.CUT
        grown = self.rate * (1 + (self.GROW_FAST if fast else self.GROW_SLOW)) ** (1 / self.rate)
        self.rate = min(grown, self.ceiling) if self.ceiling else grown

    # ------------------------------------------------------------------ on the loop
    async def acquire(self) -> float:
        """Wait for this request's turn (first come, first served); returns its ticket."""
        loop = asyncio.get_running_loop()
        if self._lock is None:
            self._lock = asyncio.Lock()  # made on the loop that uses it
        elif not self._lock.locked() and self.delay(now := loop.time()) <= 0:
            return self.admit(now)  # nobody waiting and nothing to wait for: the lock would change nothing
        async with self._lock:
            waited = False
            # Re-check after each sleep: a throttling answer may have cut the rate or paused meanwhile.
            while (wait := self.delay(loop.time())) > 0:
                waited = True
                await asyncio.sleep(wait)
            self.waits += waited
            return self.admit(loop.time())


class ProcessGate:
    """This process's ``typing.Gate``: a semaphore as the concurrency cap, the adaptive limiter as the rate.
    (A gate shared by the processes of one account plugs in behind the same protocol.)"""

    def __init__(self, cap: int, rate: float | None) -> None:
        self.cap = asyncio.Semaphore(cap)
        self.limiter = AdaptiveLimiter(rate)
        self.acquire = self.limiter.acquire  # (bound once: asked per request)
        self.throttled, self.pause, self.succeeded = self.limiter.throttled, self.limiter.pause, self.limiter.succeeded

    def slot(self) -> asyncio.Semaphore:
        return self.cap
