"""The tests' network guard (tests/conftest.py): loopback only, in every thread; ``.invalid`` names fail to
resolve quietly; anything else refused fails its test at teardown, naming the host and the test."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def attempts() -> Iterator[list[str]]:
    """What the guard recorded in this test, cleared before its teardown check (refusing was this test's point).
    Read from the guard as installed (pytest's own import of tests/conftest.py, not ``tests.conftest``)."""
    installed = socket.getaddrinfo.__globals__
    assert installed["__name__"] != "socket", "the network guard is not installed"
    yield installed["_ATTEMPTS"]
    with installed["_ATTEMPTS_LOCK"]:
        installed["_ATTEMPTS"].clear()


def test_a_name_is_refused_and_recorded_in_every_thread(attempts: list[str]) -> None:
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(socket.gaierror):
        socket.gethostbyname("example.net")

    async def resolve() -> None:  # asyncio resolves in its thread pool
        await asyncio.get_running_loop().getaddrinfo("example.org", 80)

    with pytest.raises(socket.gaierror):
        asyncio.run(resolve())
    with pytest.raises(httpx.ConnectError):
        httpx.get("https://cdn.example.com/a.mp3", timeout=5)
    assert sorted(set(attempts)) == ["cdn.example.com", "example.com", "example.net", "example.org"]


def test_a_connect_beyond_loopback_is_refused(attempts: list[str]) -> None:
    for family, address in ((socket.AF_INET, ("192.0.2.1", 80)), (socket.AF_INET6, ("2001:db8::1", 80, 0, 0))):
        with socket.socket(family) as s, pytest.raises(OSError):
            s.connect(address)
    with socket.socket() as s:
        assert s.connect_ex(("198.51.100.7", 80)) != 0
    assert set(attempts) == {"192.0.2.1", "2001:db8::1", "198.51.100.7"}


def test_invalid_names_fail_quietly_and_loopback_passes(attempts: list[str], sb: object) -> None:
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("no-such-host.invalid", 80)
    assert socket.getaddrinfo("localhost", 80) and socket.getaddrinfo("127.0.0.1", 80)
    assert socket.getaddrinfo("::1", 80, socket.AF_INET6)
    assert httpx.get(f"{sb.url}/_sandbox/stats", timeout=10).status_code == 200  # type: ignore[attr-defined]
    assert attempts == []


def test_a_refused_host_fails_the_test_at_teardown_naming_it(tmp_path: Path) -> None:
    inner = tmp_path / "test_inner.py"
    inner.write_text(textwrap.dedent("""
        import socket

        def test_reaches_out():
            try:
                socket.getaddrinfo("media.example.com", 443)
            except socket.gaierror:
                pass  # the library would take it as "name not resolved": only the guard's check says why
    """))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
                           str(inner)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout
    assert "ERROR at teardown of test_reaches_out" in done.stdout
    assert "test_inner.py::test_reaches_out: test tried to reach media.example.com: give duration= or point the " \
           "URL at a loopback media host" in done.stdout
