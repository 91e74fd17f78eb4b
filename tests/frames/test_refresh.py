"""``df.akool.refresh`` on pandas and polars: on the fake engine, only rows with a job id are polled, their
columns updated where the poll says something (estimates kept), and a frame without job ids is refused; on the
sandbox, submit() returns once submitted and refresh() carries the rows to the end, and run(timeout=) leaves slow
rows queued/processing (never failed or dropped) for refresh(follow=True), which never creates."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from akool_frames._errors import ValidationError
from akool_frames.engine._prepare import Outcome
from akool_frames.frames._bind import col
from tests.client.conftest import VOICE, columns

TEXTS = ["First line to speak.", "", "Second line, a little longer than the first one.", "Third and last line."]
VALID = [0, 2, 3]


def _params() -> dict[str, Any]:
    return {"input_text": af.col("text"), "voice_id": VOICE, "progress": False}


def test_refresh_updates_rows_with_ids_only(frame: Any, engine: Any, as_dict: Any) -> None:
    submitted = frame({"text": ["a", None, "ccc", "dd"]}, index=list("wxyz")).akool.submit(
        "tts", text=col("text"), progress=False)
    engine.polls = {"job-a": Outcome("completed", "job-a", "https://files.test/a.mp3", None, 1.0),
                    "job-ccc": Outcome("failed", "job-ccc", None, None, None, "provider said no")}
    out = submitted.akool.refresh(job="tts", progress=False)
    assert engine.calls[-1]["job_ids"] == ["job-a", None, "job-ccc", "job-dd"]
    assert engine.calls[-1]["job"] == "tts"
    got = as_dict(out)
    assert got["akool_status"] == ["completed", "invalid", "failed", "queued"]
    assert got["akool_url"] == ["https://files.test/a.mp3", None, None, None]
    assert got["akool_credits_est"] == [1.0, None, 3.0, 2.0]  # kept where the poll does not say
    assert got["akool_credits"] == [1.0, None, None, None]
    assert got["akool_error"][1].endswith("text is required")
    assert got["akool_error"][2] == "provider said no"
    assert list(out.columns) == list(submitted.columns)
    if isinstance(out, pd.DataFrame):
        assert list(out.index) == list("wxyz")


def test_refresh_needs_job_ids(frame: Any, engine: Any) -> None:
    with pytest.raises(ValidationError, match="no 'akool_job_id' column.*\n\nHint:"):
        frame({"text": ["a"]}).akool.refresh()


def test_submit_returns_submitted_rows_and_refresh_completes_them(sb: af.Sandbox, client: af.Client,
                                                                  backend: str, frame: Any) -> None:
    df = frame({"text": TEXTS}, index=list("abcd"))
    submitted = df.akool.submit("tts", client=client, **_params())
    got = columns(submitted)
    assert [got["akool_status"][i] for i in VALID] == ["queued"] * 3  # as the create answered
    assert got["akool_status"][1] == "invalid"
    assert all(got["akool_job_id"][i] for i in VALID) and got["akool_job_id"][1] is None
    assert all(got["akool_url"][i] is None for i in VALID)
    assert sb.stats()["creates"] == 3 and sb.stats()["polls"] == 0  # submit does not follow

    current = submitted
    for _ in range(100):  # bounded: the jobs take well under a second at this time scale
        current = current.akool.refresh(client=client, progress=False)
        if columns(current)["akool_status"].count("completed") == 3:
            break
        time.sleep(0.05)
    done = columns(current)
    assert [done["akool_status"][i] for i in VALID] == ["completed"] * 3
    assert [done["akool_job_id"][i] for i in VALID] == [got["akool_job_id"][i] for i in VALID]
    assert all(done["akool_url"][i].startswith(sb.url) for i in VALID)
    assert done["akool_status"][1] == "invalid" and done["akool_error"][1] == got["akool_error"][1]
    assert done["text"] == TEXTS
    if backend == "pandas":
        assert current.index.tolist() == list("abcd")
    assert sb.stats()["creates"] == 3


def test_run_with_a_timeout_leaves_rows_pending_for_refresh(make_sandbox: Callable[..., af.Sandbox], tmp_path: Path,
                                                            frame: Any) -> None:
    slow = make_sandbox(time_scale=1, job_time=60)  # jobs take minutes here, creates milliseconds
    options = {**slow.client_options(), "poll_interval": 0.05}
    df = frame({"text": TEXTS})
    with af.Client(**options, ledger=tmp_path / "l.sqlite") as client:
        pending = df.akool.run("tts", client=client, timeout=2.0, **_params())
        partial = columns(pending)
        assert {partial["akool_status"][i] for i in VALID} <= {"queued", "processing"}, partial["akool_error"]
        assert all(partial["akool_job_id"][i] for i in VALID)
        assert partial["akool_status"][1] == "invalid"
        assert partial["text"] == TEXTS
        creates = slow.stats()["creates"]
        assert creates == 3

        # a plain refresh polls once: still not done
        polled = pending.akool.refresh(client=client, progress=False)
        assert {columns(polled)["akool_status"][i] for i in VALID} <= {"queued", "processing"}

        slow.advance(3600)  # every job is long finished on the sandbox's clock
        finished = columns(polled.akool.refresh(client=client, follow=True, timeout=30, progress=False))
    assert [finished["akool_status"][i] for i in VALID] == ["completed"] * 3
    assert [finished["akool_job_id"][i] for i in VALID] == [partial["akool_job_id"][i] for i in VALID]
    assert finished["akool_status"][1] == "invalid"
    assert slow.stats()["creates"] == creates  # refreshing never creates
