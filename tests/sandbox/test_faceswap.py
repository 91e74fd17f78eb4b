"""Sandbox family: Akool Faceswap (v3 image/video, v4 Pro) and Reage: create (and its answer's wording), listbyids
(records carrying the create's job_id), delete, cancel, quota. Faces found by face detection driving these creates
are in test_face_detect.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, is_png, media_seconds, poll

V3_IMAGE = "/api/open/v3/faceswap/highquality/specifyimage"
V3_VIDEO = "/api/open/v3/faceswap/highquality/specifyvideo"
V4_IMAGE = "/api/open/v4/faceswap/faceswapByImage"
REAGE_IMAGE = "/api/open/v3/faceswap/highquality/imgreage"
REAGE_VIDEO = "/api/open/v3/faceswap/highquality/vidreage"
RESULTS = "/api/open/v3/faceswap/result/listbyids"
DELETE = "/api/open/v3/faceswap/result/delbyids"
CANCEL = "/api/open/v3/faceswap/job/del"
QUOTA = "/api/open/v3/faceswap/quota/info"
PATIENCE = "Please be patient! If your results are not generated in three hours, please check your input image."
# The video face swap's input is a video (modifyVideo): its answer says so (page 17). Video reage keeps the
# reage page's wording ("input image", printed for both of its creates).
PATIENCE_VIDEO = "Please be patient! If your results are not generated in three hours, please check your input video."

IMAGE = "https://d3t6pcz7y7ey7x.cloudfront.net/material1__a92671d0-7960-4028-b2fc-aadd3541f32d.jpg"
VIDEO = "https://d3t6pcz7y7ey7x.cloudfront.net/Video10__d2a8cf85-10ae-4c2d-8f4b-d818c0a2e4a4.mp4"
SOURCE_FACE = "https://example.com/replacement-face.jpg"
FACE_A = {"path": "https://d21ksh0k4smeql.cloudfront.net/crop_1695201103793-0234-0-1695201106985-2306.png",
          "opts": "2804,2182:3607,1897:3341,2566:3519,2920"}
FACE_B = {"path": ("https://static.website-files.org/assets/images/faceswap/"
                   "crop_1719224038759-3888-0-1719224039439-1517.jpg"),
          "opts": "1408,786:1954,798:1653,1091:1447,1343"}
# The documented bodies: reage examples verbatim (minus their // comments), the v4 overview example, and
# v3 faceswap bodies built from the prose on the reage pattern.
BODIES: dict[str, tuple[str, dict[str, Any], str, float | None]] = {
    "faceswap_image": (V3_IMAGE, {"targetImage": [FACE_A], "sourceImage": [FACE_B], "face_enhance": 0,
                                  "modifyImage": IMAGE, "webhookUrl": ""}, "png", None),
    "faceswap_video": (V3_VIDEO, {"sourceImage": [FACE_B], "targetImage": [FACE_A], "face_enhance": 1,
                                  "modifyVideo": VIDEO, "webhookUrl": ""}, "mp4", 12.0),
    "faceswap_pro": (V4_IMAGE, {"targetImage": [{"path": "https://example.com/original.jpg"}],
                                "sourceImage": [{"path": "https://example.com/replacement-face.jpg"}],
                                "model_name": "akool_faceswap_image_hq", "face_enhance": False}, "png", None),
    "reage_image": (REAGE_IMAGE, {"targetImage": [FACE_A], "face_reage": 10,
                                  "modifyImage": IMAGE, "webhookUrl": ""}, "png", None),
    "reage_video": (REAGE_VIDEO, {"targetImage": [FACE_B], "face_reage": 10, "modifyVideo": VIDEO,
                                  "webhookUrl": ""}, "mp4", 12.0),
}
# One create per product, for the job_id of listbyids and the create answers' wording.
JOB_ID_BODIES = {
    V3_IMAGE: {"targetImage": [FACE_A], "sourceImage": [FACE_B], "face_enhance": 0, "modifyImage": IMAGE},
    V3_VIDEO: {"sourceImage": [FACE_B], "targetImage": [FACE_A], "face_enhance": 1, "modifyVideo": VIDEO},
    V4_IMAGE: {"targetImage": [{"path": IMAGE}], "sourceImage": [{"path": SOURCE_FACE}],
               "model_name": "akool_faceswap_image_hq", "face_enhance": False},
    REAGE_IMAGE: {"targetImage": [FACE_A], "face_reage": 10, "modifyImage": IMAGE},
    REAGE_VIDEO: {"targetImage": [FACE_B], "face_reage": 10, "modifyVideo": VIDEO},
}
RESULT_TYPES = {"faceswap_type": int, "faceswap_quality": int, "faceswap_status": int, "deduction_status": int,
                "image": int, "video_duration": (int, float), "deduction_duration": (int, float), "update_time": int,
                "_id": str, "userId": str, "uid": int, "url": str, "createdAt": str}


@pytest.fixture
def box(make_sandbox: Any) -> af.Sandbox:
    return make_sandbox(media={VIDEO: 12.0})


@pytest.fixture
def c(box: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(box) as client:
        yield client


def _create(c: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = c.post(path, json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["code"] == 1000 and answer["msg"] == (PATIENCE_VIDEO if path == V3_VIDEO else PATIENCE), answer
    return answer["data"]


def _results(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    answer = c.get(RESULTS, params={"_ids": ",".join(ids)}).json()
    assert answer["code"] == 1000, answer
    return answer["data"]["result"]


def _wait_done(c: httpx.Client, *ids: str) -> list[dict[str, Any]]:
    return poll(lambda: {"r": _results(c, *ids)}, lambda a: all(i["faceswap_status"] in (3, 4) for i in a["r"]))["r"]


@pytest.mark.parametrize("job", list(BODIES))
def test_create_conforms(make_sandbox: Any, job: str) -> None:
    path, body, ext, seconds = BODIES[job]
    sb = make_sandbox(media={VIDEO: 12.0})
    with akool(sb) as c:
        data = _create(c, path, {**body, "webhookUrl": sb.webhook_sink_url})
        assert set(data) == {"_id", "url", "job_id"}
        assert re.fullmatch(r"[0-9a-f]{24}", data["_id"]) and re.fullmatch(r"\d{17}-\d{4}", data["job_id"])
        assert data["url"].startswith(sb.url + "/files/") and data["url"].endswith("." + ext)  # known at create
        (done,) = _wait_done(c, data["_id"])
    for key, typ in RESULT_TYPES.items():
        assert isinstance(done[key], typ), (key, done)
    assert done["faceswap_status"] == 3 and done["url"] == data["url"] and done["_id"] == data["_id"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", done["createdAt"]) and done["update_time"] > 0
    file = httpx.get(done["url"], timeout=10)
    assert file.status_code == 200
    if seconds is None:
        assert is_png(file.content) and done["video_duration"] == 0 and done["image"] == 1
    else:
        assert media_seconds(file.content, "mp4") == pytest.approx(seconds, abs=0.1)
        assert done["video_duration"] == seconds == done["deduction_duration"] and done["image"] == 0
    sink = poll(lambda: {"s": sb.sink()}, lambda a: len(a["s"]) == 1)["s"]
    assert sink[0]["accepted"] and sink[0]["data"] == {"_id": data["_id"], "status": 3, "type": "faceswap",
                                                       "url": data["url"]}
    assert sb.stats()["creates_by_endpoint"] == {path: 1}


def test_result_url_is_given_before_the_file_exists(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0)
    with akool(sb) as c:
        data = _create(c, REAGE_IMAGE, BODIES["reage_image"][1])
        (queued,) = _results(c, data["_id"])
        assert queued["faceswap_status"] in (1, 2) and queued["url"] == data["url"] and queued["update_time"] == 0
        assert httpx.get(data["url"], timeout=10).status_code == 404
        sb.advance(60)
        assert _wait_done(c, data["_id"])[0]["faceswap_status"] == 3
        assert is_png(httpx.get(data["url"], timeout=10).content)


def test_one_poll_for_all_products(sb: af.Sandbox) -> None:
    with akool(sb) as c:
        ids = [_create(c, path, body)["_id"] for path, body, _, _ in BODIES.values()]
        before = sb.stats()["polls"]
        result = _results(c, *ids, "0" * 24)  # unknown ids are left out
        assert sb.stats()["polls"] == before + 1
        assert [r["_id"] for r in result] == ids
        assert c.get(RESULTS).json()["code"] == 1003


ERRORS = [
    (V3_IMAGE, {"modifyImage": None}, 1003, "modifyImage"),
    (V3_IMAGE, {"sourceImage": None}, 1003, "sourceImage"),
    # opts may be left out of a single face only (the newer face swap docs)
    (V3_IMAGE, {"targetImage": [FACE_A, {"path": FACE_A["path"]}], "sourceImage": [FACE_B, FACE_B]}, 1003,
     "targetImage[1].opts is required when targetImage has more than one face"),
    (V3_IMAGE, {"sourceImage": [FACE_B, FACE_B]}, 1003, "sourceImage"),  # not aligned with targetImage
    (V3_IMAGE, {"targetImage": [FACE_A] * 9, "sourceImage": [FACE_B] * 9}, 1007, "cannot exceed 8"),
    (V3_IMAGE, {"face_enhance": True}, 1003, "face_enhance"),
    (V3_VIDEO, {"modifyVideo": None}, 1003, "modifyVideo"),
    (V4_IMAGE, {"targetImage": [{"path": "a"}, {"path": "b"}], "sourceImage": [{"path": "c"}, {"path": "d"}]},
     1003, "targetImage"),
    (V4_IMAGE, {"face_enhance": 1}, 1003, "face_enhance"),
    (V4_IMAGE, {"model_name": "other"}, 1003, "model_name"),
    (REAGE_IMAGE, {"face_reage": 31}, 1003, "face_reage"),
    (REAGE_IMAGE, {"face_reage": None}, 1003, "face_reage"),
    (REAGE_VIDEO, {"targetImage": [FACE_A] * 9}, 1007, "cannot exceed 8"),
]


def test_validation(sb: af.Sandbox) -> None:
    bodies = {path: body for path, body, _, _ in BODIES.values()}
    with akool(sb) as c:
        for path, change, code, text in ERRORS:
            body = {k: v for k, v in (bodies[path] | change).items() if v is not None}
            answer = c.post(path, json=body).json()
            assert answer["code"] == code and text in answer["msg"], (path, change, answer)
        missing = c.post(REAGE_IMAGE, json={k: v for k, v in bodies[REAGE_IMAGE].items() if k != "modifyImage"}).json()
        assert missing == {"code": 1003, "msg": "Parameter error: modifyImage is required"}
    assert sb.stats()["creates"] == 0 and sb.stats()["credits_charged"] == 0


def _quota(c: httpx.Client) -> Any:
    answer = c.get(QUOTA).json()
    assert answer["code"] == 1000
    return answer["data"]["credit"]


def test_default_prices_and_quota(make_sandbox: Any) -> None:
    sb = make_sandbox(credits=100, media={VIDEO: 12.0})
    with akool(sb) as c:
        assert _quota(c) == 100
        for path, body, _, _ in BODIES.values():
            _create(c, path, body)
        # images 1 each (3), videos 1 per started 5 s: 12 s -> 3 each (6)
        assert sb.stats()["credits_charged"] == 9 and _quota(c) == 91


def test_configured_prices(make_sandbox: Any) -> None:
    sb = make_sandbox(media={VIDEO: 12.0}, prices={"faceswap_video": 2.5, "reage_image": 4})
    with akool(sb) as c:
        _create(c, V3_VIDEO, BODIES["faceswap_video"][1])
        _create(c, REAGE_IMAGE, BODIES["reage_image"][1])
    assert sb.stats()["credits_charged"] == 2.5 * 3 + 4


def test_short_balance_is_refused(make_sandbox: Any) -> None:
    sb = make_sandbox(credits=2, media={VIDEO: 12.0})
    with akool(sb) as c:
        answer = c.post(V3_VIDEO, json=BODIES["faceswap_video"][1]).json()
    assert answer["code"] == 1006 and answer["msg"] == "Your quota is not enough"
    assert sb.stats()["creates"] == 0


def test_failed_job_is_refunded(make_sandbox: Any) -> None:
    sb = make_sandbox(credits=50, faults=af.Faults(job_fail=1.0), media={VIDEO: 12.0})
    with akool(sb) as c:
        data = _create(c, V3_VIDEO, BODIES["faceswap_video"][1])
        assert _quota(c) == 47
        (failed,) = _wait_done(c, data["_id"])
        assert failed["faceswap_status"] == 4 and failed["deduction_status"] == 0 and failed["deduction_duration"] == 0
        assert httpx.get(data["url"], timeout=10).status_code == 404
        poll(lambda: {"q": _quota(c)}, lambda a: a["q"] == 50)
    assert sb.stats()["credits_charged"] == 0


def test_cancel_by_job_id(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0, credits=50, media={VIDEO: 12.0})
    with akool(sb) as c:
        a = _create(c, REAGE_VIDEO, BODIES["reage_video"][1])
        b = _create(c, REAGE_IMAGE, BODIES["reage_image"][1])
        assert _quota(c) == 46
        assert c.post(CANCEL, json={"job_ids": a["_id"]}).json()["code"] == 1008  # _id is not the task id
        answer = c.post(CANCEL, json={"job_ids": f"{a['job_id']},{b['job_id']}"}).json()
        assert answer == {"code": 1000, "msg": "OK"}
        results = _wait_done(c, a["_id"], b["_id"])
        assert [r["faceswap_status"] for r in results] == [4, 4]
        poll(lambda: {"q": _quota(c)}, lambda a: a["q"] == 50)
        assert c.post(CANCEL, json={}).json()["code"] == 1003
    assert sb.stats()["credits_charged"] == 0


def test_delete(make_sandbox: Any) -> None:
    sb = make_sandbox(time_scale=1.0)
    with akool(sb) as c:
        data = _create(c, V4_IMAGE, BODIES["faceswap_pro"][1])
        answer = c.post(DELETE, json={"_ids": f"{data['_id']},{'0' * 24}"}).json()
        assert answer["code"] == 1000 and answer["data"]["successIds"] == []
        assert [i["_id"] for i in answer["data"]["noPermissionItems"]] == [data["_id"], "0" * 24]
        sb.advance(60)
        _wait_done(c, data["_id"])
        answer = c.post(DELETE, json={"_ids": data["_id"]}).json()
        assert answer["data"] == {"successIds": [data["_id"]], "noPermissionItems": []}
        assert _results(c, data["_id"]) == []
        assert httpx.get(data["url"], timeout=10).status_code == 404


def test_faceswap_and_reage_records_carry_the_create_job_id(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 14 (faceswap get-result) and page 33 (reage, Get Reage Result List Byids): the records of
    listbyids carry job_id, as real answers do; its value is the create answer's ("job_id: Task processing unique
    id", page 33), the id the task cancel takes."""
    created = {path: c.post(path, json=body).json() for path, body in JOB_ID_BODIES.items()}
    assert all(a["code"] == 1000 for a in created.values()), created
    ids = [a["data"]["_id"] for a in created.values()]
    queued = _results(c, *ids)
    assert [r["job_id"] for r in queued] == [a["data"]["job_id"] for a in created.values()]
    done = _wait_done(c, *ids)
    assert [(r["_id"], r["job_id"], r["faceswap_status"]) for r in done] == \
        [(a["data"]["_id"], a["data"]["job_id"], 3) for a in created.values()]


def test_video_faceswap_create_speaks_of_the_input_video(box: af.Sandbox, c: httpx.Client) -> None:
    """Page 17 (video-faceswap): the input is modifyVideo, so the create answer says "input video"; the reage
    page (33) prints "input image" for both of its creates, and the sandbox keeps that wording there."""
    video = c.post(V3_VIDEO, json=JOB_ID_BODIES[V3_VIDEO]).json()
    image = c.post(V3_IMAGE, json=JOB_ID_BODIES[V3_IMAGE]).json()
    reage = c.post(REAGE_VIDEO, json=JOB_ID_BODIES[REAGE_VIDEO]).json()
    assert video["msg"].endswith("please check your input video.") and "image" not in video["msg"]
    assert image["msg"].endswith("please check your input image.")
    assert reage["msg"].endswith("please check your input image.")
