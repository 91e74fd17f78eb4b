"""Akool legacy audio v3: TTS and one-shot voice clone (seed "Audio API documentation", ai-tools-suite/audio).

The seed lost its URLs; the paths are the ones the catalog restores (part3 §3). A create may already answer
``status: 3`` with the ``url``; the engine takes a terminal create record as final.
"""

from __future__ import annotations

import functools

from ._spec import Field, JobSpec, Poll

__all__ = ["JOBS", "LEGACY_TTS", "LEGACY_VOICE_CLONE"]

_POLL = Poll("/api/open/v3/audio/infobymodelid", "audio_model_id", every=2.0)
_RATE = r"(100|[1-9]?[0-9])%"  # "Voice speaking speed (0%-100%)", a percent string such as "100%"

# The family's shared settings; each spec below states only what is its own. No v3 audio answer has a credit
# field, and every example sends rate "100%".
_legacy_audio_job = functools.partial(JobSpec, provider="akool", poll=_POLL, status_field="status", result_field="url",
                                      credit_field=None, webhook_type="audio", defaults={"rate": "100%"},
                                      result_kind="audio")

LEGACY_TTS = _legacy_audio_job(
    name="legacy_tts",
    create="/api/open/v3/audio/create",
    fields=(
        # The TTS table has no Required column; text and voice are what the call cannot do without.
        Field("input_text", required=True, max_words=5000),  # seed 000: "is limited to 5000 words"
        Field("voice_id", required=True),  # from GET /api/open/v3/voice/list
        Field("rate", pattern=_RATE),
        Field("webhookUrl"),
    ),
    price="legacy_tts",
    aliases={"text": "input_text", "voice": "voice_id"},
    doc="ai-tools-suite/audio#create-tts",
)

# Its result is spoken audio in the sample voice: this clone is one-shot, not a reusable voice.
LEGACY_VOICE_CLONE = _legacy_audio_job(
    name="legacy_voice_clone",
    create="/api/open/v3/audio/clone",
    fields=(
        Field("input_text", required=True, max_words=5000),  # the same limit as TTS (seed 000)
        Field("rate", required=True, pattern=_RATE),
        Field("voice_url", "url"),
        Field("voice_id"),  # not in the table, but the note says "voice_id and voice_url must provide one"
        Field("webhookUrl"),
    ),
    price="legacy_voice_clone",
    one_of=(("voice_url", "voice_id"),),
    aliases={"text": "input_text", "audio_url": "voice_url"},
    doc="ai-tools-suite/audio#create-voice-clone",
)

JOBS = (LEGACY_TTS, LEGACY_VOICE_CLONE)
