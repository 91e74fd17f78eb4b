"""Runs in several processes on one ledger: a live process's claim is waited for and a killed one's reconciled
(on both stores; on PostgreSQL also when the writer says it runs on another machine, where SQLite could only
wait for its heartbeat to go stale); and the issue's must-show: two processes run the same 600 rows on one
PostgreSQL ledger, one is SIGKILLed halfway, then a final run: every row completed, no create twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from akool_frames.ledger import Claim
from drills.shared_ledger import iteration, ok
from tests.ledger_pg.conftest import open_ledger

ROOT = Path(__file__).resolve().parents[2]
KEY = "ab" * 32

# A run in another process: registers (on "another machine" when asked), claims KEY, says so, and lives on.
HOLDER = """
import sys, time
from akool_frames.ledger import Claim, _postgres as pg
from tests.ledger_pg.conftest import open_ledger
if sys.argv[2] == "elsewhere":
    pg.HOST = "another-machine"
ledger = open_ledger(sys.argv[1])
owner = ledger.register("run tts, 1 jobs")
[(decision, entry)] = ledger.turn(owner, [("claim", Claim(sys.argv[3], "akool@x", "tts", {}, None))]).result(30)
print(decision, entry.owner, flush=True)
time.sleep(120)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _holder(url: str, where: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url, where, KEY], env=_env(), stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    said = proc.stdout.readline().split()
    if len(said) != 2 or said[0] != "send":
        proc.kill()
        proc.communicate(timeout=10)
        pytest.fail(f"the holder did not claim: {said}")
    return proc, said[1]


def _claim(ledger: Any, owner: str) -> tuple[str, Any]:
    [(decision, entry)] = ledger.turn(owner, [("claim", Claim(KEY, "akool@x", "tts", {}, None))]).result(30)
    return decision, entry


@pytest.mark.timeout(120)
def test_a_live_process_claim_is_waited_for_and_a_killed_ones_is_reconciled(ledger_url: str) -> None:
    holder, theirs = _holder(ledger_url, "here")
    ledger = open_ledger(ledger_url)
    try:
        mine = ledger.register("run tts, 1 jobs")
        for _ in range(3):
            decision, entry = _claim(ledger, mine)
            assert decision == "wait" and entry.owner == theirs  # never taken while its process lives
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        decision, entry = _claim(ledger, mine)
        deadline = time.monotonic() + 30  # (PostgreSQL frees the lock once its server process sees the socket close)
        while decision == "wait" and time.monotonic() < deadline:
            time.sleep(0.05)
            decision, entry = _claim(ledger, mine)
        assert decision == "reconcile" and entry.owner == theirs  # looked up before anyone sends it again
        assert ledger.latest([KEY])[KEY].owner == mine
        ledger.release(mine).result(30)
    finally:
        holder.kill()
        holder.communicate(timeout=10)
        ledger.close()


@pytest.mark.timeout(120)
def test_a_writer_on_another_machine_is_alive_while_it_runs_and_dead_once_killed(postgres: str) -> None:
    """On PostgreSQL a run's liveness is its session's lock, whatever machine it runs on: no heartbeat to go
    stale (an SQLite ledger on a shared disk would wait 60 s for one)."""
    holder, theirs = _holder(postgres, "elsewhere")
    ledger = open_ledger(postgres)
    try:
        [(host,)] = ledger._query("SELECT host FROM akool_frames.writers WHERE owner = %s", (theirs,))
        assert host == "another-machine"
        mine = ledger.register("run tts, 1 jobs")
        assert _claim(ledger, mine)[0] == "wait"
        # A machine that vanishes (no connection closed): the server gives up on its liveness session after its
        # TCP keepalives go unanswered, 10 s + 3 x 5 s, instead of the system's two hours.
        liveness = ledger._liveness._connection()
        assert [liveness.execute(f"SHOW tcp_keepalives_{name}").fetchone()[0] for name in ("idle", "interval", "count")
                ] == ["10", "5", "3"]
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 30
        decision = "wait"
        while decision == "wait" and time.monotonic() < deadline:
            decision = _claim(ledger, mine)[0]
            time.sleep(0.05)
        assert decision == "reconcile"
        ledger.release(mine).result(30)
    finally:
        holder.kill()
        holder.communicate(timeout=10)
        ledger.close()


@pytest.mark.timeout(400)
def test_two_processes_run_600_rows_on_postgres_one_killed_halfway_then_a_final_run(postgres: str) -> None:
    """The issue's must-show (drills/shared_ledger.py --ledger postgresql://... runs it in a loop): two processes
    run the same 600 TTS rows on one PostgreSQL ledger at once; the first is SIGKILLed once the sandbox has made
    300 jobs; the other runs to the end; then the same cell runs once more."""
    seed = random.randrange(1 << 30)
    result = iteration(2, 600, random.Random(seed), ledger=postgres, kill_at=300)
    print(f"seed {seed}: {result}")
    assert result["killed_at"] is not None and 300 <= result["killed_at"] < 600, result  # killed halfway
    assert result["duplicates"] == 0 and result["creates"] == 600, result  # the sandbox's own count
    assert result["keys"] == 600 and result["keys_not_one_job"] == 0, result  # one job per row
    assert not result["survivors_failed"] and result["survivors_not_completed"] == 0, result
    assert result["final_rc"] == 0 and result["final_not_completed"] == 0, result  # every row completed
    assert ok(result, 600)
