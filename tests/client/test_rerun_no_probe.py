"""A re-run prices nothing again: rows whose job exists take their estimate from the ledger, so the
input media of duration-priced jobs are not fetched a second time (and nothing is created)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import akool_frames as af
from tests.client.conftest import make_frame


def _file_reads(sb: af.Sandbox) -> int:
    return sum(1 for entry in sb.log() if entry["path"].startswith("/files/"))


def test_rerun_does_not_probe_media_again(make_sandbox: Any, tmp_path: Path, frame_lib: str) -> None:
    sb = make_sandbox()
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    speech = make_frame(frame_lib, {"text": ["One line.", "Another line."]}).akool.run(
        "tts", input_text=af.col("text"), voice_id="6889b628662160e2caad5dbc", client=client, progress=False)
    params = {"talking_photo_url": "https://example.com/p.png", "audio_url": af.col("akool_url"),
              "resolution": "720", "client": client, "progress": False, "prefix": "video_",
              "rates": {"talking_photo": 10.0}}
    first = speech.akool.run("talking_photo", **params)
    reads, creates = _file_reads(sb), sb.stats()["creates"]
    again = speech.akool.run("talking_photo", **params)
    client.close()
    assert reads >= 2  # the first run probed both audio files to price the videos
    assert _file_reads(sb) == reads and sb.stats()["creates"] == creates
    assert list(again["video_credits_est"]) == list(first["video_credits_est"])
    assert all(e is not None and e > 0 for e in first["video_credits_est"])
    assert list(again["video_job_id"]) == list(first["video_job_id"])
