"""Kling keeps our external_task_id per account: a forced resend must send a new one, and a lost answer
is found again by the one it was sent with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

import akool_frames as af

VOICE = "https://example.com/voices/narrator.wav"


def test_force_resends_kling_with_a_fresh_external_id(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(media={VOICE: 12.0})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    df = pd.DataFrame({"name": ["Narrator"]})
    first = df.akool.run("kling.custom_voice", voice_name=af.col("name"), voice_url=VOICE, client=client, progress=False)
    again = df.akool.run("kling.custom_voice", voice_name=af.col("name"), voice_url=VOICE, client=client,
                         progress=False, force=True)
    client.close()
    assert first["akool_status"].tolist() == ["completed"] and again["akool_status"].tolist() == ["completed"]
    assert first["akool_job_id"][0] != again["akool_job_id"][0]
    externals = sorted(job.body["external_task_id"] for job in sb.state.jobs.values())
    assert len(externals) == 2 and externals[0] != externals[1] and all(e.startswith("af-") for e in externals)


def test_a_lost_kling_answer_is_found_by_its_external_id(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(media={VOICE: 12.0}, faults={"kling.custom_voice": af.Faults(at={1: "reset_after"})})
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    out = pd.DataFrame({"name": ["Narrator"]}).akool.run(
        "kling.custom_voice", voice_name=af.col("name"), voice_url=VOICE, client=client, progress=False)
    client.close()
    assert out["akool_status"].tolist() == ["completed"]
    stats = sb.stats()
    assert stats["creates"] == 1 and stats["duplicate_creates"] == 0 and stats["faults"] == {"reset_after": 1}
    assert out["akool_job_id"].tolist() == list(sb.state.jobs)  # adopted: the task the sandbox made
