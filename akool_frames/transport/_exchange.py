"""The transports under the HTTP layer, and what a failed exchange proves.

API exchanges go over aiohttp (about 100 us of CPU each on the bench machine, bench/bench_overhead.py), or over
an httpx transport the user passes (``Client(transport=httpx.MockTransport(...))``, a user's own tests); media
probes and downloads always over aiohttp, which follows a CDN's redirects and streams. Both honour the
client's ``Network``: the proxy for each host and one TLS context.

A failure is sorted by what it proves, because the engine relies on it never to pay twice:
``refused`` (the network's own refusal: a certificate that does not verify, a proxy that refuses) and
``unreached`` (no connection was made) prove nothing left; ``broken`` (a reset, an early close, no answer in
time, a body that does not decode) may have reached the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
import weakref
from collections.abc import Mapping
from typing import Any, NamedTuple

import aiohttp
import httpx
from yarl import URL

from ._network import CA_SETTINGS, PROXY_SETTINGS, Network

__all__ = ["Answer", "ApiExchange", "Failure", "HttpxExchange", "failure_of", "is_timeout"]

KEEPALIVE = 4.0  # seconds an idle connection is kept, until a server says less (uvicorn's own default is 5)
KEEPALIVE_FLOOR = 0.25


class Answer(NamedTuple):
    status: int
    reason: str
    headers: Mapping[str, str]  # case-insensitive
    body: bytes


class Failure(NamedTuple):
    """What a failed exchange proves: ``kind`` is refused, unreached or broken; ``words`` the cause in plain words;
    ``hint`` the settings that fix a refusal."""

    kind: str
    words: str
    hint: str = ""


class ApiExchange:
    """One aiohttp session per client (made on the loop at first use), its pool sized to the concurrency gate."""

    def __init__(self, network: Network, size: int, timeout: float) -> None:
        self.network = network
        self._size = size
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self._session: aiohttp.ClientSession | None = None
        self._tls: dict[str, Any] = {}  # scheme -> the ssl argument (the context is built for https only)
        self.expiry = KEEPALIVE
        self._heard = ""

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # trust_env=False: the proxy is chosen here once per host (aiohttp's own look-up runs in a thread per
            # request and ignores ALL_PROXY); no cookies are kept (the APIs set none worth sending back).
            connector = aiohttp.TCPConnector(limit=self._size, keepalive_timeout=self.expiry, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                                  cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True)
            # A Client dropped without close() (a notebook's) closes its connections then, not in aiohttp's
            # "Unclosed client session" complaint at exit.
            weakref.finalize(self, _close_later, asyncio.get_running_loop(), self._session)
        return self._session

    def ssl_for(self, scheme: str) -> Any:
        if scheme not in self._tls:
            self._tls[scheme] = self.network.context if scheme == "https" else True
        return self._tls[scheme]

    async def send(self, method: str, url: URL, headers: Mapping[str, str], content: bytes | None,
                   proxy: str | None) -> Answer:
        async with self.session.request(method, url, data=content, headers=headers, proxy=proxy,
                                        allow_redirects=False, timeout=self._timeout,
                                        ssl=self.ssl_for(url.scheme)) as response:
            body = await response.read()
            return Answer(response.status, response.reason or "", response.headers, body)

    def stream(self, url: str, headers: Mapping[str, str] | None, connect: float, read: float,
               *, decompress: bool = True) -> Any:
        """A GET whose answer is read as it comes (probes and downloads), following redirects."""
        return self.session.get(url, headers=headers, proxy=self.network.proxy_for(url), allow_redirects=True,
                                timeout=aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read),
                                ssl=self.ssl_for(URL(url).scheme), auto_decompress=decompress)

    def heard(self, keep_alive: str) -> None:
        """A server's ``Keep-Alive: timeout=N``: retire idle connections well before it closes them itself, so a
        create never goes out on a connection the server is closing (its answer would be lost)."""
        if keep_alive == self._heard:  # (said on every answer: read once)
            return
        self._heard = keep_alive
        for part in keep_alive.split(","):
            name, _, value = part.strip().partition("=")
            try:
                server = float(value) if name.lower() == "timeout" else None
            except ValueError:
                server = None
            if server is not None and server > 0:
                self._expire_after(server - max(server / 2 if server < 1 else 0.5, min(2.0, server / 4)))

    def lost_connection(self) -> None:
        """A connection closed under a request: the server's idle limit may be shorter than ours; halve ours."""
        self._expire_after(self.expiry / 2)

    def _expire_after(self, seconds: float) -> None:
        seconds = max(KEEPALIVE_FLOOR, seconds)
        if seconds < self.expiry:
            self.expiry = seconds
            if self._session is not None:  # aiohttp reads it when it reuses a connection; no public setter
                connector = self._session.connector
                if connector is not None and hasattr(connector, "_keepalive_timeout"):
                    connector._keepalive_timeout = seconds  # noqa: SLF001  # aiohttp has no public setter

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _close_later(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> None:
    if session.closed or loop.is_closed():
        return
    try:
        closing = asyncio.run_coroutine_threadsafe(session.close(), loop)
    except RuntimeError:  # the loop is gone already
        return
    if not _is_current(loop):  # (on the loop itself it closes once this callback returns)
        with contextlib.suppress(Exception):  # best effort while the object is being collected
            closing.result(2.0)


def _is_current(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


class HttpxExchange:
    """API exchanges over a user's httpx transport (``Client(transport=...)``)."""

    def __init__(self, transport: httpx.AsyncBaseTransport, timeout: float) -> None:
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)

    async def send(self, method: str, url: URL, headers: Mapping[str, str], content: bytes | None,
                   proxy: str | None) -> Answer:  # (the user's transport reaches the network its own way)
        response = await self._client.request(method, str(url), content=content, headers=headers)
        return Answer(response.status_code, response.reason_phrase, response.headers, response.content)

    async def aclose(self) -> None:
        await self._client.aclose()


# --------------------------------------------------------------------------- what a failure proves
_CONNECT_ERRNO = {errno.ECONNREFUSED: "connection refused", errno.ENETUNREACH: "network unreachable",
                  errno.EHOSTUNREACH: "host unreachable", errno.ETIMEDOUT: "no answer"}
_CONNECT_TEXT = (
    (("name or service not known", "nodename nor servname", "no address associated", "name resolution",
      "getaddrinfo failed", "temporary failure in name"), "name not resolved"),
    (("connection refused",), "connection refused"),
)
_BROKEN = (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError,
           aiohttp.SocketTimeoutError, TimeoutError)


def failure_of(exc: BaseException, host: str, proxy: str | None) -> Failure | None:
    """What ``exc`` proves about a request to ``host`` (through ``proxy``), or None if it is no network failure."""
    certificate = _certificate_error(exc)
    if certificate is not None:
        return Failure("refused", f"certificate verify failed for {host} ({certificate})",
                       f"set {CA_SETTINGS} to your network's CA, or verify=False to skip the check (unsafe)")
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        return Failure("refused", f"the proxy answered {exc.status} {exc.message} to the tunnel for {host}",
                       f"check {PROXY_SETTINGS}" + (" (credentials for a 407)" if exc.status == 407 else ""))
    if isinstance(exc, aiohttp.ClientProxyConnectionError) or (
            proxy and isinstance(exc, aiohttp.ClientConnectorError | httpx.ProxyError)):
        return Failure("refused", f"the proxy could not be reached ({_connect_words(exc)})", f"check {PROXY_SETTINGS}")
    if isinstance(exc, aiohttp.ClientSSLError) or _is_tls(exc):
        return Failure("refused", f"the TLS handshake with {host} failed ({_root(exc)})",
                       f"check the URL's scheme and port, and {CA_SETTINGS}")
    if isinstance(exc, aiohttp.ConnectionTimeoutError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return Failure("unreached", "no answer to the connection")
    if isinstance(exc, aiohttp.ClientConnectorError | httpx.ConnectError):
        return Failure("unreached", _connect_words(exc))
    if isinstance(exc, (*_BROKEN, httpx.TransportError)):
        return Failure("broken", _cause_name(exc))
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    found: BaseException | None = exc
    while found is not None and found not in chain:
        chain.append(found)
        found = found.__cause__ or found.__context__
        if isinstance(found, aiohttp.ClientConnectorError):
            chain.append(found.os_error)
    return chain


def _certificate_error(exc: BaseException) -> str | None:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        exc = exc.certificate_error
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            return link.verify_message or str(link)
    return None


def _is_tls(exc: BaseException) -> bool:
    return any(isinstance(link, ssl.SSLError) for link in _chain(exc))


def _root(exc: BaseException) -> str:
    for link in _chain(exc):
        if isinstance(link, ssl.SSLError):
            return link.reason or str(link)
    return str(exc)


def _cause_name(exc: BaseException) -> str:
    """The error's own name: the transport's (ServerDisconnectedError), not a wrapper's."""
    if isinstance(exc, TimeoutError | aiohttp.SocketTimeoutError):
        return "no answer in time"
    return type(exc.__cause__ or exc).__name__


def _connect_words(exc: BaseException) -> str:
    chain = _chain(exc)
    for link in chain:
        if isinstance(link, socket.gaierror | aiohttp.ClientConnectorDNSError):
            return "name not resolved"
        if isinstance(link, OSError) and link.errno in _CONNECT_ERRNO:
            return _CONNECT_ERRNO[link.errno]
    text = " ".join(str(link) for link in chain).lower()
    for needles, words in _CONNECT_TEXT:
        if any(n in text for n in needles):
            return words
    return f"could not connect ({type(exc).__name__})"


def is_timeout(exc: BaseException) -> bool:
    return any(isinstance(link, TimeoutError) for link in _chain(exc))

