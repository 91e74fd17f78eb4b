"""``ddf.akool`` on the threaded scheduler (the caller's process, its own client and SQLite ledger): the verbs build lazy
frames, computing them runs the pandas verbs partition by partition, and the result is the pandas verb's, row for
row, with the frame's index, order and partitions. Real HTTP against the sandbox; Parquet in and out through a real
S3 API (moto) with issue 22's storage."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dask
import dask.dataframe as dd
import pandas as pd
import pytest

import akool_frames as af
from tests.dask.conftest import VOICE, lines


@pytest.fixture(autouse=True)
def _threads() -> Iterator[None]:
    with dask.config.set(scheduler="threads"):
        yield


def _counted(frame: pd.DataFrame, npartitions: int) -> tuple[dd.DataFrame, list[int]]:
    """A Dask frame whose partitions are made on demand, and the list of those made so far (a partition made is a
    partition computed)."""
    size = -(-len(frame) // npartitions)
    parts = [frame.iloc[i * size:(i + 1) * size] for i in range(npartitions)]
    made: list[int] = []

    def load(i: int) -> pd.DataFrame:
        made.append(i)
        return parts[i]

    ddf = dd.from_map(load, range(npartitions), meta=frame.iloc[:0], divisions=[
        *(int(p.index[0]) for p in parts), int(parts[-1].index[-1])])
    return ddf, made


def test_estimate_stays_lazy_and_equals_the_pandas_estimate(box: af.Sandbox, counts: Callable[[], dict]) -> None:
    frame = lines(30, "the estimate", invalid=(4, 17))
    ddf, made = _counted(frame, 3)
    est = ddf.akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client)
    assert isinstance(est, dd.DataFrame)
    assert made == [] and counts()["requests"] == 0  # nothing computed, nothing asked
    assert est.npartitions == 3 and est.divisions == ddf.divisions
    out = est.compute()
    expected = ddf.compute().akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client)
    pd.testing.assert_frame_equal(out, expected)
    assert list(out.index) == list(frame.index)
    assert list(est.dtypes.items()) == list(out.dtypes.items())  # the meta is the computed frame's
    assert out.loc[[112, 151], "akool_status"].tolist() == ["invalid", "invalid"]
    assert counts()["creates"] == 0


def test_run_is_lazy_and_gives_the_pandas_run_row_for_row(box: af.Sandbox, counts: Callable[[], dict]) -> None:
    frame = lines(40, "the threads run", invalid=(25,))
    ddf, made = _counted(frame, 4)
    done = ddf.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client)
    assert made == [] and counts()["requests"] == 0
    assert done.npartitions == 4 and done.divisions == ddf.divisions
    out = done.compute()
    assert counts() == {**counts(), "creates": 39, "duplicate_creates": 0}
    statuses = out["akool_status"].tolist()
    assert statuses == ["completed"] * 25 + ["invalid"] + ["completed"] * 14  # (the invalid row stopped nothing)
    assert list(out.index) == list(frame.index)
    assert list(done.dtypes.items()) == list(out.dtypes.items())
    # The pandas run of the same rows on the same ledger: the same jobs (none sent again), the same frame.
    again = ddf.compute().akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client,
                                    progress=False)
    pd.testing.assert_frame_equal(out, again)
    assert counts()["creates"] == 39


def test_what_the_verbs_refuse_is_said_when_they_are_called(box: af.Sandbox, counts: Callable[[], dict]) -> None:
    ddf = dd.from_pandas(lines(6, "refusals"), npartitions=2)
    akool = ddf.akool
    cases = [
        (lambda: akool.run("tts", input_text=af.col("text"), voice_id=VOICE, budget=5), "estimate(...)"),
        (lambda: akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, budget=5), "estimate(...)"),
        (lambda: akool.run("tts", input_text=af.col("text"), voice_id=VOICE, progress=True), "ProgressBar"),
        (lambda: akool.run("tts", input_text=af.col("txt"), voice_id=VOICE), "Did you mean"),
        (lambda: akool.submit("tts", input_text=pd.Series(["a"] * 6), voice_id=VOICE), "ddf.assign"),
        (lambda: akool.run("tts", input_text=af.col("text"), voice_id=VOICE, name="{line}"), "save_to="),
        (lambda: akool.run("tts", input_text=af.col("text"), voice_id=VOICE, follow="carrier pigeon"), "'poll'"),
        (lambda: akool.refresh(prefix="tts_"), "tts_job_id"),
        (lambda: akool.download("out/"), "akool_url"),
    ]
    for call, hint in cases:
        with pytest.raises((af.ValidationError, af.ConfigError)) as caught:
            call()
        assert hint in str(caught.value)
    with pytest.raises(KeyError, match="ttts"):
        akool.run("ttts", input_text=af.col("text"), voice_id=VOICE)
    assert counts()["requests"] == 0


def test_refresh_and_download_on_dask_frames(box: af.Sandbox, counts: Callable[[], dict], tmp_path: Path) -> None:
    frame = lines(24, "refresh and download")
    sent = dd.from_pandas(frame, npartitions=3).akool.submit("tts", input_text=af.col("text"), voice_id=VOICE,
                                                             client=box.client).persist()
    assert counts()["creates"] == 24
    later = sent.akool.refresh(client=box.client, follow=True)
    files = later.akool.download(tmp_path / "audio", client=box.client, name="{job_id}_{line}")
    assert later.npartitions == files.npartitions == 3
    out = files.compute()
    assert out["akool_status"].tolist() == ["completed"] * 24
    assert list(out.index) == list(frame.index)
    assert list(files.dtypes.items()) == list(out.dtypes.items())
    names = sorted(p.name for p in (tmp_path / "audio").iterdir())
    assert names == sorted(Path(f).name for f in out["akool_file"])
    assert all(Path(f).name == f"{j}_{n}.mp3" for f, j, n in zip(out["akool_file"], out["akool_job_id"], out["line"],
                                                                    strict=True))
    assert out["akool_expires_at"].notna().all()
    assert counts() == {**counts(), "creates": 24, "duplicate_creates": 0}


# Dask 2026.8's Parquet reader calls reset_index/set_index(inplace=True), which pandas 3.1 deprecates: Dask's, not ours.
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.(reset|set)_index is deprecated")
def test_parquet_from_a_bucket_run_and_written_back(box: af.Sandbox, counts: Callable[[], dict], s3) -> None:
    frame = lines(20, "the bucket")
    frame.to_parquet(s3.uri("in/lines.parquet"), index=True)
    ddf = dd.read_parquet(s3.uri("in/"))
    done = ddf.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client,
                         save_to=s3.uri("audio/"))
    done.to_parquet(s3.uri("out/"))
    back = pd.read_parquet(s3.uri("out/"))
    assert back["akool_status"].tolist() == ["completed"] * 20
    assert back["line"].tolist() == list(range(20)) and list(back.index) == list(frame.index)
    assert sorted(back["akool_file"]) == sorted(s3.uri(k) for k in s3.keys("audio/"))
    assert counts() == {**counts(), "creates": 20, "duplicate_creates": 0}


def test_a_campaign_budget_holds_across_partitions(box: af.Sandbox, tmp_path: Path) -> None:
    client = af.Client(**box.client_options(), ledger=tmp_path / "campaign.sqlite", max_concurrency=2)
    frame = lines(12, "the campaign")
    per_row = frame.akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE,
                                   client=client)["akool_credits_est"]
    budget = float(per_row.iloc[:7].sum()) + 1e-6  # room for 7 of the 12 rows, whichever partitions they are in
    done = dd.from_pandas(frame, npartitions=3).akool.run("tts", input_text=af.col("text"), voice_id=VOICE,
                                                          client=client, budget=budget, campaign="dask")
    out = done.compute()
    statuses = out["akool_status"].value_counts().to_dict()
    assert statuses.get("completed", 0) + statuses.get("skipped", 0) == 12 and statuses.get("skipped", 0) >= 4
    assert out.loc[out["akool_status"] == "skipped", "akool_error"].str.contains("campaign 'dask' has").all()
    figures = af.campaigns(client=client).set_index("campaign").loc["dask"]
    assert figures["charged"] + figures["reserved"] <= budget
    with pytest.raises(af.ValidationError, match="budget= holds one call's total"):
        dd.from_pandas(frame, npartitions=3).akool.run("tts", input_text=af.col("text"), voice_id=VOICE,
                                                       client=client, budget=budget)
