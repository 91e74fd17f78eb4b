"""Sandbox core: starting, binding, stopping, and keeping secrets out of reprs."""

from __future__ import annotations

import socket
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

import akool_frames as af

VOICES = "/api/open/v4/voice/list?type=2"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_start_bind_loopback_and_stop_cleanly() -> None:
    with af.sandbox() as sb:
        parts = urlsplit(sb.url)
        assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
        port = parts.port
        assert port is not None and port != 0
        assert _port_open(port)
        with httpx.Client(base_url=sb.url, headers={"x-api-key": sb.api_key}, timeout=10) as c:
            assert c.get(VOICES).json()["code"] == 1000  # with a keep-alive connection open at exit
    assert not _port_open(port)
    with pytest.raises(httpx.ConnectError):
        httpx.get(sb.url + VOICES, timeout=2)


def test_start_does_little_work() -> None:
    """A smoke check that starting does no heavy work (rendering media, building big tables), counted in function
    calls in every thread rather than timed: a start after the first (whose imports are done) makes about 4,500."""
    af.Sandbox().start().stop()  # the imports of the first start are not the start's own work
    calls = [0]

    def count(frame: Any, event: str, arg: Any) -> None:
        calls[0] += event in ("call", "c_call")

    sys.setprofile(count)
    threading.setprofile(count)  # the server's thread too
    try:
        sb = af.Sandbox().start()
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
        sys.setprofile(None)
    made = calls[0]
    sb.stop()
    assert made < 50_000, made


def test_two_sandboxes_at_once() -> None:
    with af.sandbox() as a, af.sandbox() as b:
        assert a.url != b.url
        assert a.api_key != b.api_key
        assert httpx.get(a.url + VOICES, headers={"x-api-key": a.api_key}, timeout=10).json()["code"] == 1000
        # each sandbox has its own key: b does not accept a's
        assert httpx.get(b.url + VOICES, headers={"x-api-key": a.api_key}, timeout=10).json()["code"] == 1101


def test_stop_without_start_is_harmless() -> None:
    af.Sandbox().stop()


def test_reprs_hide_secrets() -> None:
    with af.sandbox(plan="max") as sb:
        text = repr(sb)
        assert sb.url in text and "max" in text
        for secret in (sb.api_key, sb.client_secret, sb.audiocleaner_api_key, sb.kling_secret_key):
            assert secret not in text
    config = af.SandboxConfig(api_key="s" * 24, client_id="c" * 16, audiocleaner_api_key="a" * 32,
                              kling_access_key="ka-" + "b" * 10, kling_secret_key="k" * 32)
    shown = repr(config) + str(config)
    for secret in ("s" * 24, "c" * 16, "a" * 32, "b" * 10, "k" * 32):
        assert secret not in shown
    assert "time_scale=20.0" in shown and "plan='pro'" in shown
    assert config.client_secret == "s" * 24  # the docs: clientSecret is the API key


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="api_key must be 16, 24 or 32"):
        af.SandboxConfig(api_key="short")
    with pytest.raises(ValueError, match="plan"):
        af.SandboxConfig(plan="free")
    with pytest.raises(ValueError, match="time_scale"):
        af.SandboxConfig(time_scale=0)
    with pytest.raises(ValueError, match="Faults.at"):
        af.Faults(at={1: "explode"})


def test_env_and_client_options_point_at_it(sb: Any) -> None:
    env = sb.env()
    assert env["AKOOL_BASE_URL"] == sb.url and env["AKOOL_API_KEY"] == sb.api_key
    assert env["AUDIOCLEANER_BASE_URL"] == sb.url + "/audiocleaner"
    assert env["KLING_BASE_URL"] == sb.url + "/kling"
