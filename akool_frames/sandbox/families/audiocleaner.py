"""audiocleaner.ai TTS (seed 004): create a task, query it by global_id, list voices.

Served under ``/audiocleaner`` (clients use ``<sandbox>/audiocleaner`` as their base URL).
Envelope ``{code: 100000, data, message}``; statuses are strings: waiting | success | failed.
"""

from __future__ import annotations

import math
from typing import Any

from .._routes import Ctx, make_job, route
from .._state import Job, Media, new_id
from .._validate import F, Range
from ._common import speech_seconds

__all__: list[str] = []  # its routes register themselves (@route)

PREFIX = "/audiocleaner/audio/api/v1/api-keys/tts"
# "Supported Languages" table, "all" included as listed (it reads like a filter value, but it is documented).
LANGUAGES = ("all", "zh", "en", "ar", "ru", "es", "fr", "pt", "de", "ko", "ja", "zh_yue")
EMOTIONS = range(0, 9)  # 0 auto, 1 happy, 2 angry, 3 sad, 4 afraid, 5 disgusted, 6 melancholic, 7 surprised, 8 calm
# Documented multipliers are 0.5, 1 and 2 ("can be extended"): the sandbox accepts anything in between.
SPEED_RANGE: Range = {"min": 0.5, "max": 2}
CHARS_PER_CREDIT = 100  # "1 credit for every 100 characters, any remainder under 100 still counts as 1"

STATUS = {1: "waiting", 2: "waiting", 3: "success", 4: "failed"}  # waiting covers queued and processing

_STYLES = ["chat", "customerservice", "narration-professional", "newscast-casual", "newscast-formal", "cheerful",
           "empathetic", "angry", "sad", "excited", "friendly", "terrified", "shouting", "unfriendly",
           "whispering", "hopeful"]
# id, gender, language, age, emotions, name. 2072 "madison" is the docs' example record, verbatim;
# gender and age enums are undocumented ("platform enum definitions"), so the values are the sandbox's.
VOICES: list[tuple[int, int, str, int, list[str], str]] = [
    (2072, 2, "en", 2, _STYLES, "madison"), (2073, 1, "en", 2, ["chat", "narration-professional"], "james"),
    (2101, 2, "zh", 1, ["chat", "cheerful"], "xiaoxiao"), (2102, 1, "zh_yue", 2, ["chat"], "wanlung"),
    (2201, 2, "es", 2, ["chat", "sad"], "elvira"), (2301, 1, "fr", 3, ["narration-professional"], "henri"),
    (2401, 2, "de", 2, ["chat"], "katja"), (2501, 1, "pt", 2, ["chat"], "antonio"),
    (2601, 2, "ja", 1, ["chat", "cheerful"], "nanami"), (2701, 1, "ko", 2, ["chat"], "injoon"),
    (2801, 2, "ar", 2, ["chat"], "zariyah"), (2901, 1, "ru", 3, ["chat"], "dmitry"),
]

CREATE_FIELDS = [  # every field is required and has no default
    F("voice_id", "num", required=True),
    F("emotion", "num", required=True, enum=EMOTIONS),
    F("speed", "num", required=True, **SPEED_RANGE),
    F("language", required=True, enum=LANGUAGES),
    F("text", required=True, nonempty=True),
]


def voice_records() -> list[dict[str, Any]]:
    return [{"id": vid, "gender": gender, "language": language, "age": age, "emotion": list(emotions),
             "name": name, "display_name": name.capitalize()}
            for vid, gender, language, age, emotions, name in VOICES]



def credits_for(text: str) -> int:
    """One credit per started 100 characters (code points): 60 -> 1, 215 -> 3."""
    return max(1, math.ceil(len(text) / CHARS_PER_CREDIT))


def task_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """The query answer: status and output (the result URL on success, "" before and on failure)."""
    return {"status": STATUS[job.status(ctx.state.clock.now())], "output": ctx.file_url(job) or ""}


@route("POST", f"{PREFIX}/task/create", provider="audiocleaner", kind="create", name="audiocleaner.tts")
def create_task(ctx: Ctx) -> dict[str, Any]:
    ctx.validate(CREATE_FIELDS)
    if ctx.body["voice_id"] not in {v[0] for v in VOICES}:
        raise ctx.param_error(f"Parameter error: voice_id {ctx.body['voice_id']!r} is not in the voice list")
    text: str = ctx.body["text"]
    seconds = speech_seconds(text, float(ctx.body["speed"]))
    # No callback is documented; charged at creation, refunded if the task fails (the FAQ's "usually").
    job = make_job(ctx, name="audiocleaner.tts", processing=1.0 + seconds * 0.2, credits=credits_for(text),
                   media=Media("mp3", seconds), webhook_field=None, job_id=new_id(32))
    return {"job_id": job.id}


@route("POST", f"{PREFIX}/task/get", provider="audiocleaner", kind="poll", name="audiocleaner.tts_get")
def get_task(ctx: Ctx) -> dict[str, Any]:
    ctx.validate([F("global_id", required=True, nonempty=True)])  # the create answer's job_id
    return task_record(ctx.job(ctx.body["global_id"], "audiocleaner.tts"), ctx)


# The docs give only this list's JSON format (a download from the web playground), no endpoint:
# the path below is the sandbox's own, next to the documented ones.
@route("GET", f"{PREFIX}/voice/list", provider="audiocleaner", kind="lookup", name="audiocleaner.voice_list")
def voice_list(ctx: Ctx) -> dict[str, Any]:
    records = voice_records()
    return {"total": len(records), "records": records}
