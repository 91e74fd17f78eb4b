"""Akool Image to Video v4 (ai-tools-suite/image2video) and the AI model list (ai-tools-suite/aimodel)."""

from __future__ import annotations

from typing import Any

from .._inputs import fields
from .._routes import Ctx, Raw, make_job, route
from .._state import Job, Media, static_file
from .._validate import ApiError, F, validate
from ._common import UID, base_record, started_blocks

__all__: list[str] = []  # its routes register themselves (@route)

RESOLUTIONS = ("720p", "1080p", "4k")
LENGTHS = (5, 10)
# Pricing table of page 19, credits per video by (video_length, resolution).
TABLE = {5: {"720p": 20, "1080p": 25, "4k": 30}, 10: {"720p": 40, "1080p": 50, "4k": 60}}
# "Video to Audio" table: 5 credits for a 5 s video, 10 for a 10 s one (updateVideoAudio only). By the table's row,
# not per started 5 s: the documented 5.063 s result of a 5 s video was charged 5 (updateVideoAudio example).
VIDEO_TO_AUDIO = {5: 5, 10: 10}
# image2video is not in the webhook page's type list; "image" is the closest documented word.
WEBHOOK_TYPE = "image"
I2V_JOBS = ("image_to_video", "video_audio")


def _res(label: str, width: int, height: int, credit: int) -> dict[str, Any]:
    return {"label": label, "value": label, "width": width, "height": height, "unit_credit": credit}


R480, R720, R1080, R4K = (854, 480), (1280, 720), (1920, 1080), (3840, 2160)
# GET aigModel/list, exactly the two documented type-1501 models (sorted by `sort`, descending).
MODELS: dict[int, list[dict[str, Any]]] = {
    1501: [
        {"sort": 100, "group": "akool", "provider": "akool", "type": 1501, "label": "Akool Image2Video Fast V1",
         "value": "AkoolImage2VideoFastV1", "description": "Fast image to video generation with Akool's AI",
         "resolutionList": [_res("720p", *R720, 5), _res("1080p", *R1080, 10), _res("4k", *R4K, 20)],
         "isPro": False, "generate_audio": None, "durationList": [5, 10], "requiresPay": False,
         "supportedLastFrame": False, "supportedExtendPrompt": False, "maxImageCount": 1, "maxCount": 10},
        {"sort": 95, "group": "seedance", "provider": "seedance", "type": 1501, "label": "Seedance Lite Image2Video",
         "value": "seedance-1-0-lite-i2v-250428", "description": "Seedance Lite model for image to video generation",
         "resolutionList": [_res("480p", *R480, 3), _res("720p", *R720, 5), _res("1080p", *R1080, 10)],
         "isPro": False, "generate_audio": None, "durationList": [5, 10], "requiresPay": False,
         "supportedLastFrame": True, "supportedExtendPrompt": False, "maxImageCount": 1, "maxCount": 10},
    ],
    1502: [],  # "The API returns an empty array for model types that are not yet implemented"
    # Character swap's model (its page sends model_name "wavespeed-ai/wan-2.2/animate"); the record is the
    # sandbox's: per-5 s credits of the character swap pricing table, Pro plan required, free duration 1-120 s.
    2101: [
        {"sort": 100, "group": "wavespeed", "provider": "wavespeed", "type": 2101, "label": "Wan 2.2 Animate",
         "value": "wavespeed-ai/wan-2.2/animate", "description": "Character animation and face replacement in videos",
         "resolutionList": [_res("480p", *R480, 5), _res("720p", *R720, 10), _res("1080p", *R1080, 15)],
         "isPro": True, "generate_audio": None, "durationList": [], "requiresPay": True,
         "supportedLastFrame": False, "supportedExtendPrompt": False, "maxImageCount": 1, "maxCount": 1},
    ],
}
# Without model_name the batch endpoint is validated against Akool's own model (an undocumented default)
# and priced with the fixed table.
DEFAULT_MODEL = MODELS[1501][0]

# Effects: `count` says 10 exist; the first three are the documented ones, the other seven are the sandbox's.
EFFECTS = [("Squish", "squish_89244231312", "687632b95a0f52799eeed701"),
           ("Cakeify", "cakeify_24743216", "687632ba5a0f52799eeed887"),
           ("Samurai", "samurai_99757865", "687632bc5a0f52799eeed929"),
           ("Inflate", "inflate_31415926", "687632bd5a0f52799eeed9a1"),
           ("Crush", "crush_27182818", "687632be5a0f52799eeed9b2"),
           ("Melt", "melt_16180339", "687632bf5a0f52799eeed9c3"),
           ("Explode", "explode_14142135", "687632c05a0f52799eeed9d4"),
           ("Hug", "hug_17320508", "687632c15a0f52799eeed9e5"),
           ("Kiss", "kiss_22360679", "687632c25a0f52799eeed9f6"),
           ("Zoom Out", "zoom_out_26457513", "687632c35a0f52799eeeda07")]
EFFECT_NAMES = {code: name for name, code, _ in EFFECTS}


def effect_list(base_url: str) -> list[dict[str, Any]]:
    items = []
    for name, code, _id in EFFECTS:
        stem = "i2v-effect-" + code.split("_")[0]
        items.append({"_id": _id, "create_time": 1752576694502, "logo": static_file(base_url, stem, Media("png")),
                      "name": name, "video_url": static_file(base_url, stem, Media("mp4", 5.0)), "effect_code": code})
    return items


# The fields each documented answer shows, in the docs' order; None-valued fields are left out
# (video_url until completed, last_image_url when not given, batch fields on single jobs, ...).
VIEWS = {
    "create": ("create_time", "uid", "team_id", "status", "webhookUrl", "resolution", "file_name", "effect_name",
               "_id", "image_url", "prompt", "negative_prompt", "extend_prompt", "audio_type", "audio_url",
               "deduction_credit", "effect_code"),
    "batch": ("_id", "create_time", "uid", "team_id", "status", "webhookUrl", "resolution", "file_name",
              "effect_name", "image_url", "prompt", "negative_prompt", "extend_prompt", "last_image_url",
              "deduction_credit", "model_name", "batch_id", "batch_count"),
    "audio": ("create_time", "uid", "team_id", "update_time", "video_duration", "webhookUrl", "resolution",
              "file_name", "effect_name", "_id", "pre_video_id", "image_url", "prompt", "negative_prompt",
              "extend_prompt", "audio_type", "audio_url", "deduction_credit", "effect_code", "status",
              "only_add_audio"),
    "result": ("_id", "create_time", "uid", "team_id", "sub_type", "update_time", "video_duration", "webhookUrl",
               "file_name", "effect_name", "image_url", "prompt", "resolution", "audio_type", "audio_url",
               "deduction_credit", "effect_code", "video_url", "status", "only_add_audio"),
}


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def record(job: Job, ctx: Ctx, view: str) -> dict[str, Any]:
    """One image2video job as the docs render it in ``view`` (create, batch, audio, result)."""
    now = ctx.state.clock.now()
    status = job.status(now)
    full = {**base_record(job, ctx), **job.extra["fields"], "status": status,
            "update_time": int((job.finished if status >= 3 else job.created) * 1000),
            "deduction_credit": _num(job.charged(now)), "video_url": ctx.file_url(job)}
    return {key: full[key] for key in VIEWS[view] if full.get(key) is not None}


def _file_name(prompt: str) -> str:
    return f"Image2Video_{prompt[:24]}.mp4"  # "Image2Video_Animate this image with .mp4" in the examples


def _processing(seconds: float) -> float:
    return 4.0 + 1.0 * seconds  # sandbox seconds: a few seconds plus one per second of video


SINGLE_FIELDS = [
    F("image_url", required=True, nonempty=True), F("prompt", required=True, nonempty=True),
    # Required on the single endpoint (optional on batch); "Parameter can not be empty" -> blank is refused.
    F("negative_prompt", required=True, nonempty=True),
    F("extend_prompt", "bool"), F("resolution", required=True, enum=RESOLUTIONS),
    F("audio_url"), F("audio_type", "int", required=True, enum=(1, 2, 3)),
    # 10 s is "pro and above" and every sandbox plan (pro, max, business) qualifies; same for is_premium_model.
    F("video_length", "int", required=True, enum=LENGTHS), F("is_premium_model", "bool"),
    F("effect_code"), F("webhookurl"),
]


@route("POST", "/api/open/v4/image2Video/createBySourcePrompt", provider="akool", kind="create", name="image_to_video",
       inputs=fields("image_url", "audio_url"))
def create_single(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body
    validate(body, SINGLE_FIELDS)
    _need_audio_url(ctx, body["audio_type"])
    code = body.get("effect_code")
    if code and code not in EFFECT_NAMES:
        raise ctx.param_error(f"Parameter error: effect_code {code!r} is not an available effect "
                              "(see image2Video/effects)")
    length, resolution = body["video_length"], body["resolution"]
    fields = {"webhookUrl": body.get("webhookurl", ""), "resolution": resolution,
              "file_name": _file_name(body["prompt"]), "effect_name": EFFECT_NAMES.get(code or "", ""),
              "image_url": body["image_url"], "prompt": body["prompt"], "negative_prompt": body["negative_prompt"],
              "extend_prompt": body.get("extend_prompt", False), "audio_type": body["audio_type"],
              "audio_url": body.get("audio_url", ""), "effect_code": code or "", "video_duration": float(length),
              "only_add_audio": False, "sub_type": 1501}
    job = make_job(ctx, name="image_to_video", processing=_processing(length), credits=TABLE[length][resolution],
                   media=Media("mp4", float(length)), webhook_field="webhookurl", webhook_type=WEBHOOK_TYPE,
                   extra={"fields": fields})
    return record(job, ctx, "create")


def find_model(value: str, model_type: int = 1501) -> dict[str, Any] | None:
    return next((m for m in MODELS[model_type] if m["value"] == value), None)


BATCH_FIELDS = [
    F("image_url", required=True, nonempty=True), F("prompt", required=True, nonempty=True), F("model_name"),
    F("negative_prompt"), F("extend_prompt", "bool"), F("resolution", required=True, nonempty=True),
    F("video_length", "int", required=True), F("last_image_url"), F("count", "int", min=1, max=10), F("webhookurl"),
    # Not in page 19's batch table, but sent with every batch create by Akool's own demo (akool-image-to-video-demo,
    # useAnimatorLogic.ts), audio_type as text ("1", "3"): accepted as a number or its digits, anything else refused.
    F("audio_url"), F("audio_type", "strnum", enum=(1, 2, 3, "1", "2", "3")), F("is_premium_model", "bool"),
]


def _need_audio_url(ctx: Ctx, audio_type: Any) -> None:
    """Page 19, audio_url: "required when audio_type = 2" (createBySourcePrompt, its batch, updateVideoAudio)."""
    if str(audio_type) == "2" and not ctx.body.get("audio_url"):
        raise ctx.param_error("Parameter error: audio_url is required when audio_type = 2")


# Named "image_to_video" like the single endpoint: PRODUCT.md maps the one job to both paths, so faults and
# stats keyed by job name cover both (the path key still tells them apart).
@route("POST", "/api/open/v4/image2Video/createBySourcePrompt/batch", provider="akool", kind="create",
       name="image_to_video", inputs=fields("image_url", "audio_url", "last_image_url"))
def create_batch(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body
    validate(body, BATCH_FIELDS)
    _need_audio_url(ctx, body.get("audio_type"))
    name = body.get("model_name")
    model = find_model(name) if name else DEFAULT_MODEL
    if model is None:
        raise ctx.param_error(f"Parameter error: model_name {name!r} is not an image to video model "
                              "(see aigModel/list?types[]=1501)")
    units = {r["value"]: r["unit_credit"] for r in model["resolutionList"]}
    resolution, length, count = body["resolution"], body["video_length"], body.get("count", 1)
    if resolution not in units:
        raise ctx.param_error(f"Parameter error: resolution must be one of {', '.join(units)} for model "
                              f"{model['value']}; got {resolution!r}")
    if length not in model["durationList"]:
        allowed = ", ".join(map(str, model["durationList"]))
        raise ctx.param_error(f"Parameter error: video_length must be one of {allowed} for model {model['value']}; "
                              f"got {length!r}")
    if body.get("last_image_url") and not model["supportedLastFrame"]:
        raise ctx.param_error(f"Parameter error: last_image_url is not supported by model {model['value']}")
    if count > model["maxCount"]:
        raise ctx.param_error(f"Parameter error: count must be at most {model['maxCount']} for model {model['value']}")
    # Documented: seedance lite 720p 5 s -> 5 per video (the model's unit_credit). unit_credit x 2 for 10 s is
    # derived (only the 5 s case is evidenced). Without model_name: the fixed table.
    credits = units[resolution] * started_blocks(length, 5) if name else TABLE[length][resolution]
    batch_id = f"{ctx.state.clock.now_ms()}_{UID}"
    fields = {"webhookUrl": body.get("webhookurl", ""), "resolution": resolution,
              "file_name": _file_name(body["prompt"]), "image_url": body["image_url"], "prompt": body["prompt"],
              "negative_prompt": body.get("negative_prompt", ""), "extend_prompt": body.get("extend_prompt", False),
              "last_image_url": body.get("last_image_url") or None, "model_name": name,
              "batch_id": batch_id, "batch_count": count, "video_duration": float(length),
              "only_add_audio": False, "sub_type": 1501}
    if body.get("audio_type") is not None:  # shown by resultsByIds (an Integer there), not by the batch answer
        fields.update(audio_type=int(body["audio_type"]), audio_url=body.get("audio_url") or "")
    success: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for i in range(count):
        # Each item is its own job (charged per item); the request counts as one create below.
        try:
            job = make_job(ctx, name="image_to_video", record_create=False, processing=_processing(length), credits=credits,
                           media=Media("mp4", float(length)), webhook_field="webhookurl",
                           webhook_type=WEBHOOK_TYPE, extra={"fields": fields})
        except ApiError as err:
            if i == 0 or err.code != ctx.provider.quota_code:
                raise
            # errorList's item schema is undocumented: the sandbox reports the code and message per item.
            errors.append({"code": err.code, "msg": err.msg})
            continue
        success.append(record(job, ctx, "batch"))
    ctx.state.record_create(ctx.route.path, ctx.body)
    return {"successList": success, "errorList": errors}


@route("POST", "/api/open/v4/image2Video/updateVideoAudio", provider="akool", kind="create", name="video_audio",
       inputs=fields("audio_url"))
def update_video_audio(ctx: Ctx) -> dict[str, Any]:
    # Page 19 marks audio_url "true" and describes it "Audio URL, required when audio_type = 2". The conditional
    # reading, on both sides (akool_frames/jobs/image2video.py): it is the field's own description, audio_type 1 is
    # "AI Generate" (no audio to give), and createBySourcePrompt's audio_url reads "false | required when ... = 2".
    validate(ctx.body, [F("pre_video_id", required=True, nonempty=True), F("audio_url"),
                        F("audio_type", "int", required=True, enum=(1, 2)), F("webhookurl")])
    _need_audio_url(ctx, ctx.body["audio_type"])
    source = ctx.job(ctx.body["pre_video_id"], "image_to_video")
    if source.status(ctx.state.clock.now()) != 3:
        raise ctx.param_error(f"Parameter error: pre_video_id {source.id} is not a completed image to video result")
    seconds = source.media.duration if source.media and source.media.duration else 5.0
    src = source.extra["fields"]
    # The example answers negative_prompt "" and extend_prompt false: they are not carried over.
    fields = {**{k: src.get(k) for k in ("resolution", "file_name", "image_url", "prompt")},
              "effect_name": src.get("effect_name") or "", "effect_code": src.get("effect_code") or "",
              "webhookUrl": ctx.body.get("webhookurl", ""), "pre_video_id": source.id, "negative_prompt": "",
              "extend_prompt": False, "audio_type": ctx.body["audio_type"],
              "audio_url": ctx.body.get("audio_url") or "",
              "video_duration": seconds, "only_add_audio": True}
    job = make_job(ctx, name="video_audio", processing=2.0 + 0.3 * seconds,
                   credits=VIDEO_TO_AUDIO[5 if seconds < 7.5 else 10], media=Media("mp4", seconds),
                   webhook_field="webhookurl", webhook_type=WEBHOOK_TYPE, extra={"fields": fields})
    return record(job, ctx, "audio")


def _ids(ctx: Ctx) -> list[str]:
    validate(ctx.body, [F("_ids", required=True, nonempty=True)])
    return [i.strip() for i in ctx.body["_ids"].split(",") if i.strip()]


def _mine(ctx: Ctx, job_id: str) -> Job | None:
    job = ctx.state.jobs.get(job_id)
    if job is None or job.deleted or job.provider != "akool" or job.name not in I2V_JOBS:
        return None
    return job


# Observed on the real API: resultsByIds with `_ids` missing, or sent as a JSON array instead of the documented
# comma string (page 19: "_ids | String | true | Multiple IDs separated by commas"), answers the business error
# "Failed to get results", not a parameter error. Neither page 19 nor the catalog gives its code ("No image2video-
# specific error-code table is present on page 19"); 1015 is the image to video family's one failure code (its
# newer overview, docs.akool.com/ai-tools-suite/image2video/image2video: "1015 | Create video error, please try
# again later"). The code is the sandbox's choice; the message is the observed one.
RESULTS_FAILED_CODE, RESULTS_FAILED_MSG = 1015, "Failed to get results"


@route("POST", "/api/open/v4/image2Video/resultsByIds", provider="akool", kind="poll", name="i2v_results")
def results_by_ids(ctx: Ctx) -> dict[str, Any]:
    value = ctx.body.get("_ids")
    if not isinstance(value, str) or not value.strip():  # a list, a number, missing or blank
        raise ApiError(RESULTS_FAILED_CODE, RESULTS_FAILED_MSG)
    # Unknown (or deleted) ids are simply left out of the answer: undocumented, the sandbox's reading.
    jobs = [job for job in (_mine(ctx, i) for i in _ids(ctx)) if job is not None]
    return {"result": [record(job, ctx, "result") for job in jobs]}


@route("GET", "/api/open/v4/image2Video/effects", provider="akool", kind="lookup", name="i2v_effects")
def effects(ctx: Ctx) -> Raw:
    items = effect_list(ctx.base_url)
    return Raw(code=1000, msg="Success", data={"result": items, "count": len(items)})


@route("POST", "/api/open/v4/image2Video/delbyids", provider="akool", kind="delete", name="i2v_delete")
def delete_videos(ctx: Ctx) -> Raw:
    ok: list[str] = []
    refused: list[dict[str, str]] = []
    now = ctx.state.clock.now()
    for job_id in _ids(ctx):
        job = _mine(ctx, job_id)
        if job is None:
            refused.append({"_id": job_id, "msg": "video resource does not exist"})  # wording: the sandbox's
        elif job.status(now) in (1, 2):
            refused.append({"_id": job_id, "msg": "video resource is processing, please try again later"})
        else:
            ctx.state.delete(job)
            ok.append(job_id)
    return Raw(code=1000, msg="Delete successfully", data={"successIds": ok, "noPermissionItems": refused})


@route("GET", "/api/open/v4/aigModel/list", provider="akool", kind="lookup", name="ai_models")
def ai_models(ctx: Ctx) -> list[dict[str, Any]]:
    types = ctx.qlist("types")
    if not types:
        raise ctx.param_error("Parameter error: types is required (at least one of 1501, 1502, 2101)")
    models: list[dict[str, Any]] = []
    for t in types:
        if not t.isdigit() or int(t) not in MODELS:
            raise ctx.param_error(f"Parameter error: types must be among 1501, 1502, 2101; got {t!r}")
        models += [m for m in MODELS[int(t)] if m not in models]
    return sorted(models, key=lambda m: m["sort"], reverse=True)
