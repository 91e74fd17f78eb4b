"""Kling custom voice: clone a voice from a 5-30 s clip or an earlier Kling video (Kling "Custom Voice").

The seed page lost its names, methods and paths; they are the catalog's reconstruction (part3 §5) from
Kling's public reference. Envelope ``{code: 0, message, request_id, data}``; task states are strings.
"""

from __future__ import annotations

from ._spec import Delete, Field, JobSpec, Poll

__all__ = ["CUSTOM_VOICE", "JOBS"]

CUSTOM_VOICE = JobSpec(
    name="kling.custom_voice",
    provider="kling",
    create="/v1/general/custom-voices",
    fields=(
        Field("voice_name", required=True, max_len=20),
        Field("voice_url", "url"),  # .mp3/.wav/.mp4/.mov, one clean voice, 5-30 s
        Field("video_id"),  # a Kling video made on V2.6 with sound, or by the Avatar / Lip-Sync APIs
        Field("callback_url"),
        # Must be unique per account and can replace task_id in the query path: the engine may set it to the
        # row's idempotency key so that a create whose answer was lost can be found again (the engine's job).
        Field("external_task_id"),
    ),
    poll=Poll("/v1/general/custom-voices/{id}", "", id_in="path", every=3.0),
    status_field="task_status",
    statuses={"submitted": "queued", "processing": "processing", "succeed": "completed", "failed": "failed"},
    result_field="task_result.voices[0].trial_url",  # a preview of the voice
    extra_fields={"voice_id": "task_result.voices[0].voice_id"},  # the reusable voice id
    # Catalog 5.5 (S003): delete-voices takes one custom voice's voice_id ("only supports deleting custom voices").
    delete=Delete("/v1/general/delete-voices", "voice_id", id_column="voice_id"),
    price="kling.custom_voice",
    id_path="data.task_id",
    credit_field="final_unit_deduction",  # a string holding the amount charged
    error_fields=("task_status_msg",),
    webhook_field="callback_url",
    idempotency_field="external_task_id",  # GET custom-voices/{external_task_id} finds a lost create
    one_of=(("voice_url", "video_id"),),  # exactly one of the two: both or neither is rejected
    exclusive=(("voice_url", "video_id"),),
    aliases={"name": "voice_name", "audio_url": "voice_url"},
    result_kind="voice",
    doc="kling/api-reference/custom-voices#create-custom-voice",
)

JOBS = (CUSTOM_VOICE,)
