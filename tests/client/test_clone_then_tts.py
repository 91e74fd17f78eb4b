"""A cloned voice is usable right away: the clone row's job id (the voice document _id) is a TTS voice_id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import akool_frames as af
from tests.client.conftest import make_frame


def test_clone_then_speak_with_it(make_sandbox: Any, tmp_path: Path, frame_lib: str) -> None:
    sample = "https://example.com/voices/me.mp3"
    sb = make_sandbox(media={sample: 20.0})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    clones = make_frame(frame_lib, {"sample": [sample], "name": ["My voice"]}).akool.run(
        "voice_clone", source_voice_file=af.col("sample"), name=af.col("name"), client=client, progress=False,
        prefix="clone_")
    assert list(clones["clone_status"]) == ["completed"]
    speech = clones.akool.run("tts", input_text="Hello in my own voice.", voice_id=af.col("clone_job_id"),
                              client=client, progress=False, prefix="tts_")
    client.close()
    assert list(speech["tts_status"]) == ["completed"]
    tts_job = next(job for job in sb.state.jobs.values() if job.name == "tts")
    assert tts_job.extra["voice"]["_id"] == clones["clone_job_id"][0]  # spoken in the cloned voice
