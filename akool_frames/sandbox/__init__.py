"""A local emulator of the documented Akool, audiocleaner and Kling APIs.

It is the other side of the wire: written from the provider documentation, it never
imports the client's job specs. Start it with ``af.sandbox()`` or ``akool-frames sandbox``.

    with af.sandbox() as sb:
        sb.url, sb.api_key       # where it listens, a key it accepts
        sb.client                # an af.Client pointed at it
        sb.stats()               # creates, duplicate creates, polls, max in-flight, credits
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from ._config import Faults, SandboxConfig, SandboxOptions, own_tls
from ._server import ServerThread, serve_forever
from ._state import SandboxState

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["Faults", "Sandbox", "SandboxConfig", "SandboxOptions", "sandbox", "serve_forever"]


class Sandbox:
    """A running (or ready to run) emulator. Options are those of ``SandboxConfig``."""

    def __init__(self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 **options: Unpack[SandboxOptions]) -> None:
        from ._app import SandboxApp

        self.config = config or SandboxConfig(**options)
        self.state = SandboxState(self.config)
        self.app = SandboxApp(self.state)
        self._server = ServerThread(self.app, host, port)
        self._host = host
        self.url = ""
        self._client: Client | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Sandbox:
        port = self._server.start()
        self.url = f"{self.config.scheme}://{self._host}:{port}"
        self.app.base_url = self.url
        return self

    def stop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self._server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<Sandbox url={self.url or 'not started'!r} plan={self.config.plan!r}>"

    # ---------------------------------------------------------------- credentials
    @property
    def api_key(self) -> str:
        return self.config.api_key

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    @property
    def audiocleaner_api_key(self) -> str:
        return self.config.audiocleaner_api_key

    @property
    def kling_access_key(self) -> str:
        return self.config.kling_access_key

    @property
    def kling_secret_key(self) -> str:
        return self.config.kling_secret_key

    @property
    def audiocleaner_url(self) -> str:
        return self.url + "/audiocleaner"

    @property
    def kling_url(self) -> str:
        return self.url + "/kling"

    @property
    def webhook_sink_url(self) -> str:
        """A receiver inside the sandbox that verifies signatures; see ``sink()``."""
        return self.url + "/_sandbox/webhook-sink"

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of ``af.Client`` that point it at this sandbox."""
        return {
            "api_key": self.api_key, "client_id": self.client_id, "base_url": self.url,
            "audiocleaner_api_key": self.audiocleaner_api_key, "audiocleaner_base_url": self.audiocleaner_url,
            "kling_access_key": self.kling_access_key, "kling_secret_key": self.kling_secret_key,
            "kling_base_url": self.kling_url, "plan": self.config.plan,
            # Jobs finish time_scale times faster here: poll and reconcile as much sooner.
            "poll_interval": max(0.02, 4.0 / self.config.time_scale),
            "reconcile_after": max(0.05, 20.0 / self.config.time_scale),
        }

    def env(self) -> dict[str, str]:
        """Environment variables that point a process (or a notebook) at this sandbox."""
        names = {"api_key": "AKOOL_API_KEY", "client_id": "AKOOL_CLIENT_ID", "base_url": "AKOOL_BASE_URL",
                 "audiocleaner_api_key": "AUDIOCLEANER_API_KEY", "audiocleaner_base_url": "AUDIOCLEANER_BASE_URL",
                 "kling_access_key": "KLING_ACCESS_KEY", "kling_secret_key": "KLING_SECRET_KEY",
                 "kling_base_url": "KLING_BASE_URL",
                 # jobs finish time_scale times faster here: a client polls and reconciles as much sooner
                 "poll_interval": "AKOOL_FRAMES_POLL_INTERVAL", "reconcile_after": "AKOOL_FRAMES_RECONCILE_AFTER"}
        options = self.client_options()
        return {**{env: str(options[opt]) for opt, env in names.items()}, "AKOOL_CLIENT_SECRET": self.client_secret}

    @property
    def client(self) -> Client:
        """An ``af.Client`` pointed at this sandbox (made on first use)."""
        if self._client is None:
            from .._client import Client

            # Its ledger lives and dies with the sandbox: sandbox jobs mean nothing to a later sandbox.
            self._tmp = tempfile.TemporaryDirectory(prefix="akool-frames-sandbox-")
            self._client = Client(**self.client_options(), ledger=Path(self._tmp.name) / "ledger.sqlite")
        return self._client

    # ---------------------------------------------------------------- inspection
    def stats(self) -> dict[str, Any]:
        """What it received: creates, duplicate creates, polls, face detections, max in-flight, credits, faults."""
        return self.state.stats()

    def log(self) -> list[dict[str, Any]]:
        """Every request, in order: method, path, query (its last value per name), endpoint, HTTP status,
        business code, fault."""
        with self.state.lock:
            return [dict(entry) for entry in self.state.log]  # copies: entries fill in as requests go

    def sink(self) -> list[dict[str, Any]]:
        """Callbacks received by ``webhook_sink_url``: accepted (decrypted data) or rejected."""
        with self.state.lock:
            return list(self.state.sink)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward (jobs finish, result files expire)."""
        self.state.clock.advance(seconds)

    def admin(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any] | list[Any]:
        """Call an admin route over HTTP (what a separate process would do): its JSON answer (a list for log and sink)."""
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(f"{self.url}/_sandbox/{action}", data=data,
                                         method="POST" if data is not None else "GET")
        tls = own_tls(self.config)
        with urllib.request.urlopen(request, timeout=10, context=tls) as response:  # (loopback: its own admin route)
            return json.loads(response.read())


@contextlib.contextmanager
def sandbox(config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
            **options: Unpack[SandboxOptions]) -> Iterator[Sandbox]:
    """Run a sandbox on 127.0.0.1 (a free port) for the duration of the ``with`` block."""
    sb = Sandbox(config, host=host, port=port, **options).start()
    try:
        yield sb
    finally:
        sb.stop()
