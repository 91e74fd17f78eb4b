"""Sandbox: Akool v3 image products (background change, image generate, 4K/variation buttons) against the docs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool, is_png, poll
from tests.sandbox.conftest import ok

INFO = "/api/open/v3/content/image/infobymodelid"
BG = "/api/open/v3/content/image/bg/replace"
PROMPT = "/api/open/v3/content/image/createbyprompt"
BUTTON = "/api/open/v3/content/image/createbybutton"
HEX24 = re.compile(r"[0-9a-f]{24}")
ALL_BUTTONS = ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4"]

TEMPLATE = "https://d3c24lvfmudc1v.cloudfront.net/public/background_change/ROne.png"
ORIGIN = "https://drz0f01yeq1cx.cloudfront.net/1712132369637-69a946c0-b2a7-4fe6-92c8-2729b36cc13e-0183.png"
# The four documented combinations, verbatim.
BACKGROUND_EXAMPLES: list[dict[str, Any]] = [
    {"canvas_size": "3840x3840", "template_url": TEMPLATE, "modify_template_size": "3830x3830", "overlay_template_x": 5,
     "overlay_template_y": 5,
     "origin_img": "https://drz0f01yeq1cx.cloudfront.net/1711939252580-7e40bd1a-e480-42ed-8585-3f9ffccf6bdb-5822.png",
     "modify_origin_img_size": "3830x2145", "overlay_origin_x": 5, "overlay_origin_y": 849},
    {"color_code": "#c9aafb", "canvas_size": "3840x3840", "origin_img": ORIGIN, "modify_origin_img_size": "3060x3824",
     "overlay_origin_x": 388, "overlay_origin_y": 8},
    {"color_code": "#aafbe3", "canvas_size": "3840x3840", "template_url": TEMPLATE, "modify_template_size": "3828x3828",
     "overlay_template_x": 2049, "overlay_template_y": -6, "origin_img": ORIGIN, "modify_origin_img_size": "3062x3828",
     "overlay_origin_x": -72, "overlay_origin_y": -84},
    {"canvas_size": "3840x3840", "origin_img": ORIGIN, "modify_origin_img_size": "3060x3824", "overlay_origin_x": 388,
     "overlay_origin_y": 8},
]
PROMPT_EXAMPLE = {
    "prompt": "Sun Wukong is surrounded by heavenly soldiers and generals", "scale": "1:1",
    "source_image": "https://drz0f01yeq1cx.cloudfront.net/1708333063911-9cbe39b7-3c5f-4a35-894c-359a6cbb76c3-3283.png",
    "webhookUrl": "",
}


@pytest.fixture
def box(sb: af.Sandbox) -> af.Sandbox:
    return sb


@pytest.fixture
def c(sb: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(sb) as client:
        yield client


def _finished(c: httpx.Client, job_id: str) -> dict[str, Any]:
    return poll(lambda: ok(c.get(INFO, params={"image_model_id": job_id})), lambda d: d["image_status"] in (3, 4))


def _param_error(response: httpx.Response, field: str) -> None:
    body = response.json()
    assert body["code"] == 1003 and field in body["msg"], body


def _common_shape(data: dict[str, Any]) -> None:
    assert HEX24.fullmatch(data["_id"]) and isinstance(data["create_time"], int) and isinstance(data["uid"], int)
    assert data["image_status"] == 1 and data["buttons"] == [] and data["used_buttons"] == []
    assert data["upscaled_urls"] == [] and data["error_reasons"] == [] and data["faceswap_quality"] == 2


def test_background_change_four_documented_combinations(box: af.Sandbox, c: httpx.Client) -> None:
    ids = []
    for example in BACKGROUND_EXAMPLES:  # none sends webhookUrl although the table marks it required
        data = ok(c.post(BG, json=example))
        _common_shape(data)
        assert data["deduction_credit"] == 4 and data["image_sub_status"] == 1 and data["type"] == 3
        assert isinstance(data["image_id"], str) and data["image_id"] != data["_id"]
        ids.append(data["_id"])
    for job_id in ids:
        done = _finished(c, job_id)
        assert done["image_status"] == 3 and done["image_sub_status"] == 3 and done["deduction_credit"] == 4
        assert done["buttons"] == [] and done["error_reasons"] == []
        image = httpx.get(done["image"])
        assert image.headers["content-type"] == "image/png" and is_png(image.content)
    assert box.stats()["credits_charged"] == 16


def test_background_change_validation(box: af.Sandbox, c: httpx.Client) -> None:
    example = BACKGROUND_EXAMPLES[1]
    for field in ("origin_img", "modify_origin_img_size", "overlay_origin_x", "overlay_origin_y", "canvas_size"):
        _param_error(c.post(BG, json={k: v for k, v in example.items() if k != field}), field)
    _param_error(c.post(BG, json={**example, "canvas_size": "3840*3840"}), "canvas_size")
    _param_error(c.post(BG, json={**example, "modify_origin_img_size": 3060}), "modify_origin_img_size")
    _param_error(c.post(BG, json={**example, "overlay_origin_x": "388"}), "overlay_origin_x")
    _param_error(c.post(BG, json={**example, "color_code": "purple"}), "color_code")
    _param_error(c.post(BG, json={**example, "overlay_template_x": 5}), "overlay_template_x")  # without template_url
    _param_error(c.post(BG, json={**example, "removeBg": "true"}), "removeBg")
    assert box.stats()["creates"] == 0


def test_image_generate_example_then_buttons(box: af.Sandbox, c: httpx.Client) -> None:
    data = ok(c.post(PROMPT, json=PROMPT_EXAMPLE))
    _common_shape(data)
    assert data["deduction_credit"] == 2 and data["prompt"] == PROMPT_EXAMPLE["prompt"]
    assert data["source_image"] == PROMPT_EXAMPLE["source_image"]
    done = _finished(c, data["_id"])
    assert done["image_status"] == 3 and done["buttons"] == ALL_BUTTONS and is_png(httpx.get(done["image"]).content)

    upscale = ok(c.post(BUTTON, json={"_id": data["_id"], "button": "U2", "webhookUrl": ""}))
    assert upscale["image_content_model_id"] == data["_id"] and upscale["op_button"] == "U2"
    assert upscale["image_status"] == 1 and upscale["deduction_credit"] == 2 and upscale["_id"] != data["_id"]
    variation = ok(c.post(BUTTON, json={"_id": data["_id"], "button": "V1", "webhookUrl": ""}))
    up_done, var_done = _finished(c, upscale["_id"]), _finished(c, variation["_id"])
    assert up_done["buttons"] == [] and is_png(httpx.get(up_done["image"]).content)
    assert var_done["buttons"] == ALL_BUTTONS  # a variation is a new grid
    origin = _finished(c, data["_id"])
    assert origin["used_buttons"] == ["U2", "V1"] and origin["upscaled_urls"] == [up_done["image"]]
    assert box.stats()["credits_charged"] == 6
    # An upscale offers no buttons, so a button on it is refused.
    assert c.post(BUTTON, json={"_id": upscale["_id"], "button": "U1"}).json()["code"] == 1010


def test_image_generate_validation(box: af.Sandbox, c: httpx.Client) -> None:
    _param_error(c.post(PROMPT, json={"scale": "1:1"}), "prompt")
    _param_error(c.post(PROMPT, json={"prompt": "a cat", "scale": "5:4"}), "scale")
    _param_error(c.post(BUTTON, json={"button": "U1"}), "_id")
    _param_error(c.post(BUTTON, json={"_id": "0" * 24, "button": "U5"}), "button")
    assert box.stats()["creates"] == 0
    assert c.post(BUTTON, json={"_id": "0" * 24, "button": "U1"}).json()["code"] == 1008
    assert c.get(INFO, params={"image_model_id": "0" * 24}).json()["code"] == 1008
    _param_error(c.get(INFO), "image_model_id")


def test_buttons_wait_for_the_image(make_sandbox: Any) -> None:
    box = make_sandbox(time_scale=1.0)  # real time: the image takes over 10 s, so it is still queued
    with akool(box) as c:
        data = ok(c.post(PROMPT, json=PROMPT_EXAMPLE))
        refused = c.post(BUTTON, json={"_id": data["_id"], "button": "U2", "webhookUrl": ""}).json()
        assert refused["code"] == 1010 and "U2" in refused["msg"]
        assert ok(c.get(INFO, params={"image_model_id": data["_id"]}))["buttons"] == []
    assert box.stats()["creates"] == 1


def test_scales_and_background_ids_for_buttons(box: af.Sandbox, c: httpx.Client) -> None:
    for scale in ("4:3", "3:4", "16:9", "9:16", "3:2", "2:3"):
        assert ok(c.post(PROMPT, json={"prompt": "a lighthouse", "scale": scale}))["scale"] == scale
    background = ok(c.post(BG, json=BACKGROUND_EXAMPLES[3]))
    _finished(c, background["_id"])
    assert c.post(BUTTON, json={"_id": background["_id"], "button": "U1"}).json()["code"] == 1010


def test_failed_image_jobs_show_reasons_and_are_refunded(make_sandbox: Any) -> None:
    box = make_sandbox(faults=af.Faults(job_fail=1.0))
    with akool(box) as c:
        generated = ok(c.post(PROMPT, json=PROMPT_EXAMPLE))
        background = ok(c.post(BG, json=BACKGROUND_EXAMPLES[0]))
        assert generated["deduction_credit"] == 2 and background["deduction_credit"] == 4  # charged at create
        for job_id in (generated["_id"], background["_id"]):
            done = _finished(c, job_id)
            assert done["image_status"] == 4 and done["image"] == "" and done["deduction_credit"] == 0
            assert done["buttons"] == [] and len(done["error_reasons"]) == 1 and done["error_reasons"][0]
        assert c.post(BUTTON, json={"_id": generated["_id"], "button": "U1"}).json()["code"] == 1010
    assert box.stats()["credits_charged"] == 0 and box.stats()["balances"]["akool"] == 1_000_000


def test_prices_are_configurable(make_sandbox: Any) -> None:
    box = make_sandbox(prices={"background_change": 6, "image_generate": 3})
    with akool(box) as c:
        assert ok(c.post(BG, json=BACKGROUND_EXAMPLES[1]))["deduction_credit"] == 6
        assert ok(c.post(PROMPT, json=PROMPT_EXAMPLE))["deduction_credit"] == 3
    assert box.stats()["credits_charged"] == 9
