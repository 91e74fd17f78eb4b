"""The only module that talks HTTP: auth, envelopes -> values or typed errors, a concurrency gate,
an adaptive rate limiter, and retries that know what is safe to repeat.

Safe to repeat: anything that is not a create; a create whose answer says it was not processed
(throttling, HTTP 429/503, expired token) or that provably never left (connect errors). A create
that may have reached the provider (reset or timeout after sending, other 5xx) is never resent
here: it raises, and the engine reconciles it.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import json
import random
import time
from typing import Any

import httpx

from ._client import Client
from ._errors import (APIError, AuthError, RateLimited, ServerError, TransportError, error_for_code)

__all__ = ["AdaptiveLimiter", "Http", "RETRY"]

# Retry policy as data: attempts, first wait, cap, jitter (wait = min(cap, first * 2**n) * U(1-jitter, 1)).
RETRY = {"attempts": 6, "first": 0.2, "cap": 5.0, "jitter": 0.5, "throttle_deadline": 600.0}
SAFE_5XX_FOR_CREATE = frozenset({429, 503})  # answers that say the request was not processed
OK_CODES = {"akool": 1000, "audiocleaner": 100000, "kling": 0}
MSG_KEYS = {"akool": "msg", "audiocleaner": "message", "kling": "message"}


def _backoff(n: int) -> float:
    wait = min(RETRY["cap"], RETRY["first"] * 2 ** n)
    return wait * random.uniform(1 - RETRY["jitter"], 1)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class AdaptiveLimiter:
    """Spaces requests at ``rate`` per second (None: no spacing until the provider throttles).

    Throttling cuts the rate to 90 % of what was achieved and pauses for Retry-After (or one
    interval); every success raises it by 0.5 %, up to the ``ceiling`` the user set.
    """

    def __init__(self, ceiling: float | None) -> None:
        self.ceiling = ceiling
        self.rate = ceiling
        self._next = 0.0
        self._paused_until = 0.0
        self._sent: collections.deque[float] = collections.deque(maxlen=4096)
        self._lock = asyncio.Lock()

    def achieved(self, now: float, window: float = 1.0) -> float:
        return sum(1 for t in self._sent if t > now - window) / window

    async def acquire(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            start = max(now, self._paused_until, self._next if self.rate else 0.0)
            if self.rate:
                self._next = start + 1.0 / self.rate
            if start > now:
                await asyncio.sleep(start - now)
            self._sent.append(loop.time())

    def throttled(self, retry_after: float | None) -> None:
        now = asyncio.get_running_loop().time()
        base = self.rate or max(self.achieved(now), 1.0)
        self.rate = max(0.2, min(base, self.achieved(now) or base) * 0.9)
        self._paused_until = max(self._paused_until, now + (retry_after if retry_after else 1.0 / self.rate))

    def succeeded(self) -> None:
        if self.rate is not None:
            grown = self.rate * 1.005
            self.rate = min(grown, self.ceiling) if self.ceiling else grown


class Http:
    """One per Client; lives on the background loop."""

    def __init__(self, settings: Client) -> None:
        self.settings = settings
        n = settings.max_concurrency
        self._client = httpx.AsyncClient(
            timeout=settings.timeout, follow_redirects=True,
            limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
        )
        self._gate = asyncio.Semaphore(n)
        self.limiter = AdaptiveLimiter(settings.rate_limit)
        self._token: str | None = None
        self._token_lock = asyncio.Lock()
        self._jwt: tuple[str, float] | None = None
        self.counts: collections.Counter[str] = collections.Counter()

    async def aclose(self) -> None:
        await self._client.aclose()

    # ------------------------------------------------------------------ auth
    async def _headers(self, provider: str) -> dict[str, str]:
        s = self.settings
        s.credentials(provider)
        if provider == "audiocleaner":
            return {"api-key": s.audiocleaner_api_key.reveal()}  # type: ignore[union-attr]
        if provider == "kling":
            return {"Authorization": f"Bearer {self._kling_jwt()}"}
        if s.api_key:
            return {"x-api-key": s.api_key.reveal()}
        return {"Authorization": f"Bearer {await self._akool_token()}"}

    async def _akool_token(self, renew: bool = False) -> str:
        async with self._token_lock:
            if self._token is None or renew:
                s = self.settings
                body = {"clientId": s.client_id, "clientSecret": s.client_secret.reveal()}  # type: ignore[union-attr]
                answer = await self._send("akool", "POST", "/api/open/v3/getToken", None, body, {})
                self._token = str(answer["token"])
            return self._token

    def _kling_jwt(self) -> str:
        now = time.time()
        if self._jwt and self._jwt[1] - now > 300:
            return self._jwt[0]
        s = self.settings
        header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
        claims = {"iss": s.kling_access_key.reveal(), "exp": int(now) + 1800, "nbf": int(now) - 5}  # type: ignore[union-attr]
        payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
        key = s.kling_secret_key.reveal().encode()  # type: ignore[union-attr]
        sig = _b64url(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        self._jwt = (f"{header}.{payload}.{sig}", now + 1800)
        return self._jwt[0]

    # ------------------------------------------------------------------ one exchange
    async def _send(self, provider: str, method: str, path: str, params: dict[str, Any] | None,
                    body: dict[str, Any] | None, headers: dict[str, str]) -> Any:
        """One HTTP exchange under the gate and the limiter: the decoded success payload or an error."""
        url = path if path.startswith("http") else self.settings.base_urls[provider] + path
        await self.limiter.acquire()
        async with self._gate:
            self.counts["requests"] += 1
            try:
                response = await self._client.request(method, url, params=params, json=body, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise TransportError(f"Could not connect to {provider} ({type(exc).__name__}).",
                                     may_have_reached=False) from exc
            except httpx.TransportError as exc:
                raise TransportError(f"The connection to {provider} broke during {method} {path} "
                                     f"({type(exc).__name__}).", may_have_reached=True) from exc
        return self._decode(provider, method, path, response)

    def _decode(self, provider: str, method: str, path: str, response: httpx.Response) -> Any:
        retry_after = _retry_after(response)
        if response.status_code >= 500:
            raise ServerError(f"{provider} answered HTTP {response.status_code} to {method} {path}.",
                              status=response.status_code, retry_after=retry_after)
        try:
            payload = response.json()
        except ValueError:
            if response.status_code == 429:
                raise RateLimited(provider, 429, "Too Many Requests", http_status=429, retry_after=retry_after) from None
            raise APIError(provider, response.status_code, f"non-JSON answer to {method} {path}",
                           http_status=response.status_code) from None
        code = payload.get("code") if isinstance(payload, dict) else None
        if code == OK_CODES[provider] and response.status_code < 400:
            return payload
        message = str(payload.get(MSG_KEYS[provider], "")) if isinstance(payload, dict) else str(payload)
        raise error_for_code(provider, code if isinstance(code, int) else response.status_code, message,
                             http_status=response.status_code, retry_after=retry_after)

    # ------------------------------------------------------------------ with retries
    async def request(self, provider: str, method: str, path: str, *, params: dict[str, Any] | None = None,
                      body: dict[str, Any] | None = None, create: bool = False) -> Any:
        """The decoded payload. Throttling waits (never fails a row); other transient faults are
        retried RETRY["attempts"] times, creates only when provably not processed."""
        attempt, renewed = 0, False
        deadline = time.monotonic() + RETRY["throttle_deadline"]
        while True:
            headers = await self._headers(provider)
            try:
                answer = await self._send(provider, method, path, params, body, headers)
                self.limiter.succeeded()
                return answer
            except RateLimited as exc:
                self.counts["throttled"] += 1
                self.limiter.throttled(exc.retry_after)
                if time.monotonic() > deadline:
                    raise
                continue
            except AuthError as exc:
                # An expired getToken token is renewed once; the request was not processed.
                if provider == "akool" and not self.settings.api_key and exc.code == 1101 and not renewed:
                    renewed = True
                    await self._akool_token(renew=True)
                    continue
                raise
            except ServerError as exc:
                if exc.status == 429 or exc.status == 503:
                    self.limiter.throttled(exc.retry_after)
                if create and exc.status not in SAFE_5XX_FOR_CREATE:
                    raise
                error: Exception = exc
            except TransportError as exc:
                if create and exc.may_have_reached:
                    raise
                error = exc
            attempt += 1
            self.counts["retries"] += 1
            if attempt >= RETRY["attempts"]:
                raise error
            await asyncio.sleep(_backoff(attempt))

    async def fetch(self, url: str, *, head_bytes: int | None = None) -> tuple[int, bytes, int | None]:
        """GET a file (under the gate): status, bytes (the first ``head_bytes`` if given), total size."""
        headers = {"Range": f"bytes=0-{head_bytes - 1}"} if head_bytes else {}
        for attempt in range(RETRY["attempts"]):
            await self.limiter.acquire()
            try:
                async with self._gate:
                    self.counts["requests"] += 1
                    response = await self._client.get(url, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(_backoff(attempt))
                continue
            if response.status_code >= 500:
                await asyncio.sleep(_backoff(attempt))
                continue
            total = _total_size(response)
            data = response.content[:head_bytes] if head_bytes else response.content
            return response.status_code, data, total
        return 0, b"", None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _total_size(response: httpx.Response) -> int | None:
    content_range = response.headers.get("content-range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("content-length")
    return int(length) if length and length.isdigit() and response.status_code == 200 else None
