"""Akool getToken (legacy client id / secret flow): the token sits at the top level, not in data."""

from __future__ import annotations

import hmac
import os

from .._routes import Ctx, Raw, route
from .._validate import ApiError, F, validate

__all__: list[str] = []  # its routes register themselves (@route)


@route("POST", "/api/open/v3/getToken", provider="akool", kind="auth", name="get_token")
def get_token(ctx: Ctx) -> Raw:
    validate(ctx.body, [F("clientId", required=True), F("clientSecret", required=True)])
    cfg = ctx.state.config
    if not (hmac.compare_digest(str(ctx.body["clientId"]).encode(), cfg.client_id.encode())
            and hmac.compare_digest(str(ctx.body["clientSecret"]).encode(), cfg.client_secret.encode())):
        raise ApiError(1101, "Invalid authorization or The request token has expired")
    token = "tk_" + os.urandom(24).hex()
    with ctx.state.lock:
        ctx.state.tokens[token] = ctx.state.clock.now() + cfg.token_ttl
    return Raw(code=1000, token=token)
