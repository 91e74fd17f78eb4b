"""audiocleaner.ai text to speech (audiocleaner.ai "Text To Speech API - Complete Integration Guide").

Paths are relative to the audiocleaner base URL (https://audiocleaner.ai). The create answers ``data.job_id``;
the query is a POST whose body names that id ``global_id``. ``waiting`` covers both queued and processing.
No callback and no credit field are documented.
"""

from __future__ import annotations

from ._spec import Field, JobSpec, Poll

__all__ = ["JOBS", "TTS"]

TTS = JobSpec(
    name="audiocleaner.tts",
    provider="audiocleaner",
    create="/audio/api/v1/api-keys/tts/task/create",
    fields=(  # all five are required and have no defaults
        Field("voice_id", "num", required=True),  # records[].id of the voice library, e.g. 2072
        Field("emotion", "num", required=True, enum=tuple(range(9))),  # 0 auto .. 8 calm, "depends on voice support"
        # 0.5 slow, 1 standard, 2 fast; "can be extended", so the range rather than the three values.
        Field("speed", "num", required=True, min=0.5, max=2),
        Field("language", required=True),  # en, zh, ar, ru, es, fr, pt, de, ko, ja, zh_yue ("can be extended")
        Field("text", required=True),  # no length limit documented
    ),
    poll=Poll("/audio/api/v1/api-keys/tts/task/get", "global_id", method="POST", id_in="body", every=2.0),
    status_field="status",
    statuses={"waiting": "processing", "success": "completed", "failed": "failed"},
    result_field="output",
    price="audiocleaner.tts",
    id_path="data.job_id",
    credit_field=None,
    webhook_field=None,
    aliases={"input_text": "text"},
    result_kind="audio",
    doc="audiocleaner.ai/tts-api#create-tts-task",
)

JOBS = (TTS,)
