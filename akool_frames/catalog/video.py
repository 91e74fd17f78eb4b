"""Akool video jobs followed through the shared v3 video info endpoint, plus avatar upload.

talking photo, talking avatar, lip sync, video translation (v3) and character swap (v4) all poll
``GET /api/open/v3/content/video/infobymodelid?video_model_id=<_id>`` (status ``video_status``, result ``video``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._spec import PLAN_TEXT_LIMITS, Field, JobSpec, Poll, Route

__all__ = [
    "AVATAR_UPLOAD", "CHARACTER_SWAP", "JOBS", "LIP_SYNC", "TALKING_AVATAR", "TALKING_PHOTO", "VIDEO_TRANSLATION",
]

_VIDEO_POLL = Poll("/api/open/v3/content/video/infobymodelid", "video_model_id", every=5.0)
# The shared settings of the jobs followed through that endpoint; each spec below states only what is its own.
_video_info_job = functools.partial(JobSpec, provider="akool", poll=_VIDEO_POLL, status_field="video_status",
                                    result_field="video")

# Pages rendered from OpenAPI lost their tables (talking-photo/create-video, video-translation/create-translation):
# their fields come from the overview pages' examples and prose. Required flags there are inferred: the call
# cannot work without them.
TALKING_PHOTO = _video_info_job(
    name="talking_photo",
    create="/api/open/v3/content/video/createbytalkingphoto",
    fields=(
        Field("talking_photo_url", "url", required=True),
        Field("audio_url", "url", required=True),  # "Audio duration determines video length"
        Field("prompt"),  # controls hand gestures
        Field("resolution", enum=("720", "1080")),  # no "p" here, unlike image to video
        Field("webhookUrl"),
    ),
    price="talking_photo",
    credit_field=None,  # talking-photo create-video / get-result answers carry no credit field
    webhook_type="talking photo",
    aliases={"image_url": "talking_photo_url", "photo_url": "talking_photo_url"},
    doc="ai-tools-suite/talking-photo/create-video",
)


def _talking_avatar_check(body: Mapping[str, Any], plan: str) -> str | None:
    for i, el in enumerate(body.get("elements") or ()):
        kind, path = el.get("type"), f"elements[{i}]"
        if kind in ("image", "avatar"):  # "required when type is image or avatar"
            for name in ("scale_x", "scale_y", "offset_x", "offset_y"):
                if el.get(name) is None:
                    return f"{path}.{name} is required when type is {kind}"
        if kind == "avatar" and not el.get("avatar_id"):
            if not el.get("url"):
                return f"{path} needs avatar_id (an avatar from the list) or url (your own avatar)"
            if body.get("avatar_from") != 3:
                return f"avatar_from must be 3 when {path} is your own avatar url"
        if kind == "audio":
            # "input_text and voice_id fields must both be present"; if url is given too, the url wins.
            text, voice = bool(el.get("input_text")), bool(el.get("voice_id"))
            if text != voice:
                return f"{path}.{'voice_id' if text else 'input_text'} is required with {path}." \
                       f"{'input_text' if text else 'voice_id'}"
            if not el.get("url") and not text:
                return f"{path} needs url, or input_text with voice_id"
    return None


TALKING_AVATAR = _video_info_job(
    name="talking_avatar",
    create="/api/open/v3/talkingavatar/create",
    fields=(
        Field("width", "num", enum=(3840,)),  # "must be 3840"
        Field("height", "num", enum=(2160,)),  # "must be 2160"
        Field("avatar_from", "int", required=True, enum=(2, 3)),  # 2 Akool avatar, 3 your own url
        Field("webhookUrl"),
        Field("elements", "list", required=True, min_items=1, fields=(
            Field("type", required=True, enum=("avatar", "image", "audio")),
            Field("url"),  # for an image also a hex colour code
            Field("scale_x", "num"), Field("scale_y", "num"),
            Field("offset_x", "num"), Field("offset_y", "num"),
            Field("width", "num"), Field("height", "num"),
            Field("avatar_id"),
            Field("input_text", max_len=PLAN_TEXT_LIMITS),  # per request: 5,000 / 10,000 / 50,000
            Field("voice_id"),  # a VoiceLab voice
        )),
    ),
    price="talking_avatar",
    # The video info example carries deduction_duration, described as "credits consumed by the final result".
    credit_field="deduction_duration",
    check=_talking_avatar_check,
    # Page 34's code table: "1109 | create avatar video error", this request's failure (the global table, page 06,
    # reads 1109 as "account not exist", an account error that stops a run): here only the row is rejected.
    row_codes=frozenset({1109}),
    defaults={"width": 3840, "height": 2160},
    webhook_type="avatar",
    doc="ai-tools-suite/talking-avatar#create-talking-avatar",
)

# POST, not GET: seed 002 prints "GET .../v3/avatar/create", but page 34's examples all send a JSON body
# (curl --data, requests "POST"), and page 30 (live-avatar/upload) gives "POST /api/open/v3/avatar/create".
# The answer's data is an array in the docs and an object in real clients: either is read (get_path_either).
AVATAR_UPLOAD = JobSpec(
    name="avatar_upload",
    provider="akool",
    create="/api/open/v3/avatar/create",
    fields=(
        Field("url", "url", required=True),  # a video about one minute long, little head rotation
        Field("avatar_id", required=True, pattern=r"[A-Za-z0-9]+"),  # "Can only contain /^a-zA-Z0-9/"
        Field("name"),
        Field("type", "strnum", enum=(1, "1", 2, "2")),  # String in the table, a number in the example
    ),
    poll=Poll("/api/open/v3/avatar/detail", "id", records="data[0]", every=5.0),
    status_field="status",
    result_field="url",
    price="avatar_upload",
    id_path="data[0]._id",  # data is an array of avatar records
    create_record="data[0]",
    credit_field=None,
    webhook_field=None,  # the upload documents no callback
    defaults={"type": 1},  # "1 represents talking avatar"
    webhook_type="avatar",
    doc="ai-tools-suite/talking-avatar#upload-talking-avatar",
)

LIP_SYNC = _video_info_job(
    name="lip_sync",
    create="/api/open/v3/content/video/lipsync",
    fields=(
        Field("video_url", "url", required=True),  # fps below 25 recommended; 60 s / 300 MB limits (codes 1204/1207)
        Field("audio_url", "url", required=True),
        Field("webhookUrl"),
    ),
    price="lip_sync",
    # lip-sync answers show deduction_lock_duration (seconds locked, in 10 s blocks), never credits
    credit_field=None,
    webhook_type="lipsync",
    doc="ai-tools-suite/lip-sync#create-lipsync",
)


def _translation_check(body: Mapping[str, Any], plan: str) -> str | None:
    for name in ("merge_interval", "face_enhance"):
        if body.get(name) is not None:
            return f"{name} is deprecated and no longer supported by video translation; remove it"
    if not any(code.strip() for code in str(body.get("language", "")).split(",")):
        return f"language is {body.get('language')!r}: no language code in it"
    return None


_TRANSLATE = "/api/open/v3/content/video/createbytranslate"
# Page 38, "Multiple Language Translation": "providing comma-separated language codes in the language parameter"
# ("es,fr,de" in its example; page 45, October 2025: "batch multi-language translation"). One create, one job
# per language. The answer's shape is not documented: Akool's demo (akool-video-translation-demo, App.tsx) reads
# all_results, one {code, msg, data} per language, and data for one language. The row's job is the first
# language's; the others are its videos 2..n (akool_video_ids / akool_video_urls, in the order given).
_LANGUAGES = Route(("language",), _TRANSLATE, id_path="all_results[0].data._id", create_record="all_results[0].data",
                   batch_records="all_results[].data")

# Its result, the "translated video URL", is read from the video field only by analogy with the shared endpoint.
VIDEO_TRANSLATION = _video_info_job(
    name="video_translation",
    create=_TRANSLATE,
    fields=(
        Field("url", "url", required=True),  # <= 60 s, <= 300 MB, <= 30 fps, with audio
        Field("source_language"),  # "DEFAULT" = detect
        Field("language", required=True),  # a code of the language list, or several comma-separated (page 38)
        Field("lipsync", "bool"),
        Field("caption_type", "int"),  # 2 and 3 in the examples; meanings undocumented
        Field("remove_bgm", "bool"),
        Field("studio_voice", "dict", fields=(
            Field("style"), Field("no_translate_words", "list"), Field("fixed_words", "dict"),
        )),
        Field("webhookUrl"),
        Field("merge_interval", "any"), Field("face_enhance", "any"),  # listed only to say "deprecated"
    ),
    price="video_translation",
    credit_field=None,  # video-translation create / get-result answers carry no credit field
    error_fields=("error_code", "error_reason"),
    check=_translation_check,
    routes=(_LANGUAGES,),
    defaults={"source_language": "DEFAULT"},
    aliases={"video_url": "url", "target_language": "language"},
    webhook_type="video translate",
    doc="ai-tools-suite/video-translation/create-translation",
)

CHARACTER_SWAP = _video_info_job(
    name="character_swap",
    create="/api/open/v4/characterSwap/create",
    fields=(
        Field("image", "url", required=True),  # PNG or JPEG
        Field("video", "url", required=True),  # MP4
        Field("duration", "num", min=1, max=120),  # detected from the video when absent
        Field("resolution", enum=("480p", "720p", "1080p")),  # default 720p
        Field("mode", enum=("animate", "replace")),  # default animate
        Field("prompt", max_len=500),
        Field("webhookurl"),  # lower-case in the table and every example
        Field("model_name"),  # only in the overview's examples ("wavespeed-ai/wan-2.2/animate")
    ),
    create_status_field="status",  # the create answer says status, get-result says video_status
    price="character_swap",
    error_fields=("faceswap_fail_reason",),
    webhook_field="webhookurl",
    aliases={"image_url": "image", "video_url": "video"},
    doc="ai-tools-suite/character-swap/create",
)

JOBS = (TALKING_PHOTO, TALKING_AVATAR, AVATAR_UPLOAD, LIP_SYNC, VIDEO_TRANSLATION, CHARACTER_SWAP)
