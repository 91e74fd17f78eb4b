"""Sandbox core: rate and concurrency limits, and what the stats say about the traffic received."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, poll

VOICES = "/api/open/v4/voice/list?type=2"
TTS = "/api/open/v4/voice/tts"
DETAIL = "/api/open/v4/voice/resource/detail/{_id}"


def _voice(c: httpx.Client) -> str:
    return str(c.get(VOICES).json()["data"]["result"][0]["_id"])


def _parallel(n: int, call: Any) -> list[Any]:
    """Run ``call()`` in ``n`` threads released together; the result of each."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return out


# ---------------------------------------------------------------- rate limit
def test_rate_limit_in_band_1005(make_sandbox: Any) -> None:
    sb = make_sandbox(rate_limit=5)
    with akool(sb) as c:
        answers = [c.get(VOICES) for _ in range(15)]
    assert all(r.status_code == 200 for r in answers)
    codes = [r.json()["code"] for r in answers]
    throttled = [r.json() for r in answers if r.json()["code"] == 1005]
    assert codes[:5] == [1000] * 5  # the burst (one second's worth) passes
    assert len(throttled) >= 5, codes
    assert set(codes) == {1000, 1005}
    assert all(t == {"code": 1005, "msg": "Operation is too frequent"} for t in throttled)
    stats = sb.stats()
    assert stats["throttled"] == len(throttled)
    assert stats["requests"] == 15


def test_rate_limit_http_429_and_recovery(make_sandbox: Any) -> None:
    sb = make_sandbox(rate_limit=5, http_429=True)
    with akool(sb) as c:
        answers = [c.get(VOICES) for _ in range(15)]
        limited = [r for r in answers if r.status_code == 429]
        assert len(limited) >= 5
        assert {r.status_code for r in answers} == {200, 429}
        last = limited[-1]
        assert last.json()["code"] == 1005
        wait = float(last.headers["Retry-After"])
        assert 0 < wait <= 1 / 5 + 1e-6  # one token at 5 per second
        time.sleep(wait + 0.02)
        again = c.get(VOICES)
        assert again.status_code == 200 and again.json()["code"] == 1000
    assert sb.stats()["throttled"] == len(limited)


# ---------------------------------------------------------------- concurrency limit
def test_concurrency_limit(make_sandbox: Any) -> None:
    """Over the limit, a request is refused at once: while the two accepted requests are still held (each for
    LATENCY), three more are refused one after the other. Events, not seconds: a refusal that waited out the
    latency would end after the held requests, which started before it."""
    latency = 3.0
    sb = make_sandbox(concurrency_limit=2, faults=af.Faults(latency=latency))

    def call() -> dict[str, Any]:
        with akool(sb) as c:
            return dict(c.get(VOICES).json())

    held: list[tuple[dict[str, Any], float]] = []
    threads = [threading.Thread(target=lambda: held.append(_timed(call))) for _ in range(2)]
    for t in threads:
        t.start()
    poll(lambda: {"in": sb.state.in_flight["akool"]}, lambda a: a["in"] == 2)  # both accepted, now held
    refused = [call() for _ in range(3)]
    assert sb.state.in_flight["akool"] == 2 and all(t.is_alive() for t in threads)  # still held: refused at once
    for t in threads:
        t.join(30)
    assert [r["code"] for r, _ in held] == [1000, 1000]
    assert all(t >= latency for _, t in held)  # the accepted ones did wait (a lower bound: sleeps never end early)
    assert [r["code"] for r in refused] == [1005] * 3, refused
    assert all(r["msg"] == "Operation is too frequent" for r in refused)
    stats = sb.stats()
    assert stats["max_in_flight_by_account"]["akool"] == 2
    assert stats["throttled"] == 3


def _timed(call: Any) -> tuple[Any, float]:
    t0 = time.monotonic()
    result = call()
    return result, time.monotonic() - t0


def _audiocleaner_poll() -> tuple[str, str]:
    from akool_frames.sandbox._routes import ROUTES

    rt = next(r for r in ROUTES if r.provider == "audiocleaner" and r.kind == "poll")
    return rt.method, re.sub(r"\{\w+\}", "x", rt.path)


def test_audiocleaner_limits(make_sandbox: Any) -> None:
    pytest.importorskip("akool_frames.sandbox.families.audiocleaner")
    method, path = _audiocleaner_poll()
    sb = make_sandbox(rate_limit=3)
    headers = {"api-key": sb.audiocleaner_api_key}
    with httpx.Client(base_url=sb.url, headers=headers, timeout=10) as c:
        codes = [c.request(method, path, json={"global_id": "0" * 32}).json()["code"] for _ in range(10)]
    assert 101003 in codes and codes.count(101003) >= 4, codes
    assert sb.stats()["throttled"] == codes.count(101003)

    sb = make_sandbox(concurrency_limit=1, faults=af.Faults(latency=2.0))  # held long enough for the 3 to overlap

    def call() -> dict[str, Any]:
        with httpx.Client(base_url=sb.url, headers={"api-key": sb.audiocleaner_api_key}, timeout=10) as c:
            return dict(c.request(method, path, json={"global_id": "0" * 32}).json())

    results = _parallel(3, call)
    refused = [r for r in results if r["code"] == 101004]
    assert len(refused) == 2, results
    assert refused[0]["message"] == "API key concurrent request limit exceeded"
    assert sb.stats()["max_in_flight_by_account"]["audiocleaner"] == 1


# ---------------------------------------------------------------- stats
def test_stats_counts_duplicates_polls_and_in_flight(make_sandbox: Any) -> None:
    # The four parallel voice lists below overlap while each is held 1 s (released together: far less apart)
    sb = make_sandbox(faults={"voice_list": af.Faults(latency=1.0)})
    with akool(sb) as c:
        voice = _voice(c)
        body = {"input_text": "The same words, twice over.", "voice_id": voice}
        ids = [c.post(TTS, json=body).json()["data"]["_id"]]
        ids.append(c.post(TTS, json={**body, "webhookUrl": "http://127.0.0.1:9/hook"}).json()["data"]["_id"])
        ids.append(c.post(TTS, json={**body, "input_text": "Different words."}).json()["data"]["_id"])
        ids.append(c.post(TTS, json=body).json()["data"]["_id"])
        for _id in ids:
            poll(lambda _id=_id: c.get(DETAIL.format(_id=_id)).json(), lambda a: a["data"]["result"]["status"] == 3)
        polls_before = sb.stats()["polls"]
        c.get(DETAIL.format(_id=ids[0]))
        c.get(DETAIL.format(_id="0" * 24))  # a poll of an unknown id is still a poll
    stats = sb.stats()
    assert stats["creates"] == 4
    assert stats["creates_by_endpoint"] == {TTS: 4}
    # the webhook field does not make a body different: 3 identical bodies -> 2 duplicates
    assert stats["duplicate_creates"] == 2
    assert stats["polls"] == polls_before + 2 >= 6
    assert stats["polls_by_endpoint"] == {DETAIL: stats["polls"]}
    assert stats["jobs_by_status"] == {"completed": 4}

    def call() -> int:
        with akool(sb) as c:
            return int(c.get(VOICES).json()["code"])

    assert _parallel(4, call) == [1000] * 4
    stats = sb.stats()
    assert stats["max_in_flight"] == 4
    assert stats["max_in_flight_by_account"]["akool"] == 4


def test_admin_routes_match_stats_and_log(sb: Any) -> None:
    with akool(sb) as c:
        voice = _voice(c)
        created = c.post(TTS, json={"input_text": "Admin check.", "voice_id": voice}).json()["data"]["_id"]
        c.get(DETAIL.format(_id=created))
        c.get("/api/open/v4/voice/nowhere")
    sb.advance(3600)  # every job done: nothing changes between the two reads
    over_http = httpx.get(sb.url + "/_sandbox/stats", timeout=10).json()
    # JSON turns the status keys into strings; otherwise the numbers are the same, and the
    # admin request itself is not counted as client traffic
    assert over_http == json.loads(json.dumps(sb.stats()))
    assert over_http["requests"] == 4 and over_http["creates"] == 1 and over_http["polls"] == 1
    assert sb.admin("stats") == over_http

    log = httpx.get(sb.url + "/_sandbox/log", timeout=10).json()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("GET", "/api/open/v4/voice/list", 200), ("POST", TTS, 200),
        ("GET", f"/api/open/v4/voice/resource/detail/{created}", 200), ("GET", "/api/open/v4/voice/nowhere", 404),
    ]
    assert [e.get("endpoint") for e in log] == ["voice_list", "tts", "voice_resource_detail", None]
    assert [e["code"] for e in log[:3]] == [1000, 1000, 1000]
    assert log == json.loads(json.dumps(sb.log()))

    before = sb.state.clock.now()
    advanced = sb.admin("advance", {"seconds": 10})
    assert advanced["now"] >= before + 10
    bad = httpx.post(sb.url + "/_sandbox/advance", content=b"{nope", timeout=10)
    assert bad.status_code == 400
