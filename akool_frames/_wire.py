"""An httpx transport for the APIs' small JSON exchanges: HTTP/1.1 over asyncio's own protocol, answers parsed by
httptools (llhttp, the parser uvicorn uses), keep-alive connections reused last in, first out.

Why: aiohttp under httpx cost about 180 us of CPU per exchange on the bench machine, this about 60
(`bench/bench_overhead.py --transports httptools aiohttp`). httpx stays the API: requests and answers are
``httpx.Request`` and ``httpx.Response``. Media downloads and probes keep httpx's client over aiohttp, which
follows redirects and streams.

What a failure proves is what its type says, and the engine relies on it to never pay twice:
``httpx.ConnectError`` / ``httpx.ConnectTimeout`` only while connecting (nothing was written);
once the request is written, any failure (reset, early close, no answer in time, a malformed answer) is
``httpx.ReadError`` / ``httpx.ReadTimeout`` / ``httpx.RemoteProtocolError``: it may have reached the server.
"""

from __future__ import annotations

import asyncio
import ssl
import time

import httptools
import httpx

__all__ = ["ApiTransport"]

_DEFAULT_PORTS = {b"http": 80, b"https": 443}


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one exchange at a time, its answer gathered by the parser's callbacks."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes, bytes]] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._reason = b""
        self._headers_done = False
        self._until_close = False  # an answer with neither a length nor chunks ends when the connection does

    # ------------------------------------------------------------------ asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:  # HttpParserUpgrade included: the APIs never switch protocols
            self._fail(httpx.RemoteProtocolError(f"malformed answer ({exc})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is None or self._answer.done():
            return
        if exc is None and self._headers_done and self._until_close:
            self._complete()
        else:
            self._fail(httpx.ReadError("the server closed the connection before its answer was complete"
                                       + (f" ({type(exc).__name__})" if exc else "")))

    # ------------------------------------------------------------------ httptools callbacks
    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True
        names = {name.lower() for name, _ in self._headers}
        self._until_close = b"content-length" not in names and b"transfer-encoding" not in names

    def on_body(self, chunk: bytes) -> None:
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        if not self._parser.should_keep_alive():
            self.close()
        self._complete()

    # ------------------------------------------------------------------ one exchange
    async def exchange(self, data: bytes, seconds: float | None) -> tuple[int, list[tuple[bytes, bytes]], bytes, bytes]:
        """Write one request and wait for its whole answer (status, headers, body, reason phrase), at most
        ``seconds``: then httpx.ReadTimeout. (A timer on the future: asyncio.timeout cost more than the parsing.)"""
        assert self.transport is not None
        self._headers, self._body, self._reason, self._headers_done = [], [], b"", False
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        timer = None if seconds is None else loop.call_later(seconds, self._time_out)
        self.transport.write(data)
        try:
            return await self._answer
        finally:
            if timer is not None:
                timer.cancel()

    def _complete(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result((self._parser.get_status_code(), self._headers, b"".join(self._body),
                                     self._reason))

    def _time_out(self) -> None:
        self._fail(httpx.ReadTimeout("no answer in time"))

    def _fail(self, exc: Exception) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)

    @property
    def reusable(self) -> bool:
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class ApiTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 exchanges whose answers are read whole (small JSON), over pooled keep-alive connections.

    The pool keeps up to ``limits.max_keepalive_connections`` idle connections per host, each for at most
    ``limits.keepalive_expiry`` seconds; how many exchanges run at once is the caller's gate (``Http``).
    """

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext | None = None) -> None:
        self._keep = limits.max_keepalive_connections or 0
        self._expiry = limits.keepalive_expiry if limits.keepalive_expiry is not None else float("inf")
        self._ssl = ssl_context
        self._idle: dict[tuple[bytes, str, int], list[_Connection]] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        where = (url.raw_scheme, url.host, url.port or _DEFAULT_PORTS.get(url.raw_scheme, 80))
        timeout = request.extensions.get("timeout") or {}
        connection = self._pooled(where) or await self._connect(where, timeout.get("connect"))
        data = _serialize(request)
        try:
            status, headers, body, reason = await connection.exchange(data, timeout.get("read"))
        except BaseException:  # cancelled, reset, timed out, malformed: the connection's state is unknown
            connection.close()
            raise
        self._release(where, connection)
        return httpx.Response(status, headers=headers, content=body, request=request,
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason})

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    # ------------------------------------------------------------------ the pool
    def _pooled(self, where: tuple[bytes, str, int]) -> _Connection | None:
        idle = self._idle.get(where)
        now = time.monotonic()
        while idle:
            connection = idle.pop()  # the most recently used: the likeliest to be alive
            if connection.reusable and now - connection.idle_since < self._expiry:
                return connection
            connection.close()
        return None

    def _release(self, where: tuple[bytes, str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(where, [])
        if not connection.reusable or len(idle) >= self._keep:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    async def _connect(self, where: tuple[bytes, str, int], seconds: float | None) -> _Connection:
        scheme, host, port = where
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme.decode()!r}")
        context = None
        if scheme == b"https":
            context = self._ssl = self._ssl or httpx.create_ssl_context()
        loop = asyncio.get_running_loop()
        connection = _Connection()
        try:
            async with asyncio.timeout(seconds):
                await loop.create_connection(lambda: connection, host, port, ssl=context,
                                             server_hostname=host if context else None)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no answer from {host}:{port} to the connect") from None
        except OSError as exc:  # refused, unreachable, name not resolved, TLS handshake: nothing was written
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return connection


def _serialize(request: httpx.Request) -> bytes:
    """The request's bytes: its line, its headers as given (plus Host and Content-Length when missing), its body."""
    url = request.url
    body = request.read()
    raw = request.headers.raw
    lines = [b"%s: %s\r\n" % pair for pair in raw]
    head = b"".join(lines)
    if head.count(b"\n") != len(lines) or head.count(b"\r") != len(lines):  # one CRLF per header, none inside
        bad = next(name for name, value in raw if b"\r" in name + value or b"\n" in name + value)
        raise httpx.LocalProtocolError(f"header {bad.decode(errors='replace')!r} holds a line break")
    names = {name.lower() for name, _ in raw}
    if b"host" not in names:
        head += b"Host: %s\r\n" % url.netloc
    if not names & {b"content-length", b"transfer-encoding"} and (body or request.method in ("POST", "PUT", "PATCH")):
        head += b"Content-Length: %d\r\n" % len(body)
    return b"%s %s HTTP/1.1\r\n%s\r\n%s" % (request.method.encode(), url.raw_path, head, body)
