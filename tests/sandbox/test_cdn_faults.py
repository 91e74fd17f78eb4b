"""Sandbox edges of the network: a CDN's answers after a create was made, a server that closes
idle connections sooner, and HTTPS with a given certificate. Plain httpx, real HTTP on loopback."""

from __future__ import annotations

import http.client
import json
import ssl
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

import akool_frames as af
from akool_frames.cli import _main as cli
from tests.conftest import akool, poll
from tests.sandbox.conftest import CREDITS, DETAIL, TEXT, TTS, TTS_LIST, VOICES, first_voice, tts


def _made_and_charged(sb: af.Sandbox, c: httpx.Client, fault: str) -> None:
    """The create behind the odd answer was handled: listed, counted, charged, logged with its fault."""
    listed = c.get(TTS_LIST).json()["data"]
    assert listed["count"] == 1 and listed["result"][0]["input_text"] == TEXT
    stats = sb.stats()
    assert stats["creates"] == 1 and stats["jobs"] == 1 and stats["duplicate_creates"] == 0
    assert stats["credits_charged"] == pytest.approx(CREDITS)
    assert stats["faults"] == {fault: 1}
    assert [e["fault"] for e in sb.log() if e["path"] == TTS] == [fault]


# ---------------------------------------------------------------------------- a CDN's answers after the create
def test_html_after_is_a_200_page_and_the_job_exists(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "html_after"})})
    with akool(sb) as c:
        r = tts(c, first_voice(c))
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert "<title>Just a moment...</title>" in r.text
        with pytest.raises(json.JSONDecodeError):
            r.json()
        _made_and_charged(sb, c, "html_after")


def test_unavailable_after_is_a_bare_503_and_the_job_exists(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "unavailable_after"})})
    with akool(sb) as c:
        r = tts(c, first_voice(c))
        assert r.status_code == 503
        assert r.headers["content-type"].startswith(("text/html", "text/plain"))
        assert "retry-after" not in r.headers
        assert "code" not in r.text and "<title>" in r.text  # a page, no provider envelope
        _made_and_charged(sb, c, "unavailable_after")


def test_bad_encoding_after_is_labelled_gzip_but_is_not(make_sandbox: Any) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "bad_encoding_after", 2: "bad_encoding_after"})})
    with akool(sb) as c:
        voice = first_voice(c)
        with pytest.raises(httpx.DecodingError):
            tts(c, voice)  # httpx decodes gzip as labelled, and fails
        _made_and_charged(sb, c, "bad_encoding_after")
        # What was on the wire: the envelope, undecoded, under a gzip label.
        with c.stream("POST", TTS, json={"input_text": TEXT, "voice_id": voice}) as r:
            raw = b"".join(r.iter_raw())
            assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert raw[:2] != b"\x1f\x8b"  # not gzip's magic number
        envelope = json.loads(raw)
        assert envelope["code"] == 1000 and envelope["data"]["_id"]
    assert sb.stats()["creates"] == 2 and sb.stats()["faults"] == {"bad_encoding_after": 2}


def test_cdn_faults_by_probability_hit_creates_only(make_sandbox: Any) -> None:
    kinds = ("html_after", "unavailable_after", "bad_encoding_after")
    for kind in kinds:
        sb = make_sandbox(faults=af.Faults(**{kind: 1.0}))
        with akool(sb) as c:
            voice = first_voice(c)  # a list: never faulted by a create-only kind
            assert c.get(TTS_LIST).json()["code"] == 1000
            for _ in range(3):
                try:
                    tts(c, voice)
                except httpx.DecodingError:
                    pass
        stats = sb.stats()
        assert stats["creates"] == 3 and stats["faults"] == {kind: 3}
        assert stats["credits_charged"] == pytest.approx(3 * CREDITS)
    with pytest.raises(ValueError, match="html_after"):  # the hint lists the new kinds
        af.Faults(at={1: "cdn"})


# ---------------------------------------------------------------------------- keep-alive
def test_keep_alive_header_says_the_timeout(make_sandbox: Any) -> None:
    default, short = make_sandbox(), make_sandbox(keep_alive=1)
    with akool(default) as c:
        assert c.get(VOICES).headers["keep-alive"] == "timeout=30"
    with akool(short) as c:
        assert c.get(VOICES).headers["keep-alive"] == "timeout=1"
        assert c.post(TTS, json={}).headers["keep-alive"] == "timeout=1"  # on errors too
    with pytest.raises(ValueError, match="keep_alive"):
        af.SandboxConfig(keep_alive=0)


def test_keep_alive_1_closes_an_idle_connection(make_sandbox: Any) -> None:
    sb = make_sandbox(keep_alive=1)
    parts = urlsplit(sb.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request("GET", VOICES, headers={"x-api-key": sb.api_key})
        answer = conn.getresponse()
        assert answer.status == 200 and answer.getheader("Connection") is None  # kept alive
        answer.read()
        assert conn.sock is not None
        # Block until the server acts (the 10 s timeout only guards the test): it closes, end of stream.
        assert conn.sock.recv(1) == b""
    finally:
        conn.close()


def _connects(sb: af.Sandbox, pause: float) -> int:
    """New TCP connections an httpx pool opens for two requests ``pause`` seconds apart."""
    events: list[str] = []

    def trace(name: str, info: dict[str, Any]) -> None:
        events.append(name)

    with akool(sb) as c:
        c.get(VOICES, extensions={"trace": trace})
        if pause:
            time.sleep(pause)  # idle, not measured: the server decides what it does meanwhile
        c.get(VOICES, extensions={"trace": trace})
    return events.count("connection.connect_tcp.complete")


def test_pool_needs_a_new_connection_after_the_server_closed_it(make_sandbox: Any) -> None:
    assert _connects(make_sandbox(), 0) == 1  # back to back: the pool reuses one connection
    assert _connects(make_sandbox(), 1.5) == 1  # 30 s keep-alive: still open
    assert _connects(make_sandbox(keep_alive=1), 1.5) == 2  # closed by the server: a second connection


# ---------------------------------------------------------------------------- TLS
@pytest.fixture
def ca_and_files(tmp_path: Path) -> tuple[Any, tuple[str, str]]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    return ca, (str(certfile), str(keyfile))


def _trusting(ca: Any, tmp_path: Path) -> ssl.SSLContext:
    """What a user does with a corporate CA: a context loaded from the CA's PEM file."""
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return ssl.create_default_context(cafile=str(pem))


def test_tls_sandbox_serves_https_to_a_client_that_trusts_the_ca(make_sandbox: Any, ca_and_files: Any,
                                                                  tmp_path: Path) -> None:
    ca, files = ca_and_files
    sb = make_sandbox(tls=files)
    assert sb.url.startswith("https://127.0.0.1:")
    assert sb.webhook_sink_url.startswith("https://")
    with httpx.Client(base_url=sb.url, headers={"x-api-key": sb.api_key}, timeout=10,
                      verify=_trusting(ca, tmp_path)) as c:
        created = c.post(TTS, json={"input_text": TEXT, "voice_id": first_voice(c),
                                    "webhookUrl": sb.webhook_sink_url}).json()
        assert created["code"] == 1000
        _id = created["data"]["_id"]
        done = poll(lambda: c.get(DETAIL.format(_id=_id)).json(), lambda a: a["data"]["result"]["status"] >= 3)
        url = done["data"]["result"]["preview"]
        assert url.startswith(sb.url + "/files/")  # result files are https too
        audio = c.get(url)
        assert audio.status_code == 200 and audio.content
    # The sandbox's own channels work over https: its webhook reached its sink, admin answers.
    poll(lambda: {"n": len(sb.sink())}, lambda a: a["n"] >= 1)
    assert [entry["accepted"] for entry in sb.sink()] == [True]
    assert sb.admin("stats")["creates"] == 1


def test_tls_sandbox_refused_without_the_ca(make_sandbox: Any, ca_and_files: Any) -> None:
    _, files = ca_and_files
    sb = make_sandbox(tls=files)
    with httpx.Client(base_url=sb.url, headers={"x-api-key": sb.api_key}, timeout=10) as c:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            c.post(TTS, json={"input_text": TEXT, "voice_id": "any"})
    assert sb.stats()["creates"] == 0 and sb.stats()["requests"] == 0


def test_tls_settings_are_checked_before_start(tmp_path: Path, ca_and_files: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _, (certfile, keyfile) = ca_and_files
    with pytest.raises(ValueError, match="does not exist"):
        af.SandboxConfig(tls=(certfile, str(tmp_path / "missing.pem")))
    with pytest.raises(ValueError, match="certfile, keyfile"):
        af.SandboxConfig(tls=certfile)  # type: ignore[arg-type]
    # The CLI: both files or neither, and a missing file is a usage error (exit 2), not a traceback.
    assert cli.main(["sandbox", "--tls-cert", certfile]) == 2
    assert cli.main(["sandbox", "--tls-cert", certfile, "--tls-key", str(tmp_path / "missing.pem")]) == 2
    err = capsys.readouterr().err
    assert "--tls-key go together" in err and "does not exist" in err
