"""Sandbox core: who may call. Akool keys and getToken tokens, audiocleaner's api-key, Kling's JWT."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from akool_frames.sandbox._auth import jwt_encode
from tests.conftest import akool

VOICES = "/api/open/v4/voice/list?type=2"
TOKEN = "/api/open/v3/getToken"
INVALID = "Invalid authorization or The request token has expired"


def _get(sb: Any, headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(sb.url + VOICES, headers=headers, timeout=10)
    assert r.status_code == 200  # Akool answers auth errors in-band
    return r.json()


def _token(sb: Any) -> str:
    r = httpx.post(sb.url + TOKEN, json={"clientId": sb.client_id, "clientSecret": sb.client_secret}, timeout=10)
    body = r.json()
    assert r.status_code == 200 and body["code"] == 1000
    return str(body["token"])


# ---------------------------------------------------------------- Akool x-api-key
def test_missing_credentials_is_1102(sb: Any) -> None:
    body = _get(sb, {})
    assert body["code"] == 1102
    assert body["msg"] == "Authorization cannot be empty"
    assert "data" not in body


def test_wrong_api_key_is_1101(sb: Any) -> None:
    assert _get(sb, {"x-api-key": sb.api_key[:-1] + ("x" if sb.api_key[-1] != "x" else "y")})["code"] == 1101
    assert _get(sb, {"x-api-key": "not-the-key"})["msg"] == INVALID


def test_non_ascii_key_is_rejected_not_crashed(sb: Any) -> None:
    # hmac.compare_digest raises on non-ASCII str; the sandbox must answer 1101, not HTTP 500.
    r = httpx.get(sb.url + VOICES, headers={"x-api-key": "clé-é".encode("latin-1")}, timeout=10)
    assert r.status_code == 200 and r.json()["code"] == 1101


def test_valid_api_key_lists_voices(sb: Any) -> None:
    with akool(sb) as c:
        body = c.get(VOICES).json()
    assert body["code"] == 1000 and len(body["data"]["result"]) >= 1


# ---------------------------------------------------------------- getToken
def test_get_token_top_level_token_and_bearer(sb: Any) -> None:
    r = httpx.post(sb.url + TOKEN, json={"clientId": sb.client_id, "clientSecret": sb.client_secret}, timeout=10)
    body = r.json()
    assert body["code"] == 1000
    assert isinstance(body["token"], str) and len(body["token"]) > 16
    assert "data" not in body  # documented quirk: the token is at the top level
    listed = _get(sb, {"Authorization": f"Bearer {body['token']}"})
    assert listed["code"] == 1000


def test_authorization_wins_over_x_api_key(sb: Any) -> None:
    token = _token(sb)
    # valid x-api-key + bogus Bearer: the Bearer is what counts
    assert _get(sb, {"x-api-key": sb.api_key, "Authorization": "Bearer bogus"})["code"] == 1101
    # bogus x-api-key + valid Bearer: accepted
    assert _get(sb, {"x-api-key": "bogus", "Authorization": f"Bearer {token}"})["code"] == 1000
    # a scheme other than Bearer is not a token
    assert _get(sb, {"Authorization": f"Basic {token}"})["code"] == 1101


def test_expired_token_is_1101(make_sandbox: Any) -> None:
    sb = make_sandbox(token_ttl=3600)
    token = _token(sb)
    assert _get(sb, {"Authorization": f"Bearer {token}"})["code"] == 1000
    sb.advance(3601)
    expired = _get(sb, {"Authorization": f"Bearer {token}"})
    assert expired == {"code": 1101, "msg": INVALID}
    # a fresh token works again
    assert _get(sb, {"Authorization": f"Bearer {_token(sb)}"})["code"] == 1000


def test_get_token_wrong_secret_is_1101(sb: Any) -> None:
    r = httpx.post(sb.url + TOKEN, json={"clientId": sb.client_id, "clientSecret": "nope"}, timeout=10)
    assert r.status_code == 200
    assert r.json()["code"] == 1101
    assert "token" not in r.json()


def test_get_token_missing_client_id_is_1003(sb: Any) -> None:
    r = httpx.post(sb.url + TOKEN, json={"clientSecret": sb.client_secret}, timeout=10)
    body = r.json()
    assert body["code"] == 1003
    assert "clientId" in body["msg"]
    assert sb.state.tokens == {}


# ---------------------------------------------------------------- audiocleaner and Kling
def _route(provider: str) -> tuple[str, str, dict[str, Any]]:
    """Any non-auth route of ``provider`` (auth runs before the handler, so which one does not matter)."""
    from akool_frames.sandbox._routes import ROUTES

    rt = next(r for r in ROUTES if r.provider == provider and r.kind not in ("auth",))
    return rt.method, re.sub(r"\{\w+\}", "x", rt.path), ({} if rt.method == "GET" else {"json": {}})


def test_audiocleaner_api_key(sb: Any) -> None:
    pytest.importorskip("akool_frames.sandbox.families.audiocleaner")
    method, path, kw = _route("audiocleaner")
    for headers in ({}, {"api-key": "wrong"}, {"x-api-key": sb.api_key}, {"api-key": sb.api_key}):
        r = httpx.request(method, sb.url + path, headers=headers, timeout=10, **kw)
        body = r.json()
        assert body["code"] == 101002, (headers, body)
        assert body["message"] == "Invalid API key"
    ok = httpx.request(method, sb.url + path, headers={"api-key": sb.audiocleaner_api_key}, timeout=10, **kw)
    assert ok.json()["code"] != 101002


def _kling(sb: Any, token: str | None) -> httpx.Response:
    method, path, kw = _route("kling")
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.request(method, sb.url + path, headers=headers, timeout=10, **kw)


def test_kling_jwt(sb: Any) -> None:
    pytest.importorskip("akool_frames.sandbox.families.kling")
    now = int(time.time())
    good = {"iss": sb.kling_access_key, "exp": now + 1800, "nbf": now - 5}
    cases: list[tuple[str | None, int]] = [
        (None, 1001),
        (jwt_encode(good, "not-the-secret"), 1002),
        (jwt_encode({**good, "iss": "someone-else"}, sb.kling_secret_key), 1002),
        ("not.a.jwt", 1002),
        (jwt_encode({**good, "nbf": "soon"}, sb.kling_secret_key), 1002),
        (jwt_encode({**good, "nbf": now + 600}, sb.kling_secret_key), 1003),
        (jwt_encode({**good, "exp": now - 10}, sb.kling_secret_key), 1004),
    ]
    for token, code in cases:
        r = _kling(sb, token)
        assert r.status_code == 401, (token, r.text)
        body = r.json()
        assert body["code"] == code, (token, body)
        assert isinstance(body["request_id"], str) and body["message"]
    r = _kling(sb, jwt_encode(good, sb.kling_secret_key))
    assert r.status_code != 401 and r.json()["code"] not in (1001, 1002, 1003, 1004)
