"""Drill: one 600-row run killed with SIGKILL at 20 random points, each time resumed on the same ledger; then
the same cell once more, to the end.

    python drills/crash.py                       # 600 rows, 20 kills
    python drills/crash.py --rows 300 --kills 10 --seed 3 --faults
    python drills/crash.py --ledger postgresql://user@host:5432/db   # on PostgreSQL (a fresh database on that
                                                                     # server, dropped after; kept if it fails)

One sandbox in this process for the whole drill (its counts span every attempt; mild latency so that creates
overlap), one worker process at a time (``drills/worker.py``: ``df.akool.run`` of TTS on the ledger). Each
kill comes once the sandbox has handled a random number of further creates, or, once every row has been sent,
at a random moment while the jobs are being followed. Printed: where each kill landed, then duplicate
creates, rows without exactly one job, and rows not completed at the end. Targets: 0, 0, 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from shared_ledger import FAST, FAULTS, KEPT, _log, _not_completed, _start, fresh_database, query

import akool_frames as af
from akool_frames.ledger import DatabaseAddress


def drill(rows: int, kills: int, rng: random.Random, faults: bool, ledger: str | None = None) -> dict[str, object]:
    """``ledger``: a PostgreSQL URL of an empty database (default: an SQLite file in the drill's folder)."""
    extra = FAULTS if faults else {}
    sb = af.Sandbox(time_scale=FAST, seed=rng.randrange(1 << 30),
                    faults={"tts": af.Faults(latency=(0.002, 0.02), **extra),
                            "poll": af.Faults(latency=(0.001, 0.005), **extra)}).start()
    landed = []
    try:
        with tempfile.TemporaryDirectory(prefix="akool-crash-") as tmp:
            folder = Path(tmp)
            where: str | Path = ledger or folder / "ledger.sqlite"
            pd.DataFrame({"script": [f"Line {i} of a campaign that keeps crashing." for i in range(rows)]}).to_csv(
                folder / "scripts.csv", index=False)
            for n in range(kills):
                go = folder / "go"
                go.unlink(missing_ok=True)
                proc = _start(sb, folder, where, f"run{n}", go=go)
                time.sleep(1.2)  # imports done
                before = sb.stats()["creates"]
                go.touch()
                if before < rows:  # creates still to send: kill after a random number of them
                    target = rng.randint(before + 1, max(before + 1, min(rows, before + rows // 4)))
                    while proc.poll() is None and sb.stats()["creates"] < target:
                        time.sleep(0.002)
                else:  # every create sent: kill while the jobs are followed
                    time.sleep(rng.uniform(0.02, 0.4))
                finished = proc.poll() is not None
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                landed.append("finished first" if finished else f"at create {sb.stats()['creates']}")
            final = _start(sb, folder, where, "final", "polars")
            final.wait(300)
            out = pd.read_csv(folder / "final.csv") if (folder / "final.csv").exists() else None
            left = ([] if out is None else
                    out.loc[out["akool_status"] != "completed", ["akool_status", "akool_error"]].drop_duplicates()
                    .head(5).to_dict("records"))
            stats = sb.stats()
            per_key = query(where, "SELECT key, COUNT(DISTINCT job_id) FROM {t}submissions GROUP BY key")
            return {"landed": landed, "duplicates": stats["duplicate_creates"], "creates": stats["creates"],
                    "keys_not_one_job": sum(1 for _, k in per_key if k != 1) + rows - len(per_key),
                    "not_completed": _not_completed(folder, "final"), "final_rc": final.returncode,
                    "final_log": _log(folder, "final") if final.returncode else "", "left": left}
    finally:
        sb.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--faults", action="store_true", help="5xx answers and resets before/after handling too")
    parser.add_argument("--ledger", default=None, metavar="postgresql://...",
                        help="run on PostgreSQL: a database is made (and dropped) on this URL's server")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    on = f" on {DatabaseAddress(args.ledger).shown}" if args.ledger else " on SQLite"
    print(f"crash drill: {args.rows} rows, {args.kills} SIGKILLs, seed {seed}{', faults' if args.faults else ''}{on}")
    started = time.monotonic()
    name = f"akool_crash_{os.getpid()}"
    with fresh_database(args.ledger, name) if args.ledger else contextlib.nullcontext() as ledger:
        r = drill(args.rows, args.kills, random.Random(seed), args.faults, ledger)
        good = r["duplicates"] == 0 and r["keys_not_one_job"] == 0 and r["not_completed"] == 0 and r["final_rc"] == 0
        if not good and ledger:
            KEPT.add(ledger)
            print(f"  ledger kept: database {name}")
    print("  kills landed: " + ", ".join(r["landed"]))  # type: ignore[arg-type]
    print(f"  duplicate creates {r['duplicates']}, creates {r['creates']}/{args.rows}, rows without exactly one job "
          f"{r['keys_not_one_job']}, rows not completed {r['not_completed']}, final run rc {r['final_rc']} "
          f"({time.monotonic() - started:.0f} s)")
    if r["final_log"]:
        print(r["final_log"])
    for row in r["left"]:  # type: ignore[union-attr]
        print(f"  not completed: {row}")
    print("  targets (0, 0, 0):", "met" if good else "NOT MET")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
