"""The client's own cost: CPU per row, peak memory and the re-run, against a sandbox in another process
with no limits, so that nothing but the client's work is measured. Not a test: it prints figures
(see bench/README.md).

    python bench/bench_overhead.py                      # 100,000 TTS rows (a few minutes)
    python bench/bench_overhead.py --rows 10000
    python bench/bench_overhead.py --rows 5000 --profile 30   # + the 30 costliest functions (yappi, all threads)
    python bench/bench_overhead.py --rows 20000 --profile 30 --profile-phase rerun   # ... of the re-run
    python bench/bench_overhead.py --rows 10000 --transports aiohttp httpx   # the API transports side by side
    python bench/bench_overhead.py --rows 10000 --follow webhook              # callbacks instead of polls
    python bench/bench_overhead.py --rows 100000 --floor 10000                # + the HTTP exchange alone

Printed: client CPU per row (this process's CPU time over the run, which includes the engine's loop
thread and the join, divided by the rows), wall time, requests per job the sandbox received, peak memory
(resident set growth over the run, sampled every 10 ms) beside the result frame's own size, and the re-run
of the finished rows (wall time and the creates the sandbox received: both should be small and zero).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _memory import PeakRss
from _remote import remote_sandbox

import akool_frames as af

PARTS = ("akool_frames", "httpx_aiohttp", "httpx", "httpcore", "aiohttp", "yarl", "multidict", "anyio", "pandas",
         "narwhals", "asyncio", "sqlite3", "json", "concurrent", "importlib")


def part_of(module: str) -> str:
    """The package a profiled function belongs to (the standard library's modules by their own name)."""
    path = module.replace("\\", "/")
    for part in PARTS:
        if f"/{part}/" in path or path.startswith(f"{part}/") or f"/{part}.py" in path:
            return part
    return "other (stdlib and the rest)"


def start_profile() -> None:
    import yappi
    yappi.set_clock_type("cpu")
    yappi.start()


def stop_profile() -> None:
    import yappi
    yappi.stop()


# The API transports: the default (aiohttp), and a user's httpx transport (Client(transport=...)), here httpcore's.
TRANSPORTS = {"aiohttp": lambda: None, "httpx": lambda: __import__("httpx").AsyncHTTPTransport()}


def measure(args: argparse.Namespace, transport: str) -> dict[str, float]:
    """One run of ``args.rows`` TTS rows and its re-run, on a fresh sandbox, over the API ``transport``."""
    with remote_sandbox("--time-scale", str(args.time_scale), "--credits", "1e12") as sb, \
            tempfile.TemporaryDirectory() as tmp:
        voice = sb.first_voice()
        df = pd.DataFrame({"script": [f"Line {i}: the quick brown fox jumps over the lazy dog." for i in range(args.rows)]})
        client = af.Client(**sb.client_options(), ledger=Path(tmp) / "ledger.sqlite", max_concurrency=args.concurrency,
                           transport=TRANSPORTS[transport]())
        client.http  # noqa: B018 - start the loop and the connection pool before measuring
        if args.profile and args.profile_phase == "run":
            start_profile()
        with PeakRss() as mem:
            cpu0, wall0 = time.process_time(), time.monotonic()
            out = df.akool.run("tts", client=client, progress=False, input_text=af.col("script"), voice_id=voice,
                               follow=args.follow)
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        if args.profile and args.profile_phase == "run":
            stop_profile()
        after_run = sb.stats()
        if args.profile and args.profile_phase == "rerun":
            start_profile()
        cpu1, wall1 = time.process_time(), time.monotonic()
        again = df.akool.run("tts", client=client, progress=False, input_text=af.col("script"), voice_id=voice)
        rerun_cpu, rerun_wall = time.process_time() - cpu1, time.monotonic() - wall1
        if args.profile and args.profile_phase == "rerun":
            stop_profile()
        after_rerun = sb.stats()
        client.close()
    done = int((out["akool_status"] == "completed").sum())
    return {"done": done, "again": int((again["akool_status"] == "completed").sum()), "cpu": cpu, "wall": wall,
            "requests": after_run["requests"], "creates": after_run["creates"], "polls": after_run["polls"],
            "duplicates": after_run["duplicate_creates"], "grown_mb": (mem.peak - mem.start) / 1e6,
            "frame_mb": out.memory_usage(deep=True).sum() / 1e6, "rerun_wall": rerun_wall, "rerun_cpu": rerun_cpu,
            "rerun_creates": after_rerun["creates"] - after_run["creates"],
            "rerun_requests": after_rerun["requests"] - after_run["requests"]}


def http_floor(n: int, concurrency: int) -> dict[str, float]:
    """CPU per request of the HTTP exchange alone, side by side: aiohttp by hand (a session, json in and out)
    and the client's own ``Http.request`` (over the same aiohttp, plus auth headers, the concurrency gate and
    limiter, envelope decoding). A run's CPU per row cannot be below
    the second times its requests per job."""
    import asyncio

    import aiohttp

    from akool_frames._loop import run_sync

    path = "/api/open/v4/voice/tts"
    with remote_sandbox("--time-scale", "2000", "--credits", "1e12") as sb:
        voice, out = sb.first_voice(), {}
        client = af.Client(**sb.client_options(), max_concurrency=concurrency)

        async def ours() -> None:
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> None:
                async with gate:
                    await client.http.request("akool", "POST", path, body={"input_text": f"Ours {i}", "voice_id": voice},
                                              create=True)
            await asyncio.gather(*(one(i) for i in range(n)))

        async def by_hand() -> None:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                gate = asyncio.Semaphore(concurrency)

                async def one(i: int) -> None:
                    async with gate, session.post(sb.url + path, json={"input_text": f"Raw {i}", "voice_id": voice},
                                                  headers={"x-api-key": sb.api_key}) as answer:
                        await answer.json()
                await asyncio.gather(*(one(i) for i in range(n)))

        run_sync(client.http.request("akool", "GET", "/api/open/v3/faceswap/quota/info"))  # warm: loop, pool
        cpu = time.process_time()
        run_sync(ours())
        out["ours"] = (time.process_time() - cpu) / n
        cpu = time.process_time()
        asyncio.run(by_hand())
        out["aiohttp by hand"] = (time.process_time() - cpu) / n
        client.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--time-scale", type=float, default=2000.0, help="sandbox seconds per real second")
    parser.add_argument("--transports", nargs="+", default=["aiohttp"], choices=sorted(TRANSPORTS),
                        help="API transports, measured one after the other: aiohttp (the default), httpx (httpcore's, "
                             "as a user's transport= would be)")
    parser.add_argument("--follow", default="poll", choices=["poll", "webhook"])
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions (yappi)")
    parser.add_argument("--profile-phase", default="run", choices=["run", "rerun"],
                        help="profile the run (default) or the re-run of its finished rows")
    parser.add_argument("--floor", type=int, default=0, metavar="N",
                        help="also time N bare requests: aiohttp by hand beside the client's Http.request")
    args = parser.parse_args(argv)
    if args.floor:
        floor = http_floor(args.floor, args.concurrency)
        print(f"HTTP alone, {args.floor} creates: " + ", ".join(f"{k} {v * 1e6:.0f} us" for k, v in floor.items())
              + " of CPU per request")

    print(f"{args.rows} TTS rows, max_concurrency {args.concurrency}, follow={args.follow}, sandbox in another "
          f"process, time scale {args.time_scale:g}, no rate or concurrency limit")
    results = {}
    for transport in args.transports:
        r = results[transport] = measure(args, transport)
        print(f"\n[{transport}]")
        print(f"  completed            {r['done']} / {args.rows}   (re-run: {r['again']})")
        print(f"  client CPU per row   {r['cpu'] / args.rows * 1e6:8.0f} us   ({r['cpu']:.1f} s CPU, {r['wall']:.1f} s "
              f"wall, {args.rows / r['wall']:.0f} rows/s)   target <= 400 us")
        print(f"  requests per job     {r['requests'] / max(r['done'], 1):8.3f}     (creates {r['creates']}, polls "
              f"{r['polls']}, duplicates {r['duplicates']})")
        print(f"  peak memory growth   {r['grown_mb']:8.1f} MB   result frame {r['frame_mb']:.1f} MB   ratio "
              f"{r['grown_mb'] / r['frame_mb']:.2f}x   target <= 3x")
        print(f"  re-run of the rows   {r['rerun_wall']:8.2f} s wall, {r['rerun_cpu']:.2f} s CPU, {r['rerun_creates']} "
              f"creates, {r['rerun_requests']} requests   target <= 2 s, 0 creates")
    if len(results) > 1:
        first, *others = args.transports
        for other in others:
            print(f"\n{other} / {first}: CPU per row {results[other]['cpu'] / results[first]['cpu']:.2f}x, wall "
                  f"{results[other]['wall'] / results[first]['wall']:.2f}x")
    if args.profile:
        import yappi
        stats = yappi.get_func_stats()
        by_part: dict[str, float] = {}
        for f in stats:
            by_part[part_of(f.module)] = by_part.get(part_of(f.module), 0.0) + f.tsub
        total = sum(by_part.values())
        print("\n  CPU by part (yappi, all threads; the profiler slows everything, compare shares):")
        for part, seconds in sorted(by_part.items(), key=lambda kv: -kv[1]):
            print(f"  {part:<28}{seconds / total:7.1%}")
        stats.sort("tsub", "desc")
        print(f"\n  the {args.profile} functions with the most CPU of their own (tsub), all threads:")
        for f in stats[: args.profile]:
            print(f"  {f.tsub:8.3f} s own {f.ttot:8.3f} s total {f.ncall:>9} calls  "
                  f"{f.module.split('site-packages/')[-1]}:{f.lineno} {f.name}")


if __name__ == "__main__":
    sys.exit(main())
