"""Kling AI custom voice (seed 003, reconstructed in catalog part 3, section 5), served under ``/kling``.

Envelope ``{code: 0, message, request_id, data}``. A task object carries ``task_status``
submitted | processing | succeed | failed and, once succeeded, ``task_result.voices[0]``.
Callbacks (``callback_url``) post the task object itself: the core imports ``task_object``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from .._inputs import fields
from .._routes import Ctx, make_job, route
from .._state import Job, Media, SandboxState, static_file
from .._validate import ApiError, F, Range
from ._common import price

__all__: list[str] = []  # its routes register themselves (@route)

NAME = "kling.custom_voice"
BASE = "/kling/v1/general"
STATUS = {1: "submitted", 2: "processing", 3: "succeed", 4: "failed"}
MIN_SECONDS, MAX_SECONDS = 5.0, 30.0  # "no less than 5 seconds and no longer than 30 seconds"
TRIAL_SECONDS = 6.0  # length of the trial clip spoken in the new voice (the sandbox's choice)
ACCOUNT_ID = "800012345678"  # owned_by of custom voices: "the creator ID" (presets: "kling")
DEFAULT_PRICE = 1.0  # the docs give no price: units per voice, override with prices={"kling.custom_voice": ...}
FAIL_REASON = "The voice in the file is not clean enough to be cloned"

CREATE_FIELDS = [
    F("voice_name", required=True, nonempty=True, max_len=20),
    F("voice_url"), F("video_id"), F("callback_url"), F("external_task_id"),
]
PAGE_RANGE: Range = {"min": 1, "max": 1000}  # both pageNum and pageSize, per the seed
PAGE_DEFAULTS = {"pageNum": 1, "pageSize": 30}  # defaults are not in the seed; 30 is the transcription's

# Preset voices: voice_id, voice_name (owned_by "kling").
PRESETS = [("genshin_vindi2", "Sunny"), ("zhinen_xuesheng", "Sage"), ("AOT", "Ace"), ("ai_shatang", "Blossom"),
           ("genshin_klee2", "Peppy"), ("genshin_kirara", "Dove"), ("ai_kaiya", "Shine"), ("oversea_male1", "Anchor"),
           ("ai_chenjiahao_712", "Lyric"), ("girlfriend_4_speech02", "Melody")]
PRESET_EPOCH_MS = 1722769557708  # the docs' example timestamp


def _ms(t: float) -> int:
    return int(t * 1000)


def _voice_id(job: Job) -> str:
    return "cv_" + hashlib.sha256(("voice" + job.id).encode()).hexdigest()[:24]


def task_object(job: Job, base_url: str, now: float) -> dict[str, Any]:
    """A custom-voice task as the single query returns it in ``data`` (and as callbacks post it)."""
    status = job.status(now)
    updated = {1: job.created, 2: job.started}.get(status, job.finished)
    task: dict[str, Any] = {
        "task_id": job.id, "task_status": STATUS[status],
        "task_status_msg": job.fail_reason if status == 4 else "",
        "task_info": {"external_task_id": job.body.get("external_task_id") or ""},
        "final_unit_deduction": f"{job.charged(now):g}",  # a string, as documented; 0 once refunded
        "created_at": _ms(job.created), "updated_at": _ms(updated),
    }
    if status == 3:  # the documented result belongs to a succeeded task; earlier states have none
        trial_url = f"{base_url}/files/{SandboxState.file_name(job)}"
        task["task_result"] = {"voices": [{"voice_id": _voice_id(job), "voice_name": job.body["voice_name"],
                                           "trial_url": trial_url, "owned_by": ACCOUNT_ID}]}
    return task


def preset_objects(base_url: str) -> list[dict[str, Any]]:
    return [{
        "task_id": f"preset-{voice_id}", "task_status": "succeed", "task_status_msg": "",
        "task_info": {"external_task_id": ""}, "final_unit_deduction": "0",
        "task_result": {"voices": [{"voice_id": voice_id, "voice_name": name, "owned_by": "kling",
                                    "trial_url": static_file(base_url, "kling-" + voice_id, Media("mp3", 5.0))}]},
        "created_at": PRESET_EPOCH_MS, "updated_at": PRESET_EPOCH_MS,
    } for voice_id, name in PRESETS]



def _tasks(ctx: Ctx) -> Sequence[Job]:
    """The account's custom-voice tasks, newest first."""
    return ctx.state.newest(NAME, provider="kling")


def _page(ctx: Ctx, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    values: dict[str, Any] = {}
    for key, default in PAGE_DEFAULTS.items():
        raw = ctx.q(key)
        try:
            values[key] = int(raw) if raw not in (None, "") else default
        except ValueError:
            raise ctx.param_error(f"Parameter error: {key} must be an integer; got {raw!r}") from None
    ctx.validate([F(k, "int", **PAGE_RANGE) for k in PAGE_DEFAULTS], values)
    num, size = values["pageNum"], values["pageSize"]
    return items[(num - 1) * size: num * size]  # data is a bare array: no total is documented


@route("POST", f"{BASE}/custom-voices", provider="kling", kind="create", name=NAME, inputs=fields("voice_url"))
def create_custom_voice(ctx: Ctx) -> dict[str, Any]:
    ctx.validate(CREATE_FIELDS)
    ctx.one_of(("voice_url", "video_id"), exactly=True)
    source = "voice_url" if ctx.body.get("voice_url") else "video_id"
    # A video_id names an earlier Kling video the sandbox never made: its length comes from
    # SandboxConfig.media (keyed by the id) or the default, like any unknown URL.
    seconds = ctx.state.media_seconds(ctx.body[source])
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise ctx.param_error(f"Parameter error: {source} must hold 5 to 30 seconds of voice; got {seconds:g} s")
    external = ctx.body.get("external_task_id")
    if external and any(j.body.get("external_task_id") == external
                        for j in ctx.state.jobs.values() if j.provider == "kling"):
        raise ctx.param_error(f"Parameter error: external_task_id {external!r} is already used in this account")
    job = make_job(ctx, name=NAME, processing=5.0 + seconds * 0.5, credits=price(ctx, NAME, DEFAULT_PRICE),
                   media=Media("mp3", TRIAL_SECONDS), webhook_field="callback_url", fail_reason=FAIL_REASON)
    return task_object(job, ctx.base_url, ctx.state.clock.now())


@route("GET", f"{BASE}/custom-voices/{{id}}", provider="kling", kind="poll", name="kling.custom_voice_get")
def get_custom_voice(ctx: Ctx) -> dict[str, Any]:
    """By task_id or by the caller's external_task_id."""
    key = ctx.params["id"]
    job = next((j for j in _tasks(ctx) if j.body.get("external_task_id") == key), None) or ctx.job(key, NAME)
    return task_object(job, ctx.base_url, ctx.state.clock.now())


@route("GET", f"{BASE}/custom-voices", provider="kling", kind="lookup", name="kling.custom_voice_list")
def list_custom_voices(ctx: Ctx) -> list[dict[str, Any]]:
    now = ctx.state.clock.now()
    return _page(ctx, [task_object(j, ctx.base_url, now) for j in _tasks(ctx)])


@route("GET", f"{BASE}/presets-voices", provider="kling", kind="lookup", name="kling.preset_voice_list")
def list_preset_voices(ctx: Ctx) -> list[dict[str, Any]]:
    return _page(ctx, preset_objects(ctx.base_url))


@route("POST", f"{BASE}/delete-voices", provider="kling", kind="delete", name="kling.delete_voice")
def delete_voice(ctx: Ctx) -> dict[str, Any]:
    """Only custom voices can be deleted. Answers with the task object (a superset of {task_id, task_status})."""
    ctx.validate([F("voice_id", required=True, nonempty=True)])
    voice_id = ctx.body["voice_id"]
    if any(voice_id == preset for preset, _ in PRESETS):
        raise ctx.param_error(f"Parameter error: voice_id {voice_id!r} is a preset voice; only custom voices can be deleted")
    now = ctx.state.clock.now()
    for job in _tasks(ctx):
        if job.status(now) == 3 and _voice_id(job) == voice_id:
            answer = task_object(job, ctx.base_url, now)
            ctx.state.delete(job)
            return answer
    raise ApiError(ctx.provider.not_found_code, f"voice_id {voice_id!r} does not exist", 404)
