"""Sandbox tests: helpers shared by the route-family tests (fixtures ``sb`` / ``make_sandbox`` are in tests/conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af
from tests.conftest import akool


def ok(response: httpx.Response, code: int = 1000, **envelope: Any) -> Any:
    """The ``data`` of a successful answer: HTTP 200 with the provider's success ``code`` (Akool's 1000 by
    default) and the other envelope fields given, e.g. VoiceLab's ``msg="OK"``."""
    body = response.json()
    assert response.status_code == 200 and body["code"] == code, body
    for name, value in envelope.items():
        assert body[name] == value, body
    return body["data"]


def refused(response: httpx.Response, code: int, *words: str) -> str:
    """The message of a refusal: HTTP 200 with the provider's error ``code``, the message holding every word given."""
    body = response.json()
    assert response.status_code == 200 and body["code"] == code, body
    assert all(w in body["msg"] for w in words), body
    return str(body["msg"])


# TTS over plain httpx, for the fault tests (test_faults, test_cdn_faults).
VOICES = "/api/open/v4/voice/list?type=2"
TTS = "/api/open/v4/voice/tts"
DETAIL = "/api/open/v4/voice/resource/detail/{_id}"
TTS_LIST = "/api/open/v4/voice/resource/list?type=1"
TEXT = "Faults are features."  # 20 characters: 0.088 credits on the pro plan
CREDITS = 0.088


def tts(c: httpx.Client, voice: str, text: str = TEXT) -> httpx.Response:
    return c.post(TTS, json={"input_text": text, "voice_id": voice})


def first_voice(c: httpx.Client) -> str:
    return str(c.get(VOICES).json()["data"]["result"][0]["_id"])


# ------------------------------------------------------------------ v3 content/video (test_video, test_talking_avatar)
VIDEO_INFO = "/api/open/v3/content/video/infobymodelid"


def video_info(client: httpx.Client, job_id: str) -> dict[str, Any]:
    return ok(client.get(VIDEO_INFO, params={"video_model_id": job_id}))


def video_finished(client: httpx.Client, job_id: str) -> dict[str, Any]:
    from tests.conftest import poll

    return poll(lambda: video_info(client, job_id), lambda d: d["video_status"] in (3, 4))


def video_seconds(url: str) -> float:
    from tests.conftest import media_seconds

    response = httpx.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    return media_seconds(response.content, "mp4")


def param_error(response: httpx.Response, field: str) -> None:
    body = response.json()
    assert body["code"] == 1003, body
    assert field in body["msg"], body


@pytest.fixture
def box(make_sandbox: Any, request: pytest.FixtureRequest) -> af.Sandbox:
    """A sandbox that knows the test module's ``MEDIA`` (inputs it cannot fetch, with their durations); a module
    may define its own ``box``."""
    return make_sandbox(media=getattr(request.module, "MEDIA", None))


@pytest.fixture
def c(box: af.Sandbox) -> Iterator[httpx.Client]:
    with akool(box) as client:
        yield client


@pytest.fixture
def failing(make_sandbox: Any, request: pytest.FixtureRequest) -> Iterator[tuple[af.Sandbox, httpx.Client]]:
    """A sandbox (with the module's ``MEDIA``) whose jobs all end failed, and a client for it."""
    box = make_sandbox(media=getattr(request.module, "MEDIA", None), faults=af.Faults(job_fail=1.0))
    with akool(box) as client:
        yield box, client
