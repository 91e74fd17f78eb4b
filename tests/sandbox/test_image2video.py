"""Sandbox family: Akool Image to Video v4 (single, batch, add audio, results, effects, delete) and AI models: the
documented examples, the body Akool's own demo sends, the audio fields' types, and resultsByIds given a bad _ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, is_png, media_seconds, poll
from tests.sandbox.conftest import ok, refused

SINGLE = "/api/open/v4/image2Video/createBySourcePrompt"
BATCH = "/api/open/v4/image2Video/createBySourcePrompt/batch"
AUDIO = "/api/open/v4/image2Video/updateVideoAudio"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
EFFECTS = "/api/open/v4/image2Video/effects"
DELETE = "/api/open/v4/image2Video/delbyids"
MODELS = "/api/open/v4/aigModel/list"

IMAGE = "https://drz0f01yeq1cx.cloudfront.net/1753772478686-9524-b6e4169bb1b44d5d8361936b3f6eddb8.png"
AUDIO_URL = "https://drz0f01yeq1cx.cloudfront.net/1753772497950-9213-1749809724426audio.mp3"
PROMPT = "Animate this image with smooth camera movement and subtle object motion."
# The documented single-create example body (negative prompt shortened).
EXAMPLE = {"image_url": IMAGE, "prompt": PROMPT, "negative_prompt": "blurry, distorted hands, missing fingers",
           "extend_prompt": True, "resolution": "4k", "audio_url": AUDIO_URL, "audio_type": 2, "video_length": 10,
           "is_premium_model": True, "effect_code": "squish_89244231312", "webhookurl": ""}
# The documented batch example body.
BATCH_EXAMPLE = {"image_url": IMAGE, "prompt": PROMPT, "model_name": "seedance-1-0-lite-i2v-250428",
                 "negative_prompt": "blurry, distorted, low quality", "extend_prompt": True, "resolution": "720p",
                 "video_length": 5, "count": 3,
                 "last_image_url": "https://drz0f01yeq1cx.cloudfront.net/1753772478686-9524-last-frame.png"}

# Akool's image to video demo sends this body to the batch create (akool-image-to-video-demo, useAnimatorLogic.ts).
DEMO_BATCH = {"image_url": IMAGE, "prompt": PROMPT, "model_name": "AkoolImage2VideoFastV1",
              "negative_prompt": "blurry, distorted hands", "resolution": "1080p", "audio_url": "", "audio_type": "1",
              "video_length": 5, "is_premium_model": False, "count": 1}
# A small single create (page 19), for the tests that need any job.
SINGLE_BODY = {"image_url": IMAGE, "prompt": PROMPT, "negative_prompt": "blurry", "resolution": "720p",
               "audio_type": 3, "video_length": 5}

CREATE_TYPES = {"create_time": int, "uid": int, "team_id": str, "status": int, "webhookUrl": str, "resolution": str,
                "file_name": str, "effect_name": str, "_id": str, "image_url": str, "prompt": str,
                "negative_prompt": str, "extend_prompt": bool, "audio_type": int, "audio_url": str,
                "deduction_credit": int, "effect_code": str}
RESULT_TYPES = {"_id": str, "create_time": int, "uid": int, "team_id": str, "update_time": int,
                "video_duration": (int, float), "webhookUrl": str, "file_name": str, "effect_name": str,
                "image_url": str, "prompt": str, "resolution": str, "audio_type": int, "audio_url": str,
                "deduction_credit": int, "effect_code": str, "status": int, "only_add_audio": bool}


@pytest.fixture
def box(make_sandbox: Any) -> af.Sandbox:
    return make_sandbox()


@pytest.fixture
def c(box: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(box) as client:
        yield client


def _types(record: dict[str, Any], types: dict[str, Any]) -> None:
    for key, typ in types.items():
        assert key in record, f"{key} missing from {record}"
        assert isinstance(record[key], typ) and not (typ is int and isinstance(record[key], bool)), (key, record[key])


def _results(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    return ok(c.post(RESULTS, json={"_ids": ",".join(ids)}))["result"]


def _wait_done(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    return poll(lambda: {"r": _results(c, *ids)}, lambda a: all(i["status"] in (3, 4) for i in a["r"]))["r"]


def test_single_create_example_conforms(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0)  # slow clock: the queued record can be observed, then advanced
    with akool(sb) as c:
        data = ok(c.post(SINGLE, json={**EXAMPLE, "webhookurl": sb.webhook_sink_url}))
        _types(data, CREATE_TYPES)
        assert data["status"] == 1 and data["deduction_credit"] == 60  # 4k, 10 s
        assert data["webhookUrl"] == sb.webhook_sink_url and "webhookurl" not in data
        assert data["effect_name"] == "Squish" and data["file_name"] == "Image2Video_Animate this image with .mp4"
        assert re.fullmatch(r"[0-9a-f]{24}", data["_id"]) and data["uid"] == 101400
        (queued,) = _results(c, data["_id"])
        assert queued["status"] in (1, 2) and "video_url" not in queued  # absent, not empty, until done
        _types(queued, RESULT_TYPES)
        sb.advance(60)
        (done,) = _wait_done(c, data["_id"])
        assert done["status"] == 3 and done["only_add_audio"] is False and done["deduction_credit"] == 60
        assert done["video_duration"] == 10
        video = httpx.get(done["video_url"], timeout=10)
        assert video.status_code == 200 and media_seconds(video.content, "mp4") == pytest.approx(10, abs=0.1)
    assert sb.stats()["credits_charged"] == 60
    sink = poll(lambda: {"s": sb.sink()}, lambda a: len(a["s"]) == 1)["s"]
    assert sink[0]["accepted"] and sink[0]["data"]["_id"] == data["_id"] and sink[0]["data"]["status"] == 3
    assert sink[0]["data"]["url"] == done["video_url"]


TABLE = [("720p", 5, 20), ("1080p", 5, 25), ("4k", 5, 30), ("720p", 10, 40), ("1080p", 10, 50), ("4k", 10, 60)]


def test_single_credit_table(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        for resolution, length, credits in TABLE:
            body = {**EXAMPLE, "resolution": resolution, "video_length": length, "audio_type": 3}
            del body["audio_url"]
            data = ok(c.post(SINGLE, json=body))
            assert data["deduction_credit"] == credits and data["audio_url"] == "", (resolution, length)
    assert sb.stats()["credits_charged"] == sum(t[2] for t in TABLE) == 225


def test_batch_example_conforms(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        data = ok(c.post(BATCH, json=BATCH_EXAMPLE))
        assert data["errorList"] == [] and len(data["successList"]) == 3
        items = data["successList"]
        for item in items:
            assert item["deduction_credit"] == 5  # seedance lite, 720p, 5 s: the model's unit_credit
            assert item["model_name"] == "seedance-1-0-lite-i2v-250428" and item["batch_count"] == 3
            assert item["last_image_url"] == BATCH_EXAMPLE["last_image_url"] and item["status"] == 1
            assert isinstance(item["_id"], str) and isinstance(item["create_time"], int)
        assert len({i["_id"] for i in items}) == 3 and len({i["batch_id"] for i in items}) == 1
        assert re.fullmatch(r"\d{13}_101400", items[0]["batch_id"])
        assert sb.stats()["credits_charged"] == 15
        ids = [i["_id"] for i in items]
        results = _wait_done(c, *ids)
        assert sorted(r["_id"] for r in results) == sorted(ids)
        assert all(r["status"] == 3 and r["video_url"] and r["deduction_credit"] == 5 for r in results)
        one = httpx.get(results[0]["video_url"], timeout=10)
        assert media_seconds(one.content, "mp4") == pytest.approx(5, abs=0.1)
    assert sb.stats()["duplicate_creates"] == 0


def test_multi_id_poll_is_one_request(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        ids = [i["_id"] for i in ok(c.post(BATCH, json={**BATCH_EXAMPLE, "count": 4}))["successList"]]
        before = sb.stats()["polls"]
        result = _results(c, *ids, "000000000000000000000000")  # an unknown id is simply left out
        assert sb.stats()["polls"] == before + 1
        assert [r["_id"] for r in result] == ids


BATCH_PRICES = [
    ({"model_name": "seedance-1-0-lite-i2v-250428", "resolution": "480p", "video_length": 10}, 6),  # 3 x 2 (derived)
    ({"model_name": "AkoolImage2VideoFastV1", "resolution": "4k", "video_length": 5}, 20),
    ({"resolution": "1080p", "video_length": 10}, 50),  # no model_name: the fixed table
]


def test_batch_credits(sb: af.Sandbox) -> None:
    base = {k: v for k, v in BATCH_EXAMPLE.items() if k not in ("model_name", "last_image_url")}
    with akool(sb) as c:
        for extra, credits in BATCH_PRICES:
            items = ok(c.post(BATCH, json=base | extra | {"count": 2}))["successList"]
            assert [i["deduction_credit"] for i in items] == [credits, credits], extra
    assert sb.stats()["credits_charged"] == 2 * (6 + 20 + 50)


BATCH_ERRORS = [
    ({"resolution": "4k"}, "resolution"),  # seedance lite has no 4k
    ({"video_length": 7}, "video_length"),
    ({"model_name": "AkoolImage2VideoFastV1"}, "last_image_url"),  # no last frame on that model
    ({"model_name": "no-such-model"}, "model_name"),
    ({"count": 11}, "count"),
    ({"count": 0}, "count"),
    ({"prompt": None}, "prompt"),
]


def _assert_rejected(c: httpx.Client, path: str, example: dict[str, Any],
                     errors: list[tuple[dict[str, Any], str]]) -> None:
    """Each change to ``example`` (None drops the field) is refused with 1003 naming the field."""
    for change, field in errors:
        body = {k: v for k, v in (example | change).items() if v is not None}
        answer = c.post(path, json=body).json()
        assert answer["code"] == 1003 and field in answer["msg"], (change, answer)


def test_batch_validation(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        _assert_rejected(c, BATCH, BATCH_EXAMPLE, BATCH_ERRORS)
    assert sb.stats()["creates"] == 0 and sb.stats()["credits_charged"] == 0


def test_batch_short_balance_lists_errors(make_sandbox: Any) -> None:
    sb = make_sandbox(credits=12)
    with akool(sb) as c:
        data = ok(c.post(BATCH, json=BATCH_EXAMPLE))  # 3 x 5 credits, 12 available
        assert len(data["successList"]) == 2
        assert data["errorList"] == [{"code": 1006, "msg": "Your quota is not enough"}]
        none = c.post(BATCH, json={**BATCH_EXAMPLE, "count": 1}).json()  # 2 left: not even one
    assert none["code"] == 1006 and sb.stats()["credits_charged"] == 10


SINGLE_ERRORS = [
    ({"negative_prompt": None}, "negative_prompt"),  # required on the single endpoint
    ({"image_url": None}, "image_url"),
    ({"audio_type": None}, "audio_type"),
    ({"audio_url": None}, "audio_url"),  # audio_type 2 needs it
    ({"resolution": "480p"}, "resolution"),
    ({"video_length": 8}, "video_length"),
    ({"audio_type": 4}, "audio_type"),
    ({"effect_code": "nope_1"}, "effect_code"),
]


def test_single_validation(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        _assert_rejected(c, SINGLE, EXAMPLE, SINGLE_ERRORS)
        assert c.post(SINGLE, json={k: v for k, v in EXAMPLE.items() if k != "negative_prompt"}).json()["msg"] == (
            "Parameter error: negative_prompt is required")
    assert sb.stats()["creates"] == 0 and sb.stats()["credits_charged"] == 0


def test_video_audio_conforms(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        src = ok(c.post(SINGLE, json={**EXAMPLE, "resolution": "720p", "video_length": 5}))
        early = c.post(AUDIO, json={"pre_video_id": src["_id"], "audio_url": AUDIO_URL, "audio_type": 2}).json()
        assert early["code"] == 1003 and "pre_video_id" in early["msg"]  # not completed yet
        _wait_done(c, src["_id"])
        data = ok(c.post(AUDIO, json={"pre_video_id": src["_id"], "audio_url": AUDIO_URL, "audio_type": 2}))
        assert data["only_add_audio"] is True and data["pre_video_id"] == src["_id"] and data["_id"] != src["_id"]
        assert data["deduction_credit"] == 5 and data["video_duration"] == 5 and data["status"] == 1
        assert data["resolution"] == "720p" and data["negative_prompt"] == "" and data["extend_prompt"] is False
        (done,) = _wait_done(c, data["_id"])
        assert done["status"] == 3 and done["only_add_audio"] is True and done["deduction_credit"] == 5
        video = httpx.get(done["video_url"], timeout=10)
        assert media_seconds(video.content, "mp4") == pytest.approx(5, abs=0.1)
        missing = c.post(AUDIO, json={"pre_video_id": src["_id"], "audio_type": 2}).json()
        assert missing["code"] == 1003 and "audio_url" in missing["msg"]
        unknown = c.post(AUDIO, json={"pre_video_id": "0" * 24, "audio_url": AUDIO_URL, "audio_type": 1}).json()
        assert unknown["code"] == 1008
    assert sb.stats()["credits_charged"] == 20 + 5


def test_video_audio_ten_seconds_costs_ten(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        src = ok(c.post(SINGLE, json={**EXAMPLE, "resolution": "1080p", "video_length": 10}))
        _wait_done(c, src["_id"])
        data = ok(c.post(AUDIO, json={"pre_video_id": src["_id"], "audio_url": AUDIO_URL, "audio_type": 1}))
    assert data["deduction_credit"] == 10 and sb.stats()["credits_charged"] == 50 + 10


def test_failed_job_is_refunded(make_sandbox: Any) -> None:
    sb = make_sandbox(faults=af.Faults(job_fail=1.0))
    with akool(sb) as c:
        data = ok(c.post(SINGLE, json=EXAMPLE))
        assert data["deduction_credit"] == 60
        (failed,) = _wait_done(c, data["_id"])
    assert failed["status"] == 4 and "video_url" not in failed and failed["deduction_credit"] == 0
    stats = sb.stats()
    assert stats["credits_charged"] == 0 and stats["balances"]["akool"] == 1_000_000


def test_effects_list(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        body = c.get(EFFECTS).json()
    assert body["code"] == 1000 and body["msg"] == "Success"
    effects = body["data"]["result"]
    assert body["data"]["count"] == 10 == len(effects)
    codes = {e["effect_code"]: e["name"] for e in effects}
    assert codes["squish_89244231312"] == "Squish" and codes["cakeify_24743216"] == "Cakeify"
    assert codes["samurai_99757865"] == "Samurai"
    assert set(effects[0]) == {"_id", "create_time", "logo", "name", "video_url", "effect_code"}
    assert is_png(httpx.get(effects[0]["logo"], timeout=10).content)
    preview = httpx.get(effects[0]["video_url"], timeout=10).content
    assert media_seconds(preview, "mp4") == pytest.approx(5, abs=0.1)


def test_ai_model_list(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        models = ok(c.get(MODELS + "?types[]=1501"))
        assert [m["value"] for m in models] == ["AkoolImage2VideoFastV1", "seedance-1-0-lite-i2v-250428"]
        seedance = models[1]
        assert [(r["value"], r["width"], r["height"], r["unit_credit"]) for r in seedance["resolutionList"]] == [
            ("480p", 854, 480, 3), ("720p", 1280, 720, 5), ("1080p", 1920, 1080, 10)]
        assert seedance["supportedLastFrame"] is True and models[0]["supportedLastFrame"] is False
        assert seedance["durationList"] == [5, 10] and seedance["maxCount"] == 10 and seedance["generate_audio"] is None
        assert ok(c.get(MODELS + "?types[]=1502")) == []
        character = ok(c.get(MODELS, params={"types[]": ["2101"]}))
        assert [m["value"] for m in character] == ["wavespeed-ai/wan-2.2/animate"]
        both = ok(c.get(MODELS + "?types[]=1501&types[]=2101"))
        assert len(both) == 3 and [m["sort"] for m in both] == sorted((m["sort"] for m in both), reverse=True)
        missing = c.get(MODELS).json()
        assert missing["code"] == 1003 and "types" in missing["msg"]
        assert c.get(MODELS + "?types[]=9999").json()["code"] == 1003


def test_delete(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0)
    with akool(sb) as c:
        job = ok(c.post(SINGLE, json=EXAMPLE))["_id"]
        body = c.post(DELETE, json={"_ids": f"{job},{'0' * 24}"}).json()
        assert body["code"] == 1000 and body["msg"] == "Delete successfully"
        assert body["data"]["successIds"] == []
        refused = {i["_id"]: i["msg"] for i in body["data"]["noPermissionItems"]}
        assert refused[job] == "video resource is processing, please try again later" and "0" * 24 in refused
        sb.advance(60)
        (done,) = _wait_done(c, job)
        assert ok(c.post(DELETE, json={"_ids": job})) == {"successIds": [job], "noPermissionItems": []}
        assert _results(c, job) == []
        assert httpx.get(done["video_url"], timeout=10).status_code == 404
        assert c.post(DELETE, json={}).json()["code"] == 1003


# ----------------------------------------------------------------------------- the demo's batch body; integers as text
def test_the_batch_create_takes_the_body_the_demo_sends(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 19's batch table lacks audio_type, audio_url and is_premium_model; Akool's demo sends them with every
    batch create, audio_type as text: accepted, shown by resultsByIds as the Integer it is."""
    data = ok(c.post(BATCH, json=DEMO_BATCH))
    (video,) = data["successList"]
    (result,) = ok(c.post(RESULTS, json={"_ids": video["_id"]}))["result"]
    assert result["audio_type"] == 1 and result["audio_url"] == ""
    ok(c.post(BATCH, json={**DEMO_BATCH, "audio_type": 2, "audio_url": "https://example.com/a.mp3",
                           "is_premium_model": True}))
    assert box.stats()["creates"] == 2


@pytest.mark.parametrize(("path", "changes", "field"), [
    (BATCH, {"audio_type": "one"}, "audio_type"),  # text that is no number: refused, as the API would
    (BATCH, {"audio_type": 4}, "audio_type"),
    (BATCH, {"audio_type": "2", "audio_url": ""}, "audio_url"),  # "required when audio_type = 2"
    (BATCH, {"is_premium_model": "yes"}, "is_premium_model"),
    (SINGLE, {"audio_type": "one"}, "audio_type"),
    (SINGLE, {"audio_type": "3"}, "audio_type"),  # page 19: Integer (the client sends 3)
])
def test_audio_fields_keep_their_types(box: af.Sandbox, c: httpx.Client, path: str, changes: dict[str, Any],
                                       field: str) -> None:
    body = {**(DEMO_BATCH if path == BATCH else SINGLE_BODY), **changes}
    refused(c.post(path, json=body), 1003, field)
    assert box.stats()["creates"] == 0 and box.stats()["credits_charged"] == 0


# ----------------------------------------------------------------------------- video_audio: audio_url when type 2
def test_video_audio_needs_an_audio_url_only_for_your_own_audio(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 19, update video audio: audio_url "required when audio_type = 2" (the field's own description; its
    "true" is the literal reading, not taken): AI audio (1) is made without one; type 2 without one is refused."""
    source = ok(c.post(SINGLE, json=SINGLE_BODY))
    poll(lambda: ok(c.post(RESULTS, json={"_ids": source["_id"]})), lambda d: d["result"][0]["status"] == 3)
    refused(c.post(AUDIO, json={"pre_video_id": source["_id"], "audio_type": 2}), 1003, "audio_url")
    data = ok(c.post(AUDIO, json={"pre_video_id": source["_id"], "audio_type": 1}))
    assert data["audio_type"] == 1 and data["audio_url"] == "" and data["only_add_audio"] is True
    assert box.stats()["credits_charged"] == 20 + 5


# ----------------------------------------------------------------------------- resultsByIds with a bad _ids
def test_image2video_results_with_a_list_or_no_ids_fail_to_get_results(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 19 (image2video, Get Image to Video Results): "_ids | String | true | Multiple IDs separated by
    commas". Given as a JSON list, or missing, real clients get the business error "Failed to get results"
    (code: page 19 and the catalog give none; 1015, the family's failure code), not a parameter error."""
    job = ok(c.post(SINGLE, json=SINGLE_BODY))["_id"]
    for body in ({"_ids": [job]}, {}, {"_ids": ""}, {"_ids": None}):
        answer = c.post(RESULTS, json=body).json()
        assert answer == {"code": 1015, "msg": "Failed to get results"}, (body, answer)
    # The documented comma string still answers the records.
    assert [r["_id"] for r in ok(c.post(RESULTS, json={"_ids": f"{job},{'0' * 24}"}))["result"]] == [job]
