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


def _buried(make_sandbox, tmp_path: Path, rows: int) -> tuple[af.Sandbox, pd.DataFrame, pd.DataFrame]:
    """``rows`` TTS jobs submitted, then 250 newer ones from another program on the account (ours sink past the
    two pages a run of a few jobs covers), then the run that follows ours."""
    sb = make_sandbox(time_scale=20.0)  # TTS takes 3-6 sandbox seconds: still running when followed
    df = pd.DataFrame({"text": [f"Line {i}: buried." for i in range(rows)]})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as client:
        sent = df.akool.submit("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)
        assert (sent["akool_status"] != "completed").all()
        with httpx.Client(base_url=sb.url, headers={"x-api-key": sb.api_key}) as other:
            for i in range(250):
                answer = other.post("/api/open/v4/voice/tts", json={"input_text": f"Other {i}", "voice_id": VOICE})
                assert answer.json()["code"] == 1000
        out = df.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)
    assert (out["akool_status"] == "completed").all()
    assert list(out["akool_job_id"]) == list(sent["akool_job_id"])  # followed, not sent again
    assert sb.stats()["creates"] == rows + 250 and sb.stats()["duplicate_creates"] == 0
    return sb, sent, out


def test_buried_jobs_are_read_from_deeper_pages_while_that_costs_less_than_polling_them(make_sandbox,
                                                                                        tmp_path: Path) -> None:
    # five due jobs under 250 newer ones: the third page shows them (3 list requests, not 2 + 5 single polls)
    sb, _, _ = _buried(make_sandbox, tmp_path, 5)
    assert sb.stats()["polls_by_endpoint"].get(DETAIL, 0) == 0
    assert _requests_to(sb, LIST) >= 3


def test_a_lone_buried_job_is_polled_on_its_own(make_sandbox, tmp_path: Path) -> None:
    # one due job: a page past the two it covers would cost as much as the single poll, so it is polled alone
    sb, _, _ = _buried(make_sandbox, tmp_path, 1)
    assert sb.stats()["polls_by_endpoint"].get(DETAIL, 0) >= 1
    assert _requests_to(sb, LIST) >= 2  # the two pages were looked at first
