"""Drill: several runs share one ledger at the same time, one is killed, then the cell runs once more.

    python drills/shared_ledger.py                        # 2 writers, 600 rows, 10 iterations
    python drills/shared_ledger.py --writers 4 --iterations 50 --rows 600 --seed 7
    python drills/shared_ledger.py --faults                # and 5xx answers, resets on creates and polls
    python drills/shared_ledger.py --ledger postgresql://user@host:5432/db   # on PostgreSQL (a fresh database
                                                           # per iteration, made on that server and dropped)

Each iteration starts a sandbox in this process (mild latency on creates and polls, so that creates
overlap), starts ``--writers`` processes (``drills/worker.py``) that run the same TTS rows on the same
ledger at once, SIGKILLs the first of them once the sandbox has handled a random number of creates
(between 5% and 90% of the rows), waits for the others, then runs the same rows once more. Printed per
iteration and in total: duplicate creates (the sandbox's count of bodies created more than once), jobs
per row, rows not completed (in the survivors' results and in the final run), survivors that failed,
and the longest the ledger made a writer wait. Targets: 0 duplicates, one job per row, every row
completed, no survivor failing.

The ledger is an SQLite file in the iteration's folder, or, with ``--ledger postgresql://...``, a database the
iteration makes on that server (its user needs CREATEDB) and drops after; a failed iteration's is kept, and named.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

import akool_frames as af
from akool_frames.ledger import DatabaseAddress, is_database_url

WORKER = Path(__file__).with_name("worker.py")
FAST = 200.0  # sandbox seconds per real second: jobs finish in well under a second


def query(ledger: str | Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read from the ledger, an SQLite file or a PostgreSQL URL (``{t}`` in ``sql`` stands for where
    its tables are: nothing, or the ``akool_frames.`` schema)."""
    if is_database_url(ledger):
        import psycopg

        address = DatabaseAddress(str(ledger))
        with psycopg.connect(address.conninfo, password=address.password()) as db:
            return db.execute(sql.format(t="akool_frames.")).fetchall()
    with contextlib.closing(sqlite3.connect(ledger)) as db:
        return db.execute(sql.format(t="")).fetchall()


@contextlib.contextmanager
def fresh_database(server: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the server of ``server`` (a PostgreSQL URL), as a URL; dropped after,
    unless the block failed or set ``keep`` on the yielded URL's entry in ``KEPT``."""
    import psycopg

    address = DatabaseAddress(server)
    with psycopg.connect(address.conninfo, password=address.password(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    url = address.with_database(name).url()
    yield url
    if url in KEPT:
        return
    with psycopg.connect(address.conninfo, password=address.password(), autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


KEPT: set[str] = set()  # databases of failed iterations: kept, for the evidence


def _start(sb: af.Sandbox, folder: Path, ledger: str | Path, name: str, lib: str = "pandas",
           go: Path | None = None) -> subprocess.Popen[bytes]:
    out = folder / f"{name}.csv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))}
    if go is not None:
        env["DRILL_GO"] = str(go)
    if is_database_url(ledger):  # given through the environment: a password on a command line shows in ps
        env["AKOOL_FRAMES_LEDGER"], ledger = str(ledger), "-"
    env["PYTHONPATH"] = str(WORKER.resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    with open(out.with_suffix(".log"), "wb") as log:
        return subprocess.Popen([sys.executable, str(WORKER), json.dumps(sb.client_options()),
                                 str(folder / "scripts.csv"), str(ledger), str(out), lib],
                                stdout=log, stderr=subprocess.STDOUT, env=env)


def _log(folder: Path, name: str) -> str:
    path = folder / f"{name}.log"
    return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def _not_completed(folder: Path, name: str) -> int | None:
    """Rows of a worker's result that did not end completed (None: it wrote no result)."""
    path = folder / f"{name}.csv"
    if not path.exists():
        return None
    result = pd.read_csv(path)
    return int((result["akool_status"] != "completed").sum())


# With --faults: the faults that lose answers and make runs reconcile. Not throttling: random throttles
# drive the adaptive limiter down to a crawl (a limiter matter, drilled by the soak drill), which only
# makes this drill time out.
FAULTS = {"error_5xx": 0.03, "reset_before": 0.02, "reset_after": 0.03}


def iteration(writers: int, rows: int, rng: random.Random, timeout: float = 120.0, faults: bool = False,
              keep: Path | None = None, ledger: str | None = None, kill_at: int | None = None) -> dict[str, Any]:
    """One drill: ``writers`` processes at once on one ledger, the first killed at a random point, a final run.
    ``faults``: creates and polls also meet 5xx answers and resets before and after handling.
    ``keep``: a folder where a failed iteration's logs, results and ledger are copied.
    ``ledger``: a PostgreSQL URL of an empty database to share (default: an SQLite file in the iteration's folder).
    ``kill_at``: the sandbox's count of creates at which the first process is killed (default: a random one)."""
    extra = FAULTS if faults else {}
    sb = af.Sandbox(time_scale=FAST, seed=rng.randrange(1 << 30), faults={"tts": af.Faults(latency=(0.002, 0.02), **extra),
                                             "poll": af.Faults(latency=(0.001, 0.005), **extra)}).start()
    try:
        with tempfile.TemporaryDirectory(prefix="akool-drill-") as tmp:
            folder = Path(tmp)
            where: str | Path = ledger or folder / "ledger.sqlite"
            scripts = [f"Line {i} of the shared campaign, read by whoever gets there first." for i in range(rows)]
            pd.DataFrame({"script": scripts}).to_csv(folder / "scripts.csv", index=False)
            go = folder / "go"
            procs = {f"w{i}": _start(sb, folder, where, f"w{i}", go=go) for i in range(writers)}
            time.sleep(1.5 + 0.5 * writers)  # imports done; then all start at once
            go.touch()
            kill_at = kill_at if kill_at is not None else rng.randint(max(1, rows // 20), rows * 9 // 10)
            victim = procs["w0"]
            deadline = time.monotonic() + timeout
            while victim.poll() is None and sb.stats()["creates"] < kill_at and time.monotonic() < deadline:
                time.sleep(0.002)
            killed = victim.poll() is None
            killed_at = None
            if killed:
                victim.send_signal(signal.SIGKILL)
                killed_at = sb.stats()["creates"]
            victim.wait(10)
            survivors = {}
            if not killed:  # it finished (or failed) before the kill point: it counts as a survivor
                survivors["w0"] = victim.returncode
            for name, proc in procs.items():
                if name == "w0" and killed:
                    continue
                try:
                    proc.wait(max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:  # stuck: its tasks' and threads' stacks go to its log
                    proc.send_signal(signal.SIGUSR1)
                    time.sleep(1)
                    proc.send_signal(signal.SIGUSR2)
                    time.sleep(1)
                    proc.kill()
                    proc.wait(10)
                survivors[name] = proc.returncode
            final = _start(sb, folder, where, "final", "polars")
            final.wait(timeout)
            stats = sb.stats()
            per_key = query(where, "SELECT key, COUNT(DISTINCT job_id) FROM {t}submissions GROUP BY key")
            waits = _max_wait(where)
            failed = {n: _log(folder, n) for n, rc in survivors.items() if rc != 0}
            result = {
                "killed_at": killed_at,
                "kill_at": kill_at,
                "duplicates": stats["duplicate_creates"],
                "creates": stats["creates"],
                "keys": len(per_key),
                "keys_not_one_job": sum(1 for _, n in per_key if n != 1),
                "survivors_failed": failed,
                "survivors_not_completed": sum(_not_completed(folder, n) or 0 for n in survivors),
                "final_rc": final.returncode,
                "final_log": _log(folder, "final") if final.returncode else "",
                "final_not_completed": _not_completed(folder, "final"),
                "max_wait_s": waits,
            }
            if not ok(result, rows) and keep is not None:  # the evidence: logs, results, the ledger
                shutil.copytree(folder, keep / f"iteration-{time.strftime('%H%M%S')}-{os.getpid()}", dirs_exist_ok=True)
            if not ok(result, rows) and ledger is not None:
                KEPT.add(ledger)
            return result
    finally:
        sb.stop()


def _max_wait(ledger: str | Path) -> float | None:
    """The longest a writer waited for the ledger (recorded by the ledger itself), if it records it."""
    try:
        [row] = query(ledger, "SELECT MAX(max_wait) FROM {t}writers")
    except Exception:  # noqa: BLE001 - a ledger without the column (an earlier version's): nothing recorded
        return None
    return float(row[0]) if row and row[0] is not None else 0.0


def ok(result: dict[str, Any], rows: int) -> bool:
    return (result["duplicates"] == 0 and result["creates"] == rows and result["keys"] == rows
            and result["keys_not_one_job"] == 0 and not result["survivors_failed"]
            and result["survivors_not_completed"] == 0 and result["final_rc"] == 0
            and result["final_not_completed"] == 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--rows", type=int, default=600)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--faults", action="store_true", help="5xx answers and resets before/after handling too")
    parser.add_argument("--keep", type=Path, default=Path("drill-failures"),
                        help="where a failed iteration's logs and ledger are kept (default ./drill-failures)")
    parser.add_argument("--ledger", default=None, metavar="postgresql://...",
                        help="run on PostgreSQL: a database per iteration is made (and dropped) on this URL's server")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    on = f" on {DatabaseAddress(args.ledger).shown}" if args.ledger else " on SQLite"
    print(f"shared ledger drill: {args.writers} writers x {args.rows} rows, {args.iterations} iterations, seed {seed}"
          f"{', with faults' if args.faults else ''}{on}")
    passed, slowest = 0, 0.0
    for i in range(args.iterations):
        started = time.monotonic()
        with (fresh_database(args.ledger, f"akool_drill_{os.getpid()}_{i}") if args.ledger
              else contextlib.nullcontext()) as ledger:
            result = iteration(args.writers, args.rows, rng, faults=args.faults, keep=args.keep, ledger=ledger)
        if ledger in KEPT:
            print(f"    ledger kept: database akool_drill_{os.getpid()}_{i}")
        good = ok(result, args.rows)
        passed += good
        slowest = max(slowest, result["max_wait_s"] or 0.0)
        print(f"{i + 1:3d} {'ok  ' if good else 'FAIL'} killed at {result['killed_at']} creates; "
              f"duplicates {result['duplicates']}, creates {result['creates']}/{args.rows}, "
              f"keys with !=1 job {result['keys_not_one_job']}, survivors failed {len(result['survivors_failed'])}, "
              f"survivor rows not completed {result['survivors_not_completed']}, final rc {result['final_rc']} "
              f"(not completed {result['final_not_completed']}), longest ledger wait {result['max_wait_s'] or 0:.3f} s, "
              f"{time.monotonic() - started:.1f} s", flush=True)
        for name, log in result["survivors_failed"].items():
            print(f"    {name}: {log.strip().splitlines()[-1] if log.strip() else '(no output)'}")
        if result["final_log"]:
            print(f"    final: {result['final_log'].strip().splitlines()[-1]}")
    print(f"passed {passed}/{args.iterations}; longest ledger wait {slowest:.3f} s")
    return 0 if passed == args.iterations else 1


if __name__ == "__main__":
    sys.exit(main())
