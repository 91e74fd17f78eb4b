"""The HTTP layer everything else goes through (over the API transport, ``_wire``): auth, envelopes -> values or
typed errors, a concurrency gate, an adaptive rate limiter (``_limiter``), and retries that know what is safe to
repeat.

Safe to repeat: anything that is not a create; a create whose answer says it was not processed
(throttling, HTTP 429/503, expired token) or that provably never left (connect errors). A create
that may have reached the provider (reset or timeout after sending, other 5xx) is never resent
here: it raises, and the engine reconciles it.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import collections
import hashlib
import hmac
import json
import logging
import random
import socket
import time
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from ._errors import (APIError, AuthError, ConfigError, RateLimited, ServerError, TransportError, error_for_code)
from ._limiter import AdaptiveLimiter
from ._wire import ApiTransport

if TYPE_CHECKING:  # the client makes its Http lazily (Client.http): no import at run time either way
    from ._client import Client

__all__ = ["Http", "RETRY", "TRANSPORTS"]

log = logging.getLogger("akool_frames.http")  # one debug line per API exchange: method, URL, status (no headers)

# Retry policy as data: attempts, first wait, cap, jitter (wait = min(cap, first * 2**n) * U(1-jitter, 1)).
RETRY = {"attempts": 6, "first": 0.2, "cap": 5.0, "jitter": 0.5, "throttle_deadline": 600.0}
SAFE_5XX_FOR_CREATE = frozenset({429, 503})  # answers that say the request was not processed
# The setting that names each provider's address, for the message when it cannot be reached at all.
BASE_URL_SETTINGS = {"akool": "base_url (AKOOL_BASE_URL)", "audiocleaner": "audiocleaner_base_url (AUDIOCLEANER_BASE_URL)",
                     "kling": "kling_base_url (KLING_BASE_URL)"}
# Connect failures that, before a provider has ever answered this client, say its address is wrong: they are
# not retried (a typo would otherwise cost every row a round of back-off) but stop the run naming the setting.
WRONG_ADDRESS = frozenset({"name not resolved", "connection refused"})
# Each provider's envelope: (code field, its success value, message field). An endpoint with its own (Akool's face
# detection: error_code 0 / error_msg, page 09) passes it to request().
ENVELOPES = {"akool": ("code", 1000, "msg"), "audiocleaner": ("code", 100000, "message"), "kling": ("code", 0, "message")}


# The transport under httpx for API exchanges, by name. httptools' is the default: aiohttp's costs three times the
# CPU per exchange, and httpcore's pool scans every connection on every request (bench/bench_overhead.py measures
# them side by side). All sized to the concurrency gate.
TRANSPORTS = {
    "httptools": lambda limits: ApiTransport(limits),
    "aiohttp": lambda limits: AiohttpTransport(limits=limits),
    "httpcore": lambda limits: httpx.AsyncHTTPTransport(limits=limits),
}
TRANSPORT = "httptools"
# aiohttp errors that prove nothing left: the connection was never made (refused, name not resolved, no answer
# to the connect). httpx-aiohttp maps every aiohttp connection error (a server that hung up mid-answer, a read
# timeout) to httpx.ConnectTimeout, so the cause is read, not the httpx type.
_AIOHTTP_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_HTTPX_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


_HEADER_BYTES = ((b"User-Agent", b"akool-frames"), (b"Accept", b"application/json"))
_BODY_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder: json.dumps makes one per call


def _never_sent(exc: httpx.TransportError) -> bool:
    """Whether a transport error proves the request never reached the server."""
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientError | TimeoutError):
        return isinstance(cause, _AIOHTTP_NOT_SENT)
    return isinstance(exc, _HTTPX_NOT_SENT)


def _backoff(n: int) -> float:
    wait = min(RETRY["cap"], RETRY["first"] * 2 ** n)
    return wait * random.uniform(1 - RETRY["jitter"], 1)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Http:
    """One per Client; lives on the background loop."""

    def __init__(self, settings: Client) -> None:
        self.settings = settings
        n = settings.max_concurrency
        # Idle connections are dropped after 4 s: before a server's own keep-alive timeout (uvicorn's default is
        # 5 s) closes one under a request, which would then have to be treated as possibly received.
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n, keepalive_expiry=4.0)
        # API exchanges go straight to the transport (no cookies, redirects or auth flows to run: the APIs use
        # none, and the client layer cost more CPU per request than the rest of a row); media downloads and
        # probes go through the client over aiohttp, which follows a CDN's redirects and streams.
        self._transport = TRANSPORTS[TRANSPORT](limits)
        self._client = httpx.AsyncClient(timeout=settings.timeout, follow_redirects=True,
                                         transport=AiohttpTransport(limits=limits))
        self._timeout = {"timeout": httpx.Timeout(settings.timeout).as_dict()}
        self._urls: dict[tuple[str, str], tuple[httpx.URL, bytes]] = {}  # (provider, path) -> URL, Host
        self._gate = asyncio.Semaphore(n)
        self.limiter = AdaptiveLimiter(settings.rate_limit)
        self._token: str | None = None
        self._token_lock = asyncio.Lock()
        self._jwt: tuple[str, float] | None = None
        self._answered: set[str] = set()  # providers that answered this client at least once
        self.counts: collections.Counter[str] = collections.Counter()

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._transport.aclose()

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

    async def _akool_token(self, refused: str | None = None) -> str:
        """The getToken token; a new one when there is none yet or ``refused`` (the token a request was
        refused with) is still the current one. Requests refused together renew it once, not once each."""
        async with self._token_lock:
            if self._token is None or (refused is not None and self._token == refused):
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
                    body: dict[str, Any] | None, headers: dict[str, str],
                    envelope: tuple[str, Any, str] | None = None) -> Any:
        """One HTTP exchange: the decoded success payload or a typed error; the limiter hears how it went.

        The gate is taken before the limiter: the rate slot is then spent right when the request
        leaves, so waiting for a free connection cannot bunch requests up past the rate.
        """
        request = self._request(provider, method, path, params, body, headers)
        loop = asyncio.get_running_loop()
        async with self._gate:
            ticket = await self.limiter.acquire()
            self.counts["requests"] += 1
            try:
                response = await self._transport.handle_async_request(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("%s %s: HTTP %d", method, request.url.copy_with(query=None), response.status_code)
            except httpx.TransportError as exc:
                where = request.url.copy_with(query=None)
                if _never_sent(exc):
                    why = _connect_failure(exc)
                    if why in WRONG_ADDRESS and provider not in self._answered and not path.startswith("http"):
                        raise ConfigError(
                            f"Could not reach {provider} at {self.settings.base_urls[provider]}: {why} ({method} "
                            f"{where}).\n\nHint: check {BASE_URL_SETTINGS[provider]}; nothing was sent.") from exc
                    raise TransportError(f"Could not connect to {provider} at {where} ({why}).",
                                         may_have_reached=False) from exc
                raise TransportError(f"The connection to {provider} broke during {method} {where} "
                                     f"({_cause_name(exc)}).", may_have_reached=True) from exc
            except TimeoutError as exc:  # a timeout the transport did not map: the request may have left
                raise TransportError(f"No answer from {provider} to {method} {request.url.copy_with(query=None)} "
                                     "in time.", may_have_reached=True) from exc
        self._answered.add(provider)
        try:
            answer = self._decode(provider, method, path, response, envelope or ENVELOPES[provider])
        except RateLimited as exc:
            self.counts["throttled"] += 1
            self.limiter.throttled(ticket, exc.retry_after, loop.time())
            raise
        except ServerError as exc:
            if exc.status == 503 and exc.retry_after is not None:  # overloaded: wait as told; it says
                self.limiter.pause(exc.retry_after, loop.time())     # nothing about our rate, so no cut
            raise
        self.limiter.succeeded(loop.time())
        return answer

    def _request(self, provider: str, method: str, path: str, params: dict[str, Any] | None,
                 body: dict[str, Any] | None, headers: dict[str, str]) -> httpx.Request:
        """The request, built the cheap way: the URL and Host parsed once per endpoint, headers given as bytes with
        Host and Content-Length included (so httpx has nothing to normalise or add), the body read up front."""
        endpoint = self._urls.get((provider, path))
        if endpoint is None:
            url = httpx.URL(path if path.startswith("http") else self.settings.base_urls[provider] + path)
            endpoint = self._urls[provider, path] = (url, url.netloc)
        url, host = endpoint
        if params:
            url = url.copy_merge_params(params)
        raw = [(b"Host", host), *_HEADER_BYTES, *((k.encode(), v.encode()) for k, v in headers.items())]
        content = b""
        if body is not None:
            content = _BODY_JSON.encode(body).encode()
            raw.append((b"Content-Type", b"application/json"))
        if content or method in ("POST", "PUT", "PATCH"):
            raw.append((b"Content-Length", b"%d" % len(content)))
        request = httpx.Request(method, url, headers=httpx.Headers(raw), stream=httpx.ByteStream(content),
                                extensions=self._timeout)
        request.read()  # the body as bytes: every transport sends it with its length, none as a stream
        return request

    def _decode(self, provider: str, method: str, path: str, response: httpx.Response,
                envelope: tuple[str, Any, str]) -> Any:
        if response.status_code >= 500:
            raise ServerError(f"{provider} answered HTTP {response.status_code} to {method} {path}.",
                              status=response.status_code, retry_after=_retry_after(response))
        try:
            payload = response.json()
        except ValueError:
            if response.status_code == 429:
                raise RateLimited(provider, 429, "Too Many Requests", http_status=429,
                                  retry_after=_retry_after(response)) from None
            raise APIError(provider, response.status_code, f"non-JSON answer to {method} {path}",
                           http_status=response.status_code) from None
        code_field, ok, message_field = envelope
        code = payload.get(code_field) if isinstance(payload, dict) else None
        if code == ok and response.status_code < 400:
            return payload
        # msg or message, whichever the answer carries (the docs and real answers use both)
        message = str(payload.get(message_field) or payload.get("msg") or payload.get("message") or "") \
            if isinstance(payload, dict) else str(payload)
        raise error_for_code(provider, code if isinstance(code, int) else response.status_code, message,
                             http_status=response.status_code, retry_after=_retry_after(response))

    # ------------------------------------------------------------------ with retries
    async def request(self, provider: str, method: str, path: str, *, params: dict[str, Any] | None = None,
                      body: dict[str, Any] | None = None, create: bool = False,
                      envelope: tuple[str, Any, str] | None = None) -> Any:
        """The decoded payload. Throttling waits (the limiter paces the retry; it never fails a row
        before RETRY["throttle_deadline"]); other transient faults are retried RETRY["attempts"] times,
        creates only when provably not processed."""
        attempt, renewed = 0, False
        deadline = time.monotonic() + RETRY["throttle_deadline"]
        while True:
            headers = await self._headers(provider)
            token = self._token  # the one these headers carry, if any
            try:
                return await self._send(provider, method, path, params, body, headers, envelope)
            except RateLimited:
                if time.monotonic() > deadline:
                    raise
                continue  # not processed: the limiter has paused and slowed down; go again
            except AuthError as exc:
                # An expired getToken token is renewed once; the request was not processed.
                if provider == "akool" and not self.settings.api_key and exc.code == 1101 and not renewed:
                    renewed = True
                    await self._akool_token(refused=token)
                    continue
                raise
            except ServerError as exc:
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

    async def get_range(self, url: str, start: int, length: int, *, connect: float,
                        read: float) -> tuple[int, str, bytes, int | None]:
        """One ranged GET of ``length`` bytes from ``start`` (a media probe): status, reason phrase, the bytes
        (never more than ``length``, whatever the server sends), and the file's total size if told.

        Under the concurrency gate but not the provider's rate limiter (a CDN is not the API), short
        timeouts, no retries: the caller decides. Failures raise TransportError with the cause in plain words
        ("name not resolved", "connection refused", "no answer within 3 s"); ``may_have_reached`` False
        means the host itself could not be reached.
        """
        headers = {"Range": f"bytes={start}-{start + length - 1}"}
        async with self._gate:
            self.counts["requests"] += 1
            try:
                async with self._client.stream("GET", url, headers=headers,
                                               timeout=httpx.Timeout(read, connect=connect)) as response:
                    data = bytearray()
                    async for chunk in response.aiter_bytes():
                        data += chunk
                        if len(data) >= length:  # a server that ignores Range: stop reading
                            break
                    return response.status_code, response.reason_phrase, bytes(data[:length]), _total_size(response)
            except (httpx.TransportError, TimeoutError) as exc:
                raise _probe_failure(exc, connect, read) from exc

    async def download(self, url: str, path: Any, *, connect: float = 10.0,
                       read: float = 60.0) -> tuple[int, str, str]:
        """Stream a file to ``path`` (under the concurrency gate, retried like a GET): status, reason phrase and
        content type. Nothing is written unless the answer is 200."""
        for attempt in range(RETRY["attempts"]):
            try:
                async with self._gate:
                    await self.limiter.acquire()
                    self.counts["requests"] += 1
                    async with self._client.stream("GET", url, timeout=httpx.Timeout(read, connect=connect)) as response:
                        if response.status_code == 200:
                            with open(path, "wb") as fh:
                                async for chunk in response.aiter_bytes(1 << 16):
                                    fh.write(chunk)
                        status, phrase = response.status_code, response.reason_phrase
                        kind = response.headers.get("content-type", "")
            except httpx.TransportError as exc:
                if _never_sent(exc) and not _is_timeout(exc):
                    raise TransportError(_connect_failure(exc), may_have_reached=False) from exc
                await asyncio.sleep(_backoff(attempt))
                continue
            except TimeoutError:
                await asyncio.sleep(_backoff(attempt))
                continue
            if status >= 500:
                await asyncio.sleep(_backoff(attempt))
                continue
            return status, phrase, kind
        raise TransportError(f"the download of {url.split('?', 1)[0]} kept failing", may_have_reached=True)


# What a connect error says, in words. The cause sits deep in the chain (httpx -> httpcore -> anyio's
# "All connection attempts failed" -> the OSError), with messages that differ by OS: read errno first.
_CONNECT_ERRNO = {errno.ECONNREFUSED: "connection refused", errno.ENETUNREACH: "network unreachable",
                  errno.EHOSTUNREACH: "host unreachable", errno.ETIMEDOUT: "no answer"}
_CONNECT_TEXT = (
    (("name or service not known", "nodename nor servname", "no address associated", "name resolution",
      "getaddrinfo failed", "temporary failure in name"), "name not resolved"),
    (("connection refused",), "connection refused"),
    (("certificate", "ssl", "tls"), "TLS handshake failed"),
)


def _is_timeout(exc: BaseException) -> bool:
    """A timeout, whichever transport said it (httpx-aiohttp calls aiohttp's ConnectTimeout whatever they were)."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__cause__, TimeoutError) or (
        isinstance(exc, httpx.TimeoutException) and not isinstance(exc.__cause__, aiohttp.ClientError))


def _cause_name(exc: BaseException) -> str:
    """The error's own name: the transport's (ServerDisconnectedError), not httpx's mapping of it."""
    return type(exc.__cause__ or exc).__name__


def _probe_failure(exc: BaseException, connect: float, read: float) -> TransportError:
    """A media probe's failure in plain words; ``may_have_reached`` False when the host itself was not reached."""
    if isinstance(exc, httpx.TransportError) and _never_sent(exc):
        words = f"no answer within {connect:g} s" if _is_timeout(exc) else _connect_failure(exc)
        return TransportError(words, may_have_reached=False)
    if _is_timeout(exc):
        return TransportError(f"no data within {read:g} s", may_have_reached=True)
    return TransportError(f"the connection broke ({_cause_name(exc)})", may_have_reached=True)


def _connect_failure(exc: BaseException) -> str:
    chain: list[BaseException] = []
    found: BaseException | None = exc
    while found is not None and found not in chain:
        chain.append(found)
        found = found.__cause__ or found.__context__
    for link in chain:
        if isinstance(link, socket.gaierror):
            return "name not resolved"
        if isinstance(link, OSError) and link.errno in _CONNECT_ERRNO:
            return _CONNECT_ERRNO[link.errno]
    text = " ".join(str(link) for link in chain).lower()
    for needles, words in _CONNECT_TEXT:
        if any(n in text for n in needles):
            return words
    return f"could not connect ({type(exc).__name__})"


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
