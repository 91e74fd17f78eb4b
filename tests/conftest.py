"""Shared fixtures: a fast sandbox per test and small HTTP helpers that talk to it over loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af

FAST = 200.0  # sandbox seconds per real second in tests: jobs finish in well under a second


@pytest.fixture
def sb() -> Iterator[af.Sandbox]:
    with af.sandbox(time_scale=FAST) as box:
        yield box


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., af.Sandbox]]:
    """Start sandboxes with custom options; all are stopped after the test."""
    boxes: list[af.Sandbox] = []

    def make(**options: Any) -> af.Sandbox:
        options.setdefault("time_scale", FAST)
        box = af.Sandbox(**options).start()
        boxes.append(box)
        return box

    yield make
    for box in boxes:
        box.stop()


def akool(sb: af.Sandbox) -> httpx.Client:
    """An httpx client sending the sandbox's API key the documented way."""
    return httpx.Client(base_url=sb.url, headers={"x-api-key": sb.api_key}, timeout=10)


def poll(get: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
    """Call ``get`` until ``done`` holds for its answer; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = get()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"not done after {timeout}s; last answer: {answer}")
        time.sleep(0.02)


def media_seconds(data: bytes, ext: str) -> float:
    """Duration of a downloaded file by an independent parser (mutagen)."""
    import io

    mutagen = pytest.importorskip("mutagen")
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4
    from mutagen.wave import WAVE

    parser = {"mp3": MP3, "mp4": MP4, "wav": WAVE}[ext]
    _ = mutagen
    return float(parser(io.BytesIO(data)).info.length)


def is_png(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" in data[-12:]
