"""How long a forecast takes as its campaign grows: lines are priced, units are only multiplied.

    python bench/bench_forecast.py

Prints the time of ``af.forecast`` for the sample campaign (sample_data/campaign.csv) scaled to 10 thousand,
1 million and 10 million units (the same lines, counts multiplied), and for 10 million units spread over
1,000 lines, beside the time of a per-row ``estimate`` of 100,000 materialised TTS rows, for scale.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

import akool_frames as af

CAMPAIGN = Path(__file__).resolve().parents[1] / "sample_data" / "campaign.csv"


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    campaign = af.read_sheet(CAMPAIGN)
    base = int(campaign["count"].sum())
    rates = {"talking_photo": 60, "video_translation": 40}
    print(f"sample campaign: {len(campaign)} lines, {base:,} units")
    for units in (10_000, 1_000_000, 10_000_000):
        scaled = campaign.assign(count=(campaign["count"] * units // base).astype("Int64"))
        print(f"  {units:>12,} units: forecast {timed(lambda s=scaled: af.forecast(s, rates=rates)) * 1000:7.1f} ms")
    wide = pd.concat([campaign] * 143, ignore_index=True).head(1000)
    wide = wide.assign(count=10_000)
    print(f"  {10_000_000:>12,} units over {len(wide):,} lines: forecast "
          f"{timed(lambda: af.forecast(wide, rates=rates)) * 1000:7.1f} ms")
    rows = pd.DataFrame({"text": ["x" * 120] * 100_000})
    client = af.Client(api_key="k" * 16, base_url="http://127.0.0.1:9", ledger="/tmp/bench-forecast.sqlite")
    seconds = timed(lambda: rows.akool.estimate("tts", input_text=af.col("text"), voice_id="v", client=client))
    print(f"  for scale: estimate of 100,000 materialised tts rows {seconds * 1000:7.1f} ms")
    client.close()


if __name__ == "__main__":
    main()
