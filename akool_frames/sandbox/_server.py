"""Run the sandbox app with uvicorn: in a thread (tests, notebooks, demo) or in the foreground (CLI)."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from ._app import SandboxApp

__all__ = ["ServerThread", "serve_forever"]


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings for the sandbox (or, in tests, another ASGI app served the same way: defaults)."""
    cfg = getattr(getattr(app, "state", None), "config", None)
    certfile, keyfile = (cfg.tls if cfg is not None else None) or (None, None)
    idle: Any = cfg.keep_alive if cfg is not None else 30  # typed int by uvicorn; a float works (call_later)
    # uvicorn closes idle connections silently; real servers also say when, and a client may read it.
    keep_alive = [("Keep-Alive", f"timeout={idle:g}")]
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
                          http="h11", ws="none", loop="asyncio", timeout_keep_alive=idle,
                          headers=keep_alive, ssl_certfile=certfile, ssl_keyfile=keyfile)


class ServerThread:
    """uvicorn serving ``app`` in a daemon thread; ``start`` returns once it listens."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.server = uvicorn.Server(_config(app, host, port))
        self.thread = threading.Thread(target=self.server.run, name="akool-frames-sandbox", daemon=True)
        self.host = host

    def start(self, timeout: float = 10.0) -> int:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                msg = "The sandbox server did not start.\n\nHint: is the port already in use?"
                raise RuntimeError(msg)
            time.sleep(0.005)
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self.thread.ident is not None:  # never started: nothing to join (join would raise)
            self.thread.join(timeout)


def serve_forever(app: SandboxApp, host: str, port: int, on_start: Any = None) -> None:
    server = uvicorn.Server(_config(app, host, port))
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        bound = server.servers[0].sockets[0].getsockname()[1]
        app.base_url = f"{app.state.config.scheme}://{host}:{bound}"
        if on_start is not None:
            on_start(app.base_url)

    server.startup = startup  # type: ignore[method-assign]  # uvicorn has no started hook: its startup is wrapped
    server.run()
