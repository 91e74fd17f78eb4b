"""Throughput against a rate-limited sandbox: how close the client runs to the allowed rate, and what
each finished job costs in HTTP requests. Not a test: it prints figures (see bench/README.md).

    python bench/bench_throughput.py                    # 2,000 jobs per case, four cases (a few minutes)
    python bench/bench_throughput.py --rows 300 --jobs tts --modes told

For each job type (image_to_video: its poll takes many ids; tts: one id per poll) and each mode (the
client told the rate with ``rate_limit=``, or discovering it from throttling), a fresh sandbox limited
to ``--rate`` requests/s per account (token bucket, one second of burst) with a little latency runs
``--rows`` jobs from a pandas frame through ``df.akool.run``. Printed per case:

- rate/allowed: requests the sandbox accepted (not throttled) per second over the submission phase
  (first to last create) and over the whole run ("overall"), divided by the allowed rate; "of bucket"
  divides what was accepted in the submission phase by the most the bucket could accept in it (the
  rate for that long, plus its one second of burst at the start);
- req/job: every HTTP request the sandbox received (creates, polls, look-ups, throttled ones too) per
  completed job, and polls per job;
- throttled: answers the sandbox gave as throttling; cuts: rate cuts the client's limiter made.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

import akool_frames as af


def frame(job: str, rows: int, voice: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Distinct rows (distinct ledger keys) and the parameters that bind them."""
    if job == "tts":
        df = pd.DataFrame({"script": [f"Line {i}: the quick brown fox jumps over the lazy dog." for i in range(rows)]})
        return df, {"input_text": af.col("script"), "voice_id": voice}
    df = pd.DataFrame({"prompt": [f"Shot {i}: a slow pan across a quiet harbour at dawn" for i in range(rows)]})
    return df, {"image_url": "https://example.com/portrait.jpg", "prompt": af.col("prompt"),
                "negative_prompt": "blurry", "resolution": "720p", "audio_type": 3, "video_length": 5}


def first_voice(sb: af.Sandbox) -> str:
    import httpx

    answer = httpx.get(f"{sb.url}/api/open/v4/voice/list", params={"type": "2"}, headers={"x-api-key": sb.api_key})
    return str(answer.json()["data"]["result"][0]["_id"])


def accepted_rate(log: list[dict[str, Any]], start: float, end: float) -> float:
    """Requests per second the sandbox accepted (answered without throttling) between ``start`` and ``end``."""
    n = sum(1 for e in log if start <= e["t"] <= end and not e.get("throttled"))
    return n / max(end - start, 1e-9)


def case(job: str, told: bool, args: argparse.Namespace) -> dict[str, Any]:
    # time_scale=1: sandbox time is real time, so its request log measures real rates, and jobs take
    # as long as the sandbox's documented-ish processing times (tts ~3-6 s, image to video ~10-12 s).
    with af.sandbox(time_scale=1.0, rate_limit=args.rate, faults=af.Faults(latency=(0.005, 0.03)),
                    http_429=args.http_429) as sb, tempfile.TemporaryDirectory() as tmp:
        options = {**sb.client_options(), "poll_interval": None, "reconcile_after": 2.0}  # the jobs' own intervals
        client = af.Client(**options, ledger=Path(tmp) / "ledger.sqlite", max_concurrency=args.concurrency,
                           rate_limit=args.rate if told else None)
        df, params = frame(job, args.rows, first_voice(sb))
        begin = time.monotonic()
        out = df.akool.run(job, client=client, progress=False, **params)
        wall = time.monotonic() - begin
        log, stats = sb.log(), sb.stats()
        limiter = client.http.gate.limiter
        client.close()
    creates = [e["t"] for e in log if e.get("kind") == "create"]
    first, last_create, last = min(creates), max(creates), max(e["t"] for e in log)
    completed = int((out["akool_status"] == "completed").sum())
    return {
        "job": job, "mode": "told" if told else "discover", "rows": args.rows, "completed": completed,
        "wall_s": wall, "submit_s": last_create - first,
        "rate_submit": accepted_rate(log, first, last_create) / args.rate,
        # The bucket also holds one second of burst at the start: what it could have accepted at most.
        "of_bucket": accepted_rate(log, first, last_create) * (last_create - first)
        / (args.rate * (last_create - first) + args.rate),
        "rate_overall": accepted_rate(log, first, last) / args.rate,
        "req_per_job": stats["requests"] / max(completed, 1), "polls_per_job": stats["polls"] / max(completed, 1),
        "throttled": stats["throttled"], "cuts": limiter.cuts, "duplicates": stats["duplicate_creates"],
        "max_in_flight": stats["max_in_flight"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=40.0, help="the sandbox's limit, requests/s per account")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--jobs", nargs="+", default=["image_to_video", "tts"])
    parser.add_argument("--modes", nargs="+", default=["told", "discover"], choices=["told", "discover"])
    parser.add_argument("--http-429", action="store_true", help="throttle with HTTP 429 + Retry-After, not 1005")
    args = parser.parse_args(argv)
    header = (f"{'job':<15}{'mode':<10}{'done':>6}{'wall s':>8}{'submit s':>9}{'rate/allowed':>14}{'of bucket':>10}"
              f"{'overall':>9}{'req/job':>9}{'polls/job':>10}{'throttled':>10}{'cuts':>6}{'dups':>6}")
    print(f"sandbox limit {args.rate:g}/s, max_concurrency {args.concurrency}, {args.rows} rows per case, "
          f"throttling by {'HTTP 429 + Retry-After' if args.http_429 else 'in-band code 1005'}")
    print(header)
    for job in args.jobs:
        for mode in args.modes:
            r = case(job, mode == "told", args)
            print(f"{r['job']:<15}{r['mode']:<10}{r['completed']:>6}{r['wall_s']:>8.1f}{r['submit_s']:>9.1f}"
                  f"{r['rate_submit']:>14.3f}{r['of_bucket']:>10.3f}{r['rate_overall']:>9.3f}{r['req_per_job']:>9.3f}"
                  f"{r['polls_per_job']:>10.3f}{r['throttled']:>10}{r['cuts']:>6}{r['duplicates']:>6}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
