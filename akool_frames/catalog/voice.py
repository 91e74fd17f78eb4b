"""Akool VoiceLab v4: text to speech, voice clone, voice changer (ai-tools-suite/voiceLab)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._spec import PLAN_TEXT_LIMITS, Delete, Field, JobSpec, Poll, Reconcile

__all__ = ["JOBS", "TTS", "VOICE_CHANGE", "VOICE_CLONE"]

_MODELS = ("Akool Multilingual 1", "Akool Multilingual 2", "Akool Multilingual 3", "Akool Multilingual 4")


def _unit(name: str) -> Field:
    """stability / similarity_boost / style: numbers from 0 to 1."""
    return Field(name, "num", min=0, max=1)


# GET voice/resource/detail/{_id} wraps the record as data.result (voiceLab#get-voice-result-detail). Its list
# (voiceLab#get-voice-results-list: resource/list, newest first) carries the same records with their status.
_RESOURCE_POLL = Poll("/api/open/v4/voice/resource/detail/{id}", "", id_in="path", records="data.result", every=2.0,
                      listed=True)

# The family's shared settings; each spec below states only what is its own. TTS and voice change both make
# a speech resource: the same poll, an audio file as the result.
_voicelab_job = functools.partial(JobSpec, provider="akool", status_field="status", result_field="preview")
_speech_job = functools.partial(_voicelab_job, poll=_RESOURCE_POLL, result_kind="audio")


def _same(record: Mapping[str, Any], body: Mapping[str, Any], *names: str) -> bool:
    """Every named field the record carries equals the body's; at least one must be there to compare."""
    present = [n for n in names if record.get(n) not in (None, "")]
    return bool(present) and all(record.get(n) == body.get(n) for n in present)


def _voice_matches(record: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    # The request voice_id may be the provider id or the voice document _id (voice_model_id): accept either.
    ids = {record.get("voice_id"), record.get("voice_model_id")} - {None, ""}
    return not ids or body.get("voice_id") in ids


TTS = _speech_job(
    name="tts",
    create="/api/open/v4/voice/tts",
    fields=(
        Field("input_text", required=True, max_len=PLAN_TEXT_LIMITS),
        Field("voice_id", required=True),
        Field("voice_options", "dict", fields=(
            _unit("stability"), _unit("similarity_boost"), _unit("style"),
            Field("speed", "num", min=0.7, max=1.2),
            Field("speaker_boost", "bool"),
            Field("emotion", enum=("happy", "sad", "angry", "fearful", "disgusted", "surprised", "neutral")),
            Field("volume", "int", min=0, max=100),
        )),
        Field("webhookUrl"),
        Field("language_code"),
        Field("extra_options", "dict", fields=(
            Field("previous_text"), Field("next_text"),
            Field("apply_text_normalization", enum=("auto", "on", "off")),
            Field("apply_language_text_normalization", "bool"),
            Field("latex_read", "bool"), Field("text_normalization", "bool"),
            Field("audio_setting", "dict", fields=(
                Field("sample_rate", "int", enum=(8000, 16000, 22050, 24000, 32000, 44100)),
                Field("bitrate", "int", enum=(32000, 64000, 128000, 256000)),
                Field("format", enum=("mp3", "wav")),
                Field("channel", "int", enum=(1, 2)),
            )),
            Field("timber_weights", "list", max_items=4, fields=(
                Field("voice_id", required=True), Field("weight", "int", required=True, min=1, max=100),
            )),
            Field("pronunciation_dict", "dict", fields=(Field("tone", "list"),)),
            Field("voice_modify", "dict", fields=(
                Field("pitch", "int", min=-100, max=100), Field("intensity", "int", min=-100, max=100),
                Field("timbre", "int", min=-100, max=100),
                Field("sound_effects", enum=("spacious_echo", "auditorium_echo", "lofi_telephone", "robotic")),
            )),
            Field("subtitle_enable", "bool"),
            Field("pitch", "int", min=-12, max=12),  # the table puts pitch here ...
        )),
        Field("pitch", "int", min=-12, max=12),  # ... the example sends it at the top level: accept both
    ),
    price="tts",
    reconcile=Reconcile(
        "/api/open/v4/voice/resource/list", {"type": "1"}, "data.result",
        match=lambda rec, body: _same(rec, body, "input_text") and _voice_matches(rec, body),
        created="create_time"),  # "Creation timestamp" (ms), voiceLab#get-voice-results-list
    aliases={"text": "input_text", "speed": "voice_options.speed", "voice": "voice_id",
             "language": "language_code"},
    doc="ai-tools-suite/voiceLab#create-text-to-speech",
)

VOICE_CLONE = _voicelab_job(
    name="voice_clone",
    create="/api/open/v4/voice/clone",
    fields=(
        Field("source_voice_file", "url", required=True),  # mp3/mp4/wav, public, max 30 MB
        Field("voice_options", "dict", fields=(
            Field("style", "list"), Field("gender", "list"), Field("age", "list"), Field("scenario", "list"),
            Field("remove_background_noise", "bool"),
            Field("language"),  # ISO 639-1, default en
            Field("clone_prompt"),  # Akool Multilingual 3 only
            Field("need_volume_normalization", "bool"),  # Akool Multilingual 3 only
        )),
        Field("name"),
        Field("webhookUrl"),
        # Multilingual 2 "does not support voice cloning".
        Field("voice_model_name", enum=("Akool Multilingual 1", "Akool Multilingual 3", "Akool Multilingual 4")),
    ),
    # The clone is a voice document: GET voice/detail/{_id} answers it directly in data.
    # voice/list (voiceLab#get-voice-list, type=1: the account's clones) carries each clone's status too
    poll=Poll("/api/open/v4/voice/detail/{id}", "", id_in="path", records="data", every=3.0, listed=True),
    # The result is the reusable voice: its voice_id (null until done) is kept from the record as an extra
    # field, and akool_url is the preview of the cloned voice.
    extra_fields={"voice_id": "voice_id"},
    # Seed 001, Delete Voice: POST voice/del {"_ids": [...]} takes voice document _ids (the clone's job id, not its
    # voice_id); refusals in data.noPermissionVoices. Clones count against the plan's voice quota.
    delete=Delete("/api/open/v4/voice/del", "_ids", listed=True, refused="data.noPermissionVoices"),
    price="voice_clone",
    reconcile=Reconcile(
        "/api/open/v4/voice/list", {"type": "1"}, "data.result",
        match=lambda rec, body: _same(rec, body, "source_voice_file")
        and (not body.get("name") or rec.get("name") in (None, body.get("name"))),
        created="create_time"),  # the voice list's records carry create_time too (voiceLab#get-voice-list)
    aliases={"audio_url": "source_voice_file", "language": "voice_options.language"},
    result_kind="voice",
    doc="ai-tools-suite/voiceLab#create-voice-clone",
)

VOICE_CHANGE = _speech_job(
    name="voice_change",
    create="/api/open/v4/voice/change",
    fields=(
        Field("voice_id", required=True),
        Field("source_voice_file", "url", required=True),  # max 50 MB
        Field("voice_options", "dict", fields=(
            _unit("stability"), _unit("similarity_boost"), _unit("style"),
            Field("speaker_boost", "bool"),
            Field("file_format", enum=("mp3", "wav")),
            Field("remove_background_noise", "bool"),
            Field("speed", "num", min=0.7, max=1.2),
        )),
        Field("webhookUrl"),
        Field("voice_model_name", enum=_MODELS[:1]),  # "Only the Akool Multilingual 1 model supports Voice Change"
    ),
    price="voice_change",
    reconcile=Reconcile(
        "/api/open/v4/voice/resource/list", {"type": "2"}, "data.result",
        match=lambda rec, body: _same(rec, body, "source_voice_file") and _voice_matches(rec, body),
        created="create_time"),
    aliases={"audio_url": "source_voice_file", "voice": "voice_id", "speed": "voice_options.speed"},
    doc="ai-tools-suite/voiceLab#create-voice-changer",
)

JOBS = (TTS, VOICE_CLONE, VOICE_CHANGE)
