"""The webhook receiver of webhook-mode runs (``follow="webhook"``): a small HTTP server on the client's own loop.

It listens on the client's ``webhook_host``/``webhook_port`` (loopback, a free port, by default), verifies and
decrypts each callback (``_webhook.verify``: the signature and AES key come from the account's keys), and hands
its status to the run following that job, which writes it to the ledger before the 200 goes back (a callback
answered otherwise is sent again by Akool, webhook page). A callback for a job no run follows right now (late,
repeated, or ahead of its create's answer) goes straight to the ledger, and is kept a while for a run that is
about to follow it. Anything that does not verify is answered 4xx (never 500: ``_webhook.callback_app``) and changes
nothing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from .._errors import ConfigError
from ._webhook import callback_app, read_callback, record, verify

__all__ = ["Receiver", "receiver_of"]

Callback = tuple[str, str | None, str | None]  # status, result URL, error
Listener = Callable[[str, Callback], Awaitable[bool]]  # True: the job is this listener's
EARLY = 100_000  # callbacks kept for jobs nobody follows yet


class Receiver:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.listeners: list[Listener] = []
        self.early: collections.OrderedDict[str, Callback] = collections.OrderedDict()
        self.counts: collections.Counter[str] = collections.Counter()
        self.url = ""
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None

    def app(self) -> Any:
        async def handle(payload: Any) -> None:
            callback = read_callback(verify(payload, self.client))  # WebhookRejected: 4xx, counted as rejected
            self.counts["callbacks"] += 1
            await self.hand_over(callback)

        def refused() -> None:
            self.counts["rejected"] += 1

        return callback_app(handle, refused)

    async def hand_over(self, said: tuple[str, str, str | None, str | None]) -> None:
        job_id, status, url, error = said
        callback: Callback = (status, url, error)
        for listener in list(self.listeners):
            if await listener(job_id, callback):
                return
        self.early[job_id] = callback  # its run may not have its create's answer yet
        while len(self.early) > EARLY:
            self.early.popitem(last=False)
        written = record(self.client, job_id, *callback)
        if written is not None:
            await written

    async def start(self) -> None:
        import uvicorn

        c = self.client
        if not c.client_id or not (c.client_secret or c.api_key):
            msg = ("follow='webhook' needs client_id (AKOOL_CLIENT_ID) and the API key: Akool signs and "
                   "encrypts its callbacks with them.\n\nHint: pass client_id= to Client, or follow='poll'.")
            raise ConfigError(msg)
        config = uvicorn.Config(self.app(), host=c.webhook_host, port=c.webhook_port, log_level="warning",
                                access_log=False, lifespan="off", ws="none")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._serve())
        while not self._server.started:
            if self._task.done():
                msg = (f"The webhook receiver could not listen on {c.webhook_host}:{c.webhook_port}."
                       "\n\nHint: choose another webhook_port (0 picks a free one).")
                raise ConfigError(msg)
            await asyncio.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        host = f"[{c.webhook_host}]" if ":" in c.webhook_host else c.webhook_host
        self.url = c.webhook_url or f"http://{host}:{port}/"

    async def _serve(self) -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot bind: start() says so
            await self._server.serve()

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await asyncio.gather(self._task, return_exceptions=True)


_starting: dict[int, asyncio.Task[Receiver]] = {}


async def receiver_of(client: Any) -> Receiver:
    """The client's receiver, started on first use (once, however many runs ask at the same time)."""
    http = client.http  # the receiver lives and stops with the client's HTTP layer
    if http.receiver is not None:
        return http.receiver

    async def start() -> Receiver:
        receiver = Receiver(client)
        await receiver.start()
        http.receiver = receiver
        return receiver

    task = _starting.get(id(client))
    if task is None or task.done() and task.exception() is not None:
        task = _starting[id(client)] = asyncio.ensure_future(start())
    try:
        return await asyncio.shield(task)
    finally:
        if task.done():
            _starting.pop(id(client), None)
