"""Who is calling: Akool keys and tokens, audiocleaner's api-key header, Kling's HS256 JWT."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING

from ._state import SandboxState
from ._validate import ApiError

if TYPE_CHECKING:
    from ._routes import Route

__all__ = ["authenticate", "jwt_encode"]


def _same(given: str, secret: str) -> bool:
    """Constant-time equality that also takes non-ASCII input (str compare_digest raises on it)."""
    return hmac.compare_digest(given.encode(), secret.encode())


def _akool(headers: dict[str, str], state: SandboxState) -> str:
    cfg = state.config
    authorization = headers.get("authorization", "").strip()
    if authorization:
        # Documented: when both are sent, Authorization wins and x-api-key is discarded.
        scheme, _, token = authorization.partition(" ")
        expiry = state.tokens.get(token.strip())
        valid = scheme.lower() == "bearer" and (
            (expiry is not None and expiry > state.clock.now()) or _same(token.strip(), cfg.api_key)
        )
        if not valid:
            raise ApiError(1101, "Invalid authorization or The request token has expired")
        return "akool"
    key = headers.get("x-api-key", "").strip()
    if not key:
        raise ApiError(1102, "Authorization cannot be empty")
    if not _same(key, cfg.api_key):
        raise ApiError(1101, "Invalid authorization or The request token has expired")
    return "akool"


def _audiocleaner(headers: dict[str, str], state: SandboxState) -> str:
    key = headers.get("api-key", "").strip()
    if not key or not _same(key, state.config.audiocleaner_api_key):
        raise ApiError(101002, "Invalid API key")
    return "audiocleaner"


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_encode(payload: dict[str, object], secret: str) -> str:
    """HS256 JWT (for tests and the sandbox's own examples)."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64url(json.dumps(payload, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64url(sig)}"


def _kling(headers: dict[str, str], state: SandboxState) -> str:
    cfg = state.config
    authorization = headers.get("authorization", "").strip()
    if not authorization:
        raise ApiError(1001, "Authorization is empty", 401)
    scheme, _, token = authorization.partition(" ")
    try:
        header_b64, payload_b64, sig_b64 = token.strip().split(".")
        header = json.loads(_b64url_decode(header_b64))
        payload = json.loads(_b64url_decode(payload_b64))
        expected = hmac.new(cfg.kling_secret_key.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
        ok = (scheme.lower() == "bearer" and header.get("alg") == "HS256"
              and hmac.compare_digest(_b64url_decode(sig_b64), expected) and payload.get("iss") == cfg.kling_access_key)
    except (ValueError, TypeError, AttributeError):
        ok, payload = False, {}
    if not ok:
        raise ApiError(1002, "Authorization is invalid", 401)
    try:  # a non-numeric nbf/exp is an invalid token, not a server error
        nbf = float(payload["nbf"]) if "nbf" in payload else None
        exp = float(payload["exp"]) if "exp" in payload else None
    except (ValueError, TypeError):
        raise ApiError(1002, "Authorization is invalid", 401) from None
    now = time.time()  # JWTs are signed with the caller's real clock
    if nbf is not None and nbf > now:
        raise ApiError(1003, "Authorization is not yet valid", 401)
    if exp is None or exp <= now:
        raise ApiError(1004, "Authorization has expired", 401)
    return "kling"


_BY_PROVIDER = {"akool": _akool, "audiocleaner": _audiocleaner, "kling": _kling}


def authenticate(rt: Route, headers: dict[str, str], state: SandboxState) -> str:
    """The account (provider name) a request belongs to, or the provider's auth error."""
    if rt.kind == "auth":
        return rt.provider  # getToken authenticates by its body
    return _BY_PROVIDER[rt.provider](headers, state)
