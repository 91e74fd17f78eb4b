"""Akool Faceswap (v3 image/video, v4 Face Swap Pro) and Reage (v3 image/video): create, results, delete, cancel, quota.

The faceswap pages lost their OpenAPI schemas; only the prose names fields. The sandbox models every
create on the Reage page (the one fully documented member of the family): arrays of ``{path, opts}``,
``modifyImage``/``modifyVideo``, ``webhookUrl``, and a ``{_id, url, job_id}`` answer whose ``url`` is
known at create time. All five are polled with ``GET faceswap/result/listbyids?_ids=``.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import Any

from .._inputs import fields
from .._routes import Ctx, Raw, make_job, route
from .._state import Job, Media, SandboxState
from .._validate import ApiError, F, validate
from ._common import UID, price, started_blocks

__all__: list[str] = []  # its routes register themselves (@route)

FACESWAP_JOBS = ("faceswap_image", "faceswap_video", "faceswap_pro", "reage_image", "reage_video")
MAX_FACES = 8
# The create answer's msg, as the reage page (33) prints it for both of its creates. The video face swap
# page (17) shows no answer and its input is a video (modifyVideo): the sandbox says "input video" there.
PATIENCE = "Please be patient! If your results are not generated in three hours, please check your input image."
PATIENCE_VIDEO = "Please be patient! If your results are not generated in three hours, please check your input video."
# A failed job's reason: the face swap overview (page 10) status table, "4 | Failed - Face swap failed, please
# check your input images"; for the video face swap, "input video" (its input is modifyVideo).
FAIL_REASON = "Face swap failed, please check your input images"
FAIL_REASON_VIDEO = "Face swap failed, please check your input video"
USER_ID = "64d985c5571729d3e2999477"  # the results' `userId` (a document id, as in the example)

# No faceswap or reage price is documented ("Credits are deducted when you submit faceswap requests"):
# configurable defaults, credits per image or per started 5 s of video.
DEFAULT_PRICE = {"faceswap_image": 1.0, "faceswap_pro": 1.0, "reage_image": 1.0,
                 "faceswap_video": 1.0, "reage_video": 1.0}

# V3 items carry `opts` (landmarks_str from face detect); the V4 page says it "does not require the opts
# parameter, making it easier to use compared to V3". A newer copy of the face swap docs (cited by issue 9's audit)
# asks for it only where an array holds more than one face (it says which face is meant): see _opts_needed.
# opts is the landmarks_str of face detection: page 09, "landmarks_str | array | First 4 landmarks as string
# format ... - use this for Face Swap opts parameter" and page 07, "Pass the landmarks_str value to Face Swap
# API as the opts parameter". Per frame landmarks_str is an array (one string per face), so opts is taken
# as the string or as a one-element array holding it (observed: real clients send both).
FACE_V3 = (F("path", required=True, nonempty=True), F("opts", "landmarks"))
FACE_V4 = (F("path", required=True, nonempty=True), F("opts", "landmarks"))
FACES_V3 = F("targetImage", "list", required=True, min_items=1, fields=FACE_V3)
SOURCES_V3 = F("sourceImage", "list", required=True, min_items=1, fields=FACE_V3)

# Per create endpoint: its path, body fields, the input medium field (None: the target image itself), result kind.
SPECS: dict[str, dict[str, Any]] = {
    "faceswap_image": {"path": "/api/open/v3/faceswap/highquality/specifyimage",
                       "fields": [FACES_V3, SOURCES_V3, F("face_enhance", "int", enum=(0, 1)),
                                  F("modifyImage", required=True, nonempty=True), F("webhookUrl")],
                       "medium": "modifyImage", "video": False, "paired": True},
    "faceswap_video": {"path": "/api/open/v3/faceswap/highquality/specifyvideo",
                       "fields": [SOURCES_V3, FACES_V3, F("face_enhance", "int", enum=(0, 1)),
                                  F("modifyVideo", required=True, nonempty=True), F("webhookUrl")],
                       "medium": "modifyVideo", "video": True, "paired": True},
    # Single face only: exactly one target and one source. model_name is optional, its one documented value.
    "faceswap_pro": {"path": "/api/open/v4/faceswap/faceswapByImage",
                     "fields": [F("targetImage", "list", required=True, min_items=1, max_items=1, fields=FACE_V4),
                                F("sourceImage", "list", required=True, min_items=1, max_items=1, fields=FACE_V4),
                                F("model_name", enum=("akool_faceswap_image_hq",)), F("face_enhance", "bool"),
                                F("webhookUrl")],
                     "medium": None, "video": False, "paired": True},
    "reage_image": {"path": "/api/open/v3/faceswap/highquality/imgreage",
                    "fields": [FACES_V3, F("face_reage", "int", required=True, min=-30, max=30),
                               F("modifyImage", required=True, nonempty=True), F("webhookUrl")],
                    "medium": "modifyImage", "video": False, "paired": False},
    "reage_video": {"path": "/api/open/v3/faceswap/highquality/vidreage",
                    "fields": [FACES_V3, F("face_reage", "int", required=True, min=-30, max=30),
                               F("modifyVideo", required=True, nonempty=True), F("webhookUrl")],
                    "medium": "modifyVideo", "video": True, "paired": False},
}


def result_url(ctx: Ctx, job: Job) -> str:
    """The result URL, known from the create on (documented quirk); it downloads once the job completed."""
    return f"{ctx.base_url}/files/{SandboxState.file_name(job)}"


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(t * 1000) % 1000:03d}Z"


def _job_id(t: float) -> str:
    """Task id as in the example: 20240102082900592-5653 (time to the millisecond, 4 random digits)."""
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y%m%d%H%M%S") + f"{int(t * 1000) % 1000:03d}"
    return f"{stamp}-{int.from_bytes(os.urandom(2), 'big') % 10000:04d}"


def result_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """One listbyids item, with the fields of the documented example.

    The example's faceswap_type / faceswap_quality / deduction_status / image are undocumented; the sandbox
    uses: faceswap_type 1 image, 2 video; faceswap_quality 2 (as shown); deduction_status 1 charged, 0
    refunded; image 1 for image results, 0 for video ones. deduction_duration is the billed video seconds
    (0 for images, as in the example, and after a refund).
    """
    now = ctx.state.clock.now()
    status = job.status(now)
    video = SPECS[job.name]["video"]
    seconds = job.media.duration if video and job.media and job.media.duration else 0
    refunded = status == 4
    # job_id: real listbyids answers carry it; the pages' result example (14, 33) does not show it, so its value
    # is the create answer's job_id ("job_id: Task processing unique id", page 33).
    return {"faceswap_type": 2 if video else 1, "faceswap_quality": 2, "faceswap_status": status,
            "deduction_status": 0 if refunded else 1, "image": 0 if video else 1, "video_duration": seconds,
            "deduction_duration": 0 if refunded else seconds,
            "update_time": int(job.finished * 1000) if status >= 3 else 0, "_id": job.id, "userId": USER_ID,
            "uid": UID, "url": result_url(ctx, job), "createdAt": _iso(job.created),
            "job_id": job.extra["job_id"]}


def _opts_needed(body: dict[str, Any]) -> None:
    """opts may be left out of a single face, not out of one of several (1003 names the face)."""
    for name in ("targetImage", "sourceImage"):
        faces = body.get(name) or []
        for i, face in enumerate(faces):
            if len(faces) > 1 and isinstance(face, dict) and face.get("opts") in (None, "", []):
                raise ApiError(1003, f"Parameter error: {name}[{i}].opts is required when {name} has more than "
                                     "one face")


def _create(ctx: Ctx, name: str) -> Raw:
    spec = SPECS[name]
    body = ctx.body
    validate(body, spec["fields"])
    targets = body["targetImage"]
    _opts_needed(body)
    if len(targets) > MAX_FACES:
        raise ApiError(1007, "The number of people who can have their faces changed cannot exceed 8")
    if spec["paired"] and len(body["sourceImage"]) != len(targets):
        raise ctx.param_error(f"Parameter error: sourceImage and targetImage must correspond one to one; "
                              f"got {len(body['sourceImage'])} and {len(targets)} items")
    unit = price(ctx, name, DEFAULT_PRICE[name])
    if spec["video"]:
        seconds = ctx.state.media_seconds(body[spec["medium"]])
        credits, media, processing = unit * started_blocks(seconds, 5), Media("mp4", seconds), 5.0 + seconds
    else:
        credits, media, processing = unit, Media("png"), 3.0 + len(targets)
    now = ctx.state.clock.now()
    job = make_job(ctx, name=name, processing=processing, credits=credits, media=media, webhook_field="webhookUrl",
                   webhook_type="faceswap", extra={"job_id": _job_id(now)},
                   fail_reason=FAIL_REASON_VIDEO if name == "faceswap_video" else FAIL_REASON)
    # The v4 answer is undocumented: it gets the same {_id, url, job_id} as the v3 family.
    data = {"_id": job.id, "url": result_url(ctx, job), "job_id": job.extra["job_id"]}
    return Raw(code=1000, msg=PATIENCE_VIDEO if name == "faceswap_video" else PATIENCE, data=data)


# Every create of the family is one handler, told which job it is.
for _name, _spec in SPECS.items():
    # Inputs: every face's path and the picture or video worked on (modifyImage / modifyVideo).
    _faces = [f"{f.name}[].path" for f in _spec["fields"] if f.name in ("targetImage", "sourceImage")]
    _inputs = fields(*_faces, *([_spec["medium"]] if _spec["medium"] else []))
    route("POST", _spec["path"], provider="akool", kind="create", name=_name,
          inputs=_inputs)(functools.partial(_create, name=_name))


def _mine(ctx: Ctx, job_id: str) -> Job | None:
    job = ctx.state.jobs.get(job_id)
    if job is None or job.deleted or job.provider != "akool" or job.name not in FACESWAP_JOBS:
        return None
    return job


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


@route("GET", "/api/open/v3/faceswap/result/listbyids", provider="akool", kind="poll", name="faceswap_results")
def results(ctx: Ctx) -> dict[str, Any]:
    # Unknown or deleted ids are left out of `result` (undocumented; the sandbox's reading).
    jobs = [job for job in (_mine(ctx, i) for i in _split(ctx.require_query("_ids"))) if job is not None]
    return {"result": [result_record(job, ctx) for job in jobs]}


@route("POST", "/api/open/v3/faceswap/result/delbyids", provider="akool", kind="delete", name="faceswap_delete")
def delete_results(ctx: Ctx) -> dict[str, Any]:
    # Body field and answer are undocumented: `_ids` (comma string) and image2video's delete answer, including
    # its refusal of jobs still queued or processing.
    validate(ctx.body, [F("_ids", required=True, nonempty=True)])
    ok: list[str] = []
    refused: list[dict[str, str]] = []
    now = ctx.state.clock.now()
    for job_id in _split(ctx.body["_ids"]):
        job = _mine(ctx, job_id)
        if job is None:
            refused.append({"_id": job_id, "msg": "faceswap result does not exist"})
        elif job.status(now) in (1, 2):
            refused.append({"_id": job_id, "msg": "faceswap resource is processing, please try again later"})
        else:
            ctx.state.delete(job)
            ok.append(job_id)
    return {"successIds": ok, "noPermissionItems": refused}


@route("POST", "/api/open/v3/faceswap/job/del", provider="akool", kind="delete", name="faceswap_cancel")
def cancel_jobs(ctx: Ctx) -> Raw:
    """Cancel by job_id (not _id). Comma-separated ids are accepted (the name is plural; not stated).

    Queued or processing jobs end failed now and are refunded by the state; finished ones are left as they are.
    Works for every job of the family (all of them answer a job_id), not only reage.
    """
    validate(ctx.body, [F("job_ids", required=True, nonempty=True)])
    wanted = _split(ctx.body["job_ids"])
    state = ctx.state
    with state.lock:
        by_task = {j.extra.get("job_id"): j for j in state.jobs.values()
                   if j.provider == "akool" and j.name in FACESWAP_JOBS and not j.deleted}
        missing = [w for w in wanted if w not in by_task]
        if missing:
            raise ApiError(ctx.provider.not_found_code, f"The content you get does not exist: job_ids {missing[0]}")
        now = state.clock.now()
        for task in wanted:
            job = by_task[task]
            if job.status(now) in (1, 2):
                job.fail_reason = "Task cancelled"
                job.started = min(job.started, now)
                job.finished = now
                state.ends_at(job)  # settled (refunded) now, not at its old end
    return Raw(code=1000, msg="OK")


@route("GET", "/api/open/v3/faceswap/quota/info", provider="akool", kind="lookup", name="faceswap_quota")
def quota_info(ctx: Ctx) -> dict[str, Any]:
    # Response shape undocumented in our pages: {"credit": <the account's Akool balance>}.
    with ctx.state.lock:
        balance = ctx.state.balances["akool"]
    return {"credit": int(balance) if float(balance).is_integer() else round(balance, 6)}
