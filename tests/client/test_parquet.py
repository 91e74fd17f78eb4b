"""Parquet: a result frame (two jobs' columns, a list column, UTC datetimes, nulls) written to Parquet
and read back is identical, with pandas (through pyarrow, in the `pandas` extra) and with polars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
from polars.testing import assert_frame_equal

import akool_frames as af
from tests.client.conftest import VOICE, make_frame

CDN = "https://d11fbe263bhqij.cloudfront.net/agicontent/video/global_reach/"  # the sandbox serves it


def _results(client: af.Client, frame_lib: str, folder: Path) -> Any:
    df = make_frame(frame_lib, {"script_id": ["00101", "00102", "00103"], "img": [CDN + "a.png", CDN + "b.png", None],
                                "n": [2, 1, 1], "line": ["Hello there.", "Hola.", None]})
    speech = df.akool.run("tts", input_text=af.col("line"), voice_id=VOICE, client=client, prefix="tts_",
                          progress=False)
    videos = speech.akool.run("image_to_video", image_url=af.col("img"), prompt="Slow pan.",
                              model_name="seedance-1-0-lite-i2v-250428", resolution="720p", video_length=5,
                              count=af.col("n"), client=client, prefix="video_", progress=False)
    return videos.akool.download(folder, client=client, prefix="video_", progress=False)


def test_results_round_trip_through_parquet(client: af.Client, frame_lib: str, tmp_path: Path) -> None:
    out = _results(client, frame_lib, tmp_path / "videos")
    path = tmp_path / "results.parquet"
    if frame_lib == "pandas":
        assert [len(ids) for ids in out["video_video_ids"][:2]] == [2, 1]  # the list column is there
        assert str(out["video_expires_at"].dtype) == "datetime64[ns, UTC]" and out["video_expires_at"].notna()[0]
        out.to_parquet(path)
        pd.testing.assert_frame_equal(pd.read_parquet(path), out)
    else:
        assert out.schema["video_video_ids"] == pl.List(pl.String) and out["video_video_ids"].list.len()[0] == 2
        assert out.schema["video_expires_at"] == pl.Datetime("us", "UTC") and out["video_expires_at"][0] is not None
        out.write_parquet(path)
        assert_frame_equal(pl.read_parquet(path), out)
