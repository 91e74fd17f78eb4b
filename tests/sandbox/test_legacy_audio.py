"""Sandbox: Akool legacy audio v3 (TTS, one-shot voice clone, audio info, voice list) against the docs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, media_seconds, poll
from tests.sandbox.conftest import ok

TEXT = "Choose from male and female voices to bring your words to life with natural speech."
# The documented TTS example request (seed 000 snapshot), text completed.
TTS_EXAMPLE = {"input_text": TEXT, "voice_id": "LcfcDJNUP1GQjkzn1xUU", "rate": "100%", "webhookUrl": ""}
SAMPLE = "https://example.com/samples/my-voice.mp3"
CLONE_EXAMPLE = {"input_text": TEXT, "rate": "100%", "voice_url": SAMPLE, "webhookUrl": ""}


def _info(http: httpx.Client, _id: str) -> dict[str, Any]:
    return ok(http.get("/api/open/v3/audio/infobymodelid", params={"audio_model_id": _id}))


def _check_record(data: dict[str, Any]) -> None:
    assert isinstance(data["_id"], str) and len(data["_id"]) == 24
    assert data["status"] == 1 and data["url"] == ""
    assert isinstance(data["create_time"], int) and data["input_text"] == TEXT and data["rate"] == "100%"


@pytest.mark.parametrize(("path", "body"), [("/api/open/v3/audio/create", TTS_EXAMPLE),
                                            ("/api/open/v3/audio/clone", CLONE_EXAMPLE)])
def test_example_body_runs_to_a_downloadable_mp3(sb: af.Sandbox, path: str, body: dict[str, Any]) -> None:
    with akool(sb) as http:
        data = ok(http.post(path, json=body))
        _check_record(data)
        done = poll(lambda: _info(http, data["_id"]), lambda d: d["status"] == 3)
        audio = httpx.get(done["url"], timeout=10)
    assert done["_id"] == data["_id"] and done["url"].endswith(".mp3")
    assert audio.status_code == 200
    assert media_seconds(audio.content, "mp3") == pytest.approx(len(TEXT) / 15, abs=0.1)  # 100%: normal speed
    assert sb.stats()["creates_by_endpoint"] == {path: 1}


def test_tts_voice_model_id_is_the_voice_document_id(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        data = ok(http.post("/api/open/v3/audio/create", json=TTS_EXAMPLE))
    assert data["voice_model_id"] == "65e980d7af040969db5be854" and data["from"] == 3  # as in the docs' example


def test_rate_slows_speech_and_is_validated(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        slow = ok(http.post("/api/open/v3/audio/create", json={**TTS_EXAMPLE, "rate": "0%"}))
        done = poll(lambda: _info(http, slow["_id"]), lambda d: d["status"] == 3)
        audio = httpx.get(done["url"], timeout=10)
        bad = [http.post("/api/open/v3/audio/create", json={**TTS_EXAMPLE, "rate": rate}).json()
               for rate in ("101%", "1.0", 100, "fast")]
    assert media_seconds(audio.content, "mp3") == pytest.approx(len(TEXT) / 15 * 2, abs=0.1)  # 0%: half speed
    for answer in bad:
        assert answer["code"] == 1003 and "rate" in answer["msg"], answer
    assert sb.stats()["creates"] == 1


@pytest.mark.parametrize(("path", "body", "missing"), [
    ("/api/open/v3/audio/create", {"voice_id": "LcfcDJNUP1GQjkzn1xUU", "rate": "100%"}, "input_text"),
    ("/api/open/v3/audio/create", {"input_text": TEXT}, "voice_id"),
    ("/api/open/v3/audio/clone", {"input_text": TEXT, "voice_url": SAMPLE}, "rate"),
    ("/api/open/v3/audio/clone", {"rate": "50%", "voice_url": SAMPLE}, "input_text"),
    ("/api/open/v3/audio/clone", {"input_text": TEXT, "rate": "50%"}, "voice_id or voice_url"),
])
def test_missing_required_field_is_named_and_nothing_is_created(sb: af.Sandbox, path: str, body: dict[str, Any],
                                                                missing: str) -> None:
    with akool(sb) as http:
        answer = http.post(path, json=body).json()
    assert answer["code"] == 1003 and missing in answer["msg"], answer
    assert sb.stats()["creates"] == 0


def test_text_limit_and_unknown_voice(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        long = http.post("/api/open/v3/audio/create", json={**TTS_EXAMPLE, "input_text": "a " * 5001}).json()
        voice = http.post("/api/open/v3/audio/create", json={**TTS_EXAMPLE, "voice_id": "nope"}).json()
        clone = http.post("/api/open/v3/audio/clone", json={"input_text": TEXT, "rate": "80%", "voice_id": "nope"}).json()
        ok(http.post("/api/open/v3/audio/create", json={**TTS_EXAMPLE, "input_text": "a" * 6000}))  # 5000 words, not characters
    assert long["code"] == 1003 and "input_text" in long["msg"] and "5000" in long["msg"]
    # An unknown voice is 1008 "content not exist" (error-code page), as real clients meet it (issue 9).
    assert voice["code"] == 1008 and "voice_id" in voice["msg"] and "does not exist" in voice["msg"]
    assert clone["code"] == 1008 and "voice_id" in clone["msg"] and "does not exist" in clone["msg"]
    assert sb.stats()["creates"] == 1


def test_default_price_is_configurable(make_sandbox: Any) -> None:
    sb = make_sandbox(prices={"legacy_tts": 2.5})
    with akool(sb) as http:
        ok(http.post("/api/open/v3/audio/create", json=TTS_EXAMPLE))
        ok(http.post("/api/open/v3/audio/clone", json=CLONE_EXAMPLE))
    assert sb.stats()["credits_charged"] == 3.5  # 2.5 configured + 1.0 default (the docs give no price)


def test_failed_job_shows_status_4_and_is_refunded(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0, faults=af.Faults(job_fail=1.0))
    with akool(sb) as http:
        data = ok(http.post("/api/open/v3/audio/clone", json=CLONE_EXAMPLE))
        assert sb.stats()["balances"]["akool"] == 1_000_000 - 1.0
        sb.advance(3600)  # real-time clock: charged until the clock moves, then failed and refunded
        done = poll(lambda: _info(http, data["_id"]), lambda d: d["status"] in (3, 4))
    assert done["status"] == 4 and done["url"] == ""  # no failure-reason field is documented
    assert sb.stats()["credits_charged"] == 0 and sb.stats()["balances"]["akool"] == 1_000_000


def test_unknown_id_and_missing_query(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        unknown = http.get("/api/open/v3/audio/infobymodelid", params={"audio_model_id": "0" * 24}).json()
        missing = http.get("/api/open/v3/audio/infobymodelid").json()
    assert unknown["code"] == 1008
    assert missing["code"] == 1003 and "audio_model_id" in missing["msg"]


def test_voice_list_is_a_bare_array_by_source(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        official = ok(http.get("/api/open/v3/voice/list", params={"from": 3}))
        assert ok(http.get("/api/open/v3/voice/list", params={"from": 4})) == []
        clone = ok(http.post("/api/open/v4/voice/clone", json={"source_voice_file": SAMPLE, "name": "Mine"}))
        poll(lambda: ok(http.get(f"/api/open/v4/voice/detail/{clone['_id']}")), lambda d: d["status"] == 3)
        user = ok(http.get("/api/open/v3/voice/list", params={"from": "4"}))
        both = ok(http.get("/api/open/v3/voice/list"))
        bad = http.get("/api/open/v3/voice/list", params={"from": 2}).json()
        tts = ok(http.post("/api/open/v3/audio/create", json={**TTS_EXAMPLE, "voice_id": user[0]["voice_id"]}))
        preview = httpx.get(official[0]["preview"], timeout=10)
    assert isinstance(official, list) and all(v["from"] == 3 for v in official)
    assert official[0]["voice_id"] == "piTKgcLEGmPE4e6mEKli" and official[0]["name"] == "Nicole"
    assert {"voice_id", "preview", "_id", "gender", "accent", "useCase"} <= official[0].keys()
    assert [(v["from"], v["name"]) for v in user] == [(4, "Mine")]
    assert len(both) == len(official) + 1
    assert bad["code"] == 1003 and "from" in bad["msg"]
    assert tts["from"] == 4 and tts["voice_model_id"] == clone["_id"]
    assert preview.status_code == 200 and media_seconds(preview.content, "mp3") == pytest.approx(4.0, abs=0.1)
