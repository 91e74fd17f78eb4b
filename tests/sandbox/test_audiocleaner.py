"""Sandbox: audiocleaner.ai TTS (create, get by global_id, voice list) against the documentation."""

from __future__ import annotations

import functools
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import media_seconds, poll
from tests.sandbox.conftest import ok

TEXT = ("Faced with growing backlash, US President Donald Trump appears to have removed a controversial Truth Social "
        "post depicting himself as a Jesus-like figure.\n\nThe AI-generated image, which showed Trump appearing to heal "
        "a sick man in a hospital bed, sparked fierce backlash from both sides of the US political spectrum, including "
        "from some of Trump's most ardent supporters.")
EXAMPLE = {"voice_id": 2072, "emotion": 0, "speed": 1, "language": "en", "text": TEXT}  # the documented example
CREATE = "/audio/api/v1/api-keys/tts/task/create"
GET = "/audio/api/v1/api-keys/tts/task/get"


def client(sb: af.Sandbox) -> httpx.Client:
    return httpx.Client(base_url=sb.audiocleaner_url, headers={"api-key": sb.audiocleaner_api_key}, timeout=10)


_ok = functools.partial(ok, code=100000, message="Request Success")  # audiocleaner's success envelope


def _get(http: httpx.Client, job_id: str) -> dict[str, Any]:
    return _ok(http.post(GET, json={"global_id": job_id}))


def test_example_body_runs_to_a_downloadable_mp3(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0)  # real time: the task stays "waiting" until the clock is advanced
    with client(sb) as http:
        data = _ok(http.post(CREATE, json=EXAMPLE))
        assert list(data) == ["job_id"]
        job_id = data["job_id"]
        assert len(job_id) == 32 and int(job_id, 16) >= 0
        assert _get(http, job_id) == {"status": "waiting", "output": ""}  # queued or processing
        sb.advance(60)
        done = poll(lambda: _get(http, job_id), lambda d: d["status"] != "waiting")
        audio = httpx.get(done["output"], timeout=10)
    assert done["status"] == "success" and done["output"].endswith(".mp3")
    assert audio.status_code == 200
    assert media_seconds(audio.content, "mp3") == pytest.approx(len(TEXT) / 15, abs=0.1)
    assert len(TEXT) == 371 and sb.stats()["credits_charged"] == 4  # ceil(371 / 100)


@pytest.mark.parametrize(("chars", "credits"), [(60, 1), (215, 3), (100, 1), (101, 2), (33, 1)])
def test_one_credit_per_started_100_characters(sb: af.Sandbox, chars: int, credits: int) -> None:
    with client(sb) as http:
        _ok(http.post(CREATE, json={**EXAMPLE, "text": "x" * chars}))
    assert sb.stats()["credits_charged"] == credits
    assert sb.stats()["balances"]["audiocleaner"] == 1_000_000 - credits


@pytest.mark.parametrize("missing", ["voice_id", "emotion", "speed", "language", "text"])
def test_every_field_is_required(sb: af.Sandbox, missing: str) -> None:
    body = {k: v for k, v in EXAMPLE.items() if k != missing}
    with client(sb) as http:
        answer = http.post(CREATE, json=body).json()
    assert answer["code"] != 100000 and missing in answer["message"] and "required" in answer["message"]
    assert answer["data"] is None
    assert sb.stats()["creates"] == 0


@pytest.mark.parametrize(("field", "value"), [
    ("voice_id", "2072"), ("voice_id", 9999), ("emotion", 9), ("emotion", "0"), ("speed", 3),
    ("speed", "1"), ("language", "it"), ("text", 5),
])
def test_documented_types_and_values(sb: af.Sandbox, field: str, value: Any) -> None:
    with client(sb) as http:
        answer = http.post(CREATE, json={**EXAMPLE, field: value}).json()
    assert answer["code"] == 100001 and field in answer["message"], answer
    assert sb.stats()["creates"] == 0


def test_insufficient_balance_is_100100(make_sandbox: Any) -> None:
    sb = make_sandbox(credits={"audiocleaner": 3})
    with client(sb) as http:
        answer = http.post(CREATE, json=EXAMPLE).json()  # 4 credits
        _ok(http.post(CREATE, json={**EXAMPLE, "text": "x" * 300}))  # exactly 3
    assert answer == {"code": 100100, "message": "Insufficient credit balance", "data": None}
    assert sb.stats()["creates"] == 1 and sb.stats()["balances"]["audiocleaner"] == 0


def test_unknown_task_is_101008_and_global_id_is_required(sb: af.Sandbox) -> None:
    with client(sb) as http:
        unknown = http.post(GET, json={"global_id": "59063d399a3749f290a2d9fb4e75ddc3"}).json()
        missing = http.post(GET, json={"job_id": "59063d399a3749f290a2d9fb4e75ddc3"}).json()
    assert unknown["code"] == 101008 and unknown["message"] == "Task not found"
    assert missing["code"] == 100001 and "global_id" in missing["message"]


def test_wrong_api_key_is_101002(sb: af.Sandbox) -> None:
    answer = httpx.post(sb.audiocleaner_url + CREATE, json=EXAMPLE, headers={"api-key": "wrong"}).json()
    assert answer["code"] == 101002 and sb.stats()["creates"] == 0


def test_failed_task_shows_failed_and_is_refunded(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0, faults=af.Faults(job_fail=1.0))
    with client(sb) as http:
        job_id = _ok(http.post(CREATE, json=EXAMPLE))["job_id"]
        assert sb.stats()["balances"]["audiocleaner"] == 1_000_000 - 4
        sb.advance(3600)  # real-time clock: charged until the clock moves, then failed and refunded
        done = poll(lambda: _get(http, job_id), lambda d: d["status"] != "waiting")
    assert done == {"status": "failed", "output": ""}
    assert sb.stats()["credits_charged"] == 0 and sb.stats()["balances"]["audiocleaner"] == 1_000_000


def test_voice_list_has_the_documented_format(sb: af.Sandbox) -> None:
    with client(sb) as http:
        data = _ok(http.get("/audio/api/v1/api-keys/tts/voice/list"))
        chinese = next(v for v in data["records"] if v["language"] == "zh")
        _ok(http.post(CREATE, json={**EXAMPLE, "voice_id": chinese["id"], "language": "zh", "emotion": 8, "speed": 0.5}))
    assert data["total"] == len(data["records"]) > 1
    madison = data["records"][0]
    assert madison["id"] == 2072 and madison["name"] == "madison" and madison["display_name"] == "Madison"
    assert (madison["gender"], madison["language"], madison["age"]) == (2, "en", 2)
    assert madison["emotion"][:2] == ["chat", "customerservice"] and len(madison["emotion"]) == 16
    for record in data["records"]:
        assert set(record) == {"id", "gender", "language", "age", "emotion", "name", "display_name"}
        assert isinstance(record["id"], int) and isinstance(record["emotion"], list)
