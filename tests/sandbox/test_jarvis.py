"""Sandbox: Akool Jarvis Moderator (sentiment create, infobyid poll) against the documentation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, poll
from tests.sandbox.conftest import ok

IMAGE = "https://drz0f01yeq1cx.cloudfront.net/1714023431475-food.jpg"
EXAMPLE = {"type": 1, "content": IMAGE, "webhookUrl": ""}  # the documented example body
CREATE = "/api/open/v3/content/analysis/sentiment"


def _info(http: httpx.Client, _id: str) -> dict[str, Any]:
    return ok(http.get("/api/open/v3/content/analysis/infobyid", params={"_id": _id}))


def _run(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    data = ok(http.post(CREATE, json=body))
    return poll(lambda: _info(http, data["_id"]), lambda d: d["status"] in (3, 4))


def test_example_body_runs_to_a_conclusion(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        data = ok(http.post(CREATE, json=EXAMPLE))
        assert isinstance(data["_id"], str) and len(data["_id"]) == 24
        assert data["status"] == 1 and data["type"] == 1 and data["result"] == "" and data["webhookUrl"] == ""
        assert isinstance(data["create_time"], int) and isinstance(data["uid"], int) and data["__v"] == 0
        assert "final_conclusion" not in data  # the create example has none
        done = poll(lambda: _info(http, data["_id"]), lambda d: d["status"] in (3, 4))
    assert done["_id"] == data["_id"] and done["status"] == 3
    assert done["final_conclusion"] == "Compliant" and done["result"].endswith("Result: Compliant")
    assert "url" not in done and "video" not in done  # no result file
    assert sb.stats()["credits_charged"] == 0.2  # image: 0.2 each


def test_conclusion_is_decided_by_the_content(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        violent = _run(http, {"type": 4, "content": "A man waves a gun and threatens violence.", "language": "en"})
        unclear = _run(http, {"type": 4, "content": "Unclear mumbling.", "language": "en"})
        custom = _run(http, {"type": 4, "content": "Buy our pineapple pizza", "input": "pineapple, anchovies"})
        clean = _run(http, {"type": 4, "content": "A quiet walk in the park."})
        image = _run(http, {"type": 1, "content": "https://x.test/gun-in-hand.png"})
    assert violent["final_conclusion"] == "Non-Compliant" and "- violence:" in violent["result"]
    assert violent["result"].endswith("Result: Non-Compliant")
    assert unclear["final_conclusion"] == "Unknown"
    assert custom["final_conclusion"] == "Non-Compliant" and "pineapple" in custom["result"]
    assert clean["final_conclusion"] == "Compliant"
    assert image["final_conclusion"] == "Non-Compliant"


def test_credits_follow_the_table_pro_rata(make_sandbox: Any) -> None:
    audio, video = "https://x.test/talk.mp3", "https://x.test/clip.mp4"
    sb = make_sandbox(media={audio: 90.0, video: 30.0})
    with akool(sb) as http:
        ok(http.post(CREATE, json={"type": 4, "content": "x" * 600}))
        assert sb.stats()["credits_charged"] == 0.1  # text: 0.1 per 600 characters
        ok(http.post(CREATE, json={"type": 4, "content": "x" * 300}))
        assert sb.stats()["credits_charged"] == 0.15  # half a block: no rounding up
        ok(http.post(CREATE, json={"type": 3, "content": audio, "language": "en"}))
        assert sb.stats()["credits_charged"] == 0.9  # audio: 0.5 per minute x 1.5 min
        ok(http.post(CREATE, json={"type": 2, "content": video}))
        assert sb.stats()["credits_charged"] == 1.4  # video: 1 per minute x 0.5 min
        ok(http.post(CREATE, json=EXAMPLE))
    assert sb.stats()["credits_charged"] == 1.6
    assert sb.stats()["balances"]["akool"] == pytest.approx(1_000_000 - 1.6)


@pytest.mark.parametrize(("body", "named"), [
    ({"type": 1}, "content"),
    ({"content": IMAGE}, "type"),
    ({"type": 5, "content": IMAGE}, "type"),
    ({"type": "1", "content": IMAGE}, "type"),
    ({"type": 2, "content": "just words"}, "content"),
    ({"type": 1, "content": "https://x.test/picture.bmp"}, "content"),
    ({"type": 4, "content": "hello", "language": "english"}, "language"),
])
def test_parameter_errors_name_the_field(sb: af.Sandbox, body: dict[str, Any], named: str) -> None:
    with akool(sb) as http:
        answer = http.post(CREATE, json=body).json()
    assert answer["code"] == 1003 and named in answer["msg"], answer
    assert sb.stats()["creates"] == 0


def test_audio_over_60_minutes_is_refused(make_sandbox: Any) -> None:
    sb = make_sandbox(media={"https://x.test/long.mp3": 3601.0})
    with akool(sb) as http:
        answer = http.post(CREATE, json={"type": 3, "content": "https://x.test/long.mp3"}).json()
    assert answer["code"] == 1003 and "content" in answer["msg"] and "60 minutes" in answer["msg"]
    assert sb.stats()["creates"] == 0


def test_failed_job_shows_status_4_and_is_refunded(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0, faults=af.Faults(job_fail=1.0))
    with akool(sb) as http:
        data = ok(http.post(CREATE, json=EXAMPLE))
        assert sb.stats()["balances"]["akool"] == pytest.approx(1_000_000 - 0.2)
        sb.advance(3600)  # real-time clock: charged until the clock moves, then failed and refunded
        done = poll(lambda: _info(http, data["_id"]), lambda d: d["status"] in (3, 4))
    assert done["status"] == 4 and done["result"] == "" and "final_conclusion" not in done
    assert sb.stats()["credits_charged"] == 0 and sb.stats()["balances"]["akool"] == 1_000_000


def test_unknown_id_and_missing_query(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        unknown = http.get("/api/open/v3/content/analysis/infobyid", params={"_id": "662e20b93baa7aa53169a325"}).json()
        missing = http.get("/api/open/v3/content/analysis/infobyid").json()
    assert unknown["code"] == 1008
    assert missing["code"] == 1003 and "_id" in missing["msg"]


def test_webhook_reports_the_finished_job(sb: af.Sandbox) -> None:
    with akool(sb) as http:
        data = ok(http.post(CREATE, json={**EXAMPLE, "webhookUrl": sb.webhook_sink_url}))
        poll(lambda: {"sink": sb.sink()}, lambda s: len(s["sink"]) > 0)
    [entry] = sb.sink()
    assert entry["accepted"] and entry["data"]["_id"] == data["_id"] and entry["data"]["status"] == 3
    assert entry["data"]["url"] == ""  # no result file
