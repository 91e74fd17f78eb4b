"""One gate for the account across processes (issue 23): processes that share a ledger (SQLite on one machine: the
lock-file gate beside it; PostgreSQL: advisory locks and a row in the database) never have more requests in flight
than ``max_concurrency`` together, never send faster than ``rate_limit`` together, and a process SIGKILLed while it
holds slots frees them at once.

Real processes (spawned, each its own Client), real HTTP against the sandbox. Counted, never timed: the sandbox's
maximum in flight and throttled answers, and its request log per one-second window.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import akool_frames as af
from tests.transport_shared import _procs as procs
from tests.transport_shared._procs import Runner

GATES = ["file", "postgres"]
CAP = 4


def _shared(gate: str, request: pytest.FixtureRequest) -> bool | str:
    """``shared_gate=``: True (the gate follows the SQLite ledger: lock files beside it), or a PostgreSQL URL."""
    return True if gate == "file" else str(request.getfixturevalue("postgres"))


def _lines(name: str, n: int) -> list[str]:
    return [f"{name} reads line {i} of its own part of the campaign." for i in range(n)]


def _run_all(tmp_path: Path, options: dict[str, Any], parts: dict[str, int]) -> dict[str, list[str]]:
    ledger = tmp_path / "ledger.sqlite"
    runners = {name: Runner(tmp_path, name, options, ledger, _lines(name, n)) for name, n in parts.items()}
    procs.started(list(runners.values()))
    return {name: runner.statuses(180) for name, runner in runners.items()}


# ----------------------------------------------------------------------------------------------- the cap
@pytest.mark.timeout(300)
@pytest.mark.parametrize("gate", GATES)
def test_processes_on_one_ledger_never_have_more_in_flight_than_the_cap(
        gate: str, make_sandbox: Callable[..., af.Sandbox], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Three processes, max_concurrency=4 each: the account (the sandbox) never sees more than 4 at once, so it
    never refuses one for concurrency. Requests last 20-60 ms, so each process alone would keep 4 in flight."""
    slow = af.Faults(latency=(0.02, 0.06))
    sb = make_sandbox(concurrency_limit=CAP, faults={"tts": slow, "poll": slow})
    options = {**sb.client_options(), "max_concurrency": CAP, "shared_gate": _shared(gate, request)}
    done = _run_all(tmp_path, options, {"a": 40, "b": 40, "c": 40})
    assert all(statuses == ["completed"] * 40 for statuses in done.values())
    stats = sb.stats()
    assert (stats["creates"], stats["duplicate_creates"]) == (120, 0)
    assert stats["max_in_flight"] == CAP  # reached, never passed, across the three
    assert stats["throttled"] == 0  # (the sandbox refuses a fifth in flight as throttling)


# ----------------------------------------------------------------------------------------------- the rate
def _most_in_one_second(log: list[dict[str, Any]], scale: float) -> int:
    """The most API requests the sandbox received within any one second (real time; its clock runs ``scale``
    times faster)."""
    times = sorted(e["t"] / scale for e in log if not e["path"].startswith("/files/"))
    most, first = 0, 0
    for last, t in enumerate(times):
        while times[first] <= t - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.timeout(300)
@pytest.mark.parametrize("gate", GATES)
def test_processes_on_one_ledger_send_no_faster_than_the_rate_together(
        gate: str, make_sandbox: Callable[..., af.Sandbox], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """Three processes, each told rate_limit=60 (the account's): the sandbox (a token bucket of 60/s holding one
    second of burst) receives no more than 60 + 60 requests in any second, and throttles none."""
    rate = 60.0
    quick = af.Faults(latency=(0.001, 0.005))
    sb = make_sandbox(rate_limit=rate, faults={"tts": quick, "poll": quick})
    options = {**sb.client_options(), "max_concurrency": 8, "rate_limit": rate, "shared_gate": _shared(gate, request)}
    done = _run_all(tmp_path, options, {"a": 40, "b": 40, "c": 40})
    assert all(statuses == ["completed"] * 40 for statuses in done.values())
    stats = sb.stats()
    assert (stats["creates"], stats["duplicate_creates"]) == (120, 0)
    assert stats["throttled"] == 0
    assert _most_in_one_second(sb.log(), sb.config.time_scale) <= rate + rate  # the rate plus one second's burst


# ----------------------------------------------------------------------------------------------- a death
@pytest.mark.timeout(300)
@pytest.mark.parametrize("gate", GATES)
def test_a_process_killed_holding_every_slot_frees_them_at_once(
        gate: str, make_sandbox: Callable[..., af.Sandbox], tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The victim holds all 4 slots of the account (stopped with SIGSTOP while it does, so that it cannot let go);
    the survivor, on the same ledger but another sandbox (so that its requests are counted alone), sends nothing.
    The victim is SIGKILLed: the survivor then runs every row, with 4 in flight again: the dead process's slots
    were freed at once (a gate whose slots outlive their holder would leave it waiting)."""
    shared = _shared(gate, request)
    slow = af.Faults(latency=(0.05, 0.1))
    victim_sb = make_sandbox(faults={"tts": slow, "poll": slow})
    survivor_sb = make_sandbox(faults={"tts": af.Faults(latency=(0.02, 0.05))})
    ledger = tmp_path / "ledger.sqlite"
    folder = Path(os.path.realpath(tmp_path)) / ".ledger.sqlite-gate"

    def held(pid: int) -> int:  # (a victim stopped inside the file gate's state lock would hold the survivor up)
        if gate == "file":
            return -1 if pid in procs.file_locks(folder).get("state", []) else procs.file_slots_held(folder, pid)
        return procs.pg_slots_held(str(shared), pid)

    def present(pid: int) -> bool:
        return procs.file_gate_open(folder, pid) if gate == "file" else procs.pg_gate_open(str(shared), pid)

    options = {"max_concurrency": CAP, "shared_gate": shared}
    victim = Runner(tmp_path, "victim", {**victim_sb.client_options(), **options}, ledger, _lines("victim", 400))
    survivor = Runner(tmp_path, "survivor", {**survivor_sb.client_options(), **options}, ledger, _lines("survivor", 60))
    victim.go()
    stopped = False
    for _ in range(2000):  # (each try: a look, a stop, a second look; bounded by the test's timeout)
        if held(victim.pid) == CAP:
            os.kill(victim.pid, signal.SIGSTOP)
            if held(victim.pid) == CAP:
                stopped = True
                break
            os.kill(victim.pid, signal.SIGCONT)
        time.sleep(0.002)
    assert stopped, "the victim never held every slot"
    survivor.go()
    while not present(survivor.pid):
        assert survivor.process.is_alive()
        time.sleep(0.01)
    time.sleep(0.5)  # (room for a gate that would let it through)
    assert survivor_sb.stats()["requests"] == 0  # the account's 4 are the victim's: the survivor waits
    os.kill(victim.pid, signal.SIGKILL)
    victim.process.join(30)
    assert survivor.statuses(120) == ["completed"] * 60
    stats = survivor_sb.stats()
    assert stats["max_in_flight"] == CAP  # the survivor alone had the account's 4 in flight again
    assert stats["creates"] == 60 and stats["duplicate_creates"] == 0
