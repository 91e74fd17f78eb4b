"""Forecasts: a campaign priced from counts, line by line, never a row per unit.

The campaign of the issue: 500 talking photos of 30 s at 720p, 2,000 TTS lines of ~120 characters, 200
image-to-video 10 s 1080p, 50 character swaps of 12 s. Each line's price is checked against the per-row
``estimate`` of a materialised sample of its rows (the same rules, row by row), and a full materialisation
of a smaller campaign adds up to the forecast exactly.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from akool_frames import pricing

CAMPAIGN = pd.DataFrame({
    "job": ["talking_photo", "tts", "image_to_video", "character_swap"],
    "count": [500, 2000, 200, 50],
    "duration_s": [30, None, None, 12],
    "resolution": ["720", None, "1080p", "720p"],
    "characters": [None, 120, None, None],
    "video_length": [None, None, 10, None],
})
VOICE = "6889b628662160e2caad5dbc"


class _Client:
    """What a forecast reads of a client (plan, USD per credit); a forecast needs no connection."""

    plan, usd_per_credit = "pro", 0.04


def _lines(report: af.Report) -> pd.DataFrame:
    table = report.table
    return table[table["job"] != "total"].reset_index(drop=True)


def test_the_issue_campaign_line_by_line() -> None:
    fc = af.forecast(CAMPAIGN, client=_Client())
    lines = _lines(fc)
    assert lines["job"].tolist() == CAMPAIGN["job"].tolist()
    # the documented rules: tts 120 chars x 4.4/1000; image to video 10 s 1080p = 50; swap 12 s 720p = 3 x 10
    assert lines["unit_credits"].tolist()[1:] == [pytest.approx(0.528), 50.0, 30.0]
    assert lines["credits_est"].tolist()[1:] == [pytest.approx(1056.0), 10000.0, 1500.0]
    # talking photos have no documented price: counted, listed with the reason, never summed as 0
    assert pd.isna(lines["credits_est"][0]) and lines["unpriced_rows"][0] == 500
    assert fc.unpriced["job"].tolist() == ["talking_photo"]
    assert "the docs give no price for talking_photo" in fc.unpriced["reason"][0]
    assert fc.unpriced_rows == 500
    assert fc.total_est == pytest.approx(1056.0 + 10000.0 + 1500.0)
    assert "500 units have no price and are not included" in fc.summary()
    assert lines["usd_est"].tolist()[1:] == [pytest.approx(1056 * 0.04), 400.0, 60.0]


def test_rates_price_the_lines_the_docs_cannot(tmp_path: Path) -> None:
    fc = af.forecast(CAMPAIGN, client=_Client(), rates={"talking_photo": 60})  # credits per minute
    lines = _lines(fc)
    assert lines["credits_est"][0] == pytest.approx(500 * 30 / 60 * 60)
    assert "your rate" in lines["price_basis"][0] and fc.unpriced_rows == 0
    rates = tmp_path / "rates.toml"
    rates.write_text('[rates]\ntalking_photo = 40\n')
    from_file = _lines(af.forecast(CAMPAIGN, client=_Client(), rates=rates))
    assert from_file["credits_est"][0] == pytest.approx(500 * 0.5 * 40) and "rates.toml" in from_file["price_basis"][0]
    with pytest.raises(af.ValidationError, match="did you mean 'talking_photo'"):
        af.forecast(CAMPAIGN, client=_Client(), rates={"talking_foto": 60})


def test_scenarios_side_by_side_and_a_sheet_path(tmp_path: Path) -> None:
    path = tmp_path / "campaign.csv"
    CAMPAIGN.to_csv(path, index=False)
    double = CAMPAIGN.assign(count=CAMPAIGN["count"] * 2)
    fc = af.forecast({"A": path, "B": double}, client=_Client(), rates={"talking_photo": 60})
    table = fc.table
    assert list(table.columns[:2]) == ["scenario", "job"]
    totals = fc.scenario_totals
    assert totals["B"]["credits_est"] == pytest.approx(2 * totals["A"]["credits_est"])
    assert table[table["job"] == "total"]["scenario"].tolist() == ["A", "B"]  # one total per scenario


def test_millions_of_units_cost_one_price_per_line(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = pricing.estimate

    def counting(spec: Any, body: Any, ctx: Any = None) -> Any:
        calls.append(str(getattr(spec, "name", spec)))
        return real(spec, body, ctx)

    monkeypatch.setattr(pricing, "estimate", counting)
    huge = CAMPAIGN.assign(count=[5_000_000, 3_000_000, 1_500_000, 500_000])  # 10 million units
    fc = af.forecast(huge, client=_Client(), backend="polars")
    assert len(calls) == len(huge)  # one unit priced per line, nothing per unit
    lines = fc.table.filter(pl.col("job") != "total")
    assert lines["rows"].sum() == 10_000_000
    assert lines["credits_est"][1] == pytest.approx(3_000_000 * 0.528)


def _materialise(line: dict[str, Any], n: int) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    """``n`` rows of a forecast line, as a user's frame, and the parameters that estimate them."""
    job = line["job"]
    if job == "tts":
        df = pd.DataFrame({"text": ["x" * int(line["characters"])] * n})
        return job, df, {"input_text": af.col("text"), "voice_id": VOICE}
    if job == "talking_photo":
        df = pd.DataFrame({"audio": [f"https://cdn.example.com/{i}.mp3" for i in range(n)],
                           "seconds": [float(line["duration_s"])] * n})
        return job, df, {"talking_photo_url": "https://cdn.example.com/p.png", "audio_url": af.col("audio"),
                         "resolution": str(line["resolution"]), "duration": af.col("seconds")}
    if job == "image_to_video":
        df = pd.DataFrame({"prompt": [f"shot {i}" for i in range(n)]})
        return job, df, {"image_url": "https://cdn.example.com/i.png", "prompt": af.col("prompt"),
                         "negative_prompt": "blurry", "audio_type": 3, "resolution": line["resolution"],
                         "video_length": int(line["video_length"])}
    df = pd.DataFrame({"video": [f"https://cdn.example.com/{i}.mp4" for i in range(n)]})
    return job, df, {"image": "https://cdn.example.com/face.png", "video": af.col("video"),
                     "resolution": line["resolution"], "duration": float(line["duration_s"])}


def test_a_forecast_equals_the_per_row_estimates_of_its_rows(tmp_path: Path) -> None:
    """Every line priced per unit = the estimate of each of its rows; a campaign small enough to
    materialise whole adds up to the forecast's total exactly."""
    client = af.Client(api_key="k" * 16, base_url="http://127.0.0.1:9", ledger=tmp_path / "ledger.sqlite")
    rates = {"talking_photo": 60}
    small = CAMPAIGN.assign(count=[7, 40, 5, 3])
    fc = af.forecast(small, client=_Client(), rates=rates)
    per_row: list[float] = []
    for line, unit in zip(small.to_dict("records"), _lines(fc)["unit_credits"], strict=True):
        job, df, params = _materialise(line, int(line["count"]))
        est = df.akool.estimate(job, client=client, rates=rates, **params)
        assert est["akool_status"].isna().all(), est["akool_error"].tolist()
        assert est["akool_credits_est"].tolist() == [unit] * len(df)
        per_row += est["akool_credits_est"].tolist()
    assert round(math.fsum(per_row), 6) == fc.total_est
    client.close()
