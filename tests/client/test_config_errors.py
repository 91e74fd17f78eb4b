"""Configuration mistakes fail fast, naming the setting and its value: an address without a scheme
when the client is made; a wrong host or port at the first request, without rounds of retries, nothing
sent and nothing left to reconcile; transport errors name the URL they tried."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest

import akool_frames as af
from tests.client.conftest import VOICE


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tts(client: af.Client, n: int = 3) -> pd.DataFrame:
    df = pd.DataFrame({"text": [f"Config line {i}." for i in range(n)]})
    return df.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)


@pytest.mark.parametrize("url", ["localhost:8765", "openapi.akool.com", "ftp://openapi.akool.com", "http://:80"])
def test_an_address_without_scheme_or_host_is_refused_when_the_client_is_made(url: str) -> None:
    with pytest.raises(af.ConfigError) as caught:
        af.Client(api_key="k", base_url=url)
    assert f"base_url= is {url.rstrip('/')!r}" in str(caught.value) and "https://openapi.akool.com" in str(caught.value)


def test_the_environment_variable_is_named_when_it_is_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_BASE_URL", "api-singapore.klingai.com")
    with pytest.raises(af.ConfigError, match=r"KLING_BASE_URL \(environment\) is 'api-singapore.klingai.com'"):
        af.Client(api_key="k")


def test_a_refused_port_stops_the_run_at_the_first_request(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with af.Client(api_key="secret-key-123", base_url=url, ledger=tmp_path / "l.sqlite") as client:
        with pytest.raises(af.ConfigError) as caught:
            _tts(client)
        # one try per row already on its way (the workers start together), no retries, nothing after
        assert client.http.counts["retries"] == 0 and client.http.counts["requests"] <= 3
        rows = af.ledger(client=client)
    message = str(caught.value)
    assert f"Could not reach akool at {url}: connection refused" in message
    assert "base_url (AKOOL_BASE_URL)" in message and "secret-key-123" not in message
    # The rows were claimed and are settled as not sent: a later run sends them, none is left to reconcile.
    assert set(rows["status"]) == {"skipped"}
    assert all("not sent" in e for e in rows["error"])


@pytest.mark.timeout(60)
def test_a_host_that_does_not_resolve_stops_the_run(tmp_path: Path) -> None:
    with af.Client(api_key="k", base_url="http://no-such-host.invalid", ledger=tmp_path / "l.sqlite") as client:
        with pytest.raises(af.ConfigError, match=r"(?s)Could not reach akool at http://no-such-host.invalid: name not "
                                                 r"resolved.*check base_url \(AKOOL_BASE_URL\)"):
            _tts(client, 1)


def test_a_missing_key_is_named_before_anything_is_sent(sb: af.Sandbox, tmp_path: Path) -> None:
    with af.Client(base_url=sb.url, ledger=tmp_path / "l.sqlite") as client:
        with pytest.raises(af.ConfigError, match=r"No akool credentials: set api_key \(AKOOL_API_KEY\)"):
            _tts(client)
    assert sb.stats()["requests"] == 0


def test_once_the_provider_answered_a_refused_connection_is_a_transient_fault(make_sandbox, tmp_path: Path) -> None:
    # A provider that answered before and then refuses is down for a moment, not misconfigured: rows are
    # retried and then skipped as not sent, with the URL tried.
    sb = make_sandbox()
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        assert (_tts(client, 1)["akool_status"] == "completed").all()
        sb.stop()
        df = pd.DataFrame({"text": ["After the stop."]})
        out = df.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)
    assert out["akool_status"].tolist() == ["skipped"]
    assert f"at {sb.url}/api/open/v4/voice/tts (connection refused)" in out["akool_error"][0]
