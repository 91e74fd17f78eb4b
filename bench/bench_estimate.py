"""How fast `estimate` prices a frame, beside the one-line polars expression of the same rule, in one run.

    python bench/bench_estimate.py                 # 1M rows (about a minute)
    python bench/bench_estimate.py --rows 200000

For a table-priced job (image_to_video: the documented (video_length, resolution) table) and for TTS (4.4 credits
per 1000 characters on the pro plan), on polars and pandas: the time of ``df.akool.estimate`` (validation of every
field, the price, and the seven estimate columns), and of the hand-written expression of the rule alone, best of
five, and their ratio; and on polars the same estimate of a LazyFrame, collected (``lf.akool.estimate``), beside
the eager one: rows/s of each and their ratio. Then the per-row path (``_fast_estimate.row_by_row()``) on a fifth
of the rows, for scale. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

import akool_frames as af
from akool_frames.frames._fast_estimate import row_by_row

TABLE = pl.DataFrame({"video_length": [5, 5, 5, 10, 10, 10], "resolution": ["720p", "1080p", "4k"] * 2,
                      "credits": [20.0, 25.0, 30.0, 40.0, 50.0, 60.0]})
HANZI = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你"
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "the", "campaign", "narrates",
         "every", "line"]


def best(fn: Callable[[], Any], times: int = 5) -> float:
    out = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - started)
    return out


def frames(rows: int) -> dict[str, pl.DataFrame]:
    rng = random.Random(7)
    return {
        "image_to_video": pl.DataFrame({"prompt": [f"shot {i} of the harbour at dawn" for i in range(rows)],
                                        "resolution": rng.choices(["720p", "1080p", "4k"], k=rows),
                                        "video_length": rng.choices([5, 10], k=rows)}),
        "tts": pl.DataFrame({"text": [" ".join(rng.choices(WORDS, k=rng.randint(8, 30))) for _ in range(rows)]}),
        # texts that do not all start with printable ASCII take the longer "not blank" test (seven ranges)
        "tts (zh)": pl.DataFrame({"text": ["“" * (i % 7 == 0) + "".join(rng.choices(HANZI, k=rng.randint(8, 40)))
                                           for i in range(rows)]}),
    }


PARAMS = {
    "image_to_video": {"image_url": "https://cdn.example.com/i.png", "prompt": af.col("prompt"),
                       "negative_prompt": "blurry", "audio_type": 3, "resolution": af.col("resolution"),
                       "video_length": af.col("video_length")},
    "tts": {"input_text": af.col("text"), "voice_id": "6889b628662160e2caad5dbc"},
}
HAND = {  # the rule alone, as a user would write it in polars
    "image_to_video": lambda df: df.join(TABLE, on=["video_length", "resolution"], how="left"),
    "tts": lambda df: df.with_columns(credits=pl.col("text").str.len_chars() * 4.4 / 1000),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        client = af.Client(api_key="k" * 16, base_url="http://127.0.0.1:9", ledger=Path(tmp) / "ledger.sqlite")
        print(f"estimate of {args.rows:,} rows (best of 5), beside the hand-written polars expression of the rule")
        print(f"{'job':<16}{'library':<9}{'estimate':>11}{'rows/s':>14}{'hand (polars)':>15}{'ratio':>8}")
        for job, frame in frames(args.rows).items():
            label, job = job, job.split()[0]
            hand = best(lambda f=frame, j=job: HAND[j](f))
            for library in ("polars", "pandas"):
                native = frame if library == "polars" else pd.DataFrame(frame.to_dict(as_series=False))
                seconds = best(lambda n=native, j=job: n.akool.estimate(j, client=client, **PARAMS[j]))
                print(f"{label:<16}{library:<9}{seconds * 1000:>9.0f} ms{args.rows / seconds:>14,.0f}"
                      f"{hand * 1000:>12.1f} ms{seconds / hand:>8.1f}")
        print(f"\npolars, eager DataFrame vs LazyFrame (estimate, then collect), {args.rows:,} rows, best of 5:")
        print(f"{'job':<16}{'eager rows/s':>14}{'lazy rows/s':>14}{'lazy/eager':>12}")
        for label, frame in frames(args.rows).items():
            job, lazy = label.split()[0], frame.lazy()
            eager_s = best(lambda f=frame, j=job: f.akool.estimate(j, client=client, **PARAMS[j]))
            lazy_s = best(lambda f=lazy, j=job: f.akool.estimate(j, client=client, **PARAMS[j]).collect())
            print(f"{label:<16}{args.rows / eager_s:>14,.0f}{args.rows / lazy_s:>14,.0f}{lazy_s / eager_s:>11.2f}x")
        small = max(1, args.rows // 5)
        print(f"\nthe per-row path (row_by_row()), {small:,} rows, for scale:")
        with row_by_row():
            for label, frame in frames(small).items():
                job = label.split()[0]
                seconds = best(lambda f=frame, j=job: f.akool.estimate(j, client=client, **PARAMS[j]), times=1)
                print(f"{label:<16}{'polars':<9}{seconds * 1000:>9.0f} ms{small / seconds:>14,.0f} rows/s")
        client.close()


if __name__ == "__main__":
    main()
