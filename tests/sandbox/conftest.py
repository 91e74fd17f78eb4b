"""Sandbox tests: helpers shared by the route-family tests (fixtures ``sb`` / ``make_sandbox`` are in tests/conftest)."""

from __future__ import annotations

from typing import Any

import httpx


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
