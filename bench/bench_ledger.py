"""The ledger's CPU per row by how many rows share a transaction (issue 10): why the engine lets claims and job
ids asked for within 2 ms share one (``_submit.WRITE_LINGER``). Not a test: it prints figures.

    python bench/bench_ledger.py                 # 30,000 rows at 1, 4 and 32 rows per transaction
    python bench/bench_ledger.py --rows 100000 --batches 1 32

Each row costs what a run writes for it: its claim (an intent), its job id, and its poll result, each write a
transaction of ``batch`` rows, on a ledger file in a temporary folder.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

from akool_frames.ledger._entries import Claim
from akool_frames.ledger._store import Ledger


def measure(rows: int, batch: int) -> tuple[float, float]:
    """CPU and wall seconds per row."""
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Path(tmp) / "ledger.sqlite")
        owner = ledger.register("bench_ledger")
        keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(rows)]
        cpu, wall = time.process_time(), time.perf_counter()
        for start in range(0, rows, batch):
            part = keys[start: start + batch]
            ledger.turn(owner, [("claim", Claim(k, "akool@bench", "tts", {"input_text": f"Line {k[:8]}: the quick brown "
                                                                          "fox", "voice_id": "v"}, 1.0)) for k in part]).result()
            ids = [(k, 1, os.urandom(12).hex(), "queued", None) for k in part]
            ledger.turn(owner, [("submitted", row) for row in ids]).result()
            ledger.update([(row[2], "completed", "https://files.example/a.mp3", 1.0, None) for row in ids]).result()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        ledger.release(owner).result()
        ledger.close()
    return cpu / rows, wall / rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 32], help="rows per transaction")
    args = parser.parse_args(argv)
    print(f"{args.rows} rows: claim, job id and poll result, each a transaction of N rows")
    for batch in args.batches:
        cpu, wall = measure(args.rows, batch)
        print(f"  N = {batch:>3}   CPU {cpu * 1e6:6.0f} us per row   wall {wall * 1e6:6.0f} us per row")


if __name__ == "__main__":
    sys.exit(main())
