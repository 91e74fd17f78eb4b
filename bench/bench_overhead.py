"""The client's own cost: CPU per row, peak memory and the re-run, against a sandbox in another process
with no limits, so that nothing but the client's work is measured. Not a test: it prints figures
(see bench/README.md).

    python bench/bench_overhead.py                      # 100,000 TTS rows (a few minutes)
    python bench/bench_overhead.py --rows 10000
    python bench/bench_overhead.py --rows 5000 --profile 30   # + the 30 costliest functions (yappi, all threads)

Printed: client CPU per row (this process's CPU time over the run, which includes the engine's loop
thread and the join, divided by the rows), wall time, requests per job the sandbox received, peak memory
(resident set growth over the run, sampled every 10 ms) beside the result frame's own size, and the re-run
of the finished rows (wall time and the creates the sandbox received: both should be small and zero).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _remote import remote_sandbox  # noqa: E402

import akool_frames as af  # noqa: E402


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


class PeakRss:
    """The highest resident set size seen while the block runs (a sampling thread)."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


PARTS = ("akool_frames", "httpx_aiohttp", "httpx", "httpcore", "aiohttp", "yarl", "multidict", "anyio", "pandas",
         "narwhals", "asyncio", "sqlite3", "json", "concurrent", "importlib")


def part_of(module: str) -> str:
    """The package a profiled function belongs to (the standard library's modules by their own name)."""
    path = module.replace("\\", "/")
    for part in PARTS:
        if f"/{part}/" in path or path.startswith(f"{part}/") or f"/{part}.py" in path:
            return part
    return "other (stdlib and the rest)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--time-scale", type=float, default=2000.0, help="sandbox seconds per real second")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the N costliest functions (yappi)")
    args = parser.parse_args(argv)

    with remote_sandbox("--time-scale", str(args.time_scale), "--credits", "1e12") as sb, \
            tempfile.TemporaryDirectory() as tmp:
        voice = sb.first_voice()
        df = pd.DataFrame({"script": [f"Line {i}: the quick brown fox jumps over the lazy dog." for i in range(args.rows)]})
        client = af.Client(**sb.client_options(), ledger=Path(tmp) / "ledger.sqlite", max_concurrency=args.concurrency)
        client.http  # noqa: B018 - start the loop and the connection pool before measuring
        if args.profile:
            import yappi
            yappi.set_clock_type("cpu")
            yappi.start()
        with PeakRss() as mem:
            cpu0, wall0 = time.process_time(), time.monotonic()
            out = df.akool.run("tts", client=client, progress=False, input_text=af.col("script"), voice_id=voice)
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        if args.profile:
            yappi.stop()
        after_run = sb.stats()
        cpu1, wall1 = time.process_time(), time.monotonic()
        again = df.akool.run("tts", client=client, progress=False, input_text=af.col("script"), voice_id=voice)
        rerun_cpu, rerun_wall = time.process_time() - cpu1, time.monotonic() - wall1
        after_rerun = sb.stats()
        client.close()

    done = int((out["akool_status"] == "completed").sum())
    frame_mb = out.memory_usage(deep=True).sum() / 1e6
    grown_mb = (mem.peak - mem.start) / 1e6
    print(f"{args.rows} TTS rows, max_concurrency {args.concurrency}, sandbox in another process, time scale "
          f"{args.time_scale:g}, no rate or concurrency limit")
    print(f"  completed            {done} / {args.rows}   (re-run: {int((again['akool_status'] == 'completed').sum())})")
    print(f"  client CPU per row   {cpu / args.rows * 1e6:8.0f} us   ({cpu:.1f} s CPU, {wall:.1f} s wall, "
          f"{args.rows / wall:.0f} rows/s)")
    print(f"  requests per job     {after_run['requests'] / max(done, 1):8.3f}     (creates {after_run['creates']}, "
          f"polls {after_run['polls']}, duplicates {after_run['duplicate_creates']})")
    print(f"  peak memory growth   {grown_mb:8.1f} MB   result frame {frame_mb:.1f} MB   ratio "
          f"{grown_mb / frame_mb:.2f}x")
    print(f"  re-run of the rows   {rerun_wall:8.2f} s wall, {rerun_cpu:.2f} s CPU, "
          f"{after_rerun['creates'] - after_run['creates']} creates, "
          f"{after_rerun['requests'] - after_run['requests']} requests")
    if args.profile:
        import yappi
        stats = yappi.get_func_stats()
        by_part: dict[str, float] = {}
        for f in stats:
            by_part[part_of(f.module)] = by_part.get(part_of(f.module), 0.0) + f.tsub
        total = sum(by_part.values())
        print("\n  CPU by part (yappi, all threads; the profiler slows everything, compare shares):")
        for part, seconds in sorted(by_part.items(), key=lambda kv: -kv[1]):
            print(f"  {part:<28}{seconds / total:7.1%}   {seconds / args.rows * 1e6:7.0f} us/row (profiled)")
        stats.sort("tsub", "desc")
        print(f"\n  the {args.profile} functions with the most CPU of their own (tsub), all threads:")
        for f in stats[: args.profile]:
            print(f"  {f.tsub:8.3f} s own {f.ttot:8.3f} s total {f.ncall:>9} calls  {f.module.split('site-packages/')[-1]}:{f.lineno} {f.name}")


if __name__ == "__main__":
    sys.exit(main())
