"""Files in and out of a bucket (issue 22): staging local files to ``s3://``, and ``save_to=`` of results: their
throughput and the client's peak memory at two sizes. Not a test: it prints figures (see bench/README.md).

    python bench/bench_storage.py                                # 250 and 1,000 of each (about 2 minutes)
    python bench/bench_storage.py --files 100 --results 100 --small 25   # a quick look
    python bench/bench_storage.py --phases staging --concurrency 16      # one side only, another limit

Every case runs in a Python process of its own (so that its peak resident set is its own), which starts a real
S3 API on loopback (moto's server) and a sandbox (``akool-frames sandbox``), each in a process of its own too, so
that their CPU and memory are not the client's. Only loopback addresses are used.

- **staging**: N image to video rows whose ``image_url`` is a local file of 1 MB, all different (a valid PNG,
  then random bytes); ``df.akool.run`` with ``staging="s3://bench-in/staged/"`` hashes each file, uploads it once
  (content-addressed) and sends the API a presigned URL.
- **save_to**: N TTS rows whose results are WAV files of about 1 MB (990 characters: 66 s of 8 kHz 16-bit audio
  in the sandbox), ``run(..., save_to="s3://bench-out/out/", name="{id}")``: each result streamed into the
  bucket as its job completes.
- Each is run again from a new Client on the same ledger (a new session: nothing in memory, the files hashed
  again): no upload, no create, no save, no request to the bucket.
- Beside each (``--no-plain`` leaves them out), the same rows without storage, each in its own process too:
  staging's rows given ``https://`` URLs (never fetched), save_to's run without ``save_to``. Their memory growth
  is the engine's own, so the difference is what staging or saving adds.

Columns: wall time of the run; rows (files) per second over it; the S3 transfer alone (from the start of the
first PUT to the end of the last) and MB/s over it; files and MB put; the most ``put_object`` calls in flight at
once over ``max_concurrency``; CPU seconds of this process, moto's and the sandbox's over the run (two cores are
shared by the three); the process's peak resident set (``ru_maxrss``) and its growth over the run (sampled every
10 ms); the S3 requests this process made, by operation, per row (counted in s3fs's ``_call_s3``, through which
s3fs sends every request). Then, per phase, the larger size over the smaller: wall and bytes grow with N, memory
should not. Files and transfers count MB of 2**20 bytes (a file is 1 MB of them), memory MB of 10**6.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _memory import PeakRss

MB = 1 << 20
TEXT_CHARS = 990  # 66 s of speech at the sandbox's 15 characters a second: a WAV of 1,056,044 bytes


# ------------------------------------------------------------------------------------------------ measuring
class S3Calls:
    """Every S3 request this process makes (s3fs sends them all through ``S3FileSystem._call_s3``): counts by
    operation, bytes put, the most ``put_object`` calls in flight at once, and the first PUT's start and the
    last PUT's end. Observation only: the call itself is unchanged."""

    def __init__(self) -> None:
        self.ops: Counter[str] = Counter()
        self.put_bytes = 0
        self.in_flight = self.max_in_flight = 0
        self.first_put: float | None = None
        self.last_put: float | None = None
        self._lock = threading.Lock()

    def install(self) -> None:
        import s3fs
        from fsspec.asyn import sync_wrapper

        original = s3fs.S3FileSystem._call_s3
        calls = self

        async def counted(fs: Any, method: str, *args: Any, **kwargs: Any) -> Any:
            put = method == "put_object"
            with calls._lock:
                calls.ops[method] += 1
                if put:
                    body = kwargs.get("Body", b"")
                    calls.put_bytes += len(body) if isinstance(body, bytes | bytearray | memoryview) else 0
                    calls.in_flight += 1
                    calls.max_in_flight = max(calls.max_in_flight, calls.in_flight)
                    if calls.first_put is None:
                        calls.first_put = time.monotonic()
            try:
                return await original(fs, method, *args, **kwargs)
            finally:
                if put:
                    with calls._lock:
                        calls.in_flight -= 1
                        calls.last_put = time.monotonic()

        s3fs.S3FileSystem._call_s3 = counted
        s3fs.S3FileSystem.call_s3 = sync_wrapper(counted)  # (the class's sync form holds the original function)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"ops": dict(self.ops), "put_bytes": self.put_bytes, "max_in_flight": self.max_in_flight,
                    "put_span": (self.last_put - self.first_put) if self.first_put and self.last_put else 0.0}

    def reset(self) -> None:
        with self._lock:
            self.ops.clear()
            self.put_bytes = self.max_in_flight = 0
            self.first_put = self.last_put = None


# ------------------------------------------------------------------------------------------------ the servers
def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) another process has used so far."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OthersCpu:
    """CPU seconds the S3 server and the sandbox used over a block (they share the machine's cores with us)."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids, self.used = pids, dict.fromkeys(pids, 0.0)

    def __enter__(self) -> OthersCpu:
        self._start = {name: cpu_of(pid) for name, pid in self.pids.items()}
        return self

    def __exit__(self, *exc: object) -> None:
        self.used = {name: cpu_of(pid) - self._start[name] for name, pid in self.pids.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server() -> Iterator[subprocess.Popen[bytes]]:
    """moto's S3 API on loopback in its own process; the environment points s3fs (and boto) at it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                msg = f"moto's server did not start on port {port}"
                raise RuntimeError(msg)
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",  # (moto's)
                          AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=url, AWS_EC2_METADATA_DISABLED="true")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


# ------------------------------------------------------------------------------------------------ one case
def write_files(folder: Path, n: int) -> list[str]:
    """``n`` different files of 1 MB: a valid 64x64 PNG, then random bytes (one file in memory at a time)."""
    from akool_frames.sandbox._media import render

    paths = []
    for i in range(n):
        head = render("png", seed=i)
        path = folder / f"portrait_{i:05d}.png"
        path.write_bytes(head + os.urandom(MB - len(head)))
        paths.append(str(path))
    return paths


def staging_work(n: int, plain: bool, sb: Any, tmp: Path) -> tuple[Any, str, dict[str, Any], dict[str, Any]]:
    """N image to video rows whose images are local files of 1 MB (``plain``: public URLs, nothing staged)."""
    import pandas as pd

    import akool_frames as af

    if plain:
        images = [f"https://example.com/portraits/portrait_{i:05d}.png" for i in range(n)]  # (never fetched)
    else:
        (tmp / "files").mkdir()
        images = write_files(tmp / "files", n)
    df = pd.DataFrame({"image": images,
                       "prompt": [f"Shot {i}: a slow pan across a quiet harbour at dawn" for i in range(n)]})
    params = {"image_url": af.col("image"), "prompt": af.col("prompt"), "negative_prompt": "blurry",
              "resolution": "720p", "audio_type": 3, "video_length": 5}
    options = {} if plain else {"staging": "s3://bench-in/staged/", "staging_ttl": 3600}
    return df, "image_to_video", params, options


def save_work(n: int, plain: bool, sb: Any, tmp: Path) -> tuple[Any, str, dict[str, Any], dict[str, Any]]:
    """N TTS rows whose results are WAV files of about 1 MB, saved to s3:// as they complete (``plain``: not)."""
    import pandas as pd

    import akool_frames as af

    filler = " the quick brown fox jumps over the lazy dog." * (TEXT_CHARS // 40 + 1)
    df = pd.DataFrame({"id": [f"line{i:05d}" for i in range(n)],
                       "script": [(f"Line {i}:{filler}")[:TEXT_CHARS] for i in range(n)]})
    params = {"voice_id": sb.first_voice(), "input_text": af.col("script"),
              "extra_options": {"audio_setting": {"format": "wav"}}}
    if not plain:
        params.update(save_to="s3://bench-out/out/", name="{id}")
    return df, "tts", params, {}


def measure(args: argparse.Namespace, sb: Any, calls: S3Calls, tmp: Path, pids: dict[str, int]) -> dict[str, Any]:
    """One run of the case, measured, then the same rows again from a new Client on the same ledger (a new
    session: nothing known in memory; staged files are hashed again)."""
    import s3fs

    import akool_frames as af

    staging = args.child == "staging"
    s3fs.S3FileSystem().mkdir("bench-in" if staging else "bench-out")
    df, job, params, extra = (staging_work if staging else save_work)(args.n, args.plain, sb, tmp)
    options = {**sb.client_options(), "ledger": tmp / "ledger.sqlite", "max_concurrency": args.concurrency, **extra}
    client = af.Client(**options)
    client.http  # noqa: B018 - start the loop and the connection pool before measuring
    resolve = _timed(client.stager, "resolve")
    calls.reset()
    before = sb.stats()
    with PeakRss() as mem, OthersCpu(pids) as others:
        cpu0, wall0 = time.process_time(), time.monotonic()
        out = df.akool.run(job, client=client, progress=False, **params)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    s3, after = calls.snapshot(), sb.stats()
    uploaded = client.stager.uploaded
    client.close()
    calls.reset()
    again_client = af.Client(**options)
    wall1 = time.monotonic()
    again = df.akool.run(job, client=again_client, progress=False, **params)
    rerun_wall = time.monotonic() - wall1
    rerun_s3, rerun_stats = calls.snapshot(), sb.stats()
    again_client.close()
    stored = {} if args.plain else s3fs.S3FileSystem().du("bench-in/staged/" if staging else "bench-out/out/",
                                                           total=False)
    saved = 0 if staging or args.plain else int(out["akool_file"].notna().sum())
    return {"phase": args.child, "plain": args.plain, "n": args.n,
            "done": int((out["akool_status"] == "completed").sum()), "wall": wall, "cpu": cpu,
            "hash_s": resolve.elapsed, "put_span": s3["put_span"], "files": uploaded if staging else saved,
            "bytes": s3["put_bytes"], "objects": len(stored), "stored_bytes": sum(stored.values()),
            "ops": s3["ops"], "max_in_flight": s3["max_in_flight"], "creates": after["creates"] - before["creates"],
            "fetched": after.get("inputs_fetched", 0) - before.get("inputs_fetched", 0),
            "grown_mb": (mem.peak - mem.start) / 1e6, "start_mb": mem.start / 1e6, "others_cpu": others.used,
            "rerun_done": int((again["akool_status"] == "completed").sum()), "rerun_wall": rerun_wall,
            "rerun_puts": rerun_s3["ops"].get("put_object", 0), "rerun_s3": sum(rerun_s3["ops"].values()),
            "rerun_uploads": again_client.stager.uploaded, "rerun_creates": rerun_stats["creates"] - after["creates"]}


class _Timer:
    elapsed = 0.0


def _timed(obj: Any, name: str) -> _Timer:
    """Time (wall, summed) spent in the coroutine method ``obj.name`` (the stager's resolve: hashing the files)."""
    timer, original = _Timer(), getattr(obj, name)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return await original(*args, **kwargs)
        finally:
            timer.elapsed += time.monotonic() - start

    setattr(obj, name, timed)
    return timer


def child(args: argparse.Namespace) -> None:
    """One case in this process: its own S3 server and sandbox; one JSON line on stdout."""
    from _remote import remote_sandbox

    calls = S3Calls()
    with moto_server() as s3, remote_sandbox("--time-scale", str(args.time_scale), "--credits", "1e12") as sb, \
            tempfile.TemporaryDirectory() as tmp:
        calls.install()
        result = measure(args, sb, calls, Path(tmp), {"S3": s3.pid, "sandbox": sb.proc.pid})
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # (KiB on Linux)
    print(json.dumps(result), flush=True)


# ------------------------------------------------------------------------------------------------ the table
def run_case(phase: str, n: int, plain: bool, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", phase, "--n", str(n), "--concurrency", str(args.concurrency),
               "--time-scale", str(args.time_scale), *(["--plain"] if plain else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        msg = f"the {phase} case with {n} rows failed (exit {done.returncode})"
        raise SystemExit(msg)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ops_text(ops: dict[str, int], n: int) -> str:
    short = {"head_object": "head", "put_object": "put", "list_objects_v2": "list", "get_object": "get"}
    return " ".join(f"{short.get(k, k)} {v / max(n, 1):.2f}" for k, v in sorted(ops.items())) or "-"


LABELS = {("staging", False): "staging", ("staging", True): "(URLs)", ("save_to", False): "save_to",
          ("save_to", True): "(none)"}


def row_text(r: dict[str, Any], concurrency: int) -> str:
    mb, others = r["bytes"] / MB, r["others_cpu"]
    cpu = f"{r['cpu']:.1f}/{others['S3']:.1f}/{others['sandbox']:.1f}"
    if r["plain"]:
        moved = f"{'-':>8}{'-':>7}{'-':>7}{0:>6}{0:>8}{'-':>10}"
    else:
        flight = f"{r['max_in_flight']}/{concurrency}"
        moved = (f"{r['files'] / r['wall']:>8.1f}{r['put_span']:>7.1f}{mb / max(r['put_span'], 1e-9):>7.1f}"
                 f"{r['files']:>6}{mb:>8.1f}{flight:>10}")
    return (f"{LABELS[r['phase'], r['plain']]:<9}{r['n']:>6}{r['done']:>6}{r['wall']:>8.1f}{moved}{cpu:>16}"
            f"{r['maxrss_mb']:>7.0f} MB{r['grown_mb']:>5.0f} MB  {ops_text(r['ops'], r['n'])}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="local files of 1 MB staged (the large case)")
    parser.add_argument("--results", type=int, default=1000, help="results of about 1 MB saved (the large case)")
    parser.add_argument("--small", type=int, default=250, help="the small case of both, to compare memory with")
    parser.add_argument("--concurrency", type=int, default=8, help="the Client's max_concurrency")
    parser.add_argument("--time-scale", type=float, default=100.0, help="the sandbox's clock (jobs take ~0.1-0.2 s)")
    parser.add_argument("--phases", nargs="+", default=["staging", "save_to"], choices=["staging", "save_to"])
    parser.add_argument("--no-plain", dest="with_plain", action="store_false",
                        help="skip the same rows without staging / save_to")
    parser.add_argument("--child", choices=["staging", "save_to"], help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"max_concurrency {args.concurrency}, sandbox time scale {args.time_scale:g}; each case in its own process, "
          f"moto's S3 server and the sandbox in two more; {os.cpu_count()} cores, load average {load}")
    print(f"{'case':<9}{'N':>6}{'done':>6}{'wall s':>8}{'files/s':>8}{'S3 s':>7}{'MB/s':>7}{'files':>6}{'MB put':>8}"
          f"{'in flight':>10}{'CPU s us/S3/sb':>16}{'peak RSS':>10}{'grown':>8}  S3 requests per row", flush=True)
    rows: dict[tuple[str, bool], dict[int, dict[str, Any]]] = {}
    for phase in args.phases:
        sizes = list(dict.fromkeys((args.small, args.files if phase == "staging" else args.results)))
        for plain in (False, True) if args.with_plain else (False,):
            for n in sizes:
                r = run_case(phase, n, plain, args)
                rows.setdefault((phase, plain), {})[n] = r
                print(row_text(r, args.concurrency), flush=True)
    print()
    for phase in args.phases:
        done = rows.get((phase, False), {})
        for r in done.values():
            if phase == "staging":
                what = (f"hashing {r['hash_s']:.1f} s of the run, {r['objects']} objects in the bucket, {r['fetched']} "
                        "inputs fetched by the sandbox (through the presigned URLs)")
            else:
                what = f"{r['objects']} objects in the bucket ({r['stored_bytes'] / MB:.1f} MB)"
            plain = rows.get((phase, True), {}).get(r["n"])
            if plain:
                rows_were = "given URLs" if phase == "staging" else "without save_to"
                what += f"; wall {r['wall'] / plain['wall']:.1f}x the same rows {rows_were}"
            print(f"{phase} N={r['n']}: {what}. Re-run (a new Client, same ledger): {r['rerun_wall']:.2f} s, "
                  f"{r['rerun_done']} done, {r['rerun_creates']} creates, {r['rerun_uploads']} uploads, "
                  f"{r['rerun_puts']} puts, {r['rerun_s3']} S3 requests")
        if len(done) == 2:
            small, big = done.values()
            line = (f"{phase} N={big['n']} / N={small['n']} ({big['n'] / small['n']:.0f}x the rows): wall "
                    f"{big['wall'] / small['wall']:.2f}x, MB put {big['bytes'] / max(small['bytes'], 1):.2f}x; peak RSS "
                    f"{small['maxrss_mb']:.0f} -> {big['maxrss_mb']:.0f} MB ({big['maxrss_mb'] / small['maxrss_mb']:.2f}x),"
                    f" growth over the run {small['grown_mb']:.1f} -> {big['grown_mb']:.1f} MB "
                    f"({big['grown_mb'] / max(small['grown_mb'], 1e-9):.2f}x)")
            plain = rows.get((phase, True), {})
            if len(plain) == 2:
                ps, pb = plain[small["n"]], plain[big["n"]]
                line += (f"; without it {ps['grown_mb']:.1f} -> {pb['grown_mb']:.1f} MB, so "
                         f"{'staging' if phase == 'staging' else 'save_to'} adds {small['grown_mb'] - ps['grown_mb']:.1f}"
                         f" -> {big['grown_mb'] - pb['grown_mb']:.1f} MB")
            print(line)
        print()
    print(f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return None


if __name__ == "__main__":
    sys.exit(main())
