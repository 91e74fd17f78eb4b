"""The API transport (_wire.py) against a raw TCP server that answers with chosen bytes: every way HTTP/1.1 may
frame an answer, answers split anywhere, connections reused and dropped, and what each failure proves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from akool_frames._wire import ApiTransport

Answer = Callable[[bytes], bytes | None]  # request bytes -> answer bytes to send (None: close without answering)

JSON = b'{"code":1000,"msg":"OK","data":{"_id":"abc"}}'
PLAIN = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(JSON)) + JSON


class Server:
    """Answers each request on a connection with ``answer(request)``, sent in pieces of ``step`` bytes."""

    def __init__(self, answer: Answer, step: int = 0, close_after: int = 0) -> None:
        self.answer, self.step, self.close_after = answer, step, close_after
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                data = self.answer(request)
                if data is None:
                    break
                if not data:  # say nothing, keep the connection open
                    await asyncio.sleep(1)
                    break
                for i in range(0, len(data), self.step or len(data)):
                    writer.write(data[i: i + (self.step or len(data))])
                    await writer.drain()
                    if self.step:
                        await asyncio.sleep(0)
                served += 1
                if self.close_after and served >= self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def exchange(server: Server, body: Callable[[ApiTransport, str], Awaitable[object]],
             limits: httpx.Limits | None = None) -> object:
    async def main() -> object:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        transport = ApiTransport(limits or httpx.Limits(max_keepalive_connections=4, keepalive_expiry=5.0))
        try:
            return await body(transport, f"http://127.0.0.1:{port}")
        finally:
            await transport.aclose()
            listening.close()
    return asyncio.run(main())


def request(base: str, body: bytes = b'{"a":1}', headers: list[tuple[bytes, bytes]] | None = None) -> httpx.Request:
    raw = headers if headers is not None else [(b"Content-Type", b"application/json")]
    r = httpx.Request("POST", f"{base}/api/x?page=2", headers=raw, stream=httpx.ByteStream(body),
                      extensions={"timeout": {"connect": 2.0, "read": 2.0}})
    r.read()
    return r


async def one(transport: ApiTransport, base: str) -> httpx.Response:
    response = await transport.handle_async_request(request(base))
    await response.aread()
    return response


def test_sends_the_line_host_length_and_body_and_reads_the_answer() -> None:
    server = Server(lambda _: PLAIN)
    response = exchange(server, one)
    assert isinstance(response, httpx.Response)
    assert response.status_code == 200 and response.json()["data"]["_id"] == "abc"
    assert response.reason_phrase == "OK" and response.headers["content-type"] == "application/json"
    sent = server.requests[0]
    assert sent.startswith(b"POST /api/x?page=2 HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in sent and b"\r\nContent-Length: 7\r\n" in sent and sent.endswith(b'\r\n\r\n{"a":1}')


@pytest.mark.parametrize("answer", [
    b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n',
    b'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}',
], ids=["chunked", "length"])
@pytest.mark.parametrize("step", [0, 1, 3], ids=["whole", "byte by byte", "3 bytes"])
def test_every_framing_and_any_split(answer: bytes, step: int) -> None:
    response = exchange(Server(lambda _: answer, step=step), one)
    assert response.json() == {"a": 1}  # type: ignore[union-attr]


def test_an_answer_that_ends_with_its_connection() -> None:
    server = Server(lambda _: b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"a":1}', close_after=1)
    response = exchange(server, one)
    assert response.json() == {"a": 1}  # type: ignore[union-attr]


def test_connections_are_reused_and_a_closed_one_is_replaced() -> None:
    async def five(transport: ApiTransport, base: str) -> list[int]:
        return [(await one(transport, base)).status_code for _ in range(5)]

    kept = Server(lambda _: PLAIN)
    assert exchange(kept, five) == [200] * 5 and kept.connections == 1
    closing = Server(lambda _: PLAIN.replace(b"OK\r\n", b"OK\r\nConnection: close\r\n", 1), close_after=1)
    assert exchange(closing, five) == [200] * 5 and closing.connections == 5
    # The server drops each connection after its answer without saying so: the next request must not use it.
    silent = Server(lambda _: PLAIN, close_after=1)

    async def paced(transport: ApiTransport, base: str) -> list[int]:
        codes = []
        for _ in range(3):
            codes.append((await one(transport, base)).status_code)
            await asyncio.sleep(0.05)  # the close reaches us
        return codes
    assert exchange(silent, paced) == [200] * 3 and silent.connections == 3


def test_idle_connections_expire() -> None:
    async def two(transport: ApiTransport, base: str) -> None:
        await one(transport, base)
        await asyncio.sleep(0.15)
        await one(transport, base)

    server = Server(lambda _: PLAIN)
    exchange(server, two, httpx.Limits(max_keepalive_connections=4, keepalive_expiry=0.1))
    assert server.connections == 2


@pytest.mark.parametrize("answer, error", [
    (lambda _: None, httpx.ReadError),  # closed after reading the request: it may have been handled
    (lambda _: b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{", httpx.ReadError),  # cut short
    (lambda _: b"NOT HTTP AT ALL\r\n\r\n", httpx.RemoteProtocolError),
], ids=["closed", "cut short", "malformed"])
def test_a_failure_after_sending_may_have_reached(answer: Answer, error: type[Exception]) -> None:
    server = Server(answer, close_after=1)
    with pytest.raises(error):
        exchange(server, one)
    assert len(server.requests) == 1  # it was received: these errors must never read as "not sent"


def test_no_answer_in_time() -> None:
    async def slow(transport: ApiTransport, base: str) -> object:
        r = request(base)
        r.extensions = {"timeout": {"connect": 2.0, "read": 0.1}}
        return await transport.handle_async_request(r)

    with pytest.raises(httpx.ReadTimeout):
        exchange(Server(lambda _: b""), slow)


def test_refused_is_a_connect_error_and_a_line_break_in_a_header_sends_nothing() -> None:
    async def refused(transport: ApiTransport, base: str) -> object:
        return await transport.handle_async_request(request("http://127.0.0.1:9"))  # discard port: nothing listens
    with pytest.raises(httpx.ConnectError):
        exchange(Server(lambda _: PLAIN), refused)

    server = Server(lambda _: PLAIN)

    async def injected(transport: ApiTransport, base: str) -> object:
        return await transport.handle_async_request(request(base, headers=[(b"x-api-key", b"k\r\nX-Evil: 1")]))
    with pytest.raises(httpx.LocalProtocolError):
        exchange(server, injected)
    assert server.requests == []
