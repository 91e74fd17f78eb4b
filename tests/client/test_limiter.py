"""The adaptive limiter's decisions (spacing, cuts, pauses, growth), counted rather than timed, and the
concurrency gate seen from the sandbox: max_concurrency is never exceeded."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

import akool_frames as af
from akool_frames.transport._limiter import AdaptiveLimiter
from tests.client.conftest import VOICE, columns, make_frame


def _steady(limiter: AdaptiveLimiter, rate: float, start: float, seconds: float) -> float:
    """Successes at ``rate`` per second from ``start`` for ``seconds``; returns the time after the last."""
    n = int(rate * seconds)
    for i in range(n):
        limiter.succeeded(start + i / rate)
    return start + n / rate


# ----------------------------------------------------------------------------- spacing
def test_requests_are_spaced_at_the_rate() -> None:
    limiter = AdaptiveLimiter(10.0)
    assert limiter.delay(100.0) == 0.0
    slots = []
    now = 100.0
    for _ in range(5):  # every request asks at 100.0 and is told when its slot comes
        now += limiter.delay(now)
        slots.append(limiter.admit(now))
    assert slots == pytest.approx([100.0, 100.1, 100.2, 100.3, 100.4])


def test_a_late_wake_up_does_not_slow_the_schedule() -> None:
    limiter = AdaptiveLimiter(10.0)
    limiter.admit(0.0)
    limiter.admit(0.1004)  # woke 0.4 ms after its slot
    assert limiter.delay(0.15) == pytest.approx(0.05)  # the next slot is still 0.2, not 0.2004
    limiter.admit(5.0)  # after an idle spell: no catching up beyond one interval
    assert limiter.delay(5.0) == pytest.approx(0.1)


def test_without_a_rate_nothing_waits() -> None:
    limiter = AdaptiveLimiter(None)
    for i in range(100):
        limiter.admit(1.0 + i * 1e-6)
        assert limiter.delay(1.0 + i * 1e-6) == 0.0


def test_acquire_on_a_real_loop_waits_its_turn() -> None:
    async def main() -> tuple[int, int]:
        limiter = AdaptiveLimiter(50.0)
        tickets = [await limiter.acquire() for _ in range(6)]
        assert tickets == sorted(tickets) and len(set(tickets)) == 6
        free = AdaptiveLimiter(None)
        for _ in range(6):
            await free.acquire()
        return limiter.waits, free.waits

    spaced, free = asyncio.run(main())
    assert (spaced, free) == (5, 0)  # every request after the first had to wait; without a rate none did


# ----------------------------------------------------------------------------- throttling
def test_a_throttle_cuts_to_just_under_the_accepted_rate_and_pauses() -> None:
    limiter = AdaptiveLimiter(None)
    limiter.admit(0.0)
    now = _steady(limiter, 40.0, 0.0, 3.0)  # the provider accepted 40/s
    limiter.throttled(now, None, now)
    assert limiter.cuts == 1
    assert limiter.level == pytest.approx(40.0, rel=0.03)
    assert limiter.rate == pytest.approx(0.95 * 40.0, rel=0.03)
    assert limiter.delay(now) == pytest.approx(1 / limiter.rate)  # no Retry-After: one interval


def test_answers_to_requests_sent_before_the_cut_do_not_cut_again() -> None:
    limiter = AdaptiveLimiter(None)
    limiter.admit(0.0)
    now = _steady(limiter, 40.0, 0.0, 2.0)
    before = now - 0.05  # admitted before the throttle came back
    limiter.throttled(before, None, now)
    rate = limiter.rate
    for i in range(7):  # the rest of what was in flight comes back throttled too
        limiter.throttled(before + i * 0.001, None, now + 0.01 + i * 0.001)
    assert (limiter.cuts, limiter.rate) == (1, rate)
    limiter.throttled(now + limiter.SETTLE + 0.1, None, now + limiter.SETTLE + 0.1)  # sent at the new rate
    assert limiter.cuts == 2 and limiter.rate < rate


def test_retry_after_pauses_everyone_for_that_long() -> None:
    limiter = AdaptiveLimiter(20.0)
    ticket = limiter.admit(10.0)
    limiter.throttled(ticket, 2.5, 10.0)
    assert limiter.pauses == 1
    assert limiter.delay(10.0) == pytest.approx(2.5)
    assert limiter.delay(12.0) == pytest.approx(0.5)
    assert limiter.delay(12.5) == 0.0
    limiter.throttled(ticket, 1.0, 10.5)  # a shorter pause does not shorten the longer one
    assert limiter.delay(12.0) == pytest.approx(0.5) and limiter.pauses == 1


def test_a_throttle_never_more_than_halves_the_rate() -> None:
    limiter = AdaptiveLimiter(40.0)
    limiter.admit(0.0)
    limiter.succeeded(0.5)  # a quiet spell: 1 request accepted in the last second
    limiter.throttled(1.0, None, 1.0)
    assert limiter.rate == pytest.approx(20.0)


def test_the_pause_holds_acquire_back_on_a_real_loop() -> None:
    async def main() -> int:
        limiter = AdaptiveLimiter(None)
        await limiter.acquire()
        limiter.pause(0.05, asyncio.get_running_loop().time())  # as for a 503 with Retry-After: no cut
        await limiter.acquire()
        assert limiter.cuts == 0 and limiter.rate is None
        return limiter.waits

    assert asyncio.run(main()) == 1


# ----------------------------------------------------------------------------- growth
def test_growth_is_quick_back_to_the_level_then_slow_and_capped_by_the_ceiling() -> None:
    limiter = AdaptiveLimiter(100.0)
    limiter.admit(0.0)
    now = _steady(limiter, 40.0, 0.0, 2.0)
    limiter.throttled(now, None, now)  # level 40, rate 38
    limiter.rate = 10.0  # as if cut far too deep
    fast = 0
    while limiter.rate < 0.95 * limiter.level:  # type: ignore[operator]
        limiter.succeeded(now)
        fast += 1
    # 50 % per second of successes: 10 -> 38 takes about 10 + 15 + 22 ... ~= 70 successes, not hundreds
    assert 40 <= fast <= 90
    rate, slow = limiter.rate, 0
    while limiter.rate < rate * 1.03:
        limiter.succeeded(now)
        slow += 1
    assert slow == pytest.approx(rate, rel=0.05)  # beyond the level: +3 % per second of successes
    for _ in range(20_000):
        limiter.succeeded(now)
    assert limiter.rate == 100.0  # never above the ceiling


def test_without_a_ceiling_or_a_throttle_the_rate_stays_unset() -> None:
    limiter = AdaptiveLimiter(None)
    for i in range(1000):
        limiter.succeeded(i * 0.001)
    assert limiter.rate is None and limiter.cuts == 0


# ----------------------------------------------------------------------------- the gate, over HTTP
@pytest.mark.parametrize("concurrency", [2, 5])
def test_max_concurrency_is_never_exceeded(make_sandbox: Callable[..., af.Sandbox], tmp_path: Path, frame_lib: str,
                                           concurrency: int) -> None:
    sb = make_sandbox(faults=af.Faults(latency=(0.01, 0.03)))  # requests overlap
    df = make_frame(frame_lib, {"text": [f"Concurrency line {i}." for i in range(30)]})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=concurrency) as client:
        out = columns(df.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE))
    assert out["akool_status"] == ["completed"] * 30
    stats = sb.stats()
    assert stats["max_in_flight_by_account"] == {"akool": concurrency}  # reached, never passed
    assert stats["max_in_flight"] == concurrency
