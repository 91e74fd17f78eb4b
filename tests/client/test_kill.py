"""The kernel dies halfway (SIGKILL of a process running 500 TTS rows); the same cell run again with the same
ledger finishes every row, and the sandbox saw each row created exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from drills.shared_ledger import query

ROWS = 500
KILL_AFTER = 200  # creates the sandbox has handled when the worker is killed
WORKER = Path(__file__).resolve().parents[2] / "drills" / "worker.py"


def _worker(sb: af.Sandbox, tmp_path: Path, lib: str, out: Path, ledger: str | None = None) -> subprocess.Popen[bytes]:
    """Start drills/worker.py (on ``ledger``, default an SQLite file in ``tmp_path``); its output goes to
    ``<out>.log`` (read back by ``_log``)."""
    args = [sys.executable, str(WORKER), json.dumps(sb.client_options()), str(tmp_path / "scripts.csv"),
            ledger or str(tmp_path / "ledger.sqlite"), str(out), lib]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))}
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
    with open(out.with_suffix(".log"), "wb") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)


def _log(out: Path) -> str:
    return out.with_suffix(".log").read_text(errors="replace")[-3000:]


def _create_on_the_wire(sb: af.Sandbox) -> bool:
    with sb.state.lock:
        return any(e.get("kind") == "create" and "status" not in e for e in sb.state.log[-40:])


def _wait_for(predicate: Any, proc: subprocess.Popen[bytes] | None, out: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the worker ended early ({proc.returncode}): {_log(out)}")
        if time.monotonic() > deadline:
            if proc is not None:
                proc.kill()
            pytest.fail(f"not reached within {timeout} s")
        time.sleep(0.005)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_sigkill_halfway_then_rerun_creates_every_row_once(make_sandbox: Any, tmp_path: Path, store: str,
                                                           request: pytest.FixtureRequest) -> None:
    ledger = str(request.getfixturevalue("postgres")) if store == "postgres" else str(tmp_path / "ledger.sqlite")
    # Mild latency (more on creates) so that creates overlap and some are on the wire when the process dies.
    sb = make_sandbox(faults={"tts": af.Faults(latency=(0.005, 0.02)), "poll": af.Faults(latency=(0.001, 0.005))})
    scripts = [f"Line {i} of the campaign, read slowly and clearly." for i in range(ROWS)]
    pd.DataFrame({"script": scripts}).to_csv(tmp_path / "scripts.csv", index=False)

    # First run (pandas): killed once the sandbox has made KILL_AFTER jobs, while a create is on the wire
    # (arrived, not answered yet: the sandbox makes its job after the client is gone).
    first = _worker(sb, tmp_path, "pandas", tmp_path / "first.csv", ledger)
    _wait_for(lambda: sb.stats()["creates"] >= KILL_AFTER and _create_on_the_wire(sb), first,
              tmp_path / "first.csv", timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert first.returncode == -signal.SIGKILL
    assert not (tmp_path / "first.csv").exists()
    _wait_for(lambda: sb.app.http_in_flight == 0, None, tmp_path / "first.csv", timeout=10)  # all handled
    made_before = sb.stats()["creates"]
    assert KILL_AFTER <= made_before < ROWS
    left = dict(query(ledger, "SELECT status, COUNT(*) FROM {t}submissions GROUP BY status"))
    # It died halfway with creates on the wire: the sandbox made jobs whose answers never reached the ledger
    # (the second run must adopt them), and some intents were written but not yet sent (they must go out).
    assert left.get("intent", 0) >= 1
    with_ids = sum(n for status, n in left.items() if status != "intent")
    assert with_ids < made_before <= with_ids + left["intent"]

    # Second run (polars, the same rows and ledger): to completion.
    second = _worker(sb, tmp_path, "polars", tmp_path / "second.csv", ledger)
    second.wait(60)
    assert second.returncode == 0, _log(tmp_path / "second.csv")
    result = pd.read_csv(tmp_path / "second.csv")
    assert result["script"].tolist() == scripts
    assert result["akool_status"].tolist() == ["completed"] * ROWS, result["akool_error"].dropna().unique()[:5]

    stats = sb.stats()
    assert stats["duplicate_creates"] == 0
    assert stats["creates"] == ROWS  # no row created before the kill was created again
    per_key = query(ledger, "SELECT key, COUNT(DISTINCT job_id) FROM {t}submissions GROUP BY key")
    ids = [r[0] for r in query(ledger, "SELECT job_id FROM {t}submissions WHERE job_id IS NOT NULL")]
    assert len(per_key) == ROWS and all(n == 1 for _, n in per_key)  # one job id per row
    assert len(set(ids)) == ROWS and sorted(set(ids)) == sorted(result["akool_job_id"])
    with sb.state.lock:
        assert set(ids) == set(sb.state.jobs)  # and they are the jobs the sandbox made


@pytest.mark.timeout(90)
def test_ctrl_c_stops_promptly_and_the_rerun_creates_every_row_once(make_sandbox: Any, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) cancels the run on the background loop and hands control back within seconds; the
    ledger it leaves lets the next run finish every row without creating any twice."""
    sb = make_sandbox(faults={"tts": af.Faults(latency=(0.005, 0.02))})
    scripts = [f"Line {i}: interrupted and resumed." for i in range(ROWS)]
    pd.DataFrame({"script": scripts}).to_csv(tmp_path / "scripts.csv", index=False)
    first = _worker(sb, tmp_path, "pandas", tmp_path / "first.csv")
    _wait_for(lambda: sb.stats()["creates"] >= KILL_AFTER, first, tmp_path / "first.csv", timeout=60)
    first.send_signal(signal.SIGINT)
    first.wait(15)  # prompt: the cancelled task unwinds, no hanging background work
    assert first.returncode != 0 and "KeyboardInterrupt" in _log(tmp_path / "first.csv")
    assert not (tmp_path / "first.csv").exists()
    assert sb.stats()["creates"] < ROWS

    second = _worker(sb, tmp_path, "polars", tmp_path / "second.csv")
    second.wait(60)
    assert second.returncode == 0, _log(tmp_path / "second.csv")
    result = pd.read_csv(tmp_path / "second.csv")
    assert result["akool_status"].tolist() == ["completed"] * ROWS
    stats = sb.stats()
    assert stats["duplicate_creates"] == 0 and stats["creates"] == ROWS
