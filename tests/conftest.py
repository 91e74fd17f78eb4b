"""Shared fixtures: a fast sandbox per test and small HTTP helpers that talk to it over loopback; a network guard
that keeps every test on loopback."""

from __future__ import annotations

import errno
import ipaddress
import itertools
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import akool_frames as af

FAST = 200.0  # sandbox seconds per real second in tests: jobs finish in well under a second


# ---------------------------------------------------------------------------------------------- network guard
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_REAL = {"getaddrinfo": socket.getaddrinfo, "gethostbyname": socket.gethostbyname,
         "gethostbyname_ex": socket.gethostbyname_ex, "connect": socket.socket.connect,
         "connect_ex": socket.socket.connect_ex}
_ATTEMPTS: list[str] = []  # hosts refused since the current test began (any thread: asyncio resolves in a pool)
_ATTEMPTS_LOCK = threading.Lock()


def _local(host: Any) -> bool:
    """A loopback or unspecified address, or a loopback name (RFC 6761 ``.localhost`` included)."""
    if host is None:
        return True  # getaddrinfo(None, port): the local machine
    name = (host.decode("idna") if isinstance(host, bytes) else str(host)).strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(name.split("%")[0])  # (an IPv6 scope "%eth0" is no part of the address)
    except ValueError:
        return name in LOOPBACK_NAMES or name.endswith(".localhost")
    return address.is_loopback or address.is_unspecified


def _refuse_lookup(host: Any) -> socket.gaierror:
    name = host.decode("idna") if isinstance(host, bytes) else str(host)
    if not name.rstrip(".").lower().endswith(".invalid"):  # .invalid never resolves (RFC 2606): tests use it so
        with _ATTEMPTS_LOCK:
            _ATTEMPTS.append(name)
    return socket.gaierror(socket.EAI_NONAME, f"Name or service not known ({name}: the tests' network guard "
                                              "resolves loopback names only)")


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _local(host) and not _numeric(host):
        raise _refuse_lookup(host)
    return _REAL["getaddrinfo"](host, *args, **kwargs)


def _guarded_gethostbyname(host: str) -> str:
    if not _local(host) and not _numeric(host):
        raise _refuse_lookup(host)
    return str(_REAL["gethostbyname"](host))


def _guarded_gethostbyname_ex(host: str) -> Any:
    if not _local(host) and not _numeric(host):
        raise _refuse_lookup(host)
    return _REAL["gethostbyname_ex"](host)


def _numeric(host: Any) -> bool:
    """An address literal: no look-up happens (a connect to it is checked on its own)."""
    try:
        ipaddress.ip_address((host.decode() if isinstance(host, bytes) else str(host)).strip("[]").split("%")[0])
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _refused(sock: socket.socket, address: Any) -> bool:
    """An internet socket's connect beyond loopback: recorded, and refused."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and not _local(address[0]):
        with _ATTEMPTS_LOCK:
            _ATTEMPTS.append(str(address[0]))
        return True
    return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if _refused(self, address):
        raise OSError(errno.ENETUNREACH, f"Network is unreachable ({address[0]}: the tests' network guard lets "
                                         "connections reach loopback only)")
    return _REAL["connect"](self, address)  # type: ignore[no-any-return]


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    return errno.ENETUNREACH if _refused(self, address) else int(_REAL["connect_ex"](self, address))


@pytest.fixture(scope="session", autouse=True)
def _network_guard_installed() -> Iterator[None]:
    """The guard's patches, process-wide for the whole session (threads, asyncio's resolver pool included)."""
    patched = {(socket, "getaddrinfo"): _guarded_getaddrinfo, (socket, "gethostbyname"): _guarded_gethostbyname,
               (socket, "gethostbyname_ex"): _guarded_gethostbyname_ex, (socket.socket, "connect"): _guarded_connect,
               (socket.socket, "connect_ex"): _guarded_connect_ex}
    for (owner, name), fake in patched.items():
        setattr(owner, name, fake)
    try:
        yield
    finally:
        for (owner, name), _ in patched.items():
            setattr(owner, name, _REAL[name])


@pytest.fixture(autouse=True)
def network_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests reach loopback only. A look-up of any other name raises ``socket.gaierror`` and a connect to any other
    address ``OSError`` (ENETUNREACH), in this process (every thread); names under ``.invalid`` (RFC 2606) fail to
    resolve as a test may mean them to, and anything else refused fails the test at teardown, naming the host.

    Not covered: processes the tests start (the CLI, drills, proxy.py, a kernel): the patch lives in this process.
    A refused host is made by the test, and the fix belongs there: ``duration=`` for media whose length a run would
    probe, or a loopback media host; never a loosened guard.
    """
    with _ATTEMPTS_LOCK:
        _ATTEMPTS.clear()
    yield
    with _ATTEMPTS_LOCK:
        hosts = sorted(set(_ATTEMPTS))
        _ATTEMPTS.clear()
    if hosts:
        pytest.fail(f"{request.node.nodeid}: test tried to reach {', '.join(hosts)}: give duration= or point the URL "
                    "at a loopback media host (the tests' network guard, tests/conftest.py)", pytrace=False)


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


# ---------------------------------------------------------------------------------------------- a real S3 API
class S3:
    """moto's S3 server on loopback (started once a session) and one empty bucket per test. The environment points
    botocore (and so s3fs) at it: ``AWS_ENDPOINT_URL`` and test credentials, so no profile or instance metadata is
    looked up. ``requests`` lists every request the server received (method, path) since the test began."""

    def __init__(self, endpoint: str, bucket: str, requests: list[tuple[str, str]]) -> None:
        self.endpoint, self.bucket, self.requests = endpoint, bucket, requests

    def uri(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def fs(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True)

    def keys(self, prefix: str = "") -> list[str]:
        """The keys under ``prefix`` in the test's bucket (read fresh: no listing cache)."""
        found = self.fs.find(f"{self.bucket}/{prefix}")
        return sorted(key.removeprefix(f"{self.bucket}/") for key in found)

    def puts(self) -> list[str]:
        """The object uploads the server received (PUTs of an object, or of a multipart upload's part)."""
        return [path for method, path in self.requests if method == "PUT" and path.count("/") >= 2]


_BUCKETS = itertools.count(1)  # (a bucket per test: names cut to 40 characters may repeat, so numbered)
_S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    pytest.importorskip("moto.server", reason="the S3 tests need moto[server] (the test extra)")
    import logging

    from moto.server import ThreadedMotoServer
    from werkzeug.serving import WSGIRequestHandler

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # (no request log on stderr)
    seen: list[tuple[str, str]] = []
    log_request = WSGIRequestHandler.log_request

    def record(self: Any, *args: Any, **kwargs: Any) -> None:
        seen.append((self.command, self.path.split("?", 1)[0]))
        log_request(self, *args, **kwargs)

    WSGIRequestHandler.log_request = record  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}", seen
    finally:
        server.stop()
        WSGIRequestHandler.log_request = log_request  # type: ignore[method-assign]


@pytest.fixture
def s3(_moto_server: tuple[str, list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch,
       request: pytest.FixtureRequest) -> S3:
    """An empty bucket on the loopback S3 server, with the environment pointing s3fs at it."""
    endpoint, seen = _moto_server
    for name, value in {**_S3_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(name, value)
    import re

    import fsspec

    fsspec.config.conf.pop("s3", None)
    bucket = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower())[:40].strip("-") + f"-{next(_BUCKETS)}"
    box = S3(endpoint, bucket, [])
    box.fs.mkdir(bucket)
    seen.clear()
    box.requests = seen
    return box


# ---------------------------------------------------------------------------------------------- a real PostgreSQL
def _start_postgres(folder: Any) -> tuple[str, Callable[[], None]]:
    """A PostgreSQL cluster in ``folder`` on a free loopback port (as .ci/run starts one), and how to stop it."""
    import glob
    import shutil

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("no PostgreSQL here (Debian's postgresql package)")
    bin_dir = os.path.dirname(found[-1])
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = os.path.join(folder, "data")
    subprocess.run([*as_pg, f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                   capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200"
    subprocess.run([*as_pg, f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(folder, "log"), "-w", "start",
                    "-o", options], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*as_pg, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


@pytest.fixture(scope="session")
def _postgres_server() -> Iterator[str]:
    import shutil
    import tempfile

    pytest.importorskip("psycopg", reason="the PostgreSQL tests need psycopg (the test extra)")
    url = os.environ.get("AKOOL_FRAMES_TEST_POSTGRES")
    if url:  # .ci/run started one
        yield url
        return
    folder = tempfile.mkdtemp(prefix="akool-pg-")  # (in /tmp itself: pytest's folders are closed to other users)
    try:
        url, stop = _start_postgres(folder)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PostgreSQL for the tests ({exc}); .ci/run starts one (AKOOL_FRAMES_TEST_POSTGRES)")
        pytest.skip(f"no PostgreSQL here ({exc})")
    try:
        yield url
    finally:
        stop()
        shutil.rmtree(folder, ignore_errors=True)


_DATABASES = itertools.count(1)


@pytest.fixture
def postgres(_postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the loopback PostgreSQL: its URL (no password: the server trusts loopback)."""
    import psycopg

    name = f"akool_test_{os.getpid()}_{next(_DATABASES)}"
    with psycopg.connect(_postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _postgres_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(_postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
