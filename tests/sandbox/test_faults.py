"""Sandbox core: injected faults, one kind at a time (exact schedules), and seeded probability mode."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, poll
from tests.sandbox.conftest import CREDITS, DETAIL, TEXT, TTS, TTS_LIST, VOICES, first_voice, tts

BROKEN = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError, httpx.ConnectError)




def test_reset_before_loses_the_request(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "reset_before"})})
    with akool(sb) as c:
        voice = first_voice(c)
        with pytest.raises(BROKEN):
            tts(c, voice)
        assert c.get(TTS_LIST).json()["data"]["count"] == 0
        again = tts(c, voice).json()  # the schedule pinned only the first create
        assert again["code"] == 1000
    stats = sb.stats()
    assert stats["creates"] == 1 and stats["jobs"] == 1
    assert stats["faults"] == {"reset_before": 1}
    assert stats["credits_charged"] == pytest.approx(CREDITS)
    assert [e["fault"] for e in sb.log() if e["path"] == TTS] == ["reset_before", None]


def test_reset_after_loses_only_the_answer(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "reset_after"})})
    with akool(sb) as c:
        voice = first_voice(c)
        with pytest.raises(BROKEN):
            tts(c, voice)
        stats = sb.stats()
        assert stats["creates"] == 1 and stats["jobs"] == 1
        assert stats["credits_charged"] == pytest.approx(CREDITS)
        assert stats["faults"] == {"reset_after": 1}
        listed = c.get(TTS_LIST).json()["data"]
        assert listed["count"] == 1
        assert listed["result"][0]["input_text"] == TEXT
        assert listed["result"][0]["deduction_credit"] == pytest.approx(CREDITS)


def test_error_5xx_creates_nothing(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "error_5xx", 2: "error_5xx", 3: "error_5xx"},
                                               statuses=(502, 503))})
    with akool(sb) as c:
        voice = first_voice(c)
        statuses = [tts(c, voice).status_code for _ in range(3)]
        assert set(statuses) <= {502, 503}
        assert tts(c, voice).status_code == 200
    stats = sb.stats()
    assert stats["creates"] == 1 and stats["faults"] == {"error_5xx": 3}

    sb = make_sandbox(faults=af.Faults(at={1: "error_5xx"}, statuses=(500,)))
    with akool(sb) as c:
        assert c.get(VOICES).status_code == 500


def test_throttle_fault_is_1005(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "throttle"})})
    with akool(sb) as c:
        r = tts(c, first_voice(c))
    assert r.status_code == 200
    assert r.json() == {"code": 1005, "msg": "Operation is too frequent"}
    stats = sb.stats()
    assert stats["throttled"] == 1 and stats["faults"] == {"throttle": 1} and stats["creates"] == 0


def test_job_fail_ends_failed_and_refunds(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "job_fail"})})
    with akool(sb) as c:
        created = tts(c, first_voice(c)).json()
        assert created["code"] == 1000
        assert created["data"]["deduction_credit"] == pytest.approx(CREDITS)
        assert sb.stats()["balances"]["akool"] == pytest.approx(1_000_000 - CREDITS)
        _id = created["data"]["_id"]
        done = poll(lambda: c.get(DETAIL.format(_id=_id)).json(), lambda a: a["data"]["result"]["status"] >= 3)
    assert done["data"]["result"]["status"] == 4
    assert done["data"]["result"]["preview"] is None
    stats = sb.stats()
    assert stats["credits_charged"] == 0
    assert stats["balances"]["akool"] == pytest.approx(1_000_000)
    assert stats["jobs_by_status"] == {"failed": 1} and stats["faults"] == {"job_fail": 1}


def test_latency(make_sandbox: Any) -> None:
    """Latency holds the faulted endpoints at least as long as configured (lower bounds: a sleep never ends early),
    and only them: an endpoint without a fault is answered while a voice list is still held (events, not a time
    limit: delayed too, it would end after the voice list, which started before it)."""
    latency = 3.0
    sb = make_sandbox(faults={"voice_list": af.Faults(latency=latency), "tts": af.Faults(latency=(0.1, 0.15))})
    voices: list[tuple[str, float]] = []

    def held() -> None:
        with akool(sb) as other:
            t0 = time.monotonic()
            voices.append((first_voice(other), time.monotonic() - t0))

    thread = threading.Thread(target=held)
    thread.start()
    poll(lambda: {"in": sb.app.http_in_flight}, lambda a: a["in"] == 1)  # the voice list is in, and held
    with akool(sb) as c:
        assert c.get(TTS_LIST).json()["code"] == 1000  # no fault configured for this endpoint
        assert thread.is_alive()  # answered while the voice list is still held
        thread.join(30)
        [(voice, took)] = voices
        assert took >= latency
        t0 = time.monotonic()
        assert tts(c, voice).json()["code"] == 1000
        assert time.monotonic() - t0 >= 0.1


def test_per_endpoint_faults_only_hit_that_endpoint(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(error_5xx=1.0)})
    with akool(sb) as c:
        voice = first_voice(c)
        statuses = {tts(c, voice).status_code for _ in range(8)}
        assert statuses <= {500, 502, 503} and statuses
        assert c.get(TTS_LIST).json()["code"] == 1000
        assert c.get(DETAIL.format(_id="0" * 24)).json()["code"] == 1008
        assert c.get(VOICES).status_code == 200
    assert sb.stats()["faults"] == {"error_5xx": 8}

    # keyed by path and by route kind as well as by job name
    sb = make_sandbox(faults={"poll": af.Faults(throttle=1.0)})
    with akool(sb) as c:
        voice = first_voice(c)
        _id = tts(c, voice).json()["data"]["_id"]
        assert c.get(DETAIL.format(_id=_id)).json()["code"] == 1005


def _fault_column(seed: int) -> list[str | None]:
    faults = af.Faults(error_5xx=0.25, throttle=0.25, reset_before=0.15, statuses=(500, 502, 503))
    with af.sandbox(time_scale=200, seed=seed, faults={"voice_list": faults}) as sb, akool(sb) as c:
        for _ in range(30):
            try:
                c.get(VOICES)
            except BROKEN:
                pass
        return [(e["fault"], e.get("status")) for e in sb.log()]  # type: ignore[misc]


def test_same_seed_same_faults() -> None:
    first, second = _fault_column(7), _fault_column(7)
    assert first == second
    kinds = {fault for fault, _ in first}
    assert {"error_5xx", "throttle", "reset_before", None} <= kinds  # every kind occurred
    assert _fault_column(8) != first
