"""Akool video products: talking photo, talking avatar (its avatars: avatars.py), lip sync, video translation (v3)
and character swap (v4 create). One v3 poll serves them all; each product renders its own record."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from .._inputs import colour_code, fields
from .._routes import Ctx, Raw, make_job, route
from .._state import Job, Media, new_id, static_file
from .._validate import ApiError, F, validate
from ._common import PLAN_TEXT_LIMIT, base_record, price, speech_seconds, started_blocks, voice_not_found
from .avatars import official_avatars, uploads
from .voice import find_voice

__all__: list[str] = []  # its routes register themselves (@route)
VIDEO_JOBS = ("talking_photo", "talking_avatar", "lip_sync", "video_translation", "character_swap")

# Talking photo, talking avatar, lip sync and video translation have no documented price. Default:
# 1 credit per second of output, billed per started 10 s (lip sync's deduction_lock_duration shows
# 10 s blocks: 11.7 s -> 20, 7.91 s -> 10). SandboxConfig(prices={name: x}) sets x per started 10 s.
BLOCK_SECONDS, BLOCK_PRICE = 10.0, 10.0

# Character swap, documented: credits per started 5 s by resolution (12 s at 720p -> 30).
SWAP_UNIT = {"480p": 5, "720p": 10, "1080p": 15}
SWAP_SPEED = {"480p": 0.5, "720p": 0.8, "1080p": 1.2}  # sandbox seconds of work per output second
SWAP_MAX_SECONDS = 120.0
SWAP_MODEL = "wavespeed-ai/wan-2.2/animate"
TRANSLATE_MAX_SECONDS = 60.0

# Video translation target languages (shape of the list: see language_list).
LANGUAGES = [
    ("en", "English"), ("es", "Spanish"), ("fr", "French"), ("de", "German"), ("it", "Italian"),
    ("pt", "Portuguese"), ("nl", "Dutch"), ("pl", "Polish"), ("ru", "Russian"), ("uk", "Ukrainian"),
    ("tr", "Turkish"), ("ar", "Arabic"), ("hi", "Hindi"), ("id", "Indonesian"), ("vi", "Vietnamese"),
    ("th", "Thai"), ("ja", "Japanese"), ("ko", "Korean"), ("zh-CN", "Chinese (Simplified)"),
    ("zh-TW", "Chinese (Traditional)"),
]
LANGUAGE_CODES = {code for code, _ in LANGUAGES}


def _n(value: float) -> float | int:
    """Whole numbers as ints, the way the examples print credits and durations."""
    return int(value) if float(value).is_integer() else round(value, 3)


def _block_credits(ctx: Ctx, name: str, seconds: float) -> float:
    return started_blocks(seconds, BLOCK_SECONDS) * price(ctx, name, BLOCK_PRICE)


# ----------------------------------------------------------------------------- records
def _v3_video(job: Job, ctx: Ctx) -> dict[str, Any]:
    """What every v3 video record shows: ids, video_status, and video ("" until completed)."""
    return {**base_record(job, ctx), "video_id": job.extra["video_id"],
            "video_status": job.status(ctx.state.clock.now()), "video": ctx.file_url(job) or ""}


def _talking_photo(job: Job, ctx: Ctx) -> dict[str, Any]:
    # The docs show only _id, video_status and video; the rest echoes the request.
    body = job.body
    return {**_v3_video(job, ctx), "talking_photo_url": body["talking_photo_url"], "audio_url": body["audio_url"],
            "resolution": body.get("resolution") or "720", "prompt": body.get("prompt") or "",
            "webhookUrl": body.get("webhookUrl") or ""}


def _talking_avatar(job: Job, ctx: Ctx) -> dict[str, Any]:
    # deduction_duration: "credits consumed by the final result" (0 once a failed job is refunded).
    return {**_v3_video(job, ctx), "task_id": job.extra["task_id"],
            "deduction_duration": _n(job.charged(ctx.state.clock.now()))}


def _lip_sync(job: Job, ctx: Ctx) -> dict[str, Any]:
    seconds = job.media.duration if job.media and job.media.duration else 0.0
    body = job.body
    return {**_v3_video(job, ctx), "type": 9, "from": 2, "target_video": body["video_url"], "faceswap_quality": 2,
            "video_lock_duration": _n(seconds),  # measured length; the billed length in 10 s blocks:
            "deduction_lock_duration": started_blocks(seconds, BLOCK_SECONDS) * int(BLOCK_SECONDS),
            "external_video": "", "storage_loc": 1, "input_audio": body["audio_url"],
            "webhookUrl": body.get("webhookUrl") or "", "task_id": job.extra["task_id"], "lipsync": True, "__v": 0}


def _video_translation(job: Job, ctx: Ctx) -> dict[str, Any]:
    body = job.body  # one job per target language: body["language"] is this job's single code
    record = {**_v3_video(job, ctx), "url": body["url"], "source_language": body.get("source_language") or "DEFAULT",
              "language": body["language"], "lipsync": bool(body.get("lipsync", False)),
              "caption_type": body.get("caption_type", 0), "remove_bgm": bool(body.get("remove_bgm", False)),
              "webhookUrl": body.get("webhookUrl") or ""}
    if record["video_status"] == 4:  # the result page: "check error_code and error_reason for details"
        record.update(error_code=1205, error_reason=job.fail_reason)
    return record


def _character_swap(job: Job, ctx: Ctx) -> dict[str, Any]:
    """The poll record: video_status; update_time and video absent until they exist (as the examples)."""
    now = ctx.state.clock.now()
    status, body = job.status(now), job.body
    record: dict[str, Any] = base_record(job, ctx)
    if status >= 3:
        record["update_time"] = int(job.finished * 1000)
    record.update(video_duration=_n(job.media.duration if job.media and job.media.duration else 0.0),
                  webhookUrl=body.get("webhookurl") or "", file_name=f"CharacterSwap_{record['create_time']}.mp4",
                  image_url=body["image"])
    if ctx.file_url(job):
        record["video"] = ctx.file_url(job)
    record.update(video_url=body["video"], prompt=body.get("prompt") or "",
                  resolution=body.get("resolution") or "720p", deduction_credit=_n(job.charged(now)),
                  video_status=status)
    if status == 4:
        record["faceswap_fail_reason"] = job.fail_reason
    return record


def _character_swap_created(job: Job, ctx: Ctx) -> dict[str, Any]:
    """The create response names the status `status` and adds mode and model_name (documented quirk)."""
    record = _character_swap(job, ctx)
    record["status"] = record.pop("video_status")
    record.update(mode=job.body.get("mode") or "animate", model_name=job.body.get("model_name") or SWAP_MODEL)
    return record


RECORDS: dict[str, Callable[[Job, Ctx], dict[str, Any]]] = {
    "talking_photo": _talking_photo, "talking_avatar": _talking_avatar, "lip_sync": _lip_sync,
    "video_translation": _video_translation, "character_swap": _character_swap,
}


def _create_video(ctx: Ctx, name: str, seconds: float, processing: float, *, webhook_type: str,
                  credits: float | None = None, webhook_field: str = "webhookUrl", record_create: bool = True,
                  fail_reason: str = "Failed to process the video. Please check your input resources.") -> Job:
    """Charge and create one video job whose result is an MP4 of ``seconds``."""
    return make_job(ctx, name=name, processing=processing,
                    credits=_block_credits(ctx, name, seconds) if credits is None else credits,
                    media=Media("mp4", round(seconds, 3)), webhook_field=webhook_field, webhook_type=webhook_type,
                    extra={"video_id": str(uuid.uuid4()), "task_id": new_id()}, fail_reason=fail_reason,
                    record_create=record_create)


@route("GET", "/api/open/v3/content/video/infobymodelid", provider="akool", kind="poll", name="video_info")
def video_info(ctx: Ctx) -> dict[str, Any]:
    job = ctx.job(ctx.require_query("video_model_id"), VIDEO_JOBS)
    return RECORDS[job.name](job, ctx)


# ----------------------------------------------------------------------------- talking photo
@route("POST", "/api/open/v3/content/video/createbytalkingphoto", provider="akool", kind="create", name="talking_photo",
       inputs=fields("talking_photo_url", "audio_url"))
def create_talking_photo(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, [F("talking_photo_url", required=True, nonempty=True), F("audio_url", required=True, nonempty=True),
                        F("prompt"), F("resolution", enum=("720", "1080")), F("webhookUrl")])
    seconds = ctx.state.media_seconds(ctx.body["audio_url"])  # "Audio duration determines video length"
    slower = 1.5 if ctx.body.get("resolution") == "1080" else 1.0
    job = _create_video(ctx, "talking_photo", seconds, (5.0 + 0.5 * seconds) * slower, webhook_type="talking photo")
    return _talking_photo(job, ctx)


# ----------------------------------------------------------------------------- talking avatar
def _element_urls(body: dict[str, Any]) -> list[tuple[str, Any]]:
    """The elements' urls, but an image's colour (page 34, url: "When type is equal to image, url can be either a
    link or a Hexadecimal Color Code")."""
    elements = body.get("elements")
    return [(f"elements[{i}].url", el.get("url")) for i, el in enumerate(elements if isinstance(elements, list) else [])
            if isinstance(el, dict) and not (el.get("type") == "image" and colour_code(el.get("url")))]


@route("POST", "/api/open/v3/talkingavatar/create", provider="akool", kind="create", name="talking_avatar",
       inputs=_element_urls)
def create_talking_avatar(ctx: Ctx) -> dict[str, Any]:
    limit = PLAN_TEXT_LIMIT[ctx.state.config.plan]
    element = (F("type", required=True, enum=("avatar", "image", "audio")), F("url"), F("avatar_id"), F("voice_id"),
               F("input_text", max_len=limit), *(F(n, "num") for n in ("scale_x", "scale_y", "offset_x", "offset_y",
                                                                        "width", "height")))
    validate(ctx.body, [F("width", "num", required=True, enum=(3840,)), F("height", "num", required=True, enum=(2160,)),
                        F("avatar_from", "int", required=True, enum=(2, 3)),
                        F("elements", "list", required=True, min_items=1, fields=element), F("webhookUrl")])
    avatar_from, audio, avatars = ctx.body["avatar_from"], None, 0
    # The avatar list: official avatars (from 2) and this account's finished uploads (from 3), each with its type.
    types = {a["avatar_id"]: a["type"] for a in official_avatars(ctx.base_url)}
    types |= {j.body["avatar_id"]: int(j.body.get("type") or 1) for j in uploads(ctx, True)}
    known, streaming = set(types), []
    for i, el in enumerate(ctx.body["elements"]):
        path, kind = f"elements[{i}]", el["type"]
        # Page 34, scale_x ... offset_y: "Required when type is equal to image or avatar".
        if kind in ("image", "avatar"):
            for field in ("scale_x", "scale_y", "offset_x", "offset_y"):
                if el.get(field) is None:
                    raise ctx.param_error(f"Parameter error: {path}.{field} is required when type is {kind}")
        if kind == "avatar":
            avatars += 1
            url, avatar_id = el.get("url"), el.get("avatar_id")
            # Page 34, avatar_from: "If you provide an avatar URL yourself, avatar_from must be 3."
            if url and not avatar_id and avatar_from != 3:
                raise ctx.param_error(f"Parameter error: avatar_from must be 3 when {path}.url is your own avatar "
                                      f"(or give {path}.avatar_id from the avatar list)")
            # Page 34, url: "When avatar_from =2, you don't need to pass this parameter"; avatar_id: "you can get
            # from [Get TalkingAvatar List] ... If you provide an avatar URL yourself, you don't need to pass this
            # parameter". So without a url (or with avatar_from 2) the avatar is a listed one, by avatar_id: an
            # official avatar (from 2) or one uploaded with v3/avatar/create and finished (from 3).
            if not url or avatar_from == 2:
                if not avatar_id:
                    raise ctx.param_error(f"Parameter error: {path}.avatar_id or {path}.url is required "
                                          "(an avatar of the avatar list, or your own avatar)")
                if avatar_id not in known:
                    raise ctx.param_error(f"Parameter error: {path}.avatar_id {avatar_id!r} is not an avatar of the "
                                          "avatar list (v3/avatar/list: official, or uploaded and finished)")
                streaming += [avatar_id] if types[avatar_id] == 2 else []
        # No page limits audio elements to one (nor asks an image for a url): the first audio element gives
        # the video its length (the sandbox's choice).
        if kind == "audio" and audio is None:
            audio = (path, el)
    if audio is None or not avatars:
        # Page 34, Description: "First you need to generate the voice ... or directly provide a link to the
        # available voice file ... Secondly, you need to provide an avatar link".
        raise ctx.param_error("Parameter error: elements needs an avatar element and an audio element")
    path, el = audio
    if el.get("url"):  # page 34: "If both the URL and the input text fields are passed, the URL takes precedence."
        seconds = ctx.state.media_seconds(el["url"])
    else:
        # Page 34, input_text: 'The "input_text" and "voice_id" fields must both be present.'
        if not (el.get("input_text") and el.get("voice_id")):
            raise ctx.param_error(f"Parameter error: {path}.input_text and {path}.voice_id must both be present "
                                  "(or give its url)")
        if find_voice(ctx, el["voice_id"]) is None:
            raise voice_not_found(ctx, f"{path}.voice_id", el["voice_id"])
        seconds = speech_seconds(el["input_text"])
    # Page 34's codes: "1109 | create avatar video error". The sandbox's trigger: a streaming avatar (avatar list
    # "type 2 represents the streaming avatar") cannot make a talking avatar video; nothing is charged.
    if streaming:
        raise ApiError(1109, "create avatar video error")
    job = _create_video(ctx, "talking_avatar", seconds, 8.0 + 0.6 * seconds, webhook_type="avatar")
    return _talking_avatar(job, ctx)



# ----------------------------------------------------------------------------- lip sync
@route("POST", "/api/open/v3/content/video/lipsync", provider="akool", kind="create", name="lip_sync",
       inputs=fields("video_url", "audio_url"))
def create_lip_sync(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, [F("video_url", required=True, nonempty=True), F("audio_url", required=True, nonempty=True),
                        F("webhookUrl")])
    # The result follows the audio (the docs recommend audio and video of equal length). The page lists
    # 1204 "exceed 60s" but states no limit, so none is enforced here.
    seconds = ctx.state.media_seconds(ctx.body["audio_url"])
    job = _create_video(ctx, "lip_sync", seconds, 5.0 + 0.4 * seconds, webhook_type="lipsync")
    return _lip_sync(job, ctx)


# ----------------------------------------------------------------------------- video translation
@route("GET", "/api/open/v3/language/list", provider="akool", kind="lookup", name="language_list")
def language_list(ctx: Ctx) -> dict[str, Any]:
    # Response schema not captured in our docs: the shape of Akool's earlier published page and its
    # demo apps, data.lang_list of {lang_code, lang_name, url (flag icon)}.
    return {"lang_list": [{"lang_code": code, "lang_name": name,
                           "url": static_file(ctx.base_url, "flag-" + code.lower(), Media("png"))}
                          for code, name in LANGUAGES]}


# Page 38, "Multiple Language Translation": comma-separated codes in language ("es,fr,de"; page 45, October 2025),
# each checked against the language list and charged as a translation of its own.
@route("POST", "/api/open/v3/content/video/createbytranslate", provider="akool", kind="create", name="video_translation",
       inputs=fields("url"))
def create_video_translation(ctx: Ctx) -> Raw:
    validate(ctx.body, [
        F("url", required=True, nonempty=True), F("source_language"), F("language", required=True, nonempty=True),
        F("lipsync", "bool"), F("caption_type", "int"), F("remove_bgm", "bool"), F("webhookUrl"),
        F("studio_voice", "dict", fields=(F("style"), F("no_translate_words", "list"), F("fixed_words", "dict"))),
    ])
    body = ctx.body
    targets = list(dict.fromkeys(c.strip() for c in body["language"].split(",") if c.strip()))
    for code in targets or [""]:
        if code not in LANGUAGE_CODES:
            raise ctx.param_error(f"Parameter error: language {code!r} is not in the language list")
    source = body.get("source_language") or "DEFAULT"
    if source != "DEFAULT" and source not in LANGUAGE_CODES:
        raise ctx.param_error(f"Parameter error: source_language {source!r} is neither DEFAULT nor in the language list")
    seconds = ctx.state.media_seconds(body["url"])
    if seconds > TRANSLATE_MAX_SECONDS:
        raise ApiError(1204, "Your video duration exceeds 60 seconds")
    now = ctx.state.clock.now()
    if body.get("lipsync"):
        for job in ctx.state.jobs.values():
            if (job.name == "video_translation" and job.body["url"] == body["url"] and job.body.get("lipsync")
                    and job.body["language"] in targets and job.status(now) != 4):
                raise ApiError(1202, "The same video cannot be translated with lip-sync in the same language more than once")
    each = _block_credits(ctx, "video_translation", seconds)
    processing = 10.0 + seconds * (1.5 if body.get("lipsync") else 1.0)
    with ctx.state.lock:  # all languages or none: check the whole charge before creating any job
        if ctx.state.balances["akool"] + 1e-9 < each * len(targets):
            raise ApiError(1006, "Your quota is not enough")
        # One job per target language; each job's body names its own language (its record shows that language).
        jobs = [_create_video(dataclasses.replace(ctx, body={**body, "language": code}), "video_translation", seconds,
                              processing, credits=each, webhook_type="video translate", record_create=False)
                for code in targets]
    ctx.state.record_create(ctx.route.path, body)  # one request is one create, however many languages (as batch)
    records = [_video_translation(job, ctx) for job in jobs]
    # The multi-language response is undocumented. data = the first language's record (so data._id works as
    # for one language) plus translation_ids in language order; all_results (top level) is what Akool's own
    # video-translation demo reads: one {code, msg, data} per language.
    return Raw(code=1000, msg="OK", data={**records[0], "translation_ids": [r["_id"] for r in records]},
               all_results=[{"code": 1000, "msg": "OK", "data": r} for r in records])


# ----------------------------------------------------------------------------- character swap (v4)
@route("POST", "/api/open/v4/characterSwap/create", provider="akool", kind="create", name="character_swap",
       inputs=fields("image", "video"))
def create_character_swap(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, [
        F("image", required=True, nonempty=True), F("video", required=True, nonempty=True),
        F("duration", "num", min=1, max=SWAP_MAX_SECONDS), F("resolution", enum=tuple(SWAP_UNIT)),
        F("mode", enum=("animate", "replace")), F("prompt", max_len=500), F("webhookurl"),
        F("model_name"),  # not in the body table, sent by the overview's examples
    ])
    duration = ctx.body.get("duration")
    if duration is None:  # "automatically detected from the video", at most 120 s
        duration = ctx.state.media_seconds(ctx.body["video"])
        if duration > SWAP_MAX_SECONDS:
            raise ctx.param_error(f"Parameter error: video lasts {_n(duration)} s; the maximum duration is 120 seconds")
    resolution = ctx.body.get("resolution") or "720p"
    credits = started_blocks(duration, 5.0) * SWAP_UNIT[resolution]
    # Callback field `webhookurl` (lower-case); the webhook type list has no character swap: "faceswap" is closest.
    job = _create_video(ctx, "character_swap", duration, 10.0 + duration * SWAP_SPEED[resolution], credits=credits,
                        webhook_field="webhookurl", webhook_type="faceswap")
    return _character_swap_created(job, ctx)
