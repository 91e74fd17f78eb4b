"""The HTTP layer everything else goes through: auth, envelopes -> values or typed errors, a concurrency gate, an
adaptive rate limiter (``_limiter``), and retries that know what is safe to repeat. The transports under it, and
what a failed exchange proves, are ``_exchange``'s; proxies and certificates ``_network``'s.

Safe to repeat: anything that is not a create; a create whose answer says it was not processed (throttling,
HTTP 429, a 503 with Retry-After, an expired token) or that provably never left (connect errors). A create that
may have reached the provider (reset or timeout after sending, a gateway's 5xx, any answer that is not the
provider's own envelope: an HTML page, a body that does not decode) is never resent here: it raises, and the
engine reconciles it. The network's own refusals (a certificate that does not verify, a proxy that refuses) and
a provider address that never answered stop the call with a ConfigError naming the setting.
"""

from __future__ import annotations

import asyncio
import collections
import html
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import jwt
from yarl import URL

from .._errors import AuthError, ConfigError, RateLimited, ServerError, TransportError, error_for_code
from ..typing import Gate
from ._exchange import Answer, ApiExchange, HttpxExchange, failure_of, is_timeout
from ._file_gate import gate_for
from ._network import PROXY_SETTINGS
from ._receiver import Receiver
from ._settings import Settings

__all__ = ["BASE_URL_SETTINGS", "Http", "RETRY"]

log = logging.getLogger("akool_frames.http")  # one debug line per API exchange: method, URL, status (no headers)

# Retry policy as data: attempts, first wait, cap, jitter (wait = min(cap, first * 2**n) * U(1-jitter, 1)).
RETRY = {"attempts": 6, "first": 0.2, "cap": 5.0, "jitter": 0.5, "throttle_deadline": 600.0}
# The setting that names each provider's address, for the message when it cannot be reached at all.
BASE_URL_SETTINGS = {"akool": "base_url (AKOOL_BASE_URL)", "audiocleaner": "audiocleaner_base_url (AUDIOCLEANER_BASE_URL)",
                     "kling": "kling_base_url (KLING_BASE_URL)"}
# Connect failures that, before a provider has ever answered this client, say its address is wrong: they are
# not retried (a typo would otherwise cost every row a round of back-off) but stop the run naming the setting.
WRONG_ADDRESS = frozenset({"name not resolved", "connection refused"})
# Each provider's envelope: (code field, its success value, message field). An endpoint with its own (Akool's face
# detection: error_code 0 / error_msg, page 09) passes it to request().
ENVELOPES = {"akool": ("code", 1000, "msg"), "audiocleaner": ("code", 100000, "message"), "kling": ("code", 0, "message")}

_HEADERS = {"User-Agent": "akool-frames", "Accept": "application/json"}
_JSON_HEADERS = {**_HEADERS, "Content-Type": "application/json"}
_BODY_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder: json.dumps makes one per call
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _backoff(n: int) -> float:
    wait = min(RETRY["cap"], RETRY["first"] * 2 ** n)
    return wait * random.uniform(1 - RETRY["jitter"], 1)


class Http:
    """One per Client; lives on the background loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        n = settings.max_concurrency
        self.network = settings.network
        # API exchanges over aiohttp, or the user's httpx transport; media probes and downloads always over aiohttp.
        self.media = ApiExchange(self.network, n, settings.timeout)
        self._api = self.media if settings.transport is None else HttpxExchange(settings.transport, settings.timeout)
        self._urls: dict[tuple[str, str], tuple[URL, str | None]] = {}  # (provider, path) -> URL, its proxy
        # The account's gate: shared by every process on the same ledger (``settings.gate_at``), or this one's.
        self.gate: Gate = gate_for(n, settings.rate_limit, settings.gate_at)
        self._token: str | None = None
        self._token_lock = asyncio.Lock()
        self._jwt: tuple[str, float] | None = None
        self._answered: set[str] = set()  # providers that answered this client at least once
        self.counts: collections.Counter[str] = collections.Counter()
        self.receiver: Receiver | None = None  # the webhook receiver, started by the first webhook-mode run (``_receiver``)

    async def aclose(self) -> None:
        receiver, self.receiver = self.receiver, None
        if receiver is not None:
            await receiver.stop()
        await self.media.aclose()
        if self._api is not self.media:
            await self._api.aclose()
        close = getattr(self.gate, "aclose", None)  # (a shared gate's files or connections; their slots with them)
        if close is not None:
            await close()

    # ------------------------------------------------------------------ auth
    async def _headers(self, provider: str) -> dict[str, str]:
        s = self.settings
        s.credentials(provider)
        if provider == "audiocleaner":
            return {"api-key": s.audiocleaner_api_key.reveal()}  # type: ignore[union-attr]  # credentials() checked it
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
                body = {"clientId": s.client_id, "clientSecret": s.client_secret.reveal()}  # type: ignore[union-attr]  # credentials() checked it
                answer = await self._send("akool", "POST", "/api/open/v3/getToken", None, body, {})
                self._token = str(answer["token"])
            return self._token

    def _kling_jwt(self) -> str:
        """Kling's bearer token: an HS256 JWT of the access key, signed with the secret key, renewed 5 min before
        its 30 min are up."""
        now = time.time()
        if self._jwt and self._jwt[1] - now > 300:
            return self._jwt[0]
        s = self.settings
        assert s.kling_access_key is not None and s.kling_secret_key is not None  # (s.credentials checked them)
        claims = {"iss": s.kling_access_key.reveal(), "exp": int(now) + 1800, "nbf": int(now) - 5}
        self._jwt = (jwt.encode(claims, s.kling_secret_key.reveal(), algorithm="HS256"), now + 1800)
        return self._jwt[0]

    # ------------------------------------------------------------------ one exchange
    async def _send(self, provider: str, method: str, path: str, params: dict[str, Any] | None,
                    body: dict[str, Any] | None, headers: dict[str, str],
                    envelope: tuple[str, Any, str] | None = None) -> Any:
        """One HTTP exchange: the decoded success payload or a typed error; the limiter hears how it went.

        The gate is taken before the limiter: the rate slot is then spent right when the request
        leaves, so waiting for a free connection cannot bunch requests up past the rate.
        """
        url, proxy = self._endpoint(provider, path)
        if params:
            url = url.update_query(params)
        content = None if body is None else _BODY_JSON.encode(body).encode()
        headers = {**(_HEADERS if body is None else _JSON_HEADERS), **headers}
        loop = asyncio.get_running_loop()
        async with self.gate.slot():
            ticket = await self.gate.acquire()
            self.counts["requests"] += 1
            try:
                answer = await self._api.send(method, url, headers, content, proxy)
            except Exception as exc:
                error = self._failed(exc, provider, method, path, url, proxy)
                if error is exc:  # not a network failure: as it came
                    raise
                raise error from _cause(exc, proxy)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s: HTTP %d", method, url.with_query(None), answer.status)
        if answer.status == 407:  # the proxy's own answer (plain http goes through it unencrypted): nothing went on
            msg = (f"Could not reach {provider}: the proxy answered 407 Proxy Authentication Required "
                   f"({method} {url.with_query(None)}); nothing was sent.\n\nHint: check {PROXY_SETTINGS} "
                   "(credentials in the URL: http://user:password@proxy:port).")
            raise ConfigError(msg)
        self._answered.add(provider)
        keep_alive = answer.headers.get("Keep-Alive")
        if keep_alive:
            self.media.heard(keep_alive)
        try:
            decoded = _decode(provider, method, path, answer, envelope or ENVELOPES[provider])
        except RateLimited as exc:
            self.counts["throttled"] += 1
            self.gate.throttled(ticket, exc.retry_after, loop.time())
            raise
        except ServerError as exc:
            if exc.status == 503 and exc.retry_after is not None:  # overloaded: wait as told; it says
                self.gate.pause(exc.retry_after, loop.time())     # nothing about our rate, so no cut
            raise
        self.gate.succeeded(loop.time())
        return decoded

    def _endpoint(self, provider: str, path: str) -> tuple[URL, str | None]:
        """The URL (parsed once per endpoint) and the proxy it goes through."""
        found = self._urls.get((provider, path))
        if found is None:
            text = path if path.startswith("http") else self.settings.base_urls[provider] + path
            found = self._urls[provider, path] = (URL(text), self.network.proxy_for(text))
        return found

    def _failed(self, exc: Exception, provider: str, method: str, path: str, url: URL,
                proxy: str | None) -> Exception:
        """The error a failed exchange raises: a ConfigError when the network or the address refuses (the call
        stops), else a TransportError saying whether the request may have reached the provider."""
        failure = failure_of(exc, url.host or "", proxy)
        if failure is None:
            return exc
        where = url.with_query(None)
        if failure.kind == "refused":
            return ConfigError(f"Could not reach {provider}: {failure.words} ({method} {where}); nothing was sent."
                               f"\n\nHint: {failure.hint}.")
        if failure.kind == "unreached":
            if failure.words in WRONG_ADDRESS and provider not in self._answered and not path.startswith("http"):
                return ConfigError(
                    f"Could not reach {provider} at {self.settings.base_urls[provider]}: {failure.words} ({method} "
                    f"{where}).\n\nHint: check {BASE_URL_SETTINGS[provider]}; nothing was sent.")
            return TransportError(f"Could not connect to {provider} at {where} ({failure.words}).",
                                  may_have_reached=False)
        if failure.words == "ServerDisconnectedError":
            self.media.lost_connection()
        return TransportError(f"The connection to {provider} broke during {method} {where} ({failure.words}).",
                              may_have_reached=True)

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
                if create and not exc.not_processed:
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

    # ------------------------------------------------------------------ media
    async def get_range(self, url: str, start: int, length: int, *, connect: float,
                        read: float) -> tuple[int, str, bytes, int | None]:
        """One ranged GET of ``length`` bytes from ``start`` (a media probe): status, reason phrase, the bytes
        (never more than ``length``, whatever the server sends), and the file's total size if told.

        Under the concurrency gate but not the provider's rate limiter (a CDN is not the API), short
        timeouts, no retries: the caller decides. Failures raise TransportError with the cause in plain words
        ("name not resolved", "connection refused", "no answer within 3 s", "certificate verify failed ...");
        ``may_have_reached`` False means the host itself could not be reached.
        """
        headers = {"Range": f"bytes={start}-{start + length - 1}"}
        async with self.gate.slot():
            self.counts["requests"] += 1
            try:
                async with self.media.stream(url, headers, connect, read, decompress=False) as response:
                    data = bytearray()
                    async for chunk in response.content.iter_any():
                        data += chunk
                        if len(data) >= length:  # a server that ignores Range: stop reading
                            break
                    return response.status, response.reason or "", bytes(data[:length]), _total_size(response)
            except Exception as exc:
                failure = _media_failure(exc, url, connect, read)
                if failure is None:
                    raise
                raise failure from _cause(exc, self.network.proxy_for(url))

    async def download(self, url: str, open_file: Callable[[], BinaryIO], *, connect: float = 10.0,
                       read: float = 60.0) -> tuple[int, str, str]:
        """Stream a file into ``open_file()`` (under the concurrency gate, retried like a GET): status, reason
        phrase and content type. Nothing is opened unless the answer is 200."""
        for attempt in range(int(RETRY["attempts"])):
            try:
                async with self.gate.slot():
                    await self.gate.acquire()
                    self.counts["requests"] += 1
                    async with self.media.stream(url, None, connect, read) as response:
                        if response.status == 200:
                            with open_file() as fh:
                                async for chunk in response.content.iter_chunked(1 << 16):
                                    fh.write(chunk)
                        status, phrase = response.status, response.reason or ""
                        kind = response.headers.get("content-type", "")
            except Exception as exc:
                failure = _media_failure(exc, url, connect, read)
                if failure is None:
                    raise
                if not failure.may_have_reached and not is_timeout(exc):
                    raise failure from _cause(exc, self.network.proxy_for(url))
                await asyncio.sleep(_backoff(attempt))
                continue
            if status >= 500:
                await asyncio.sleep(_backoff(attempt))
                continue
            return status, phrase, kind
        msg = f"the download of {url.split('?', 1)[0]} kept failing"
        raise TransportError(msg, may_have_reached=True)


def _cause(exc: Exception, proxy: str | None) -> Exception | None:
    """The transport's exception as the cause of ours, unless a proxy with credentials was in play: aiohttp's proxy
    errors carry the proxy's URL, password included, into tracebacks."""
    return None if proxy and "@" in proxy else exc


def _media_failure(exc: BaseException, url: str, connect: float, read: float) -> TransportError | None:
    """A probe's or download's failure in plain words (None: not a network failure); ``may_have_reached`` False
    when the host itself was not reached (a certificate or proxy refusal says which setting fixes it)."""
    failure = failure_of(exc, URL(url).host or "", None)
    if failure is None:
        return None
    if failure.kind == "refused":
        return TransportError(f"{failure.words}. Hint: {failure.hint}", may_have_reached=False)
    if failure.kind == "unreached":
        words = f"no answer within {connect:g} s" if failure.words == "no answer to the connection" else failure.words
        return TransportError(words, may_have_reached=False)
    if is_timeout(exc):
        return TransportError(f"no data within {read:g} s", may_have_reached=True)
    return TransportError(f"the connection broke ({failure.words})", may_have_reached=True)


# --------------------------------------------------------------------------- answers
def _decode(provider: str, method: str, path: str, answer: Answer, envelope: tuple[str, Any, str]) -> Any:
    """The success payload, or the error the answer is: the provider's own refusal (a well-formed envelope with
    an error code) is an APIError; anything else (a gateway's page, a body that is not JSON) a ServerError, which
    a create treats as possibly made."""
    status, headers = answer.status, answer.headers
    code_field, ok, message_field = envelope
    try:
        payload = json.loads(answer.body) if answer.body else None
    except ValueError:  # (UnicodeDecodeError included)
        payload = None
    if isinstance(payload, dict) and code_field in payload:  # the provider's own envelope
        code = payload[code_field]
        if code == ok and status < 400:
            return payload
        # msg or message, whichever the answer carries (the docs and real answers use both)
        message = str(payload.get(message_field) or payload.get("msg") or payload.get("message") or "")
        raise error_for_code(provider, code if isinstance(code, int) else status, message,
                             http_status=status, retry_after=_retry_after(headers))
    if status == 429:  # HTTP's own "not processed", whoever says it
        raise RateLimited(provider, 429, "Too Many Requests", http_status=429, retry_after=_retry_after(headers))
    msg = f"{provider} answered {_what(answer)} to {method} {path}, not its JSON envelope."
    raise ServerError(msg, status=status, retry_after=_retry_after(headers))


def _what(answer: Answer) -> str:
    """An answer that is not the provider's, in words: its status, a page's title, a redirect's target."""
    status, headers, body = answer.status, answer.headers, answer.body
    said = f"HTTP {status}" + (f" {answer.reason}" if answer.reason else "")
    kind = headers.get("Content-Type", "").split(";", 1)[0].strip()
    if 300 <= status < 400 and headers.get("Location"):
        return f"{said} redirecting to {headers['Location']}"
    title = _TITLE.search(body[:8192])
    if title:
        text = " ".join(html.unescape(title.group(1).decode("utf-8", "replace")).split())[:100]
        return f"{said} with an HTML page titled {text!r}"
    if not body:
        return f"{said} with an empty body"
    return f"{said} with {len(body)} bytes of {kind or 'unlabelled content'}"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _total_size(response: Any) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() and response.status == 200 else None
