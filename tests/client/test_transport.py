"""What a broken exchange proves: under httpx, the aiohttp transport reports every aiohttp connection
error as httpx.ConnectTimeout, so "never sent" is read from the cause. Only a connection that was never made
may be resent as a create; a reset or a timeout after sending may have made a job (and is reconciled)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import akool_frames as af
from akool_frames._errors import TransportError
from akool_frames._loop import run_sync
from tests.client.conftest import VOICE

BODY = {"input_text": "Transport line.", "voice_id": VOICE}


def _send(client: af.Client) -> TransportError:
    with pytest.raises(TransportError) as caught:
        run_sync(client.http._send("akool", "POST", "/api/open/v4/voice/tts", None, BODY,
                                   {"x-api-key": str(client.api_key.reveal())}))  # type: ignore[union-attr]
    return caught.value


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_never_left(make_sandbox, tmp_path: Path) -> None:
    sb = make_sandbox()
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        run_sync(client.http.request("akool", "GET", "/api/open/v3/faceswap/quota/info"))  # it answered once
        sb.stop()  # ... and is gone: a fault, not a wrong address (that is a ConfigError: test_config_errors)
        error = _send(client)
    assert not error.may_have_reached
    assert f"at {sb.url}/api/open/v4/voice/tts (connection refused)" in str(error)


def test_a_reset_after_the_create_was_handled_may_have_made_a_job(make_sandbox, tmp_path: Path) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "reset_after"})})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        error = _send(client)
    assert error.may_have_reached
    assert f"broke during POST {sb.url}/api/open/v4/voice/tts" in str(error)  # the URL tried
    assert sb.stats()["creates"] == 1  # it did


def test_no_answer_in_time_may_have_made_a_job(make_sandbox, tmp_path: Path) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(latency=1.0)})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", timeout=0.2) as client:
        error = _send(client)
    assert error.may_have_reached
    assert "in time" in str(error) or "Timeout" in str(error)


def test_a_reset_before_handling_is_still_not_proof_it_never_left(make_sandbox, tmp_path: Path) -> None:
    # The connection was made and the request written: only the provider's list can tell (the engine looks).
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "reset_before"})})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        error = _send(client)
    assert error.may_have_reached
    assert sb.stats()["creates"] == 0
