"""Estimate, then confirm, on pandas and polars: ``run(..., confirm=True)`` prices the rows, returns a panel at once and sends
nothing; its Submit button starts the run in the background (counts reach the end); Cancel stops sending, and
the rows not sent end ``skipped``. Driven headlessly: the buttons' ``click()``, as Jupyter's front end would."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns

pytest.importorskip("ipywidgets")


def _frame(frame: Callable[..., Any], n: int) -> Any:
    texts = [f"Confirmed line {i}." for i in range(n)]
    return frame({"text": [*texts, ""]})  # and one invalid row


def test_nothing_is_sent_until_the_button_is_clicked(sb: af.Sandbox, tmp_path: Path, frame: Any) -> None:
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        panel = _frame(frame, 20).akool.run("tts", client=client, confirm=True, input_text=af.col("text"), voice_id=VOICE)
        assert sb.stats()["creates"] == 0 and panel.result is None and not panel.done
        assert panel.submit.description.startswith("Submit 20 rows (~") and not panel.submit.disabled
        assert "21 rows; 20 priced" in panel.summary.value and "1 invalid" in panel.summary.value
        assert "$" in panel.summary.value  # USD at the client's usd_per_credit
        panel.submit.click()
        out = panel.wait(60)
        panel.submit.click()  # a second click sends nothing more
    assert list(out["akool_status"]) == ["completed"] * 20 + ["invalid"]
    assert sb.stats()["creates"] == 20
    assert panel.submit.disabled and panel.cancel.disabled
    assert panel.status.value.startswith("<div>done: 20/20 sent, 20/20 finished")
    assert "credits charged: " in panel.status.value and "estimated" in panel.status.value


def test_cancel_stops_sending_and_the_rest_end_skipped(make_sandbox: Any, tmp_path: Path, frame: Any) -> None:
    sb = make_sandbox(rate_limit=8)  # slow enough to cancel halfway
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", rate_limit=8) as client:
        panel = _frame(frame, 60).akool.run("tts", client=client, confirm=True, input_text=af.col("text"), voice_id=VOICE)
        panel.submit.click()
        deadline = time.monotonic() + 30
        while sb.stats()["creates"] < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        panel.cancel.click()
        out = panel.wait(60)
    statuses = list(out["akool_status"])
    sent = sb.stats()["creates"]
    assert 5 <= sent < 60
    assert statuses.count("completed") == sent and statuses.count("skipped") == 60 - sent
    got = columns(out)
    skipped = [e for s, e in zip(got["akool_status"], got["akool_error"], strict=True) if s == "skipped"]
    assert len(skipped) == 60 - sent and all(e == "not sent: the run was cancelled" for e in skipped)
    assert "cancelled" in panel.status.value
