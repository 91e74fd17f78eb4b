"""Akool legacy audio API v3 (seed 000): TTS, one-shot voice clone, audio info, voice list.

The seed lost its URLs and methods; the catalog (part 3, section 3) restores them. The field
tables are the seed's: ``rate`` is a percent string "0%"-"100%", texts are limited to 5000 words.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .._inputs import fields
from .._routes import Ctx, make_job, route
from .._state import Job, Media, static_file
from .._validate import F, one_of_required, validate
from ._common import UID, price, speech_seconds, voice_not_found

__all__: list[str] = []  # its routes register themselves (@route)

JOBS = ("legacy_tts", "legacy_voice_clone")
# Seed 000: the text "is limited to 5000 words" (both tables). Words, as the page says (issue 9: it was read as
# characters on both sides).
WORD_LIMIT = 5000
RATE_RE = re.compile(r"^(\d{1,3}(?:\.\d+)?)%$")
# The docs give no price for v3 audio: credits per job, override with prices={"legacy_tts": ...}.
DEFAULT_PRICE = {"legacy_tts": 1.0, "legacy_voice_clone": 1.0}

# Official voices (from=3): _id, voice_id, gender, accent, name, description, useCase.
# The first two are the docs' own examples (voice list record; TTS request and its voice_model_id).
OFFICIAL_VOICES = [
    ("65e980d7af040969db5be863", "piTKgcLEGmPE4e6mEKli", "Female", "american", "Nicole", "whisper", "audiobook"),
    ("65e980d7af040969db5be854", "LcfcDJNUP1GQjkzn1xUU", "Male", "american", "Adam", "deep", "narration"),
    ("65e980d7af040969db5be855", "EXAVITQu4vr4xnSDxMaL", "Female", "american", "Bella", "soft", "narration"),
    ("65e980d7af040969db5be856", "ErXwobaYiN019PkySvjV", "Male", "american", "Antoni", "well-rounded", "narration"),
    ("65e980d7af040969db5be857", "MF3mGyEYCl7XYWbV9V6O", "Female", "american", "Elli", "emotional", "narration"),
    ("65e980d7af040969db5be858", "ThT5KcBeYPX3keUQqHPh", "Female", "british", "Dorothy", "pleasant", "children's stories"),
]

FIELDS_TTS = [
    # The TTS table has no Required column; text and voice are what the call cannot do without.
    F("input_text", required=True, nonempty=True, max_words=WORD_LIMIT),
    F("voice_id", required=True, nonempty=True),
    F("rate"),
    F("webhookUrl"),
]
FIELDS_CLONE = [
    F("input_text", required=True, nonempty=True, max_words=WORD_LIMIT),
    F("rate", required=True, nonempty=True),
    F("voice_url"),
    F("voice_id"),  # not in the table, but "voice_id and voice_url must provide one"
    F("webhookUrl"),
]


def official_voices(base_url: str) -> list[dict[str, Any]]:
    return [{
        "_id": _id, "create_time": 1687181385319 + i, "uid": 1, "from": 3, "voice_id": voice_id, "gender": gender,
        "accent": accent, "name": name, "description": description, "useCase": use_case, "type": 1,
        "preview": static_file(base_url, "v3voice-" + voice_id, Media("mp3", 4.0)), "__v": 0,
    } for i, (_id, voice_id, gender, accent, name, description, use_case) in enumerate(OFFICIAL_VOICES)]


def user_voices(ctx: Ctx) -> list[dict[str, Any]]:
    """from=4: the account's finished VoiceLab clones, rendered as v3 voice records."""
    now = ctx.state.clock.now()
    clones = [j for j in ctx.state.newest("voice_clone") if j.status(now) == 3]
    return [{
        "_id": j.id, "create_time": int(j.created * 1000), "uid": UID, "from": 4, "voice_id": j.extra["voice_id"],
        "gender": ((j.body.get("voice_options") or {}).get("gender") or ["Male"])[0], "accent": "",
        "name": j.body.get("name") or j.extra.get("name", ""), "description": "", "useCase": "", "type": 2,
        "preview": ctx.file_url(j), "__v": 0,
    } for j in clones]


def _voice(ctx: Ctx, voice_id: str) -> dict[str, Any]:
    for voice in official_voices(ctx.base_url) + user_voices(ctx):
        if voice["voice_id"] == voice_id:
            return voice
    raise voice_not_found(ctx, "voice_id", voice_id)  # not in v3/voice/list: 1008 (see voice_not_found)


def _speed(ctx: Ctx, rate: Any) -> float:
    """Validate the percent string; the sandbox maps 0% to half speed and 100% to normal speed."""
    m = RATE_RE.match(rate) if isinstance(rate, str) else None
    if m is None or float(m.group(1)) > 100:
        raise ctx.param_error(f"Parameter error: rate must be a percent string from '0%' to '100%'; got {rate!r}")
    return 0.5 + float(m.group(1)) / 200  # how a percentage maps to speed is undocumented


def audio_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """One v3 audio document, as the create example shows it (poll: {status, _id, url} among them)."""
    return {
        "_id": job.id, "create_time": int(job.created * 1000), "uid": UID, "from": job.extra["from"],
        "input_text": job.body["input_text"], "rate": job.extra["rate"], "voice_model_id": job.extra["voice_model_id"],
        "url": ctx.file_url(job) or "",  # the tables show url "" until the audio exists
        "status": job.status(ctx.state.clock.now()), "__v": 0,
    }


def _create(ctx: Ctx, name: str, speed: float, voice: dict[str, Any] | None) -> dict[str, Any]:
    text: str = ctx.body["input_text"]
    rate = ctx.body.get("rate") or "100%"
    seconds = speech_seconds(text, speed)
    job = make_job(ctx, name=name, processing=1.0 + seconds * 0.3, credits=price(ctx, name, DEFAULT_PRICE[name]),
                   media=Media("mp3", seconds), webhook_type="audio",
                   extra={"rate": rate, "from": voice["from"] if voice else 4,
                          "voice_model_id": voice["_id"] if voice else _sample_id(str(ctx.body.get("voice_url")))})
    return audio_record(job, ctx)


def _sample_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:24]


@route("POST", "/api/open/v3/audio/create", provider="akool", kind="create", name="legacy_tts")
def create_tts(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, FIELDS_TTS)
    speed = _speed(ctx, ctx.body.get("rate") or "100%")  # not required for TTS: 100% when absent
    return _create(ctx, "legacy_tts", speed, _voice(ctx, ctx.body["voice_id"]))


@route("POST", "/api/open/v3/audio/clone", provider="akool", kind="create", name="legacy_voice_clone",
       inputs=fields("voice_url"))
def create_clone(ctx: Ctx) -> dict[str, Any]:
    """One-shot: speak input_text in the voice of voice_url (or of a listed voice_id)."""
    validate(ctx.body, FIELDS_CLONE)
    speed = _speed(ctx, ctx.body["rate"])
    one_of_required(ctx.body, ("voice_id", "voice_url"))
    # With both given, the table's own field (voice_url) wins; voice_id is then not checked.
    voice = None if ctx.body.get("voice_url") else _voice(ctx, ctx.body["voice_id"])
    return _create(ctx, "legacy_voice_clone", speed, voice)


@route("GET", "/api/open/v3/audio/infobymodelid", provider="akool", kind="poll", name="legacy_audio_info")
def audio_info(ctx: Ctx) -> dict[str, Any]:
    return audio_record(ctx.job(ctx.require_query("audio_model_id"), JOBS), ctx)


@route("GET", "/api/open/v3/voice/list", provider="akool", kind="lookup", name="legacy_voice_list")
def voice_list(ctx: Ctx) -> list[dict[str, Any]]:
    """A bare array; no pagination is documented (page/size are ignored)."""
    source = ctx.q("from") or ""
    if source not in ("", "3", "4"):
        raise ctx.param_error(f"Parameter error: from must be 3 (official) or 4 (user-created); got {source!r}")
    voices: list[dict[str, Any]] = []
    if source in ("", "3"):
        voices += official_voices(ctx.base_url)
    if source in ("", "4"):
        voices += user_voices(ctx)
    return voices
