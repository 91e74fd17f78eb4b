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
