"""Issue 23's Dask figure: a ``LocalCluster`` of 4 worker processes runs 3,000 TTS rows against a sandbox that allows
8 requests in flight and ``RATE`` a second, on one PostgreSQL ledger, and one worker is SIGKILLed mid-run (its nanny
starts another; the scheduler sends its partitions elsewhere). Every row ends final, no create is sent twice, the
sandbox never sees more than 8 requests in flight nor, in any second, more than the rate limit plus its burst, and
it throttles next to nothing: the workers' clients share one account-wide gate through the ledger.

Without the account-wide gate (each worker's client with the whole cap and rate, tried on a SQLite file the 4
processes shared), the sandbox saw 9 in flight and throttled 140 requests: this test fails without the gate.)"""

from __future__ import annotations

import bisect
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import dask.dataframe as dd
import pytest

import akool_frames as af
from tests.dask.conftest import FAST, VOICE, cluster, lines, worker_env

ROWS = 3000
CAP = 8  # requests in flight, for the account
RATE = 120.0  # requests a second, for the account (the sandbox's burst: one second's worth): below what 4 workers ask
LATENCY = 0.05  # seconds the sandbox takes over each request: 8 in flight is then near what the rate allows
FINAL = {"completed", "failed"}


@pytest.fixture(scope="module")
def account() -> Iterator[af.Sandbox]:
    """The sandbox as a provider with an account's limits (it throttles what goes over them)."""
    box = af.Sandbox(time_scale=FAST, concurrency_limit=CAP, rate_limit=RATE, faults=af.Faults(latency=LATENCY)).start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def shared_ledger(postgres: str) -> str:
    return postgres


def _busiest_second(box: af.Sandbox) -> int:
    """The most requests in any one-second window of real time (sliding: each request starts one); the log's times
    are the sandbox's clock, ``time_scale`` times faster."""
    times = sorted(entry["t"] / box.config.time_scale for entry in box.log())
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


@pytest.mark.timeout(600)
def test_four_worker_processes_one_killed_pay_once_within_the_account_limits(account: af.Sandbox,
                                                                             shared_ledger: str) -> None:
    client = af.Client(**account.client_options(), ledger=shared_ledger, max_concurrency=CAP, rate_limit=RATE)
    ddf = dd.from_pandas(lines(ROWS, "the killed cluster"), npartitions=32)
    with cluster(n_workers=4, processes=True, env=worker_env(account)) as dask_client, dask_client.as_current():
        done = ddf.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client)
        pids: dict[str, int] = dask_client.run(os.getpid)
        running = dask_client.compute(done)
        deadline = time.monotonic() + 300
        while account.stats()["creates"] < ROWS // 3:
            assert time.monotonic() < deadline and not running.done(), running
            time.sleep(0.05)
        victim = sorted(pids.values())[0]
        os.kill(victim, signal.SIGKILL)
        killed_at = account.stats()["creates"]
        out: Any = running.result(timeout=500)
    stats = account.stats()
    assert ROWS // 3 <= killed_at < ROWS  # (killed mid-run)
    assert len(out) == ROWS and set(out["akool_status"]) <= FINAL
    assert stats["creates"] == ROWS and stats["duplicate_creates"] == 0
    assert stats["max_in_flight"] <= CAP
    assert _busiest_second(account) <= 2 * RATE  # the limit plus one second's burst
    assert stats["throttled"] <= 0.01 * stats["requests"], stats
