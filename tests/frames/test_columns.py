"""Result columns every verb shares, on pandas and polars: nullable types, the prefix, replacement in place
when a verb runs again, and the async twins (aestimate, asubmit, arun, arefresh, adownload) of the sync verbs."""

from __future__ import annotations

import asyncio
from typing import Any

import pandas as pd

import akool_frames.frames._verbs as F
from akool_frames.frames._bind import col
from tests.frames.conftest import PRICED_BY, RESULT, dtypes


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


def test_sync_twins_are_derived() -> None:
    for name in ("estimate", "submit", "run", "refresh", "download"):
        sync, coro = getattr(F, name), getattr(F, "a" + name)
        assert sync.__name__ == name and sync.__wrapped__ is coro
