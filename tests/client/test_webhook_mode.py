"""Webhook mode: ``run(follow="webhook")`` starts a receiver on the client, sends its URL with each
create, and learns the jobs' ends from the sandbox's signed, encrypted callbacks (webhook page) instead of
polling; jobs whose callback does not come are polled after a while. Counted on the sandbox's side."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

import akool_frames as af
from tests.client.conftest import VOICE
from tests.conftest import poll


def _frame(n: int, tag: str = "") -> pd.DataFrame:
    return pd.DataFrame({"text": [f"Callback {i}{tag}." for i in range(n)]})


def _run(df: pd.DataFrame, client: af.Client, **options: object) -> pd.DataFrame:
    return df.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE, **options)


def test_a_webhook_run_sends_creates_only(sb: af.Sandbox, client: af.Client) -> None:
    out = _run(_frame(120), client, follow="webhook")
    assert (out["akool_status"] == "completed").all()
    assert out["akool_url"].notna().all()
    assert out["akool_credits"].notna().all()  # TTS create answers carry deduction_credit
    stats = sb.stats()
    assert stats["requests"] == stats["creates"] == 120  # no status poll, no list page
    assert client.http.receiver.counts["callbacks"] == 120
    sent = {job.webhook for job in sb.state.jobs.values()}
    assert sent == {client.http.receiver.url} and client.http.receiver.url.startswith("http://127.0.0.1:")
    # each callback answered 200 once (the sandbox notes it once the answer is back: after the run may end)
    poll(lambda: {"n": len(sb.state.webhooks)}, lambda got: got["n"] == 120)
    assert [e["status"] for e in sb.state.webhooks] == [200] * 120
    # The ledger has the results: a re-run sends nothing and reads the same rows back.
    again = _run(_frame(120), client, follow="webhook")
    assert list(again["akool_url"]) == list(out["akool_url"]) and sb.stats()["creates"] == 120


def test_the_client_setting_chooses_webhooks_and_poll_overrides_it(sb: af.Sandbox, tmp_path: Path) -> None:
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", follow="webhook") as client:
        assert (_run(_frame(10), client)["akool_status"] == "completed").all()
        assert sb.stats()["requests"] == 10
        out = _run(_frame(10, " polled"), client, follow="poll")
    assert (out["akool_status"] == "completed").all()
    assert sb.stats()["requests"] > 20  # the polled run asked for its statuses
    assert all(not job.webhook for job in sb.state.jobs.values() if job.body["input_text"].endswith("polled."))


def test_jobs_whose_callback_never_comes_are_polled(make_sandbox, tmp_path: Path) -> None:
    sb = make_sandbox()
    # The callback URL sent is one nobody answers (a server's public address that does not forward):
    # the sandbox's callbacks fail, and the run falls back to polling after its patience.
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", webhook_url="http://127.0.0.1:9/") as client:
        out = _run(_frame(6), client, follow="webhook")
        assert client.http.receiver.counts["callbacks"] == 0
    assert (out["akool_status"] == "completed").all()
    stats = sb.stats()
    assert stats["creates"] == 6 and stats["requests"] > 6  # the statuses came from polls
    assert {job.webhook for job in sb.state.jobs.values()} == {"http://127.0.0.1:9/"}


def test_forged_callbacks_are_refused_and_change_nothing(sb: af.Sandbox, client: af.Client) -> None:
    out = _run(_frame(3), client, follow="webhook")
    receiver = client.http.receiver
    job_id = out["akool_job_id"][0]
    forged = {"signature": "0" * 40, "dataEncrypt": "AAAA", "timestamp": 1, "nonce": "1"}
    answer = httpx.post(receiver.url, json=forged)
    assert answer.status_code == 400 and receiver.counts["rejected"] == 1
    assert httpx.post(receiver.url, content=b"not json").status_code == 400
    rows = af.ledger(client=client)
    assert rows.loc[rows["job_id"] == job_id, "status"].tolist() == ["completed"]


def test_webhook_mode_needs_the_client_id(sb: af.Sandbox, tmp_path: Path) -> None:
    with af.Client(api_key=sb.api_key, base_url=sb.url, ledger=tmp_path / "l.sqlite") as client:
        with pytest.raises(af.ConfigError, match="follow='webhook' needs client_id"):
            _run(_frame(2), client, follow="webhook")
    assert sb.stats()["creates"] == 0
    with pytest.raises(af.ConfigError, match="follow is 'hooks'"):
        af.Client(api_key="k", follow="hooks")


def test_jobs_without_a_callback_field_are_polled_in_webhook_mode(sb: af.Sandbox, client: af.Client) -> None:
    # The audiocleaner TTS takes no callback URL: its jobs are polled as usual.
    df = pd.DataFrame({"text": ["One line.", "Two lines."]})
    out = df.akool.run("audiocleaner.tts", client=client, progress=False, follow="webhook", text=af.col("text"),
                       voice_id=2072, emotion=0, speed=1, language="en")
    assert (out["akool_status"] == "completed").all()
    assert sb.stats()["polls"] >= 2
