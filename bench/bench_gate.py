"""What the account-wide gate costs one process: the shared gates (lock files beside the ledger; PostgreSQL) beside
this process's own (``ProcessGate``). Not a test: it prints figures (see bench/README.md).

    python bench/bench_gate.py                                  # micro + 5,000 TTS rows per gate
    python bench/bench_gate.py --rows 20000 --postgres postgresql://postgres@127.0.0.1:5432/postgres

Micro: CPU per request cycle of the gate alone (a slot, a ticket, a success), one at a time and 8 at once, with
no rate and with a rate too high to wait for (each ticket then changes the shared state under its lock). Run: CPU
per row of ``df.akool.run`` in this process against a sandbox in another (no limits, 32 at once), per gate.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _remote import remote_sandbox

import akool_frames as af
from akool_frames.transport import gate_for


async def _cycles(gate: Any, n: int, at_once: int) -> float:
    """CPU seconds per cycle: ``at_once`` tasks, ``n`` cycles in all."""
    loop = asyncio.get_running_loop()

    async def worker(k: int) -> None:
        for _ in range(k):
            async with gate.slot():
                await gate.acquire()
            gate.succeeded(loop.time())

    await worker(50)  # (open files, connections; warm caches)
    cpu = time.process_time()
    await asyncio.gather(*(worker(n // at_once) for _ in range(at_once)))
    spent = (time.process_time() - cpu) / n
    close = getattr(gate, "aclose", None)
    if close is not None:
        await close()
    return spent


def micro(places: dict[str, str | None], n: int) -> None:
    print(f"Gate alone, CPU per request cycle (slot + ticket + success), {n:,} cycles:")
    print(f"  {'gate':<10} {'rate':>6} {'1 at once':>10} {'8 at once':>10}")
    for name, place in places.items():
        for rate in (None, 1e6):
            cells = []
            for at_once in (1, 8):
                with tempfile.TemporaryDirectory() as tmp:
                    where = place if place is None or place.startswith("postgres") else str(Path(tmp) / "gate")
                    gate = gate_for(8, rate, where)
                    per = asyncio.run(_cycles(gate, n if "postgres" not in name else n // 10, at_once))
                cells.append(f"{per * 1e6:8.1f} us")
            print(f"  {name:<10} {'none' if rate is None else 'set':>6} {cells[0]:>10} {cells[1]:>10}")


def run(places: dict[str, str | None], rows: int, concurrency: int) -> None:
    print(f"\ndf.akool.run of {rows:,} TTS rows in one process ({concurrency} at once), CPU per row:")
    with remote_sandbox("--time-scale", "2000", "--credits", "1e12") as sb:
        voice = sb.first_voice()
        base = None
        for name, place in places.items():
            shared: bool | str = place if place and place.startswith("postgres") else place is not None
            with tempfile.TemporaryDirectory() as tmp:
                df = pd.DataFrame({"script": [f"{name} line {i}: the quick brown fox jumps." for i in range(rows)]})
                client = af.Client(**sb.client_options(), ledger=Path(tmp) / "ledger.sqlite",
                                   max_concurrency=concurrency, shared_gate=shared)
                client.http  # noqa: B018 - the loop and the pool before measuring
                before = sb.stats()["requests"]
                cpu, wall = time.process_time(), time.monotonic()
                out = df.akool.run("tts", client=client, progress=False, input_text=af.col("script"), voice_id=voice)
                cpu, wall = time.process_time() - cpu, time.monotonic() - wall
                requests = sb.stats()["requests"] - before
                client.close()
            done = int((out["akool_status"] == "completed").sum())
            per = cpu / rows * 1e6
            base = base or per
            print(f"  {name:<10} {per:7.0f} us/row ({per / base:4.2f}x)  wall {wall:6.1f} s  "
                  f"{requests / rows:4.2f} requests/row  {done:,} completed")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--postgres", help="a PostgreSQL URL: measure its gate too")
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args(argv)
    places: dict[str, str | None] = {"process": None, "file": "file"}
    if args.postgres:
        places["postgres"] = args.postgres
    micro(places, args.cycles)
    if not args.skip_run:
        run(places, args.rows, args.concurrency)


if __name__ == "__main__":
    main()
