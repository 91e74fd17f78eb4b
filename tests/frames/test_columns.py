"""Result columns: names, order, types, index, row order, prefix, replacement, refresh and download."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames.frames._verbs as F
from akool_frames.frames._bind import col
from akool_frames._errors import ValidationError
from akool_frames.engine._prepare import Outcome

RESULT = ["akool_job_id", "akool_status", "akool_url", "akool_credits_est", "akool_credits", "akool_error",
          "akool_job", "akool_price_basis", "akool_duration_s", "akool_duration_source"]
PRICED_BY = {"akool_job": "string", "akool_price_basis": "string", "akool_duration_s": "Float64",
             "akool_duration_source": "string"}


def dtypes(native: Any) -> dict[str, str]:
    if isinstance(native, pd.DataFrame):
        return {c: str(t) for c, t in native.dtypes.items()}
    return {c: str(t) for c, t in native.schema.items()}


def test_run_adds_result_columns(frame: Any, engine: Any, as_dict: Any) -> None:
    df = frame({"text": ["bb", None, "a"], "n": [3, 1, 2]}, index=[30, 10, 20])
    before = as_dict(df)
    out = df.akool.run("tts", text=col("text"))
    assert type(out) is type(df)
    assert list(out.columns) == ["text", "n", *RESULT]
    assert as_dict(df) == before and list(df.columns) == ["text", "n"]  # input untouched
    assert as_dict(out) == {
        **before,
        "akool_job_id": ["job-bb", None, "job-a"],
        "akool_status": ["completed", "invalid", "completed"],
        "akool_url": ["https://files.test/bb.mp3", None, "https://files.test/a.mp3"],
        "akool_credits_est": [2.0, None, 1.0],
        "akool_credits": [2.0, None, 1.0],
        "akool_error": [None, f"row {10 if isinstance(df, pd.DataFrame) else 1}: text is required", None],
        **{c: [None, None, None] for c in PRICED_BY},  # the fake engine's outcomes say nothing of prices
    }
    if isinstance(df, pd.DataFrame):
        assert list(out.index) == [30, 10, 20]


def test_types_are_nullable_strings_and_float64(frame: Any, engine: Any) -> None:
    out = frame({"text": ["a", None]}).akool.submit("tts", text=col("text"))
    types = dtypes(out)
    if isinstance(out, pd.DataFrame):
        assert {c: types[c] for c in RESULT} == {"akool_job_id": "string", "akool_status": "string",
                                                 "akool_url": "string", "akool_credits_est": "Float64",
                                                 "akool_credits": "Float64", "akool_error": "string", **PRICED_BY}
    else:
        assert {c: types[c] for c in RESULT} == {"akool_job_id": "String", "akool_status": "String",
                                                 "akool_url": "String", "akool_credits_est": "Float64",
                                                 "akool_credits": "Float64", "akool_error": "String",
                                                 **{c: t.capitalize() if t == "string" else t
                                                    for c, t in PRICED_BY.items()}}


def test_estimate_adds_its_columns(frame: Any, engine: Any, as_dict: Any) -> None:
    out = frame({"text": ["abc", None]}).akool.estimate("tts", text=col("text"), plan="max", rates={"tts": 1.0})
    assert list(out.columns)[1:] == ["akool_credits_est", "akool_status", "akool_error", *PRICED_BY]
    assert as_dict(out)["akool_status"] == [None, "invalid"]
    assert as_dict(out)["akool_credits_est"] == [3.0, None]
    call = engine.calls[-1]
    assert (call["mode"], call["plan"], call["rates"]) == ("estimate", "max", {"tts": 1.0})


def test_options_reach_the_engine(frame: Any, engine: Any) -> None:
    client = object()
    frame({"text": ["a"]}).akool.submit("tts", text=col("text"), client=client, budget=9.5, timeout=3.0,
                                        force=True, progress=False)
    call = engine.calls[-1]
    assert (call["client"], call["budget"], call["timeout"], call["force"], call["mode"]) == (
        client, 9.5, 3.0, True, "submit")


def test_default_client(frame: Any, engine: Any, default_client: Any) -> None:
    frame({"text": ["a"]}).akool.submit("tts", text=col("text"), progress=False)
    assert engine.calls[-1]["client"] is default_client


def test_prefix(frame: Any, engine: Any) -> None:
    out = frame({"text": ["a"]}).akool.submit("tts", text=col("text"), prefix="tts_", progress=False)
    assert list(out.columns) == ["text", *(c.replace("akool_", "tts_") for c in RESULT)]


def test_rerun_replaces_columns_in_place(frame: Any, engine: Any, as_dict: Any) -> None:
    first = frame({"text": ["a", "bb"]}).akool.submit("tts", text=col("text"), progress=False)
    moved = first[[*RESULT, "text"]] if isinstance(first, pd.DataFrame) else first.select(*RESULT, "text")
    again = moved.akool.run("tts", text=col("text"), progress=False)
    assert list(again.columns) == [*RESULT, "text"]
    assert as_dict(again)["akool_status"] == ["completed", "completed"]
    estimated = again.akool.estimate("tts", text=col("text"))
    assert list(estimated.columns) == [*RESULT, "text"]
    assert as_dict(estimated)["akool_job_id"] == ["job-a", "job-bb"]  # estimate leaves the others alone


def test_async_twins(frame: Any, engine: Any, as_dict: Any) -> None:
    df = frame({"text": ["a"]})

    async def main() -> list[Any]:
        return [await df.akool.aestimate("tts", text=col("text")),
                await df.akool.asubmit("tts", text=col("text"), progress=False),
                await df.akool.arun("tts", text=col("text"), progress=False)]

    estimated, submitted, done = asyncio.run(main())
    assert as_dict(estimated)["akool_credits_est"] == [1.0]
    assert as_dict(submitted)["akool_status"] == ["queued"]
    assert as_dict(done)["akool_status"] == ["completed"]
    refreshed = asyncio.run(done.akool.arefresh(progress=False))
    files = asyncio.run(done.akool.adownload("out"))
    assert as_dict(refreshed)["akool_status"] == ["completed"]
    assert as_dict(files)["akool_file"] == ["out/job-a.mp3"]


def test_lazyframe_submit_collects(engine: Any) -> None:
    out = pl.LazyFrame({"text": ["a", "b"]}).akool.run("tts", text=pl.col("text"), progress=False)
    assert isinstance(out, pl.DataFrame)
    assert out["akool_status"].to_list() == ["completed", "completed"]


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


def test_download_adds_file_column(frame: Any, engine: Any, tmp_path: Any, as_dict: Any) -> None:
    done = frame({"text": ["a", None]}).akool.run("tts", text=col("text"), progress=False)
    out = done.akool.download(tmp_path)
    assert engine.calls[-1]["urls"] == ["https://files.test/a.mp3", None]
    assert engine.calls[-1]["names"] == ["job-a", "row1"]
    assert as_dict(out)["akool_file"] == [f"{tmp_path}/job-a.mp3", None]
    assert dtypes(out)["akool_file"] in ("string", "String")


def test_download_needs_urls(frame: Any, engine: Any) -> None:
    with pytest.raises(ValidationError, match="no 'akool_url' column"):
        frame({"text": ["a"]}).akool.download("out")


def test_empty_frame(frame: Any, engine: Any) -> None:
    out = frame({"text": []}).akool.run("tts", text=col("text"), progress=False)
    assert list(out.columns) == ["text", *RESULT] and len(out) == 0


def test_sync_twins_are_derived() -> None:
    for name in ("estimate", "submit", "run", "refresh", "download"):
        sync, coro = getattr(F, name), getattr(F, "a" + name)
        assert sync.__name__ == name and sync.__wrapped__ is coro
