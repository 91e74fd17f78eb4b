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
    sb = make_sandbox(time_scale=1, expiry=3600)  # real-time clock: nothing finishes by itself here
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
    sb = make_sandbox(time_scale=1, faults={"tts": af.Faults(job_fail=1.0)})
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
    slow = make_sandbox(time_scale=1)
    with akool(slow) as c:
        _id, _ = _create(c)
        time.sleep(0.2)
        assert _record(c, _id)["status"] == 1  # the queue alone is at least one sandbox second

    fast = make_sandbox(time_scale=1000)
    with akool(fast) as c:
        _id, _ = _create(c)
        t0 = time.monotonic()
        poll(lambda: _record(c, _id), lambda r: r["status"] == 3, timeout=2)
        assert time.monotonic() - t0 < 1.0


def test_clock_runs_at_scale_and_advances(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=200)
    clock = sb.state.clock
    t0, r0 = clock.now(), time.monotonic()
    time.sleep(0.1)
    elapsed_real = time.monotonic() - r0
    assert clock.now() - t0 == pytest.approx(elapsed_real * 200, rel=0.05)
    before = clock.now()
    sb.advance(1000)
    assert 1000 <= clock.now() - before < 1000 + 200  # the jump plus a few ms of running
    over_http = sb.admin("advance", {"seconds": 500})
    assert over_http["now"] - before >= 1500
    assert clock.real_seconds(200) == pytest.approx(1.0)
