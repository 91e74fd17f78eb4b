"""Several processes sharing one account's rate limit (issue 23): 1, 2 and 4 processes, each a ``python`` child running
``df.akool.run`` on its share of the rows, all started together, on one ledger (a SQLite file: one machine; or
PostgreSQL), and a 4-worker Dask cluster on PostgreSQL. Not a test: it prints figures (see bench/README.md).

    python bench/bench_cluster.py                               # every case, 800 TTS rows each (~5 minutes)
    python bench/bench_cluster.py --rows 200 --cases sqlite:1 sqlite:4 --no-baseline   # a quick look
    python bench/bench_cluster.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Each case gets a fresh sandbox in a process of its own (its CPU apart from the clients'), at ``time_scale=1`` (its
log's times are real seconds; TTS jobs take 3-6 s), limiting the account to ``--rate`` requests/s (a token bucket
holding one second of burst), answering each request after ``--latency`` seconds (uniform in the range), and
counting the requests in flight (no concurrency limit of its own: what it counts is what the clients sent). Every
process's client is told ``rate_limit=--rate`` and ``max_concurrency=--cap``, the account's: the processes share
them through the ledger (``shared_gate=True``, the default). A fresh ledger per case: a SQLite file in a temporary
folder, or a new database on the PostgreSQL server (``--postgres URL``, ``AKOOL_FRAMES_TEST_POSTGRES``, or one
started here as .ci/run does). The baseline (``--no-baseline`` leaves it out): 4 processes on a SQLite ledger with
``shared_gate=False``, each process with the whole cap and rate, as before issue 23.

Printed per case, as bench_throughput.py measures them:

- rate/allowed: requests the sandbox accepted (not throttled) per second over the submission phase (first to last
  create), divided by the allowed rate; "of bucket" divides them by the most the bucket could accept in that time
  (the rate for that long plus its one second of burst); busiest 1 s: the most requests accepted in any sliding
  second (the bucket allows at most rate + burst = 2 x rate);
- in flight: the most requests the sandbox had in flight at once, against the cap;
- throttled: throttling answers the sandbox sent; req/job: every request it received per completed job;
- creates, duplicate creates, wall (first process started to last process done; for Dask, the compute).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
# The sandbox's variables a client process is given (not its poll interval and reconcile delay, which are scaled to
# a fast sandbox: every client here uses the jobs' own poll intervals, as bench_throughput.py does).
KEYS = ("AKOOL_API_KEY", "AKOOL_CLIENT_ID", "AKOOL_CLIENT_SECRET", "AKOOL_BASE_URL")
RECONCILE_AFTER = 2.0


# ------------------------------------------------------------------------------------------------ the sandbox process
def serve_sandbox(spec: dict[str, Any]) -> None:
    """In a child: a sandbox with latency (not a CLI option), its address and keys printed as one JSON line, stopped
    when stdin closes."""
    import akool_frames as af

    box = af.Sandbox(time_scale=1.0, rate_limit=spec["rate"], credits=1e12,
                     faults=af.Faults(latency=tuple(spec["latency"]))).start()
    print(json.dumps(box.env()), flush=True)
    sys.stdin.read()
    box.stop()


class RemoteSandbox:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = {k: env[k] for k in KEYS}
        self.url, self.api_key = env["AKOOL_BASE_URL"], env["AKOOL_API_KEY"]

    def get(self, path: str) -> Any:
        request = urllib.request.Request(f"{self.url}{path}", headers={"x-api-key": self.api_key})
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.loads(answer.read())

    def client_options(self) -> dict[str, Any]:
        return {"api_key": self.api_key, "client_id": self.env["AKOOL_CLIENT_ID"], "base_url": self.url,
                "poll_interval": None, "reconcile_after": RECONCILE_AFTER}


@contextlib.contextmanager
def remote_sandbox(rate: float, latency: tuple[float, float]) -> Iterator[RemoteSandbox]:
    spec = json.dumps({"rate": rate, "latency": latency})
    proc = subprocess.Popen([sys.executable, str(HERE), "--serve-sandbox", spec], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield RemoteSandbox(json.loads(proc.stdout.readline()))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------------------------------- PostgreSQL
@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[str]:
    """The given server, or one started in a /tmp folder on a free loopback port (as .ci/run starts one)."""
    if url:
        yield url
        return
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise SystemExit("no PostgreSQL here (Debian's postgresql package): give --postgres URL or --cases sqlite:...")
    bin_dir = os.path.dirname(found[-1])
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = tempfile.mkdtemp(prefix="akool-bench-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data = os.path.join(folder, "data")
    try:
        subprocess.run([*as_pg, f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"], check=True,
                       capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200"
        subprocess.run([*as_pg, f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(folder, "log"), "-w", "start",
                        "-o", options], check=True, capture_output=True)
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*as_pg, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_databases = iter(range(1, 1_000_000))


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    import psycopg

    name = f"akool_bench_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------------- the clients
def lines(tag: str, start: int, stop: int) -> Any:
    import pandas as pd

    return pd.DataFrame({"script": [f"{tag} line {i}: the quick brown fox jumps over the lazy dog."
                                    for i in range(start, stop)]})


def child(spec: dict[str, Any]) -> None:
    """In a child: a client on the shared ledger, ready before the start; then ``df.akool.run`` on its rows."""
    import akool_frames as af

    client = af.Client(**spec["options"], ledger=spec["ledger"], max_concurrency=spec["cap"],
                       rate_limit=spec["rate"], shared_gate=spec["shared_gate"])
    df = lines(spec["tag"], spec["start"], spec["stop"])
    client.http  # noqa: B018 - its loop, transport and gate before the start
    print("ready", flush=True)
    sys.stdin.readline()  # the start, for every process at once
    begin = time.time()
    out = df.akool.run("tts", client=client, progress=False, input_text=af.col("script"), voice_id=spec["voice"])
    end = time.time()
    client.close()
    print(json.dumps({"completed": int((out["akool_status"] == "completed").sum()), "begin": begin, "end": end}),
          flush=True)


def processes(sb: RemoteSandbox, ledger: str, n: int, args: argparse.Namespace, tag: str, voice: str,
              shared_gate: bool) -> tuple[int, float]:
    """``n`` child processes, each with its share of the rows, started together: rows completed, wall."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))}
    env = {**env, **sb.env}
    bounds = [args.rows * k // n for k in range(n + 1)]
    procs = []
    for k in range(n):
        spec = {"options": sb.client_options(), "ledger": ledger, "cap": args.cap, "rate": args.rate,
                "shared_gate": shared_gate, "tag": tag, "start": bounds[k], "stop": bounds[k + 1], "voice": voice}
        procs.append(subprocess.Popen([sys.executable, str(HERE), "--child", json.dumps(spec)], env=env,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("a client process did not start (its error is above)")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            assert p.stdout is not None
            results.append(json.loads(p.stdout.readline()))
            p.wait(60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    wall = max(r["end"] for r in results) - min(r["begin"] for r in results)
    return sum(r["completed"] for r in results), wall


def dask_run(sb: RemoteSandbox, ledger: str, workers: int, args: argparse.Namespace, tag: str,
             voice: str) -> tuple[int, float]:
    """A LocalCluster of ``workers`` processes (one thread each), the sandbox's keys in their environment, runs the
    rows in ``--partitions`` partitions: rows completed, wall of the compute (the cluster started before)."""
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import akool_frames as af

    env = {**sb.env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    client = af.Client(**sb.client_options(), ledger=ledger, max_concurrency=args.cap, rate_limit=args.rate)
    ddf = dd.from_pandas(lines(tag, 0, args.rows), npartitions=args.partitions or workers)
    with LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0", silence_logs=40, env=env) as local, \
            Client(local, set_as_default=False) as dask_client:
        done = ddf.akool.run("tts", input_text=af.col("script"), voice_id=voice, client=client)
        begin = time.monotonic()
        out = dask_client.compute(done).result()
        wall = time.monotonic() - begin
    client.close()
    return int((out["akool_status"] == "completed").sum()), wall


# ------------------------------------------------------------------------------------------------------ the figures
def figures(sb: RemoteSandbox, rate: float, completed: int) -> dict[str, Any]:
    log, stats = sb.get("/_sandbox/log"), sb.get("/_sandbox/stats")
    creates = [e["t"] for e in log if e.get("kind") == "create"]
    first, last = min(creates), max(creates)
    accepted = sorted(e["t"] for e in log if not e.get("throttled"))
    in_submission = sum(1 for t in accepted if first <= t <= last)
    span = max(last - first, 1e-9)
    busiest = max((bisect.bisect_left(accepted, t + 1.0) - i for i, t in enumerate(accepted)), default=0)
    return {
        "completed": completed, "submit_s": last - first, "rate_submit": in_submission / span / rate,
        "of_bucket": in_submission / (rate * span + rate), "busiest": busiest,
        "in_flight": stats["max_in_flight"], "throttled": stats["throttled"], "requests": stats["requests"],
        "req_per_job": stats["requests"] / max(completed, 1), "creates": stats["creates"],
        "duplicates": stats["duplicate_creates"],
        "by_endpoint": dict(Counter(e.get("endpoint") or e["path"] for e in log).most_common()),
    }


def case(kind: str, n: int, args: argparse.Namespace, pg: str | None, voice_box: dict[str, str]) -> dict[str, Any]:
    tag = f"{kind}-{n}"
    with remote_sandbox(args.rate, tuple(args.latency)) as sb:
        if "voice" not in voice_box:
            voice_box["voice"] = str(sb.get("/api/open/v4/voice/list?type=2")["data"]["result"][0]["_id"])
        voice = voice_box["voice"]
        with contextlib.ExitStack() as stack:
            if kind in ("sqlite", "baseline"):
                ledger = str(Path(stack.enter_context(tempfile.TemporaryDirectory())) / "ledger.sqlite")
            else:
                assert pg is not None
                ledger = stack.enter_context(fresh_database(pg))
            if kind == "dask":
                completed, wall = dask_run(sb, ledger, n, args, tag, voice)
            else:
                completed, wall = processes(sb, ledger, n, args, tag, voice, shared_gate=kind != "baseline")
            out = figures(sb, args.rate, completed)
    return {"case": {"sqlite": "SQLite", "postgres": "PostgreSQL", "dask": "Dask, PostgreSQL",
                     "baseline": "SQLite, own gates"}[kind], "n": n, "wall_s": wall, **out}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=800, help="TTS rows per case (shared among its processes)")
    parser.add_argument("--rate", type=float, default=40.0, help="the account's limit, requests/s")
    parser.add_argument("--cap", type=int, default=8, help="the account's requests in flight (max_concurrency)")
    parser.add_argument("--latency", type=float, nargs=2, default=(0.02, 0.2), metavar=("LOW", "HIGH"),
                        help="seconds the sandbox takes over each request (uniform)")
    parser.add_argument("--cases", nargs="+", default=["sqlite:1", "sqlite:2", "sqlite:4", "postgres:1",
                                                       "postgres:2", "postgres:4", "dask:4"],
                        help="KIND:N, KIND one of sqlite, postgres, dask (N workers), baseline")
    parser.add_argument("--no-baseline", action="store_true", help="leave out baseline:4 (shared_gate=False)")
    parser.add_argument("--partitions", type=int, default=None, help="the Dask frame's partitions (default: workers)")
    parser.add_argument("--postgres", default=os.environ.get("AKOOL_FRAMES_TEST_POSTGRES"),
                        help="a PostgreSQL server's URL (a database is made per case); default: start one")
    parser.add_argument("--detail", action="store_true", help="also the requests each endpoint received")
    parser.add_argument("--serve-sandbox", help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_sandbox:
        serve_sandbox(json.loads(args.serve_sandbox))
        return
    if args.child:
        child(json.loads(args.child))
        return
    cases = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cases]
    if not args.no_baseline and ("baseline", 4) not in cases:
        cases.append(("baseline", 4))
    print(f"account: {args.rate:g} requests/s (1 s burst), cap {args.cap} in flight; {args.rows} TTS rows per case; "
          f"latency {args.latency[0]:g}-{args.latency[1]:g} s; load average at start {load()}")
    print(f"{'case':<18}{'procs':>6}{'done':>6}{'wall s':>8}{'submit s':>9}{'rate/allowed':>13}{'of bucket':>10}"
          f"{'busiest 1s':>11}{'in flight':>10}{'throttled':>10}{'req/job':>8}{'creates':>8}{'dups':>5}  load")
    voice: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        pg = None
        if any(kind in ("postgres", "dask") for kind, _ in cases):
            pg = stack.enter_context(postgres_server(args.postgres))
        for kind, n in cases:
            r = case(kind, n, args, pg, voice)
            print(f"{r['case']:<18}{r['n']:>6}{r['completed']:>6}{r['wall_s']:>8.1f}{r['submit_s']:>9.1f}"
                  f"{r['rate_submit']:>13.3f}{r['of_bucket']:>10.3f}{r['busiest']:>11}"
                  f"{str(r['in_flight']) + '/' + str(args.cap):>10}{r['throttled']:>10}{r['req_per_job']:>8.3f}"
                  f"{r['creates']:>8}{r['duplicates']:>5}  {load()}", flush=True)
            if args.detail:
                print("    requests by endpoint:", ", ".join(f"{k} {v}" for k, v in r["by_endpoint"].items()))


if __name__ == "__main__":
    main()
