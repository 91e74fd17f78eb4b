"""Akool VoiceLab v4 (ai-tools-suite/voiceLab): TTS, voice clone, voice changer, lists, details, delete."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Sequence
from typing import Any

from .._inputs import fields
from .._routes import Ctx, make_job, route
from .._state import Job, Media, static_file
from .._validate import ApiError, F, Range, validate
from ._common import PLAN_TEXT_LIMIT, base_record, speech_seconds, voice_not_found

__all__ = ["find_voice"]

MODELS = ("Akool Multilingual 1", "Akool Multilingual 2", "Akool Multilingual 3", "Akool Multilingual 4")
CLONE_MODELS = ("Akool Multilingual 1", "Akool Multilingual 3", "Akool Multilingual 4")
# Rates table: credits per 1000 TTS characters and per voice-changer minute, by plan. No rounding.
RATE = {"pro": 4.4, "max": 3.2, "business": 2.4}
CLONE_QUOTA = {"pro": 30, "max": 180, "business": 500}
# Voice records show the language as a display name and the code as locale ("Polish" / "pl").
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "it": "Italian",
                  "pt": "Portuguese", "ja": "Japanese", "ko": "Korean", "zh": "Chinese", "pl": "Polish",
                  "ru": "Russian", "nl": "Dutch", "ar": "Arabic", "hi": "Hindi", "tr": "Turkish"}
EMOTIONS = ("happy", "sad", "angry", "fearful", "disgusted", "surprised", "neutral")

# Akool's own voices (voice list type=2): name, gender, language, locale, model.
AKOOL_VOICES = [
    ("Emma", "Female", "English", "en", MODELS[0]), ("Liam", "Male", "English", "en", MODELS[2]),
    ("Sofia", "Female", "Spanish", "es", MODELS[0]), ("Mateo", "Male", "Spanish", "es", MODELS[2]),
    ("Chloé", "Female", "French", "fr", MODELS[0]), ("Lukas", "Male", "German", "de", MODELS[0]),
    ("Giulia", "Female", "Italian", "it", MODELS[1]), ("Ana", "Female", "Portuguese", "pt", MODELS[3]),
    ("Yuki", "Female", "Japanese", "ja", MODELS[2]), ("Min-jun", "Male", "Korean", "ko", MODELS[2]),
    ("Xiaoming", "Male", "Chinese", "zh", MODELS[2]), ("Zofia", "Female", "Polish", "pl", MODELS[0]),
]


def _hex(seed: str, n: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:n]


def _voice_id(seed: str, model: str) -> str:
    # Multilingual 3 voices carry 64-character ids, the others 20-character ones (as in the examples).
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(seed.encode()).digest() * 3
    return "".join(alphabet[b % 62] for b in digest[: 64 if model == MODELS[2] else 20])


# Every request example passes this document _id as voice_id: the first Akool voice carries it,
# so the documented example bodies are accepted as they are.
EXAMPLE_VOICE_ID = "6889b628662160e2caad5dbc"


def akool_voices(base_url: str) -> list[dict[str, Any]]:
    """The Akool voices' records, as copies the caller may change."""
    return [dict(voice) for voice in _akool_voices(base_url)]


@functools.lru_cache(maxsize=64)
def _akool_voices(base_url: str) -> tuple[dict[str, Any], ...]:
    """Made once per sandbox address: every TTS create looks its voice up here (sha256 ids, file names)."""
    voices = []
    for i, (name, gender, language, locale, model) in enumerate(AKOOL_VOICES):
        voices.append({
            "_id": EXAMPLE_VOICE_ID if i == 0 else _hex("voice" + name, 24), "uid": 1, "team_id": "",
            "voice_id": _voice_id(name, model),
            "gender": gender, "language": language, "locale": locale, "name": name,
            "preview": static_file(base_url, "voice-" + _hex(name, 8), Media("mp3", 4.0)),
            "text": f"Hello, I am {name}.", "duration": 4000, "status": 3, "create_time": 1751000000000 + i,
            "update_time": 1751000000000 + i, "style": ["Calm"], "scenario": ["Education"], "age": ["Middle"],
            "deduction_credit": 0, "webhookUrl": "", "voice_model_name": model,
            "support_stream": model in (MODELS[0], MODELS[2]),
        })
    return tuple(voices)


def clone_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    status = job.status(ctx.state.clock.now())
    options = job.body.get("voice_options") or {}
    done = status == 3
    return {
        **base_record(job, ctx), "voice_id": job.extra["voice_id"] if done else None,
        "gender": (options.get("gender") or ["Male"])[0], "name": job.body.get("name") or job.extra["name"],
        "preview": ctx.file_url(job), "text": job.extra["text"], "duration": int(job.extra["seconds"] * 1000),
        "status": status, "style": options.get("style") or [], "scenario": options.get("scenario") or [],
        "age": options.get("age") or [], "deduction_credit": 0, "webhookUrl": job.body.get("webhookUrl", ""),
        "source_voice_file": job.body["source_voice_file"],
        "language": LANGUAGE_NAMES.get(options.get("language", "en"), options.get("language", "en")),
        "locale": options.get("language", "en"), "voice_model_name": job.extra["model"],
        "support_stream": job.extra["model"] in (MODELS[0], MODELS[2]),
        "update_time": int(job.finished * 1000) if done else 0,
    }


def resource_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """A TTS or voice-changer result (resource/detail, resource/list, create)."""
    status = job.status(ctx.state.clock.now())
    voice = job.extra["voice"]
    record = {
        **base_record(job, ctx), "update_time": int(job.finished * 1000) if status >= 3 else 0,
        "rate": "100%" if status >= 3 else "0%", "preview": ctx.file_url(job), "status": status,
        "webhookUrl": job.body.get("webhookUrl", ""),
        # TTS: the audio made; voice changer: the source's length (12800 in the example)
        "duration": int(job.extra.get("seconds", (job.media.duration or 0) if job.media else 0) * 1000),
        "file_name": job.extra["file_name"], "gender": voice["gender"], "deduction_credit": job.credits,
        "name": job.extra["name"], "priority": 2, "__v": 0, "voice_model_id": voice["_id"],
        "voice_id": voice["voice_id"], "voice_options": job.body.get("voice_options") or {},
    }
    if job.name == "tts":
        record.update(input_text=job.body["input_text"], language_code=job.body.get("language_code", ""))
        if status < 3:
            record["duration"] = 0  # the examples show 0 until the audio exists
    else:
        record["source_voice_file"] = job.body["source_voice_file"]
    return record


def find_voice(ctx: Ctx, value: str) -> dict[str, Any] | None:
    """Either identifier is accepted (the docs' examples pass a document _id as voice_id)."""
    for voice in _akool_voices(ctx.base_url):
        if value in (voice["_id"], voice["voice_id"]):
            return dict(voice)
    now = ctx.state.clock.now()
    for job in ctx.state.jobs.values():
        if job.name == "voice_clone" and not job.deleted and job.status(now) == 3 and value in (job.id, job.extra["voice_id"]):
            return clone_record(job, ctx)
    return None


# Page 42: TTS language_code, "only Language code (ISO 639-1) such as "zh", "pt" is supported"; a clone's
# voice_options.language, "Language code (ISO 639-1) of the audio file". Two lower-case letters ("zh", not "zh-CN").
ISO_639_1 = re.compile(r"[a-z]{2}")
ISO_FIELDS = {"tts": ("language_code",), "voice_clone": ("voice_options", "language")}


def _iso_639_1(ctx: Ctx, job: str) -> None:
    """The documented parameter error (1003) naming the field, for a code that is not ISO 639-1."""
    *parents, name = ISO_FIELDS[job]
    holder = ctx.body
    for parent in parents:
        holder = holder.get(parent) or {}
    value = holder.get(name)
    if value not in (None, "") and not ISO_639_1.fullmatch(str(value)):  # "" is not given
        path = ".".join(ISO_FIELDS[job])
        raise ctx.param_error(f"Parameter error: {path} must be a language code (ISO 639-1) such as 'zh', 'pt'; "
                              f"got {value!r}")


def _require_voice(ctx: Ctx, field: str, value: str) -> dict[str, Any]:
    voice = find_voice(ctx, value)
    if voice is None:  # neither an Akool voice nor a finished clone of this account: 1008 (see voice_not_found)
        raise voice_not_found(ctx, field, value)
    return voice


UNIT_RANGE: Range = {"min": 0, "max": 1}
TTS_FIELDS = [
    F("input_text", required=True, nonempty=True, max_len=None),  # plan limit applied below
    F("voice_id", required=True, nonempty=True),
    F("voice_options", "dict", fields=(
        F("stability", "num", **UNIT_RANGE), F("similarity_boost", "num", **UNIT_RANGE), F("style", "num", **UNIT_RANGE),
        F("speed", "num", min=0.7, max=1.2), F("speaker_boost", "bool"), F("emotion", enum=EMOTIONS),
        F("volume", "int", min=0, max=100))),
    F("webhookUrl"), F("language_code"), F("pitch", "int", min=-12, max=12),
    F("extra_options", "dict", fields=(
        F("previous_text"), F("next_text"), F("apply_text_normalization", enum=("auto", "on", "off")),
        F("apply_language_text_normalization", "bool"), F("latex_read", "bool"), F("text_normalization", "bool"),
        F("audio_setting", "dict", fields=(
            F("sample_rate", "int", enum=(8000, 16000, 22050, 24000, 32000, 44100)),
            F("bitrate", "int", enum=(32000, 64000, 128000, 256000)), F("format", enum=("mp3", "wav")),
            F("channel", "int", enum=(1, 2)))),
        F("timber_weights", "list", max_items=4, fields=(
            F("voice_id", required=True), F("weight", "int", required=True, min=1, max=100))),
        F("pronunciation_dict", "dict", fields=(F("tone", "list"),)),
        F("voice_modify", "dict", fields=(
            F("pitch", "int", min=-100, max=100), F("intensity", "int", min=-100, max=100),
            F("timbre", "int", min=-100, max=100),
            F("sound_effects", enum=("spacious_echo", "auditorium_echo", "lofi_telephone", "robotic")))),
        F("subtitle_enable", "bool"), F("pitch", "int", min=-12, max=12))),
]


@route("POST", "/api/open/v4/voice/tts", provider="akool", kind="create", name="tts")
def create_tts(ctx: Ctx) -> dict[str, Any]:
    plan = ctx.state.config.plan
    fields = [F("input_text", required=True, nonempty=True, max_len=PLAN_TEXT_LIMIT[plan]), *TTS_FIELDS[1:]]
    validate(ctx.body, fields)
    _iso_639_1(ctx, "tts")
    voice = _require_voice(ctx, "voice_id", ctx.body["voice_id"])
    text: str = ctx.body["input_text"]
    speed = float((ctx.body.get("voice_options") or {}).get("speed", 1.0))
    audio = ((ctx.body.get("extra_options") or {}).get("audio_setting") or {})
    seconds = speech_seconds(text, speed)
    credits = round(len(text) * RATE[plan] / 1000, 6)  # characters are code points
    job = make_job(ctx, name="tts", processing=1.0 + seconds * 0.3, credits=credits,
                   media=Media(audio.get("format", "mp3"), seconds), webhook_type="audio",
                   extra={"voice": voice, "name": _hex(text + str(ctx.state.clock.now()), 32),
                          "file_name": _hex(text, 32) + "." + audio.get("format", "mp3")})
    return resource_record(job, ctx)


@route("POST", "/api/open/v4/voice/change", provider="akool", kind="create", name="voice_change",
       inputs=fields("source_voice_file"))
def create_voice_change(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, [
        F("voice_id", required=True, nonempty=True), F("source_voice_file", required=True, nonempty=True),
        F("voice_options", "dict", fields=(
            F("stability", "num", **UNIT_RANGE), F("similarity_boost", "num", **UNIT_RANGE),
            F("style", "num", **UNIT_RANGE), F("speaker_boost", "bool"), F("file_format", enum=("mp3", "wav")),
            F("remove_background_noise", "bool"), F("speed", "num", min=0.7, max=1.2))),
        F("webhookUrl"), F("voice_model_name", enum=(MODELS[0],)),
    ])
    voice = _require_voice(ctx, "voice_id", ctx.body["voice_id"])
    seconds = ctx.state.media_seconds(ctx.body["source_voice_file"])
    credits = round(seconds / 60 * RATE[ctx.state.config.plan], 6)
    ext = (ctx.body.get("voice_options") or {}).get("file_format", "mp3")
    source_name = str(ctx.body["source_voice_file"]).rsplit("/", 1)[-1] or "audio.mp3"
    job = make_job(ctx, name="voice_change", processing=1.0 + seconds * 0.3, credits=credits,
                   media=Media(ext, seconds), webhook_type="audio",
                   extra={"voice": voice, "seconds": seconds, "name": _hex(source_name + str(ctx.state.clock.now()), 32),
                          "file_name": source_name})
    return resource_record(job, ctx)


@route("POST", "/api/open/v4/voice/clone", provider="akool", kind="create", name="voice_clone",
       inputs=fields("source_voice_file"))
def create_voice_clone(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, [
        F("source_voice_file", required=True, nonempty=True),
        F("voice_options", "dict", fields=(
            F("style", "list"), F("gender", "list"), F("age", "list"), F("scenario", "list"),
            F("remove_background_noise", "bool"), F("language"), F("clone_prompt"),
            F("need_volume_normalization", "bool"))),
        F("name"), F("webhookUrl"), F("voice_model_name", enum=MODELS),
    ])
    _iso_639_1(ctx, "voice_clone")
    model = ctx.body.get("voice_model_name") or MODELS[0]
    if model not in CLONE_MODELS:
        raise ctx.param_error(f"Parameter error: voice_model_name {model!r} does not support voice cloning")
    plan = ctx.state.config.plan
    now = ctx.state.clock.now()  # failed clones hold no voice, so they do not count against the quota
    clones = sum(1 for j in ctx.state.jobs.values() if j.name == "voice_clone" and not j.deleted and j.status(now) != 4)
    if clones >= CLONE_QUOTA[plan]:
        raise ApiError(1006, f"Your quota is not enough: the {plan} plan allows {CLONE_QUOTA[plan]} cloned voices")
    seconds = ctx.state.media_seconds(ctx.body["source_voice_file"])
    job = make_job(ctx, name="voice_clone", processing=5.0 + seconds * 0.5, credits=0.0,
                   media=Media("mp3", 5.0), webhook_type="audio",
                   extra={"voice_id": _voice_id(str(ctx.state.clock.now()) + str(len(ctx.state.jobs)), model),
                          "model": model, "seconds": seconds, "name": ctx.body.get("name") or "MyVoice",
                          "text": "This is a preview of your cloned voice."})
    return clone_record(job, ctx)


@route("GET", "/api/open/v4/voice/resource/detail/{_id}", provider="akool", kind="poll", name="voice_resource_detail")
def resource_detail(ctx: Ctx) -> dict[str, Any]:
    return {"result": resource_record(ctx.job(ctx.params["_id"], ("tts", "voice_change")), ctx)}


@route("GET", "/api/open/v4/voice/detail/{_id}", provider="akool", kind="poll", name="voice_detail")
def voice_detail(ctx: Ctx) -> dict[str, Any]:
    for voice in akool_voices(ctx.base_url):
        if voice["_id"] == ctx.params["_id"]:
            return voice
    return clone_record(ctx.job(ctx.params["_id"], "voice_clone"), ctx)


def _page(ctx: Ctx, items: Sequence[Any], record: Any = None) -> dict[str, Any]:
    """One page of ``items``, newest first; ``record`` makes each item's record (only the page's are made)."""
    try:
        page, size = int(ctx.q("page", "1") or 1), int(ctx.q("size", "10") or 10)
    except ValueError as exc:
        raise ctx.param_error("Parameter error: page and size must be numbers") from exc
    if page < 1 or size < 1:
        raise ctx.param_error("Parameter error: page and size must be at least 1")
    shown = items[(page - 1) * size: page * size]
    return {"result": [record(i) for i in shown] if record else shown, "count": len(items), "page": page, "size": size}


@route("GET", "/api/open/v4/voice/resource/list", provider="akool", kind="lookup", name="voice_resource_list")
def resource_list(ctx: Ctx) -> dict[str, Any]:
    kind = ctx.require_query("type")
    if kind not in ("1", "2"):
        raise ctx.param_error("Parameter error: type must be 1 (voiceTTS) or 2 (voiceChanger)")
    name = "tts" if kind == "1" else "voice_change"
    return _page(ctx, ctx.state.newest(name), lambda j: resource_record(j, ctx))


@route("GET", "/api/open/v4/voice/list", provider="akool", kind="lookup", name="voice_list")
def voice_list(ctx: Ctx) -> dict[str, Any]:
    kind = ctx.require_query("type")
    if kind not in ("1", "2"):
        raise ctx.param_error("Parameter error: type must be 1 (VoiceClone) or 2 (Akool Voices)")
    voices = akool_voices(ctx.base_url) if kind == "2" else [clone_record(j, ctx) for j in ctx.state.newest("voice_clone")]
    filters = {key: {v.lower() for v in (ctx.q(key) or "").split(",") if v} for key in ("gender", "style", "age", "scenario")}
    def keep(voice: dict[str, Any]) -> bool:
        for key, wanted in filters.items():
            have = voice.get(key) or []
            have = [have] if isinstance(have, str) else have
            if wanted and not wanted & {h.lower() for h in have}:
                return False
        name = (ctx.q("name") or "").lower()
        stream = ctx.q("support_stream")
        return (not name or name in voice["name"].lower()) and (stream is None or voice["support_stream"] == (stream == "1"))
    return _page(ctx, [v for v in voices if keep(v)])


@route("POST", "/api/open/v4/voice/del", provider="akool", kind="delete", name="voice_delete")
def voice_delete(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, [F("_ids", "list", required=True, min_items=1)])
    ok, refused = [], []
    for _id in ctx.body["_ids"]:
        job = ctx.state.jobs.get(str(_id))
        if job is None or job.deleted or job.name != "voice_clone":
            refused.append({"_id": _id, "msg": f"VoiceId:{_id} resource not found"})
        else:
            ctx.state.delete(job)
            ok.append(_id)
    return {"successIds": ok, "noPermissionVoices": refused}

