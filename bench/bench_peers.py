"""akool_frames beside what a user would write without it: the same N jobs, the same sandbox settings,
three ways. Not a test: it prints figures (see bench/README.md).

    python bench/bench_peers.py                          # 2,000 and 10,000 rows, both jobs (hours: see below)
    python bench/bench_peers.py --quick                  # 300 rows, both jobs (~15 minutes)
    python bench/bench_peers.py --rows 2000 --jobs tts   # one job, one size
    python bench/bench_peers.py --quick --webhook        # + df.akool.run(..., follow="webhook")
    python bench/bench_peers.py --quick --gather-scope request   # the loop's semaphore around each request
    python bench/bench_peers.py --rows 10000 --jobs tts --webhook --library-only   # akool_frames alone, after a change

Methods, each on a FRESH sandbox in another process (``akool-frames sandbox --time-scale TS --rate-limit R
--concurrency-limit CL --credits 1e12``, defaults 1, 40 req/s, 8), so that counts do not mix:

- akool_frames: ``df.akool.run(job, client=af.Client(..., max_concurrency=C, rate_limit=R))``;
- gather: ``httpx.AsyncClient`` + ``asyncio.Semaphore(C)`` + ``asyncio.gather`` over the rows; each task creates
  its job, then polls it every 1 s until terminal, and on a throttle (code 1005 or HTTP 429) sleeps 1 s and
  retries. ``--gather-scope job`` (default, the common way): the semaphore is held for a job's whole life;
  ``request``: around each HTTP request only (every job is started at once, then all poll);
- sequential: ``df.apply`` per row with ``httpx.Client``: create, then poll every 1 s until done. Run on
  ``--sequential-rows`` rows (default 20) once per job; its makespan is extrapolated linearly to N.

The gather loop (job scope) runs C jobs at a time: about C / 3 s jobs per second for TTS and C / 10 s for
image to video at the defaults, so 10,000 rows take about an hour (TTS) and three (image to video).

Printed per case: completed jobs; makespan (wall time of the call: first request to last job seen done);
req/job (every request the sandbox received during the call, throttled ones too, per completed job);
rate/allowed (requests the sandbox accepted, not throttled, per second over the makespan, then over the
submission phase from first to last create, divided by R); throttled answers; duplicate creates. Then the
makespan ratios. Targets (the issue): >= 0.95 of the allowed rate (while submitting), <= 1.2 requests per
job, makespan >= 4x shorter than the gather loop and >= 50x shorter than sequential.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _remote import RemoteSandbox, remote_sandbox
from bench_throughput import accepted_rate, frame

import akool_frames as af

# Paths and answer shapes as the sandbox serves them (sandbox/families/voice.py, image2video.py).
CREATE = {"tts": "/api/open/v4/voice/tts", "image_to_video": "/api/open/v4/image2Video/createBySourcePrompt"}
TTS_DETAIL, I2V_RESULTS = "/api/open/v4/voice/resource/detail/{}", "/api/open/v4/image2Video/resultsByIds"
THROTTLED, COMPLETED, FAILED = 1005, 3, 4
RATE_TARGET, REQ_TARGET, GATHER_TARGET, SEQ_TARGET = 0.95, 1.2, 4.0, 50.0
Col = type(af.col("x"))


def body(row: Any, params: dict[str, Any]) -> dict[str, Any]:
    return {k: row[v.name] if isinstance(v, Col) else v for k, v in params.items()}


def poll_request(job: str, job_id: str) -> tuple[str, str, dict[str, Any] | None]:
    if job == "tts":
        return "GET", TTS_DETAIL.format(job_id), None
    return "POST", I2V_RESULTS, {"_ids": job_id}  # one id per call, as a per-job loop asks


def status_of(job: str, answer: dict[str, Any]) -> int | None:
    result = (answer.get("data") or {}).get("result")
    if job == "tts":
        return (result or {}).get("status")
    return result[0].get("status") if result else None


def throttled(answer: httpx.Response) -> bool:
    return answer.status_code == 429 or answer.json().get("code") == THROTTLED


def checked(answer: httpx.Response) -> dict[str, Any]:
    payload = answer.raise_for_status().json()
    if payload.get("code") != 1000:
        raise RuntimeError(f"{answer.request.url.path}: {payload}")
    return payload


# ---------------------------------------------------------------- the hand-written gather loop
async def acall(http: httpx.AsyncClient, sem: asyncio.Semaphore | None, method: str, path: str,
                json: dict[str, Any] | None) -> dict[str, Any]:
    while True:
        if sem is None:
            answer = await http.request(method, path, json=json)
        else:
            async with sem:
                answer = await http.request(method, path, json=json)
        if not throttled(answer):
            return checked(answer)
        await asyncio.sleep(1)


async def afollow(http: httpx.AsyncClient, sem: asyncio.Semaphore | None, job: str, create: dict[str, Any]) -> int:
    job_id = (await acall(http, sem, "POST", CREATE[job], create))["data"]["_id"]
    while True:
        await asyncio.sleep(1)
        status = status_of(job, await acall(http, sem, *poll_request(job, job_id)))
        if status in (COMPLETED, FAILED):
            return status


async def gather_loop(sb: RemoteSandbox, job: str, bodies: list[dict[str, Any]], args: argparse.Namespace) -> list[Any]:
    sem = asyncio.Semaphore(args.concurrency)
    async with httpx.AsyncClient(base_url=sb.url, headers={"x-api-key": sb.api_key}, timeout=60) as http:
        async def one(create: dict[str, Any]) -> int:
            if args.gather_scope == "request":
                return await afollow(http, sem, job, create)
            async with sem:
                return await afollow(http, None, job, create)
        return await asyncio.gather(*(one(b) for b in bodies), return_exceptions=True)


# ---------------------------------------------------------------- the three methods (and webhook)
def run_gather(sb: RemoteSandbox, job: str, df: pd.DataFrame, params: dict[str, Any], args: argparse.Namespace,
               tmp: Path) -> int:
    outcomes = asyncio.run(gather_loop(sb, job, [body(r, params) for r in df.to_dict("records")], args))
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        print(f"    gather: {len(errors)} tasks raised, first: {errors[0]!r}")
    return sum(o == COMPLETED for o in outcomes)


def run_sequential(sb: RemoteSandbox, job: str, df: pd.DataFrame, params: dict[str, Any],
                   args: argparse.Namespace, tmp: Path) -> int:
    with httpx.Client(base_url=sb.url, headers={"x-api-key": sb.api_key}, timeout=60) as http:
        def call(method: str, path: str, json: dict[str, Any] | None) -> dict[str, Any]:
            while throttled(answer := http.request(method, path, json=json)):
                time.sleep(1)
            return checked(answer)

        def one(row: pd.Series) -> int:
            job_id, status = call("POST", CREATE[job], body(row, params))["data"]["_id"], None
            while status not in (COMPLETED, FAILED):
                time.sleep(1)
                status = status_of(job, call(*poll_request(job, job_id)))
            return int(status)  # type: ignore[arg-type]

        return int((df.apply(one, axis=1) == COMPLETED).sum())


def run_library(sb: RemoteSandbox, job: str, df: pd.DataFrame, params: dict[str, Any], args: argparse.Namespace,
                tmp: Path, **follow: str) -> int:
    client = af.Client(**sb.client_options(), ledger=tmp / "ledger.sqlite", max_concurrency=args.concurrency,
                       rate_limit=args.rate)
    try:
        out = df.akool.run(job, client=client, progress=False, **follow, **params)
    finally:
        client.close()
    return int((out["akool_status"] == "completed").sum())


def run_webhook(*a: Any) -> int:
    return run_library(*a, follow="webhook")


METHODS = {"akool_frames": run_library, "akool_frames webhook": run_webhook, "gather": run_gather,
           "sequential": run_sequential}


def measure(method: str, job: str, rows: int, args: argparse.Namespace) -> dict[str, Any] | None:
    """One method on ``rows`` rows on a fresh sandbox; None when the webhook mode is not available."""
    flags = ("--time-scale", str(args.time_scale), "--rate-limit", str(args.rate),
             "--concurrency-limit", str(args.concurrency_limit), "--credits", "1e12")
    with remote_sandbox(*flags) as sb, tempfile.TemporaryDirectory() as tmp:
        df, params = frame(job, rows, sb.first_voice())
        before = sb.stats()
        begin = time.monotonic()
        try:
            done = METHODS[method](sb, job, df, params, args, Path(tmp))
        except (TypeError, ValueError) as err:
            if method != "akool_frames webhook":
                raise
            print(f"  {job:<15}{rows:>6}  webhook mode not available ({err})", flush=True)
            return None
        wall = time.monotonic() - begin
        stats, log = sb.stats(), sb.log()
    requests, refused = stats["requests"] - before["requests"], stats["throttled"] - before["throttled"]
    creates = [e["t"] for e in log if e.get("kind") == "create"]
    span = (max(creates) - min(creates)) / args.time_scale if creates else 0.0
    # Log times are sandbox seconds; the bucket refills in real seconds (time_scale of them per real one).
    submit = accepted_rate(log, min(creates), max(creates)) * args.time_scale / args.rate if span >= 1 else None
    return {"method": method, "job": job, "rows": rows, "done": done, "wall": wall,
            "req_per_job": requests / max(done, 1), "rate_run": (requests - refused) / wall / args.rate,
            "rate_submit": submit, "throttled": refused, "dups": stats["duplicate_creates"],
            "log_cut": len(log) < stats["requests"]}


def line(r: dict[str, Any], n: int) -> str:
    seq = r["method"] == "sequential"
    makespan = r["wall"] * n / r["rows"] if seq else r["wall"]
    submit = "n/a" if r["rate_submit"] is None else f"{r['rate_submit']:.3f}"
    text = (f"  {r['job']:<15}{n:>6}  {r['method'] + ('*' if seq else ''):<22}{r['done']:>6}/{r['rows']:<6}"
            f"{makespan:>12.1f}{r['req_per_job']:>9.3f}{r['rate_run']:>8.3f}{submit:>8}{r['throttled']:>10}"
            f"{r['dups']:>6}")
    if r["method"].startswith("akool_frames") and r["rate_submit"] is not None:
        text += (f"   rate {'met' if r['rate_submit'] >= RATE_TARGET else 'MISSED'}, "
                 f"req/job {'met' if r['req_per_job'] <= REQ_TARGET else 'MISSED'}")
    return text + ("   (log truncated: submit rate partial)" if r["log_cut"] else "")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[2000, 10000], help="N, one case per value")
    parser.add_argument("--quick", action="store_true", help="--rows 300")
    parser.add_argument("--jobs", nargs="+", default=["tts", "image_to_video"], choices=sorted(CREATE))
    parser.add_argument("--rate", type=float, default=40.0, help="the sandbox's limit R, requests/s per account")
    parser.add_argument("--concurrency-limit", type=int, default=8, help="the sandbox's in-flight limit")
    parser.add_argument("--concurrency", type=int, default=8, help="C: max_concurrency and the loop's semaphore")
    parser.add_argument("--time-scale", type=float, default=1.0, help="sandbox seconds per real second")
    parser.add_argument("--sequential-rows", type=int, default=20, help="k: rows the sequential loop really runs")
    parser.add_argument("--gather-scope", default="job", choices=["job", "request"],
                        help="what the loop's semaphore guards: a job's whole life, or each request")
    parser.add_argument("--webhook", action="store_true", help='also df.akool.run(..., follow="webhook")')
    parser.add_argument("--library-only", action="store_true",
                        help="akool_frames alone (no hand-written loops, no ratios): to measure a change of the library")
    args = parser.parse_args(argv)
    sizes = [300] if args.quick else args.rows
    methods = ["akool_frames", *(["akool_frames webhook"] if args.webhook else []),
               *([] if args.library_only else ["gather"])]

    print(f"sandbox: rate {args.rate:g}/s, concurrency limit {args.concurrency_limit}, time scale "
          f"{args.time_scale:g}, throttling by code 1005; C = {args.concurrency}; gather scope {args.gather_scope}; "
          f"a fresh sandbox per case")
    print(f"targets: rate/allowed (submit) >= {RATE_TARGET}, req/job <= {REQ_TARGET}, makespan gather/akool_frames "
          f">= {GATHER_TARGET:g}x, sequential/akool_frames >= {SEQ_TARGET:g}x")
    print(f"  {'job':<15}{'N':>6}  {'method':<22}{'done/rows':>12}{'':>1}{'makespan s':>12}{'req/job':>9}{'rate/R':>8}"
          f"{'submit':>8}{'throttled':>10}{'dups':>6}")
    results: dict[tuple[str, int, str], dict[str, Any]] = {}
    for job in args.jobs:
        # once per job: only N changes
        sequential = None if args.library_only else measure("sequential", job, args.sequential_rows, args)
        for n in sizes:
            for method in methods:
                r = measure(method, job, n, args)
                if r is not None:
                    results[job, n, method] = r
                    print(line(r, n), flush=True)
            if sequential is not None:
                results[job, n, "sequential"] = sequential
                print(line(sequential, n), flush=True)
    if args.library_only:
        return
    print(f"  * sequential: run on {args.sequential_rows} rows (one sandbox per job); makespan extrapolated "
          f"linearly to N (x N/{args.sequential_rows}), the other figures are the sample's")

    print("\nmakespan ratios (higher: akool_frames faster)")
    for (job, n, method), lib in results.items():
        if not method.startswith("akool_frames"):
            continue
        gather, seq = results[job, n, "gather"], results[job, n, "sequential"]
        g, s = gather["wall"] / lib["wall"], seq["wall"] * n / seq["rows"] / lib["wall"]
        print(f"  {job:<15}N={n:<6} gather/{method} {g:6.1f}x (target >= {GATHER_TARGET:g}x: "
              f"{'met' if g >= GATHER_TARGET else 'MISSED'})   sequential (extrapolated from {seq['rows']} rows)/"
              f"{method} {s:7.1f}x (target >= {SEQ_TARGET:g}x: {'met' if s >= SEQ_TARGET else 'MISSED'})")


if __name__ == "__main__":
    sys.exit(main())
