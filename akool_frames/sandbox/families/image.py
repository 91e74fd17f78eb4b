"""Akool v3 image products: background change, image generate (prompt and U/V buttons), one image poll."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from .._inputs import fields
from .._routes import Ctx, make_job, route
from .._state import Job, Media, new_id
from .._validate import ApiError, F, validate
from ._common import base_record, price

__all__: list[str] = []  # its routes register themselves (@route)

IMAGE_JOBS = ("background_change", "image_generate", "image_button")
BUTTONS = ("U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4")
SCALES = ("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3")
SIZE = re.compile(r"[1-9][0-9]*x[1-9][0-9]*")  # "WxH", e.g. "3840x3840"
COLOR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
TEMPLATE_ONLY = ("modify_template_size", "overlay_template_x", "overlay_template_y")
GENERATE_FAILED = "image generate error,please try again later"  # code 1108's text on the image-generate page

# Prices: no rule is documented; the defaults are the examples' deduction_credit (configurable).
PRICES = {"background_change": 4.0, "image_generate": 2.0, "image_button": 2.0}

BACKGROUND_FIELDS = [
    F("origin_img", required=True, nonempty=True), F("modify_origin_img_size", required=True, nonempty=True),
    F("overlay_origin_x", "int", required=True), F("overlay_origin_y", "int", required=True),  # negatives allowed
    F("canvas_size", required=True, nonempty=True), F("color_code"), F("template_url"), F("modify_template_size"),
    F("overlay_template_x", "int"), F("overlay_template_y", "int"), F("removeBg", "bool"),
    # The table marks webhookUrl required, but none of the four documented examples sends it: optional here.
    F("webhookUrl"),
]


def _n(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 6)


# ----------------------------------------------------------------------------- records
def _buttons(job: Job, status: int) -> list[str]:
    """U1..V4 once a generated grid is done (prompt or variation); an upscale or a background has none."""
    grid = job.name == "image_generate" or (job.name == "image_button" and job.body["button"].startswith("V"))
    return list(BUTTONS) if grid and status == 3 else []


def _background(job: Job, status: int, url: str | None) -> dict[str, Any]:
    extra: dict[str, Any] = {"type": 3, "image_id": job.extra["image_id"], "image_sub_status": status}
    if url:
        extra["external_img"] = url  # undocumented field of the completed example
    return extra


def _generate(job: Job, status: int, url: str | None) -> dict[str, Any]:
    body = job.body
    extra = {"type": 4, "from": 1, "origin_prompt": body["prompt"], "prompt": body["prompt"],
             "scale": body.get("scale") or "1:1"}
    if body.get("source_image"):
        extra["source_image"] = body["source_image"]
    return extra


def _button(job: Job, status: int, url: str | None) -> dict[str, Any]:
    return {"type": 4, "from": 1, "image_content_model_id": job.body["_id"], "op_button": job.body["button"],
            "op_buttonMessageId": job.extra["message_id"]}


PRODUCT_FIELDS: dict[str, Callable[[Job, int, str | None], dict[str, Any]]] = {
    "background_change": _background, "image_generate": _generate, "image_button": _button,
}


def image_record(job: Job, ctx: Ctx) -> dict[str, Any]:
    """One image record for create and poll: image_status, image ("" until completed), deduction_credit."""
    now = ctx.state.clock.now()
    status, url = job.status(now), ctx.file_url(job)
    children = sorted((j for j in ctx.state.jobs.values() if j.name == "image_button" and j.body["_id"] == job.id),
                      key=lambda j: j.created)
    return {
        **base_record(job, ctx), "faceswap_quality": 2, "deduction_credit": _n(job.charged(now)),
        "buttons": _buttons(job, status), "used_buttons": [c.body["button"] for c in children],
        "upscaled_urls": [u for c in children if c.body["button"].startswith("U") and (u := ctx.file_url(c))],
        # error_reasons: an array whose element shape is undocumented; the sandbox puts the reason text.
        "error_reasons": [job.fail_reason] if status == 4 else [],
        "image_status": status, "image": url or "", "__v": 0, **PRODUCT_FIELDS[job.name](job, status, url),
    }


def _create_image(ctx: Ctx, name: str, processing: float, webhook_type: str, fail_reason: str,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    job = make_job(ctx, name=name, processing=processing, credits=price(ctx, name, PRICES[name]), media=Media("png"),
                   webhook_type=webhook_type, extra=extra, fail_reason=fail_reason)
    return image_record(job, ctx)


@route("GET", "/api/open/v3/content/image/infobymodelid", provider="akool", kind="poll", name="image_info")
def image_info(ctx: Ctx) -> dict[str, Any]:
    return image_record(ctx.job(ctx.require_query("image_model_id"), IMAGE_JOBS), ctx)


# ----------------------------------------------------------------------------- creates
@route("POST", "/api/open/v3/content/image/bg/replace", provider="akool", kind="create", name="background_change",
       inputs=fields("origin_img", "template_url"))
def create_background_change(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, BACKGROUND_FIELDS)
    body = ctx.body
    for field in ("canvas_size", "modify_origin_img_size", "modify_template_size"):
        if body.get(field) is not None and not SIZE.fullmatch(body[field]):
            raise ctx.param_error(f'Parameter error: {field} must be a size like "3840x3840"; got {body[field]!r}')
    if body.get("color_code") and not COLOR.fullmatch(body["color_code"]):
        raise ctx.param_error(f'Parameter error: color_code must be a hexadecimal colour like "#aafbe3"; '
                              f"got {body['color_code']!r}")
    if not body.get("template_url"):  # "Once you use template_url, you can carry three additional parameters"
        for field in TEMPLATE_ONLY:
            if body.get(field) is not None:
                raise ctx.param_error(f"Parameter error: {field} is only allowed together with template_url")
    return _create_image(ctx, "background_change", 6.0, "background change",
                         "Failed to process the image. Please check your input resources.",
                         extra={"image_id": str(uuid.uuid4())})


@route("POST", "/api/open/v3/content/image/createbyprompt", provider="akool", kind="create", name="image_generate",
       inputs=fields("source_image"))
def create_image_generate(ctx: Ctx) -> dict[str, Any]:
    # The page has no required column; a prompt is what the endpoint is for.
    validate(ctx.body, [F("prompt", required=True, nonempty=True), F("scale", enum=SCALES), F("source_image"),
                        F("webhookUrl")])
    return _create_image(ctx, "image_generate", 10.0, "image", GENERATE_FAILED)


@route("POST", "/api/open/v3/content/image/createbybutton", provider="akool", kind="create", name="image_button")
def create_image_button(ctx: Ctx) -> dict[str, Any]:
    validate(ctx.body, [F("_id", required=True, nonempty=True), F("button", required=True, enum=BUTTONS),
                        F("webhookUrl")])
    origin = ctx.job(ctx.body["_id"], IMAGE_JOBS)
    offered = _buttons(origin, origin.status(ctx.state.clock.now()))
    if ctx.body["button"] not in offered:  # the value must come from the image's buttons
        raise ApiError(1010, f"You can not operate this content: {ctx.body['button']} is not one of the image's "
                             f"buttons {offered}")
    return _create_image(ctx, "image_button", 8.0, "image", GENERATE_FAILED, extra={"message_id": new_id(20)})
