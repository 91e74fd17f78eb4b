"""Akool v3 image jobs: background change and image generation (prompt, 4K upscale / variation buttons).

All poll ``GET /api/open/v3/content/image/infobymodelid?image_model_id=<_id>`` (status ``image_status``,
result ``image``, failure reasons in ``error_reasons``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._spec import Field, JobSpec, Poll

__all__ = ["BACKGROUND_CHANGE", "IMAGE_BUTTON", "IMAGE_GENERATE", "JOBS"]

_POLL = Poll("/api/open/v3/content/image/infobymodelid", "image_model_id", every=3.0)
_SIZE = r"\d+x\d+"  # sizes are "WxH" strings: "3840x3840"

# The family's shared settings (see above); each spec below states only what is its own.
_image_job = functools.partial(JobSpec, provider="akool", poll=_POLL, status_field="image_status",
                               result_field="image", error_fields=("error_reasons",), result_kind="image")


def _background_check(body: Mapping[str, Any], plan: str) -> str | None:
    # "Once you use template_url, you can carry three additional parameters" - they belong to the template.
    if not body.get("template_url"):
        for name in ("modify_template_size", "overlay_template_x", "overlay_template_y"):
            if body.get(name) is not None:
                return f"{name} goes with template_url, which is missing"
    return None


BACKGROUND_CHANGE = _image_job(
    name="background_change",
    create="/api/open/v3/content/image/bg/replace",
    fields=(
        Field("color_code", pattern=r"#[0-9A-Fa-f]{6}"),
        Field("template_url", "url"),
        Field("origin_img", "url", required=True),
        Field("modify_template_size", pattern=_SIZE),
        Field("modify_origin_img_size", required=True, pattern=_SIZE),
        Field("overlay_origin_x", "int", required=True),  # negative offsets appear in the examples
        Field("overlay_origin_y", "int", required=True),
        Field("overlay_template_x", "int"),
        Field("overlay_template_y", "int"),
        Field("canvas_size", required=True, pattern=_SIZE),
        # background-change: "| webhookUrl | true | String |": the toolkit sends it (empty without a webhook,
        # as real clients do), so a user never gives it
        Field("webhookUrl"),
        Field("removeBg", "bool"),
    ),
    price="background_change",
    webhook_required=True,
    check=_background_check,
    webhook_type="background change",
    doc="ai-tools-suite/background-change",
)

IMAGE_GENERATE = _image_job(
    name="image_generate",
    create="/api/open/v3/content/image/createbyprompt",
    fields=(
        Field("prompt", required=True),  # no required column on the page; nothing to draw without it
        Field("scale", enum=("1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3")),  # default "1:1"
        Field("source_image", "url"),  # given: image to image
        Field("webhookUrl"),
    ),
    price="image_generate",
    webhook_type="image",
    doc="ai-tools-suite/image-generate#text-to-image-image-to-image",
)

IMAGE_BUTTON = _image_job(
    name="image_button",
    create="/api/open/v3/content/image/createbybutton",
    fields=(
        Field("_id", required=True),  # the image_generate job's _id
        # U1-U4: a 4K image of that quadrant; V1-V4: a variation (from the result's buttons field).
        Field("button", required=True, enum=("U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4")),
        Field("webhookUrl"),
    ),
    price="image_button",
    aliases={"image_id": "_id"},
    webhook_type="image",
    doc="ai-tools-suite/image-generate#generate-4k-or-variations",
)

JOBS = (BACKGROUND_CHANGE, IMAGE_GENERATE, IMAGE_BUTTON)
