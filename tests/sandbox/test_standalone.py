"""`akool-frames sandbox --port N` runs the emulator in its own process; the sandbox never imports the client."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import httpx

SANDBOX = Path(__file__).resolve().parents[2] / "akool_frames" / "sandbox"


def test_standalone_sandbox_answers_and_prints_how_to_connect() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "akool_frames.cli", "sandbox", "--port", "0", "--time-scale", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first)
        assert url, first
        env = {}
        for _ in range(20):
            line = proc.stdout.readline()
            found = re.match(r"\s+export (\w+)=(\S+)", line)
            if found:
                env[found.group(1)] = found.group(2)
            if line.startswith("Inspect"):
                break
        assert env["AKOOL_BASE_URL"] == url.group(1)
        headers = {"x-api-key": env["AKOOL_API_KEY"]}
        voices = httpx.get(f"{url.group(1)}/api/open/v4/voice/list", params={"type": 2}, headers=headers).json()
        voice = voices["data"]["result"][0]["_id"]
        created = httpx.post(f"{url.group(1)}/api/open/v4/voice/tts", headers=headers,
                             json={"input_text": "Hello from another process", "voice_id": voice}).json()
        assert created["code"] == 1000 and len(created["data"]["_id"]) == 24
        stats = httpx.get(f"{url.group(1)}/_sandbox/stats").json()
        assert stats["creates"] == 1 and stats["credits_charged"] == round(26 * 4.4 / 1000, 6)
        assert httpx.post(f"{url.group(1)}/api/open/v4/voice/tts", json={}).json()["code"] == 1102
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()


def test_sandbox_does_not_import_the_client() -> None:
    """The sandbox is written from the docs: importing the client's job specs would let a wrong field
    name be wrong on both sides. Only Sandbox.client may (lazily) build an af.Client (``from .._client import Client``)."""
    offenders = []
    for path in SANDBOX.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                absolute = node.level == 0 and (node.module or "").startswith("akool_frames")
                escapes = node.level > (len(path.relative_to(SANDBOX).parts) - 1) + 1
                client = path.name == "__init__.py" and path.parent == SANDBOX and node.level == 2 \
                    and node.module == "_client" and [a.name for a in node.names] == ["Client"]
                if ((absolute and node.module != "akool_frames") or escapes) and not client:
                    offenders.append(f"{path.name}:{node.lineno}")
                if absolute and node.module == "akool_frames" and [a.name for a in node.names] != ["Client"]:
                    offenders.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Import):
                offenders += [f"{path.name}:{node.lineno}" for a in node.names if a.name.startswith("akool_frames")]
    assert offenders == []

