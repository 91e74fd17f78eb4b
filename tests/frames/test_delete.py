"""``df.akool.delete()`` on pandas and polars: what the rows made is removed at the provider where the docs give a way (seed 001
Delete Voice, page 11 delete-result, page 19 delbyids, Kling delete-voices; page 33 reage cancel by job_id), the
ledger records it, a second call sends nothing, and jobs without a delete endpoint say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns

FACE = "https://d21ksh0k4smeql.cloudfront.net/crop_1695201103793-0234-0-1695201106985-2306.png"
FACE_OPTS = "2804,2182:3607,1897:3341,2566:3519,2920"
CDN = "https://drz0f01yeq1cx.cloudfront.net/"


def stack(*frames: Any) -> Any:
    """The rows of several frames of one library, one after another (columns missing from one are null there)."""
    if isinstance(frames[0], pd.DataFrame):
        return pd.concat(frames, ignore_index=True)
    return pl.concat(frames, how="diagonal_relaxed")


def deletes(sb: af.Sandbox) -> list[dict[str, Any]]:
    return [e for e in sb.log() if e.get("kind") == "delete"]


def gone(sb: af.Sandbox, job_ids: list[str]) -> list[bool]:
    with sb.state.lock:
        return [sb.state.jobs[i].deleted for i in job_ids]


def test_clones_are_deleted_once_and_leave_the_voice_list(sb: af.Sandbox, client: af.Client, frame: Any) -> None:
    """Clones count against the plan's voice quota (seed 001): delete() frees them; the ledger keeps deleted_at."""
    df = frame({"u": [CDN + "a.mp3", CDN + "b.mp3"]})
    made = df.akool.run("voice_clone", source_voice_file=af.col("u"), client=client, progress=False)
    assert len(af.voices(cloned=True, client=client)) == 2

    out = columns(made.akool.delete(client=client))
    assert out["akool_deleted"] == [True, True] and out["akool_delete_error"] == [None, None]
    assert len(af.voices(cloned=True, client=client)) == 0
    assert gone(sb, out["akool_job_id"]) == [True, True]
    assert len(deletes(sb)) == 1  # both ids in one call (a JSON array of _ids)
    ledger = columns(af.ledger(client=client))
    assert all(t is not None for t in ledger["deleted_at"])

    again = columns(made.akool.delete(client=client))
    assert again["akool_deleted"] == [True, True] and len(deletes(sb)) == 1  # nothing sent the second time

    rerun = columns(df.akool.run("voice_clone", source_voice_file=af.col("u"), client=client, progress=False))
    assert rerun["akool_url"] == [None, None]  # no dead link: the row says what happened and how to redo it
    assert all("deleted on" in e and "force=True" in e for e in rerun["akool_error"])
    assert sb.stats()["creates"] == 2


def test_face_swap_and_video_results_are_deleted(sb: af.Sandbox, client: af.Client, frame: Any) -> None:
    swaps = frame({"e": [0, 1]}).akool.run(
        "faceswap_image", targetImage=[{"path": FACE, "opts": FACE_OPTS}], sourceImage=[{"path": FACE, "opts": FACE_OPTS}],
        modifyImage=CDN + "m.jpg", face_enhance=af.col("e"), client=client, progress=False)
    videos = frame({"i": [CDN + "1753772478686-9524.png"]}).akool.run(
        "image_to_video", image_url=af.col("i"), prompt="Slow pan.", negative_prompt="blurry", resolution="720p",
        video_length=5, audio_type=3, client=client, progress=False)
    both = stack(swaps, videos)
    out = both.akool.delete(client=client)
    assert columns(out)["akool_deleted"] == [True, True, True]
    assert gone(sb, columns(out)["akool_job_id"]) == [True, True, True]
    paths = sorted(e["path"] for e in deletes(sb))
    assert paths == ["/api/open/v3/faceswap/result/delbyids", "/api/open/v4/image2Video/delbyids"]
    # the provider no longer answers them
    refreshed = out.akool.refresh(client=client, progress=False)
    assert columns(refreshed)["akool_deleted"] == [True, True, True]


def test_reage_still_running_is_cancelled_by_its_task_id(make_sandbox: Any, tmp_path: Path, frame: Any) -> None:
    """Page 33: cancel takes job_ids, the create answer's job_id (kept as akool_task_id), not the _id. The job then
    ends failed; a face swap still running cannot be cancelled and says so."""
    sb = make_sandbox(time_scale=0.001)  # jobs stay queued for the length of the test
    client = af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite")
    reage = frame({"age": [10]}).akool.submit(
        "reage_image", targetImage=[{"path": FACE, "opts": FACE_OPTS}], face_reage=af.col("age"),
        modifyImage=CDN + "m.jpg", client=client, progress=False)
    assert reage["akool_task_id"][0]
    swap = frame({"e": [0]}).akool.submit(
        "faceswap_image", targetImage=[{"path": FACE}], sourceImage=[{"path": FACE}], modifyImage=CDN + "m.jpg",
        face_enhance=af.col("e"), client=client, progress=False)
    out = columns(stack(reage, swap).akool.delete(client=client))
    assert out["akool_deleted"] == [True, False]
    assert "cannot be cancelled" in out["akool_delete_error"][1]
    assert [e["path"] for e in deletes(sb)] == ["/api/open/v3/faceswap/job/del"]
    with sb.state.lock:
        assert sb.state.jobs[reage["akool_job_id"][0]].fail_reason == "Task cancelled"
    entry = client.ledger.by_job_ids([reage["akool_job_id"][0]])[reage["akool_job_id"][0]]
    assert entry.status == "failed" and entry.error == "cancelled by delete()"
    client.close()


def test_kling_custom_voice_is_deleted_by_its_voice_id(sb: af.Sandbox, client: af.Client, frame: Any) -> None:
    made = frame({"n": ["mine"]}).akool.run(
        "kling.custom_voice", voice_name=af.col("n"), voice_url="https://cdn.example.com/v.mp3", client=client,
        progress=False)
    out = columns(made.akool.delete(client=client))
    assert out["akool_deleted"] == [True]
    (call,) = deletes(sb)
    assert call["path"].endswith("/v1/general/delete-voices")  # on the sandbox's Kling host
    assert gone(sb, [out["akool_job_id"][0]]) == [True]


def test_jobs_without_a_delete_endpoint_say_so_and_send_nothing(sb: af.Sandbox, client: af.Client,
                                                                 frame: Any) -> None:
    df = frame({"t": ["Keep me.", None]})
    done = df.akool.run("tts", input_text=af.col("t"), voice_id=VOICE, client=client, progress=False)
    out = columns(done.akool.delete(client=client))
    assert out["akool_deleted"][0] is None
    assert out["akool_delete_error"][0] == "tts has no documented delete endpoint; nothing was sent"
    assert out["akool_deleted"][1] is None and out["akool_delete_error"][1] is None  # invalid row: no job
    assert deletes(sb) == []


def test_a_frame_without_job_ids_is_refused(client: af.Client, frame: Any) -> None:
    with pytest.raises(af.ValidationError, match="no 'akool_job_id' column"):
        frame({"x": [1]}).akool.delete(client=client)
