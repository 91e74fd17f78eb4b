"""Shared polls: TTS has no multi-id poll, but its result list (voiceLab#get-voice-results-list,
newest first) carries every record's status, so a run polls many jobs with one request, and one at a time
only the jobs the pages no longer show. Counted on the sandbox's side."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd

import akool_frames as af
from tests.client.conftest import VOICE

DETAIL = "/api/open/v4/voice/resource/detail/{_id}"
LIST = "/api/open/v4/voice/resource/list"


def _requests_to(sb: af.Sandbox, path: str) -> int:
    return sum(1 for e in sb.log() if e["path"].split("?", 1)[0] == path)


def test_tts_jobs_are_polled_through_their_list(sb: af.Sandbox, client: af.Client) -> None:
    df = pd.DataFrame({"text": [f"Line {i}: shared polls." for i in range(300)]})
    out = df.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)
    assert (out["akool_status"] == "completed").all()
    assert out["akool_url"].notna().all() and out["akool_credits"].notna().all()
    stats = sb.stats()
    assert stats["creates"] == 300 and stats["duplicate_creates"] == 0
    assert stats["polls_by_endpoint"].get(DETAIL, 0) == 0  # no job was polled on its own
    assert _requests_to(sb, LIST) >= 1
    assert stats["requests"] / 300 <= 1.2  # one create per job, and a share of a list page


def test_jobs_the_pages_no_longer_show_are_polled_one_by_one(make_sandbox, tmp_path: Path) -> None:
    sb = make_sandbox(time_scale=20.0)  # TTS takes 3-6 sandbox seconds: still running when followed
    df = pd.DataFrame({"text": [f"Line {i}: buried." for i in range(5)]})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        sent = df.akool.submit("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)
        assert (sent["akool_status"] != "completed").all()
        # Another program on the same account makes 250 newer jobs: ours sink past the two pages a run of
        # five jobs looks through.
        with httpx.Client(base_url=sb.url, headers={"x-api-key": sb.api_key}) as other:
            for i in range(250):
                answer = other.post("/api/open/v4/voice/tts", json={"input_text": f"Other {i}", "voice_id": VOICE})
                assert answer.json()["code"] == 1000
        out = df.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)
    assert (out["akool_status"] == "completed").all()
    assert list(out["akool_job_id"]) == list(sent["akool_job_id"])  # followed, not sent again
    stats = sb.stats()
    assert stats["creates"] == 255 and stats["duplicate_creates"] == 0
    assert stats["polls_by_endpoint"].get(DETAIL, 0) >= 5  # each of ours, on its own
    assert _requests_to(sb, LIST) >= 2  # the two pages were looked at first
