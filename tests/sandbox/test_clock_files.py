"""Sandbox core: the sandbox clock, result files appearing on completion and expiring, time_scale."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, media_seconds, poll

VOICES = "/api/open/v4/voice/list?type=2"
TTS = "/api/open/v4/voice/tts"
DETAIL = "/api/open/v4/voice/resource/detail/{_id}"
TEXT = "Thirty characters of speech.."  # 29 characters: 29/15 s of audio


def _create(c: httpx.Client) -> tuple[str, str]:
    voice = c.get(VOICES).json()["data"]["result"][0]
    _id = c.post(TTS, json={"input_text": TEXT, "voice_id": voice["_id"]}).json()["data"]["_id"]
    return _id, voice["preview"]


def _record(c: httpx.Client, _id: str) -> dict[str, Any]:
    return dict(c.get(DETAIL.format(_id=_id)).json()["data"]["result"])


def test_file_served_after_completion_until_expiry(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=0.01, expiry=3600)  # a slow clock: nothing finishes by itself here
    with akool(sb) as c:
        _id, _ = _create(c)
        url = f"{sb.url}/files/{_id}.mp3"
        assert _record(c, _id)["status"] in (1, 2)
        assert _record(c, _id)["preview"] is None
        early = c.get(url)
        assert early.status_code == 404 and b"NoSuchKey" in early.content

        sb.advance(60)
        record = _record(c, _id)
        assert record["status"] == 3 and record["preview"] == url
        done = c.get(url)
        assert done.status_code == 200 and done.headers["content-type"].startswith("audio/")
        assert media_seconds(done.content, "mp3") == pytest.approx(29 / 15, abs=0.1)

        sb.advance(3600)  # past the expiry measured from completion
        assert c.get(url).status_code == 404
        assert _record(c, _id)["status"] == 3  # the record stays; only the file is gone


def test_failed_job_has_no_file(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=0.01, faults={"tts": af.Faults(job_fail=1.0)})
    with akool(sb) as c:
        _id, _ = _create(c)
        sb.advance(60)
        record = _record(c, _id)
        assert record["status"] == 4 and record["preview"] is None
        assert c.get(f"{sb.url}/files/{_id}.mp3").status_code == 404
    assert sb.stats()["credits_charged"] == 0


def test_catalogue_files_never_expire(make_sandbox: Any) -> None:
    sb = make_sandbox(expiry=60)
    with akool(sb) as c:
        _, preview = _create(c)
        sb.advance(10 * 365 * 86400)
        r = c.get(preview)
        assert r.status_code == 200
        assert media_seconds(r.content, "mp3") == pytest.approx(4.0, abs=0.1)
        assert c.get(f"{sb.url}/files/no-such-file.mp3").status_code == 404


def test_time_scale_speeds_jobs_up(make_sandbox: Any) -> None:
    """The same job on a sandbox 10,000 times faster is done before the slow one has left its queue (at least one
    sandbox second: 10 real seconds at 0.1). Events, not a time limit: at one speed, both would move alike."""
    slow, fast = make_sandbox(time_scale=0.1), make_sandbox(time_scale=1000)
    with akool(slow) as s, akool(fast) as f:
        slow_id, _ = _create(s)
        fast_id, _ = _create(f)
        poll(lambda: _record(f, fast_id), lambda r: r["status"] == 3, timeout=60)  # (a deadline, not the measure)
        assert _record(s, slow_id)["status"] == 1


def test_clock_runs_at_scale_and_advances(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=200)
    clock = sb.state.clock
    # Each clock reading is bracketed by real-time readings, so the bounds hold however late a thread runs.
    r0, t0, r1 = time.monotonic(), clock.now(), time.monotonic()
    time.sleep(0.5)
    r2, t1, r3 = time.monotonic(), clock.now(), time.monotonic()
    assert (r2 - r1) * 200 - 1e-6 <= t1 - t0 <= (r3 - r0) * 200 + 1e-6  # (1e-6: rounding at epoch magnitudes)
    r0, before = time.monotonic(), clock.now()
    sb.advance(1000)
    after, r1 = clock.now(), time.monotonic()
    assert 1000 - 1e-6 <= after - before <= 1000 + (r1 - r0) * 200 + 1e-6  # the jump plus what ran meanwhile
    over_http = sb.admin("advance", {"seconds": 500})
    assert over_http["now"] - before >= 1500
    assert clock.real_seconds(200) == pytest.approx(1.0)
