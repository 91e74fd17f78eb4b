"""A sandbox in another process, so that a bench process's CPU time is the client's alone."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any


class RemoteSandbox:
    def __init__(self, proc: subprocess.Popen[str], env: dict[str, str]) -> None:
        self.proc, self.env = proc, env
        self.url = env["AKOOL_BASE_URL"]
        self.api_key = env["AKOOL_API_KEY"]

    def get(self, path: str, **query: str) -> Any:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        request = urllib.request.Request(f"{self.url}{path}{'?' + q if q else ''}", headers={"x-api-key": self.api_key})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())

    def stats(self) -> dict[str, Any]:
        return self.get("/_sandbox/stats")

    def log(self) -> list[dict[str, Any]]:
        """Every request the sandbox logged (``t`` in sandbox seconds, ``kind``, ``throttled``), up to its cap."""
        return self.get("/_sandbox/log")

    def client_options(self) -> dict[str, Any]:
        e = self.env
        return {"api_key": e["AKOOL_API_KEY"], "client_id": e["AKOOL_CLIENT_ID"], "base_url": e["AKOOL_BASE_URL"],
                "poll_interval": float(e["AKOOL_FRAMES_POLL_INTERVAL"]),
                "reconcile_after": float(e["AKOOL_FRAMES_RECONCILE_AFTER"])}

    def first_voice(self) -> str:
        return str(self.get("/api/open/v4/voice/list", type="2")["data"]["result"][0]["_id"])


@contextlib.contextmanager
def remote_sandbox(*options: str) -> Iterator[RemoteSandbox]:
    """``akool-frames sandbox`` with ``options`` (CLI flags) on a free port, stopped on exit."""
    proc = subprocess.Popen([sys.executable, "-m", "akool_frames.cli", "sandbox", "--port", "0", *options],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    env: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip().startswith("export "):
                name, value = line.strip().removeprefix("export ").split("=", 1)
                env[name] = value
            if line.startswith("Inspect it"):
                break
        yield RemoteSandbox(proc, env)
    finally:
        proc.terminate()
        proc.wait(10)
