"""Runs under injected faults: every row ends with a status, nothing is created twice, in-flight requests stay
within max_concurrency, lost creates are adopted (or left unknown), failed jobs are not charged, throttling
only slows the client down. Real HTTP against the sandbox; pandas and polars."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import akool_frames as af
from tests.client.conftest import VOICE, columns, make_frame
from tests.conftest import akool

TTS = "/api/open/v4/voice/tts"
TTS_LIST = "/api/open/v4/voice/resource/list"
TALKING_PHOTO = "/api/open/v3/content/video/createbytalkingphoto"
FINAL = {"completed", "failed", "rejected", "unknown"}


def _texts(n: int, tag: str = "") -> list[str]:
    return [f"Row {i}{tag}: faults are features." for i in range(n)]


def _run_tts(lib: str, client: af.Client, texts: list[str]) -> dict[str, list[Any]]:
    df = make_frame(lib, {"text": texts})
    out = columns(df.akool.run("tts", client=client, progress=False, timeout=60, input_text=af.col("text"),
                               voice_id=VOICE))
    assert out["text"] == texts  # input kept, in order, nothing dropped
    return out


def _jobs_by_text(sb: af.Sandbox) -> dict[str, list[Any]]:
    """The jobs the sandbox made, by the text they were made from."""
    made: dict[str, list[Any]] = {}
    with sb.state.lock:
        for job in sb.state.jobs.values():
            made.setdefault(job.body["input_text"], []).append(job)
    return made


def _create_faults(sb: af.Sandbox, path: str) -> Counter[str]:
    return Counter(e["fault"] for e in sb.log() if e["path"] == path and e["fault"])


# ----------------------------------------------------------------------------------- mixed faults
CREATE_FAULTS = af.Faults(error_5xx=0.08, reset_before=0.05, reset_after=0.08, throttle=0.05, job_fail=0.1,
                          latency=(0.0, 0.01))
POLL_FAULTS = af.Faults(error_5xx=0.08, reset_before=0.05, throttle=0.05, latency=(0.0, 0.01))


@pytest.mark.parametrize("where", ["create+poll", "everywhere"])
def test_every_row_ends_settled_and_nothing_is_created_twice(make_sandbox: Callable[..., af.Sandbox],
                                                             tmp_path: Path, frame_lib: str, where: str) -> None:
    # TTS is polled through its result list (a look-up), and one job at a time where the list does not show it
    faults: Any = ({"tts": CREATE_FAULTS, "poll": POLL_FAULTS, "voice_resource_list": POLL_FAULTS}
                   if where == "create+poll" else CREATE_FAULTS)
    sb = make_sandbox(faults=faults, seed=7)
    texts = _texts(80)
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=3) as client:
        out = _run_tts(frame_lib, client, texts)
    stats = sb.stats()

    statuses = Counter(out["akool_status"])
    assert set(statuses) <= FINAL, statuses  # no row left queued/processing or without a status
    assert statuses["completed"] >= 60
    assert stats["duplicate_creates"] == 0
    assert stats["max_in_flight"] <= 3
    # The schedule really hit creates (answers lost after the job was made, too) and polls.
    faults = _create_faults(sb, TTS)
    assert faults["reset_after"] >= 2 and faults["error_5xx"] >= 2 and faults["reset_before"] >= 1, faults
    assert sum(1 for e in sb.log() if e.get("kind") in ("poll", "lookup") and e["fault"] and e["fault"] != "throttle") >= 3

    made = _jobs_by_text(sb)
    assert all(len(jobs) == 1 for jobs in made.values())
    for text, status, job_id, credits, error in zip(texts, out["akool_status"], out["akool_job_id"],
                                                   out["akool_credits"], out["akool_error"], strict=True):
        if status in ("completed", "failed"):  # the job the sandbox made for this very row
            (job,) = made[text]
            assert job_id == job.id
        if status == "completed":
            assert error is None and credits == pytest.approx(made[text][0].credits)
        if status == "failed":
            assert made[text][0].fail_reason is not None
            assert credits == 0.0 and "failed" in error
        if status == "unknown":
            assert job_id is None and error
    # What the account was charged is exactly what the rows report.
    assert stats["credits_charged"] == pytest.approx(sum(c for c in out["akool_credits"] if c is not None))


def test_a_lost_answer_is_adopted_from_the_list_not_resent(make_sandbox: Callable[..., af.Sandbox],
                                                           tmp_path: Path, frame_lib: str) -> None:
    # Creates 1 and 3 are handled (job made, credits taken), then the connection drops.
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "reset_after", 3: "reset_after"})})
    texts = _texts(4)
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=1) as client:
        out = _run_tts(frame_lib, client, texts)
    assert out["akool_status"] == ["completed"] * 4
    assert out["akool_error"] == [None] * 4
    made = _jobs_by_text(sb)
    assert out["akool_job_id"] == [made[t][0].id for t in texts]
    assert [e["fault"] for e in sb.log() if e["path"] == TTS] == ["reset_after", None, "reset_after", None]
    stats = sb.stats()
    assert (stats["creates"], stats["duplicate_creates"]) == (4, 0)
    # The list found both (its pages also poll the run's jobs, so their number is not counted here)
    lookups = [e["path"].split("?")[0] for e in sb.log() if e.get("kind") == "lookup"]
    assert lookups and set(lookups) == {TTS_LIST}


def test_a_create_that_never_arrived_is_sent_again(make_sandbox: Callable[..., af.Sandbox], tmp_path: Path,
                                                   frame_lib: str) -> None:
    # Dropped before handling, then an HTTP 500 before handling: the list proves both absent.
    sb = make_sandbox(faults={"tts": af.Faults(at={1: "reset_before", 2: "error_5xx"}, statuses=(500,))})
    texts = _texts(2)
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=1) as client:
        out = _run_tts(frame_lib, client, texts)
    assert out["akool_status"] == ["completed", "completed"]
    assert [e["fault"] for e in sb.log() if e["path"] == TTS] == ["reset_before", "error_5xx", None, None]
    stats = sb.stats()
    assert (stats["creates"], stats["duplicate_creates"]) == (2, 0)


def test_failed_jobs_show_failed_with_a_reason_and_no_charge(make_sandbox: Callable[..., af.Sandbox],
                                                             tmp_path: Path, frame_lib: str) -> None:
    sb = make_sandbox(faults={"tts": af.Faults(at={2: "job_fail"})})
    texts = _texts(3)
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=1) as client:
        out = _run_tts(frame_lib, client, texts)
    assert out["akool_status"] == ["completed", "failed", "completed"]
    assert out["akool_error"] == [None, "the job failed at akool (no reason given)", None]
    assert out["akool_credits"][1] == 0.0
    assert out["akool_url"][1] is None and out["akool_url"][0] and out["akool_url"][2]
    assert sb.stats()["credits_charged"] == pytest.approx(out["akool_credits"][0] + out["akool_credits"][2])


# ----------------------------------------------------------------------------------- throttling
@pytest.mark.parametrize("http_429", [False, True], ids=["code-1005", "http-429"])
def test_throttling_slows_the_client_down_and_fails_no_row(make_sandbox: Callable[..., af.Sandbox],
                                                           tmp_path: Path, frame_lib: str, http_429: bool) -> None:
    # A real limit (token bucket, 60/s) the client is not told about; in-band, throttling at random too.
    # (Random 429s would carry the sandbox's Retry-After of 1 s, which the client honours: too slow here.)
    throttle = af.Faults(throttle=0 if http_429 else 0.1, latency=(0.0, 0.005))
    sb = make_sandbox(rate_limit=60, http_429=http_429, faults={"tts": throttle, "poll": throttle})
    rows = 150  # creates alone overrun the bucket (60/s and one second of burst): TTS polls are shared
    texts = _texts(rows)
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=8) as client:
        out = _run_tts(frame_lib, client, texts)
        limiter = client.http.gate.limiter
        assert limiter.rate is not None and limiter.cuts >= 1  # it learnt a rate from the answers
    assert out["akool_status"] == ["completed"] * rows
    stats = sb.stats()
    assert (stats["creates"], stats["duplicate_creates"]) == (rows, 0)
    assert 0 < stats["throttled"] < rows
    throttled = [e for e in sb.log() if e.get("throttled")]
    assert all(e["status"] == (429 if http_429 else 200) and e["code"] == 1005 for e in throttled)


# ----------------------------------------------------------------------------------- no list endpoint
def test_without_a_list_endpoint_a_lost_create_stays_unknown(make_sandbox: Callable[..., af.Sandbox],
                                                             tmp_path: Path, frame_lib: str) -> None:
    sb = make_sandbox(faults={"talking_photo": af.Faults(at={1: "reset_after", 3: "reset_after"})})
    df = make_frame(frame_lib, {"photo": [f"https://example.com/p{i}.jpg" for i in range(4)]})
    params = {"talking_photo_url": af.col("photo"), "audio_url": "https://example.com/a.mp3", "resolution": "720",
              "duration": 5}  # (the audio's length given: not probed)

    def run() -> dict[str, list[Any]]:
        with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=1) as client:
            return columns(df.akool.run("talking_photo", client=client, progress=False, timeout=60, **params))

    first = run()
    assert first["akool_status"] == ["unknown", "completed", "unknown", "completed"]
    assert first["akool_job_id"][0] is None and first["akool_job_id"][2] is None
    for error in (first["akool_error"][0], first["akool_error"][2]):
        assert "has no list endpoint" in error and "Look for it in your account" in error and "force=True" in error
    assert sb.stats()["creates"] == 4  # the sandbox made all four: two answers were lost

    second = run()  # the same rows, the same ledger: still unknown, never resent
    assert second["akool_status"] == first["akool_status"]
    assert second["akool_error"][0] == first["akool_error"][0]
    assert second["akool_job_id"] == first["akool_job_id"]
    stats = sb.stats()
    assert (stats["creates"], stats["duplicate_creates"]) == (4, 0)
    assert len([e for e in sb.log() if e["path"] == TALKING_PHOTO]) == 4  # no create request at all the 2nd time


def test_progress_counts_the_jobs_sent_and_ends_full_under_faults(make_sandbox: Callable[..., af.Sandbox],
                                                                   tmp_path: Path, frame_lib: str) -> None:
    from akool_frames.frames._progress import Progress

    # Six distinct texts, one invalid row (nothing to send) and a repeat of the first (the same job).
    sb = make_sandbox(faults={"tts": af.Faults(at={2: "reset_after", 4: "job_fail"})})
    texts = [*_texts(6), "", _texts(1)[0]]
    sink = Progress("tts", bars=False)
    df = make_frame(frame_lib, {"text": texts})
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=1) as client:
        out = columns(df.akool.run("tts", client=client, progress=sink, input_text=af.col("text"), voice_id=VOICE))
    assert out["akool_status"] == ["completed", "completed", "completed", "failed", "completed", "completed",
                                   "invalid", "completed"]
    assert (sink.total, sink.n_submitted, sink.n_finished, sink.closed) == (6, 6, 6, True)
    assert sink.by_status == {"completed": 6, "failed": 1}  # by row: the repeated row counts twice
    assert sink.credits == pytest.approx(sum(c for c in out["akool_credits"][:6] if c is not None))
    assert sink.credits_est == pytest.approx(sum(out["akool_credits_est"][:6]))


# ----------------------------------------------------------------------------------- lost under a deep list
def test_creates_lost_in_a_long_run_are_settled_while_it_goes_on_under_an_account_full_of_jobs(
        make_sandbox: Callable[..., af.Sandbox], tmp_path: Path) -> None:
    """An account already holding many jobs (another app's, no ledger), and two creates of this run lost:
    one never handled, one handled whose answer was lost. The first is proven absent by a job this ledger saw
    made before it (the list's records carry dates, but the provider's clock is not ours, so they prove
    nothing), and sent again while the run still sends the others; the second is found and adopted.
    Before, both were looked up only after the last create, within the run's own depth, and left unknown."""
    # The losses come when the run has lasted well over reconcile_after (so a landmark exists) and leave it as
    # long again (the look-up's wait): here about three times reconcile_after each.
    earlier, rows = 700, 900
    sb = make_sandbox(faults={"tts": af.Faults(at={earlier + 400: "reset_before", earlier + 410: "reset_after"})})
    with akool(sb) as http:
        for i in range(earlier):
            assert http.post(TTS, json={"input_text": f"Another app's line {i}", "voice_id": VOICE}).json()["code"] == 1000
    texts = _texts(rows)
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite", max_concurrency=2) as client:
        out = _run_tts("pandas", client, texts)
        attempts = {e["job_id"]: e["attempt"] for e in client.ledger.entries()}
    assert out["akool_status"] == ["completed"] * rows
    sent = [e["fault"] for e in sb.log() if e["path"] == TTS][earlier:]
    assert (len(sent), Counter(sent)["reset_before"], Counter(sent)["reset_after"]) == (rows + 1, 1, 1)  # one resend
    stats = sb.stats()
    assert (stats["creates"], stats["duplicate_creates"]) == (earlier + rows, 0)
    made = _jobs_by_text(sb)
    assert all(len(made[t]) == 1 for t in texts)
    [resent] = [made[t][0] for t in texts if attempts[made[t][0].id] == 2]  # its first attempt never arrived
    last = max(job.created for t in texts for job in made[t])
    assert resent.created < last  # sent again before the run's last create, not after
    # Proven absent where the list reached a job made before it (the polls read the first pages too), not by
    # reading on to the list's end (page 16): the jobs made within reconcile_after of the loss fill a few pages
    pages = [int(e["query"]["page"]) for e in sb.log() if e["path"] == TTS_LIST]
    assert max(pages) <= 4
