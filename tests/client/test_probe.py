"""Probes that never stall a forecast (issue 7): media lengths fetched concurrently under the client's gate, with
short timeouts, once per session and kept in the ledger; an unreachable host costs one failed connection, not one
per row, and every row says why in plain words."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import akool_frames as af
from akool_frames._loop import run_sync
from akool_frames._probe import probe_lengths
from tests.client.conftest import VOICE


def _refused_port() -> int:
    with socket.socket() as s:  # bound, never listening: connections to it are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _speech(sb: af.Sandbox, client: af.Client, n: int) -> list[str]:
    df = pd.DataFrame({"text": [f"Sentence number {i}, long enough to last a while." * (i + 1) for i in range(n)]})
    done = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    return done["akool_url"].tolist()


def _mutagen_seconds(url: str) -> float:
    from mutagen import File

    return float(File(io.BytesIO(httpx.get(url, timeout=10).content)).info.length)


@pytest.mark.timeout(60)
def test_500_rows_on_unreachable_hosts_say_why_and_cost_seconds(sb: af.Sandbox, client: af.Client) -> None:
    port = _refused_port()
    urls = [f"https://cdn.unreachable.invalid/audio/{i}.mp3?token=secret{i}" for i in range(250)]
    urls += [f"http://127.0.0.1:{port}/audio/{i}.mp3" for i in range(250)]
    df = pd.DataFrame({"audio": urls})
    before = sb.stats()["requests"]
    est = df.akool.estimate("talking_photo", talking_photo_url="https://cdn.example.com/p.png",
                            audio_url=af.col("audio"), rates={"talking_photo": 10}, client=client)
    assert sb.stats()["requests"] == before  # none of this touched the API
    errors = est["akool_error"].tolist()
    assert est["akool_credits_est"].isna().all() and est["akool_status"].isna().all()  # unpriced, not invalid
    assert all("could not reach cdn.unreachable.invalid: name not resolved" in e for e in errors[:250])
    assert all(f"could not reach 127.0.0.1:{port}" in e or "could not reach 127.0.0.1: connection refused" in e
               for e in errors[250:]), errors[250]
    assert not any("HTTP 0" in e or "secret" in e for e in errors)  # plain words; no query strings (tokens)
    # at most one connection tried per host, not one per row (the rest are answered from the first failure;
    # a name that does not resolve is not even connected to)
    assert client.http.counts["requests"] <= 2


def test_lengths_of_files_the_sandbox_serves(sb: af.Sandbox, client: af.Client) -> None:
    urls = _speech(sb, client, 3)
    lengths = run_sync(probe_lengths(client, urls))
    for url in urls:
        assert lengths[url].source == "probed"
        assert lengths[url].seconds == pytest.approx(_mutagen_seconds(url), abs=0.05)
    missing = urls[0].rsplit("/", 1)[0] + "/no-such-file.mp3"
    gone = run_sync(probe_lengths(client, [missing]))[missing]
    assert gone.seconds is None and gone.reason.endswith("answered 404 Not Found for /files/no-such-file.mp3")


def test_each_url_is_fetched_once_a_session_and_kept_in_the_ledger(sb: af.Sandbox, client: af.Client,
                                                                     tmp_path: Path) -> None:
    url = _speech(sb, client, 1)[0]
    df = pd.DataFrame({"audio": [url] * 50})
    params: dict[str, Any] = {"talking_photo_url": "https://cdn.example.com/p.png", "audio_url": af.col("audio"),
                              "rates": {"talking_photo": 10}}
    files = sum(1 for e in sb.log() if e["path"].startswith("/files/"))
    first = df.akool.estimate("talking_photo", client=client, **params)
    assert sum(1 for e in sb.log() if e["path"].startswith("/files/")) == files + 1  # 50 rows, one fetch
    assert set(first["akool_duration_source"]) == {"probed"}
    df.akool.estimate("talking_photo", client=client, **params)
    assert sum(1 for e in sb.log() if e["path"].startswith("/files/")) == files + 1  # the session remembers
    other = af.Client(**sb.client_options(), ledger=client.ledger_path)  # another session, the same ledger
    again = df.akool.estimate("talking_photo", client=other, **params)
    assert sum(1 for e in sb.log() if e["path"].startswith("/files/")) == files + 1  # the ledger remembers
    assert set(again["akool_duration_source"]) == {"ledger"}
    assert again["akool_duration_s"].tolist() == first["akool_duration_s"].tolist()
    other.close()


def test_probes_stay_under_the_concurrency_gate(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(faults={"files": af.Faults(latency=0.05)})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite", max_concurrency=3)
    urls = _speech(sb, client, 12)
    client.lengths.clear()
    with client.ledger._lock:  # noqa: SLF001  # forget them, so they are fetched again
        client.ledger._db.execute("DELETE FROM media")  # noqa: SLF001
    lengths = run_sync(probe_lengths(client, urls))
    assert all(x.seconds for x in lengths.values())
    assert sb.stats()["max_in_flight"] <= 3
    client.close()


def test_local_files_and_job_ids(sb: af.Sandbox, client: af.Client, tmp_path: Path) -> None:
    url = _speech(sb, client, 1)[0]
    local = tmp_path / "a.mp3"
    local.write_bytes(httpx.get(url, timeout=10).content)
    junk = tmp_path / "notes.txt"
    junk.write_text("not audio")
    found = run_sync(probe_lengths(client, [str(local), str(junk), str(tmp_path / "nope.wav"), "64d985c5571729d3"]))
    assert found[str(local)].seconds == pytest.approx(_mutagen_seconds(url), abs=0.05)
    assert "is not audio or video that can be read" in found[str(junk)].reason
    assert "no such file" in found[str(tmp_path / "nope.wav")].reason
    assert "neither a URL, a file, nor a finished job in the ledger" in found["64d985c5571729d3"].reason
