"""submit() returns once submitted and refresh() carries rows to the end; run(timeout=) leaves slow rows
queued/processing (never failed or dropped) for refresh(follow=True); download() writes the result files, and
an expired URL gives a null akool_file rather than an exception."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns, make_frame
from tests.conftest import akool, media_seconds

TEXTS = ["First line to speak.", "", "Second line, a little longer than the first one.", "Third and last line."]
VALID = [0, 2, 3]


def _params() -> dict[str, Any]:
    return {"input_text": af.col("text"), "voice_id": VOICE, "progress": False}


def test_submit_returns_submitted_rows_and_refresh_completes_them(sb: af.Sandbox, client: af.Client,
                                                                  frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS}, index=list("abcd"))
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
    if frame_lib == "pandas":
        assert current.index.tolist() == list("abcd")
    assert sb.stats()["creates"] == 3


def test_run_with_a_timeout_leaves_rows_pending_for_refresh(make_sandbox: Callable[..., af.Sandbox], tmp_path: Path,
                                                            frame_lib: str) -> None:
    slow = make_sandbox(time_scale=1, job_time=60)  # jobs take minutes here, creates milliseconds
    options = {**slow.client_options(), "poll_interval": 0.05}
    df = make_frame(frame_lib, {"text": TEXTS})
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


def test_download_writes_files_of_the_right_length(sb: af.Sandbox, client: af.Client, tmp_path: Path,
                                                   frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    done = df.akool.run("tts", client=client, **_params())
    files = done.akool.download(tmp_path / "out", client=client)
    got = columns(files)
    assert list(files.columns) == [*done.columns, "akool_file", "akool_expires_at"]
    assert got["akool_file"][1] is None  # the invalid row has nothing to fetch
    with akool(sb) as http:
        for i in VALID:
            path = Path(got["akool_file"][i])
            assert path.parent == tmp_path / "out"
            assert path.name == f"{got['akool_job_id'][i]}.mp3"
            record = http.get(f"/api/open/v4/voice/resource/detail/{got['akool_job_id'][i]}").json()["data"]["result"]
            assert record["status"] == 3
            assert media_seconds(path.read_bytes(), "mp3") == pytest.approx(record["duration"] / 1000, abs=0.1)
    if frame_lib == "polars":
        assert files.schema["akool_file"] == pl.String
    else:
        assert str(files["akool_file"].dtype) == "string"


def test_an_expired_url_gives_a_null_file(sb: af.Sandbox, client: af.Client, tmp_path: Path, frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})
    done = df.akool.run("tts", client=client, **_params())
    sb.advance(8 * 86400)  # result files are served for 7 days
    with pytest.warns(UserWarning, match="3 row\\(s\\) whose result links have expired"):
        files = columns(done.akool.download(tmp_path / "late", client=client))
    assert files["akool_file"] == [None] * 4
    assert files["akool_status"] == columns(done)["akool_status"]  # nothing else changes
    assert not list((tmp_path / "late").glob("*"))
