"""Akool face swap (v3 image/video, v4 Face Swap Pro) and reage (image/video).

All poll ``GET /api/open/v3/faceswap/result/listbyids?_ids=<id1,id2>`` (many ids per call, records in
``data.result``, status ``faceswap_status``, result ``url``), as the reage page documents it.

The faceswap pages lost their OpenAPI schema in the flattening: their fields are the ones the prose names
(targetImage / sourceImage arrays of {path, opts}, face_enhance 0/1 on v3 and true/false on v4, webhookUrl),
plus modifyImage / modifyVideo for the picture or video to change, spelled as on the reage page, which keeps
its tables. No credit field and no amounts are documented for this family.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._spec import Delete, Field, JobSpec, Poll

__all__ = ["FACESWAP_IMAGE", "FACESWAP_PRO", "FACESWAP_VIDEO", "JOBS", "REAGE_IMAGE", "REAGE_VIDEO"]


def _poll(every: float) -> Poll:
    return Poll("/api/open/v3/faceswap/result/listbyids", "_ids", many=True, records="data.result", every=every)


# The family's shared settings; each spec below states only what is its own. The create answer already
# carries a url: it is only the final location, valid once status is 3. Results carry deduction_duration /
# deduction_status, both undocumented, so no credit field.
# Page 11 (delete-result): "Result IDs should be comma-separated strings"; the body field is not named there: `_ids`,
# as listbyids and image2video's delbyids name it. Refusals read as image2video's (data.noPermissionItems).
_DELETE = Delete("/api/open/v3/faceswap/result/delbyids", "_ids", joined=True, refused="data.noPermissionItems")
_faceswap_job = functools.partial(JobSpec, provider="akool", status_field="faceswap_status", result_field="url",
                                  credit_field=None, webhook_type="faceswap", delete=_DELETE)
# Page 33 (reage): cancel takes job_ids, the create answer's job_id ("Task processing unique id"), not the _id; kept
# as the task_id column. The page documents it for reage only.
_REAGE = {"extra_fields": {"task_id": "job_id"},
          "cancel": Delete("/api/open/v3/faceswap/job/del", "job_ids", id_column="task_id", joined=True)}
# Image jobs (swap or reage) are polled more often than video jobs, and their result is an image.
_image_job = functools.partial(_faceswap_job, poll=_poll(3.0), result_kind="image")
_video_job = functools.partial(_faceswap_job, poll=_poll(5.0), result_kind="video")


def _faces(name: str, required: bool = True) -> Field:
    """An array of faces: {path: link to the face, opts: landmarks_str from face detection}."""
    # opts: the reage table lists "2 properties, path ... opts"; a newer copy of the face swap docs asks for it
    # only when an array has more than one face (which face is meant), and real clients send it as the
    # landmarks string or a one-element list of it. So: optional here, required by _opts_check when needed.
    inner = (Field("path", "url", required=True), Field("opts", "any"))
    return Field(name, "list", required=required, min_items=1, max_items=8, fields=inner)  # 1007: at most 8


def _opts_check(body: Mapping[str, Any]) -> str | None:
    for name in ("sourceImage", "targetImage"):
        faces = body.get(name) or ()
        for i, face in enumerate(faces):
            opts = face.get("opts") if isinstance(face, Mapping) else None
            if opts in (None, "", []):
                if len(faces) > 1:
                    return (f"{name}[{i}].opts is required when {name} has more than one face (its landmarks_str "
                            "from face detection says which face)")
                continue
            if not (isinstance(opts, str) or (isinstance(opts, list | tuple) and len(opts) == 1
                                              and isinstance(opts[0], str))):
                return f"{name}[{i}].opts must be the landmarks string (or a list holding it), got {opts!r:.40}"
    return None


def _pairs_check(body: Mapping[str, Any], plan: str) -> str | None:
    # "sourceImage and targetImage correspond to each other in order"
    source, target = body.get("sourceImage") or (), body.get("targetImage") or ()
    if len(source) != len(target):
        return (f"sourceImage has {len(source)} face(s) and targetImage {len(target)}; "
                "they pair up in order, so give as many of each")
    return _opts_check(body)


FACESWAP_IMAGE = _image_job(
    name="faceswap_image",
    create="/api/open/v3/faceswap/highquality/specifyimage",
    fields=(
        _faces("targetImage"),  # faces found in modifyImage
        _faces("sourceImage"),  # the faces to put in, same order
        Field("face_enhance", "int", enum=(0, 1)),  # 0 Classic model, 1 HD Optimized
        Field("modifyImage", "url", required=True),  # the picture to change (name from the reage page)
        Field("webhookUrl"),
    ),
    price="faceswap_image",
    check=_pairs_check,
    doc="ai-tools-suite/faceswap/image-faceswap",
)

FACESWAP_VIDEO = _video_job(
    name="faceswap_video",
    create="/api/open/v3/faceswap/highquality/specifyvideo",
    fields=(
        _faces("sourceImage"),  # "each picture in the sourceImage is a single face"
        _faces("targetImage"),  # faces detected in modifyVideo
        Field("face_enhance", "int", enum=(0, 1)),
        Field("modifyVideo", "url", required=True),  # named in the prose; the video to change (under 60 s advised)
        Field("webhookUrl"),
    ),
    price="faceswap_video",
    check=_pairs_check,
    doc="ai-tools-suite/faceswap/video-faceswap",
)

# Its poll is not stated on the page; the overview sends every face swap to listbyids.
FACESWAP_PRO = _image_job(
    name="faceswap_pro",
    create="/api/open/v4/faceswap/faceswapByImage",
    fields=(
        # Single face only and no opts: targetImage is the original picture, sourceImage the face to insert.
        Field("targetImage", "list", required=True, min_items=1, max_items=1, fields=(Field("path", "url", required=True),)),
        Field("sourceImage", "list", required=True, min_items=1, max_items=1, fields=(Field("path", "url", required=True),)),
        Field("model_name"),  # "akool_faceswap_image_hq" in the example
        Field("face_enhance", "bool"),  # "must be a boolean value (true/false), default is false"
        Field("webhookUrl"),
    ),
    price="faceswap_pro",
    defaults={"model_name": "akool_faceswap_image_hq"},
    doc="ai-tools-suite/faceswap/image-faceswap-v4",
)

REAGE_IMAGE = _image_job(
    name="reage_image",
    create="/api/open/v3/faceswap/highquality/imgreage",
    fields=(
        _faces("targetImage"),
        Field("face_reage", "int", required=True, min=-30, max=30),
        Field("modifyImage", "url", required=True),
        Field("webhookUrl"),
    ),
    price="reage_image",
    check=lambda body, plan: _opts_check(body),
    aliases={"age": "face_reage", "image_url": "modifyImage"},
    doc="ai-tools-suite/reage#image-reage",
    **_REAGE,
)

REAGE_VIDEO = _video_job(
    name="reage_video",
    create="/api/open/v3/faceswap/highquality/vidreage",
    fields=(
        _faces("targetImage"),
        Field("face_reage", "int", required=True, min=-30, max=30),
        Field("modifyVideo", "url", required=True),
        Field("webhookUrl"),
    ),
    price="reage_video",
    check=lambda body, plan: _opts_check(body),
    aliases={"age": "face_reage", "video_url": "modifyVideo"},
    doc="ai-tools-suite/reage#video-reage",
    **_REAGE,
)

JOBS = (FACESWAP_IMAGE, FACESWAP_VIDEO, FACESWAP_PRO, REAGE_IMAGE, REAGE_VIDEO)
