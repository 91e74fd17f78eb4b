"""Akool v4 image to video, and adding audio to such a video (ai-tools-suite/image2video).

Both poll ``POST /api/open/v4/image2Video/resultsByIds`` with ``{"_ids": "id1,id2"}`` (many ids per call;
records in ``data.result``, result ``video_url``, absent until done). Callbacks are ``webhookurl`` here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._spec import I2V_MODELS, Delete, Field, JobSpec, Poll, Route

__all__ = ["IMAGE_TO_VIDEO", "JOBS", "VIDEO_AUDIO"]

_POLL = Poll("/api/open/v4/image2Video/resultsByIds", "_ids", method="POST", id_in="body", many=True,
             records="data.result", every=5.0)
_BATCH_ONLY = ("model_name", "last_image_url", "count")  # fields only createBySourcePrompt/batch documents
# Page 19's batch table lags: Akool's own demo (akool-image-to-video-demo, useAnimatorLogic.ts) sends audio_type,
# audio_url and is_premium_model to createBySourcePrompt/batch with every request, so they are batch fields too.
_SINGLE_ONLY = ("effect_code",)  # absent from the batch table (the demo adds it only when an effect is chosen)

# The family's shared settings; each spec below states only what is its own.
# Page 19, delbyids: "_ids | String | true | Multiple IDs separated by commas"; refusals in data.noPermissionItems.
_DELETE = Delete("/api/open/v4/image2Video/delbyids", "_ids", joined=True, refused="data.noPermissionItems")
_image2video_job = functools.partial(JobSpec, provider="akool", poll=_POLL, status_field="status",
                                     result_field="video_url", webhook_field="webhookurl", delete=_DELETE)


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _audio_check(body: Mapping[str, Any]) -> str | None:
    if str(body.get("audio_type")) == "2" and _empty(body.get("audio_url")):
        return "audio_url is required when audio_type is 2 (your own audio)"
    return None


def _i2v_check(body: Mapping[str, Any], plan: str) -> str | None:
    model = body.get("model_name")
    if any(not _empty(body.get(n)) for n in _BATCH_ONLY):
        for name in _SINGLE_ONLY:
            if not _empty(body.get(name)):
                return (f"{name} is not a field of createBySourcePrompt/batch, which "
                        f"{' / '.join(_BATCH_ONLY)} select; drop one of them")
        offered = I2V_MODELS.get(model or "")
        if offered and body.get("resolution") not in offered:
            return f"resolution is {body.get('resolution')!r}; {model} offers {', '.join(offered)}"
        return _audio_check(body)  # optional on batch, but audio_type 2 still needs its audio_url
    for name in ("negative_prompt", "audio_type"):  # required on createBySourcePrompt, optional on batch
        if _empty(body.get(name)):
            return f"{name} is required (createBySourcePrompt)"
    if body.get("resolution") == "480p":
        return "resolution 480p needs a model_name that offers it (createBySourcePrompt takes 720p, 1080p, 4k)"
    return _audio_check(body)


IMAGE_TO_VIDEO = _image2video_job(
    name="image_to_video",
    create="/api/open/v4/image2Video/createBySourcePrompt",
    fields=(
        Field("image_url", "url", required=True),
        Field("prompt", required=True),  # ignored when effect_code is given
        Field("negative_prompt"),  # required on the single create: enforced in the check
        Field("extend_prompt", "bool"),
        Field("resolution", required=True, enum=("480p", "720p", "1080p", "4k")),  # 480p: batch models only
        Field("audio_url", "url"),
        # 1 AI generated, 2 your audio_url, 3 none. Page 19: Integer. Akool's demo holds it as text ("1"): numeric
        # text is sent as a number (coerce_ints), on both creates.
        Field("audio_type", "int", enum=(1, 2, 3)),
        Field("video_length", "int", required=True, enum=(5, 10)),  # 10 s: pro plan and above
        Field("is_premium_model", "bool"),  # pro plan and above
        Field("effect_code"),  # from GET /api/open/v4/image2Video/effects
        Field("webhookurl"),
        Field("model_name"),  # a model's value from GET /api/open/v4/aigModel/list?types[]=1501 (batch)
        Field("last_image_url", "url"),  # batch, models with supportedLastFrame
        # Page 19: "Number of videos to create simultaneously (1-10), default: 1". One row, several videos: the
        # row's akool_video_ids / akool_video_urls list them all (its job id and url are the first one's).
        Field("count", "int", min=1, max=10),
    ),
    # model_name / last_image_url / count exist only on the batch create, which answers data.successList.
    routes=(Route(_BATCH_ONLY, "/api/open/v4/image2Video/createBySourcePrompt/batch",
                  id_path="data.successList[0]._id", create_record="data.successList[0]",
                  batch_records="data.successList"),),
    price="image_to_video",
    check=_i2v_check,
    rules={
        "negative_prompt": "required on createBySourcePrompt (no model_name, last_image_url or count)",
        "audio_type": "required on createBySourcePrompt; optional on the batch (model_name ...)",
        "audio_url": "required when audio_type is 2",
        "effect_code": "not a field of the batch (model_name ...)",
        "model_name": "selects createBySourcePrompt/batch, with last_image_url and count",
    },
    aliases={"length": "video_length", "image": "image_url"},
    doc="ai-tools-suite/image2video#create-image-to-video",
)

VIDEO_AUDIO = _image2video_job(
    name="video_audio",
    create="/api/open/v4/image2Video/updateVideoAudio",
    fields=(
        Field("pre_video_id", required=True),  # the image_to_video result's _id
        # Page 19 (update video audio) marks audio_url "true" *and* "Audio URL, required when audio_type = 2". The
        # conditional reading is kept, on both sides (sandbox/families/image2video.py): it is the field's own
        # description, audio_type 1 is "AI Generate" (there is no audio to give), and the same field on
        # createBySourcePrompt reads "false | required when audio_type = 2".
        Field("audio_url", "url"),
        Field("audio_type", "int", required=True, enum=(1, 2)),  # 1 AI generated, 2 your audio_url
    ),  # no callback: image2video#update-video-audio's table has pre_video_id, audio_url, audio_type only
    price="video_audio",
    webhook_field=None,
    check=lambda body, plan: _audio_check(body),
    rules={"audio_url": "required when audio_type is 2"},
    aliases={"video_id": "pre_video_id"},
    doc="ai-tools-suite/image2video#update-video-audio",
)

JOBS = (IMAGE_TO_VIDEO, VIDEO_AUDIO)
