"""Where users sit: a real forward proxy (proxy.py, in its own process) and a TLS sandbox with its own CA
(trustme). The sandbox is named ``sandbox.akool.invalid``, a name that never resolves (RFC 2606) except inside the
proxy (``_proxy_plugin``): a request that did not go through the proxy cannot reach it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from tests.client.conftest import VOICE

trustme = pytest.importorskip("trustme")
pytest.importorskip("proxy")

ROOT = Path(__file__).resolve().parents[2]
NAME = "sandbox.akool.invalid"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR",
                   "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA from the machine's own environment: each test sets what it tries."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


class Proxy:
    """proxy.py on a free loopback port; ``lines()`` what it received (request lines, one per CONNECT tunnel)."""

    def __init__(self, folder: Path, *extra: str) -> None:
        self.log, port_file = folder / "proxy.log", folder / "proxy.port"
        self.log.touch()
        env = {**os.environ, "AKOOL_TEST_PROXY_LOG": str(self.log), "PYTHONPATH": str(ROOT)}
        for name in PROXY_VARIABLES:
            env.pop(name, None)
            env.pop(name.lower(), None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
             "--plugins", "tests.client._proxy_plugin.LoopbackNames", "--num-workers", "1", "--num-acceptors", "1",
             "--log-level", "ERROR", *extra],
            env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):  # it writes the port file once it listens
            if port_file.exists() and port_file.read_text().strip() and _listening(int(port_file.read_text())):
                break
            if self.process.poll() is not None:
                raise RuntimeError("proxy.py did not start")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.url = f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[Proxy]:
    running = Proxy(tmp_path)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA of the test's own, and a server certificate for the sandbox under both its names."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server = ca.issue_cert(NAME, "127.0.0.1", "localhost")
    files = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    server.private_key_pem.write_to_path(str(files["key"]))
    server.cert_chain_pems[0].write_to_path(str(files["cert"]))
    for blob in server.cert_chain_pems[1:]:
        with open(files["cert"], "ab") as fh:
            fh.write(blob.bytes())
    return files


def _named(sb: af.Sandbox, scheme: str) -> str:
    """The sandbox's address under the name only the proxy resolves."""
    return f"{scheme}://{NAME}:{sb.url.rsplit(':', 1)[1]}"


def _run(client: af.Client, rows: int = 12, **options: Any) -> pd.DataFrame:
    frame = pd.DataFrame({"script": [f"Line {i} behind a proxy." for i in range(rows)]})
    return frame.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False,
                           **options)


# --------------------------------------------------------------------------- proxies
@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_https_goes_through_the_proxy_the_environment_names(variable: str, proxy: Proxy, certificates: dict[str, Path],
                                                            make_sandbox: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sb = make_sandbox(tls=(certificates["cert"], certificates["key"]))
    monkeypatch.setenv(variable, proxy.url)
    with af.Client(**{**sb.client_options(), "base_url": _named(sb, "https")}, verify=str(certificates["ca"]),
                   ledger=tmp_path / "l.sqlite") as client:
        out = _run(client)
        files = out.akool.download(tmp_path / "audio", progress=False, client=client)
    assert (out["akool_status"] == "completed").all()
    assert sb.stats()["creates"] == 12 and sb.stats()["duplicate_creates"] == 0
    tunnels = proxy.lines()
    assert any(line.startswith(f"CONNECT {NAME}:") for line in tunnels)  # the API, tunnelled
    assert any(line.startswith("CONNECT 127.0.0.1:") for line in tunnels)  # the result files too
    assert files["akool_file"].notna().all()


def test_plain_http_goes_through_proxy_given_as_a_setting(proxy: Proxy, make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox()
    with af.Client(**{**sb.client_options(), "base_url": _named(sb, "http")}, proxy=proxy.url,
                   ledger=tmp_path / "l.sqlite") as client:
        out = _run(client)
    assert (out["akool_status"] == "completed").all()
    api = [line for line in proxy.lines() if f" {NAME}:" in line]
    assert len(api) == sb.stats()["requests"]  # every request the sandbox received came through the proxy
    assert sum(line.startswith("POST ") for line in api) == 12


def test_no_proxy_exempts_a_host(make_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sb = make_sandbox()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    monkeypatch.setenv("http_proxy", dead)  # nothing listens there
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        assert (_run(client, rows=3)["akool_status"] == "completed").all()


def test_a_proxy_that_is_not_there_stops_the_call_naming_the_setting(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox()
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}"
    with af.Client(**{**sb.client_options(), "base_url": _named(sb, "http")}, proxy=dead,
                   ledger=tmp_path / "l.sqlite") as client, pytest.raises(af.ConfigError) as caught:
        _run(client, rows=40)
    assert "the proxy could not be reached (connection refused)" in str(caught.value)
    assert "proxy=" in str(caught.value) and "HTTPS_PROXY" in str(caught.value)
    assert client.http.counts["requests"] <= client.max_concurrency  # stopped at the first wave, not per row
    assert sb.stats()["requests"] == 0


def test_a_proxy_asking_for_credentials(tmp_path: Path, make_sandbox: Any, certificates: dict[str, Path]) -> None:
    guarded = Proxy(tmp_path, "--basic-auth", "akool:s3cret-word")
    try:
        sb = make_sandbox()
        options = {**sb.client_options(), "base_url": _named(sb, "http")}
        with af.Client(**options, proxy=guarded.url, ledger=tmp_path / "a.sqlite") as client, \
                pytest.raises(af.ConfigError) as caught:
            _run(client, rows=20)
        assert "407" in str(caught.value) and sb.stats()["requests"] == 0
        tls = make_sandbox(tls=(certificates["cert"], certificates["key"]))  # a tunnel refused: a CONNECT's 407
        wrong = guarded.url.replace("http://", "http://akool:wr0ng-word@")
        with af.Client(**{**tls.client_options(), "base_url": _named(tls, "https")}, proxy=wrong,
                       verify=str(certificates["ca"]), ledger=tmp_path / "c.sqlite") as client, \
                pytest.raises(af.ConfigError) as tunnel:
            _run(client, rows=20)
        told = "".join(traceback.format_exception(tunnel.value))
        assert "407" in told and "wr0ng-word" not in told and tls.stats()["requests"] == 0
        with_credentials = guarded.url.replace("http://", "http://akool:s3cret-word@")
        with af.Client(**options, proxy=with_credentials, ledger=tmp_path / "b.sqlite") as client:
            out = _run(client, rows=4)
            shown = repr(client) + str(af.ledger(client=client).to_dict()) + out.to_csv()
        assert (out["akool_status"] == "completed").all()
        assert "s3cret-word" not in shown and "akool:****@" in repr(client)
    finally:
        guarded.stop()


# --------------------------------------------------------------------------- certificates
@pytest.mark.parametrize("how", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "verify=path", "verify=context"])
def test_a_tls_sandbox_with_its_ca_given(how: str, certificates: dict[str, Path], make_sandbox: Any, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import ssl

    sb = make_sandbox(tls=(certificates["cert"], certificates["key"]))
    ca = str(certificates["ca"])
    verify: Any = {"verify=path": ca, "verify=context": ssl.create_default_context(cafile=ca)}.get(how, True)
    if how.isupper():
        monkeypatch.setenv(how, ca)
    with af.Client(**sb.client_options(), verify=verify, ledger=tmp_path / "l.sqlite") as client:
        out = _run(client, rows=6)
        files = out.akool.download(tmp_path / "audio", progress=False, client=client)
    assert sb.url.startswith("https://")
    assert (out["akool_status"] == "completed").all() and files["akool_file"].notna().all()


def test_without_the_ca_the_call_stops_at_once_saying_so(certificates: dict[str, Path], make_sandbox: Any,
                                                         tmp_path: Path) -> None:
    sb = make_sandbox(tls=(certificates["cert"], certificates["key"]))
    frame = pd.DataFrame({"script": [f"Line {i}." for i in range(2000)]})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        started = time.monotonic()
        with pytest.raises(af.ConfigError) as caught:
            frame.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False)
        took = time.monotonic() - started
        requests = client.http.counts["requests"]
        ledger = af.ledger(client=client)
    message = str(caught.value)
    assert "certificate verify failed for 127.0.0.1" in message
    assert "verify=" in message and "SSL_CERT_FILE" in message and "REQUESTS_CA_BUNDLE" in message
    assert sb.stats()["creates"] == 0
    # One wave of handshakes, not six tries per row: the count, not the clock, is the proof (printed for the record).
    assert requests <= client.max_concurrency
    assert len(ledger) == 2000 and (ledger["status"] == "skipped").all()
    assert ledger["error"].str.contains("certificate verify failed").all()
    print(f"2000 rows settled in {took:.1f} s after {requests} handshakes")


def test_verify_false_skips_the_check(certificates: dict[str, Path], make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(tls=(certificates["cert"], certificates["key"]))
    with af.Client(**sb.client_options(), verify=False, ledger=tmp_path / "l.sqlite") as client:
        assert (_run(client, rows=2)["akool_status"] == "completed").all()


@pytest.mark.parametrize(("setting", "value", "words"), [
    ("verify", "/no/such/ca.pem", "verify= names '/no/such/ca.pem', which does not exist"),
    ("proxy", "socks5://127.0.0.1:1080", "only http:// proxies are supported"),
])
def test_network_settings_checked(setting: str, value: str, words: str, tmp_path: Path) -> None:
    with pytest.raises(af.ConfigError, match=words.replace("(", r"\(")):  # at the Client, or before any request
        with af.Client(api_key="k" * 24, base_url="https://127.0.0.1:9", ledger=tmp_path / "l.sqlite",
                       **{setting: value}) as client:
            _run(client, rows=1)
