"""Sandbox: Kling custom voice (create, query, lists, delete, callback) against the reconstructed docs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

import akool_frames as af
from akool_frames.sandbox._auth import jwt_encode
from tests.conftest import media_seconds, poll

VOICE_URL = "https://p2-kling.klingai.com/kcdn/cdn-kcdn112452/kling-qa-test/out.mp3"
EXAMPLE = {"video_id": "", "voice_url": VOICE_URL, "voice_name": "Custom Voice", "callback_url": ""}  # the docs' example
CREATE = "/v1/general/custom-voices"


def client(sb: af.Sandbox) -> httpx.Client:
    now = int(time.time())
    token = jwt_encode({"iss": sb.kling_access_key, "exp": now + 1800, "nbf": now - 5}, sb.kling_secret_key)
    return httpx.Client(base_url=sb.kling_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _ok(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200 and body["code"] == 0, body
    assert isinstance(body["message"], str) and isinstance(body["request_id"], str) and body["request_id"]
    return body["data"]


def _error(response: httpx.Response, http: int, code: int) -> str:
    body = response.json()
    assert response.status_code == http and body["code"] == code, body
    assert isinstance(body["request_id"], str)
    return str(body["message"])


def _get(http: httpx.Client, key: str) -> dict[str, Any]:
    return _ok(http.get(f"{CREATE}/{key}"))


@pytest.fixture
def kb(make_sandbox: Any) -> af.Sandbox:
    return make_sandbox(media={VOICE_URL: 12.0, "https://x.test/short.mp3": 4.9, "https://x.test/long.wav": 30.5,
                               "vid-long": 45.0})


def test_example_body_runs_to_a_voice_with_a_trial_file(kb: af.Sandbox) -> None:
    with client(kb) as http:
        data = _ok(http.post(CREATE, json=EXAMPLE))
        assert data["task_status"] == "submitted" and isinstance(data["task_id"], str)
        assert data["task_info"] == {"external_task_id": ""}
        assert isinstance(data["created_at"], int) and data["updated_at"] == data["created_at"]
        assert "task_result" not in data
        done = poll(lambda: _get(http, data["task_id"]), lambda d: d["task_status"] in ("succeed", "failed"))
        trial = httpx.get(done["task_result"]["voices"][0]["trial_url"], timeout=10)
    assert done["task_status"] == "succeed" and done["task_status_msg"] == ""
    assert done["final_unit_deduction"] == "1"  # a string; the docs give no price (sandbox default 1)
    assert done["updated_at"] > done["created_at"]
    [voice] = done["task_result"]["voices"]
    assert set(voice) == {"voice_id", "voice_name", "trial_url", "owned_by"}
    assert voice["voice_name"] == "Custom Voice" and isinstance(voice["voice_id"], str) and voice["owned_by"] != "kling"
    assert trial.status_code == 200 and media_seconds(trial.content, "mp3") == pytest.approx(6.0, abs=0.1)
    assert kb.stats()["credits_charged"] == 1 and kb.stats()["creates_by_endpoint"] == {"/kling/v1/general/custom-voices": 1}


def test_query_by_external_task_id_which_must_be_unique(kb: af.Sandbox) -> None:
    with client(kb) as http:
        data = _ok(http.post(CREATE, json={**EXAMPLE, "external_task_id": "row-7"}))
        by_external = _get(http, "row-7")
        again = http.post(CREATE, json={**EXAMPLE, "voice_name": "Other", "external_task_id": "row-7"})
        unknown = http.get(f"{CREATE}/no-such-task")
    assert data["task_info"] == {"external_task_id": "row-7"} and by_external["task_id"] == data["task_id"]
    assert "external_task_id" in _error(again, 400, 1201)
    _error(unknown, 404, 1203)
    assert kb.stats()["creates"] == 1


@pytest.mark.parametrize(("body", "named"), [
    ({"voice_url": VOICE_URL}, "voice_name"),
    ({**EXAMPLE, "voice_name": "x" * 21}, "voice_name"),
    ({"voice_name": "A"}, "voice_url or video_id"),
    ({"voice_name": "A", "voice_url": VOICE_URL, "video_id": "vid-1"}, "voice_url and video_id"),
    ({"voice_name": "A", "voice_url": "https://x.test/short.mp3"}, "voice_url"),
    ({"voice_name": "A", "voice_url": "https://x.test/long.wav"}, "voice_url"),
    ({"voice_name": "A", "video_id": "vid-long"}, "video_id"),
    ({**EXAMPLE, "callback_url": 5}, "callback_url"),
])
def test_parameter_errors_name_the_field(kb: af.Sandbox, body: dict[str, Any], named: str) -> None:
    with client(kb) as http:
        message = _error(http.post(CREATE, json=body), 400, 1201)
    assert named in message
    assert kb.stats()["creates"] == 0


def test_video_id_of_the_right_length_is_accepted(kb: af.Sandbox) -> None:
    with client(kb) as http:
        data = _ok(http.post(CREATE, json={"voice_name": "From video", "video_id": "vid-1"}))  # default 8 s
    assert data["task_status"] == "submitted"


def test_price_is_configurable(make_sandbox: Any) -> None:
    sb = make_sandbox(prices={"kling.custom_voice": 2.5}, media={VOICE_URL: 12.0})
    with client(sb) as http:
        data = _ok(http.post(CREATE, json=EXAMPLE))
    assert data["final_unit_deduction"] == "2.5" and sb.stats()["credits_charged"] == 2.5


def test_resource_pack_depleted(make_sandbox: Any) -> None:
    sb = make_sandbox(credits={"kling": 0.5}, media={VOICE_URL: 12.0})
    with client(sb) as http:
        _error(http.post(CREATE, json=EXAMPLE), 429, 1102)
    assert sb.stats()["creates"] == 0


def test_failed_task_has_a_reason_and_is_refunded(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0, faults=af.Faults(job_fail=1.0), media={VOICE_URL: 12.0})
    with client(sb) as http:
        data = _ok(http.post(CREATE, json=EXAMPLE))
        assert sb.stats()["balances"]["kling"] == 1_000_000 - 1
        sb.advance(3600)  # real-time clock: charged until the clock moves, then failed and refunded
        done = poll(lambda: _get(http, data["task_id"]), lambda d: d["task_status"] in ("succeed", "failed"))
    assert done["task_status"] == "failed" and done["task_status_msg"]
    assert "task_result" not in done and done["final_unit_deduction"] == "0"
    assert sb.stats()["credits_charged"] == 0 and sb.stats()["balances"]["kling"] == 1_000_000


def test_custom_voice_list_pages(kb: af.Sandbox) -> None:
    with client(kb) as http:
        ids = [_ok(http.post(CREATE, json={**EXAMPLE, "voice_name": f"V{i}"}))["task_id"] for i in range(3)]
        first = _ok(http.get(CREATE, params={"pageNum": 1, "pageSize": 2}))
        second = _ok(http.get(CREATE, params={"pageNum": 2, "pageSize": 2}))
        default = _ok(http.get(CREATE))
        errors = [_error(http.get(CREATE, params=params), 400, 1201)
                  for params in ({"pageSize": 0}, {"pageSize": 1001}, {"pageNum": 0}, {"pageNum": "x"})]
    assert isinstance(first, list) and [t["task_id"] for t in first + second] == ids[::-1]  # newest first
    assert len(default) == 3 and all("task_status" in t for t in default)
    assert ["pageSize" in errors[0], "pageSize" in errors[1], "pageNum" in errors[2], "pageNum" in errors[3]] == [True] * 4


def test_preset_voices_are_owned_by_kling(kb: af.Sandbox) -> None:
    with client(kb) as http:
        presets = _ok(http.get("/v1/general/presets-voices", params={"pageNum": 1, "pageSize": 3}))
        everything = _ok(http.get("/v1/general/presets-voices", params={"pageNum": 1, "pageSize": 1000}))
        trial = httpx.get(presets[0]["task_result"]["voices"][0]["trial_url"], timeout=10)
    assert len(presets) == 3 and len(everything) > 3
    for task in everything:
        assert task["task_status"] == "succeed" and task["task_result"]["voices"][0]["owned_by"] == "kling"
    assert trial.status_code == 200 and media_seconds(trial.content, "mp3") == pytest.approx(5.0, abs=0.1)


def test_delete_custom_voice_only(kb: af.Sandbox) -> None:
    with client(kb) as http:
        task = _ok(http.post(CREATE, json=EXAMPLE))
        done = poll(lambda: _get(http, task["task_id"]), lambda d: d["task_status"] == "succeed")
        voice_id = done["task_result"]["voices"][0]["voice_id"]
        preset = _ok(http.get("/v1/general/presets-voices"))[0]["task_result"]["voices"][0]["voice_id"]
        deleted = _ok(http.post("/v1/general/delete-voices", json={"voice_id": voice_id}))
        remaining = _ok(http.get(CREATE))
        twice = http.post("/v1/general/delete-voices", json={"voice_id": voice_id})
        refused = http.post("/v1/general/delete-voices", json={"voice_id": preset})
        missing = http.post("/v1/general/delete-voices", json={})
    assert deleted["task_id"] == task["task_id"] and deleted["task_status"] == "succeed"
    assert remaining == []
    _error(twice, 404, 1203)
    assert "custom" in _error(refused, 400, 1201)
    assert "voice_id" in _error(missing, 400, 1201)


def test_callback_posts_the_task_object(kb: af.Sandbox) -> None:
    with client(kb) as http:
        task = _ok(http.post(CREATE, json={**EXAMPLE, "callback_url": kb.webhook_sink_url}))
        done = poll(lambda: _get(http, task["task_id"]), lambda d: d["task_status"] == "succeed")
    poll(lambda: {"sink": kb.sink()}, lambda s: len(s["sink"]) > 0)
    # The sink checks Akool signatures, so it refuses a Kling callback; what matters is what was posted.
    posted = kb.sink()[0]["payload"]
    assert posted == done


def test_bad_token_is_refused(kb: af.Sandbox) -> None:
    now = int(time.time())
    token = jwt_encode({"iss": kb.kling_access_key, "exp": now + 1800, "nbf": now - 5}, "wrong-secret")
    answer = httpx.post(kb.kling_url + CREATE, json=EXAMPLE, headers={"Authorization": f"Bearer {token}"})
    _error(answer, 401, 1002)
    assert kb.stats()["creates"] == 0
