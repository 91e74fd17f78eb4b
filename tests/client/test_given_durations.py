"""``duration=``: the media length given instead of probed, on every duration-priced job; the
estimate then makes no request at all (the sandbox's count), and the columns say where each length came from."""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from tests.client.conftest import columns, make_frame

UNREACHABLE = [f"https://cdn.unreachable.invalid/audio/{i}.mp3" for i in range(40)]

# job -> its parameters, with the media whose length prices it unreachable
DURATION_JOBS: dict[str, dict[str, Any]] = {
    "talking_photo": {"talking_photo_url": "https://cdn.example.com/p.png", "audio_url": af.col("media")},
    "lip_sync": {"video_url": af.col("media"), "audio_url": "https://cdn.example.com/a.mp3"},
    "faceswap_video": {"sourceImage": [{"path": "https://cdn.example.com/s.png", "opts": "1,2:3,4"}],
                       "targetImage": [{"path": "https://cdn.example.com/t.png", "opts": "1,2:3,4"}],
                       "modifyVideo": af.col("media"), "face_enhance": 0},
    "voice_change": {"voice_id": "6889b628662160e2caad5dbc", "source_voice_file": af.col("media")},
}


@pytest.mark.parametrize("job", sorted(DURATION_JOBS))
def test_given_durations_make_no_request(sb: af.Sandbox, client: af.Client, frame_lib: str, job: str) -> None:
    params = DURATION_JOBS[job]
    seconds = [12.5 + i for i in range(len(UNREACHABLE))]
    df = make_frame(frame_lib, {"media": UNREACHABLE, "seconds": seconds})
    before = sb.stats()["requests"]
    got = columns(df.akool.estimate(job, client=client, rates={job: 10.0}, duration=af.col("seconds"), **params))
    assert sb.stats()["requests"] == before  # nothing fetched, nothing asked
    assert got["akool_status"] == [None] * len(seconds), got["akool_error"][:2]
    assert got["akool_duration_s"] == seconds
    assert got["akool_duration_source"] == ["given"] * len(seconds)
    assert all(e is not None and e > 0 for e in got["akool_credits_est"])
    assert all("(given)" in basis for basis in got["akool_price_basis"])


def test_voice_change_documented_rule_with_a_given_length(client: af.Client) -> None:
    """The voice changer's documented rule (per minute, by plan) on a given length: 12.8 s on business = 0.512."""
    df = pd.DataFrame({"f": ["https://cdn.unreachable.invalid/v.wav"]})
    got = df.akool.estimate("voice_change", voice_id="6889b628662160e2caad5dbc", source_voice_file=af.col("f"),
                            duration=12.8, plan="business", client=client)
    assert got["akool_credits_est"].tolist() == [pytest.approx(0.512)]
    assert got["akool_duration_source"].tolist() == ["given"]


def test_duration_as_a_constant_a_column_or_a_series(client: af.Client) -> None:
    df = pd.DataFrame({"audio": UNREACHABLE[:3], "secs": [10.0, 20.0, 30.0]}, index=["a", "b", "c"])
    params = {"talking_photo_url": "https://cdn.example.com/p.png", "audio_url": af.col("audio"),
              "rates": {"talking_photo": 6.0}, "client": client}
    constant = df.akool.estimate("talking_photo", duration=30, **params)
    column = df.akool.estimate("talking_photo", duration=af.col("secs"), **params)
    series = df.akool.estimate("talking_photo", duration=pd.Series([30.0, 20.0, 10.0], index=["c", "b", "a"]),
                               **params)
    assert constant["akool_credits_est"].tolist() == [3.0, 3.0, 3.0]  # 30 s = 0.5 min x 6
    assert column["akool_credits_est"].tolist() == [1.0, 2.0, 3.0]
    assert series["akool_credits_est"].tolist() == [1.0, 2.0, 3.0]  # aligned by index, as any Series
    lazy = pl.LazyFrame({"audio": UNREACHABLE[:2], "secs": [60.0, 120.0]}).akool.estimate(
        "talking_photo", talking_photo_url="https://cdn.example.com/p.png", audio_url=pl.col("audio"),
        duration=pl.col("secs"), rates={"talking_photo": 6.0}, client=client)
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.collect()["akool_credits_est"].to_list() == [6.0, 12.0]


def test_a_bad_duration_is_an_invalid_row_naming_it(sb: af.Sandbox, client: af.Client) -> None:
    df = pd.DataFrame({"audio": UNREACHABLE[:4], "secs": [30.0, -5.0, None, 0.0]})
    df["secs"] = df["secs"].astype(object)
    df.loc[0, "secs"] = "thirty"
    got = df.akool.estimate("talking_photo", talking_photo_url="https://cdn.example.com/p.png",
                            audio_url=af.col("audio"), duration=af.col("secs"), client=client,
                            rates={"talking_photo": 6.0})
    errors = got["akool_error"].tolist()
    assert got["akool_status"].tolist()[:2] == ["invalid", "invalid"] and got["akool_status"][3] == "invalid"
    assert "duration must be the media length in seconds" in errors[0] and "'thirty'" in errors[0]
    assert "got -5.0" in errors[1] and "got 0.0" in errors[3]
    # a blank duration means "not given": that row is measured (here: unreachable, so no price, with why)
    assert got["akool_status"][2] is pd.NA or got["akool_status"][2] is None
    assert pd.isna(got["akool_credits_est"][2]) and "cdn.unreachable.invalid" in got["akool_error"][2]


def test_character_swap_keeps_its_documented_duration_field(sb: af.Sandbox, client: af.Client) -> None:
    df = pd.DataFrame({"video": ["https://cdn.unreachable.invalid/v.mp4"] * 2, "secs": [12.0, 10.0]})
    got = df.akool.estimate("character_swap", image="https://cdn.example.com/f.png", video=af.col("video"),
                            duration=af.col("secs"), resolution="720p", client=client)
    assert got["akool_credits_est"].tolist() == [30.0, 20.0]  # the documented worked examples
    assert got["akool_duration_source"].tolist() == ["given", "given"]
