"""Helpers for the shared-gate tests: runs in processes of their own (spawned: each its own Client on one ledger),
and who holds which slot of a gate, read from the kernel (``/proc/locks``) or from PostgreSQL (``pg_locks``)."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

VOICE = "6889b628662160e2caad5dbc"  # the first Akool voice of the sandbox
SPAWN = multiprocessing.get_context("spawn")  # (no fork of a test process with a sandbox's threads in it)


def run_rows(options: dict[str, Any], ledger: str, texts: list[str], out: str, ready: Any, go: Any) -> None:
    """A process's run: TTS of ``texts`` with its own Client on ``ledger``; the statuses written to ``out``."""
    import pandas as pd

    import akool_frames as af

    client = af.Client(**options, ledger=ledger)
    frame = pd.DataFrame({"text": texts})
    ready.set()
    go.wait()
    result = frame.akool.run("tts", client=client, progress=False, input_text=af.col("text"), voice_id=VOICE)
    Path(out).write_text(json.dumps(result["akool_status"].tolist()))
    client.close()


class Runner:
    """One ``run_rows`` process: started at once, sends its first request once ``go()`` is called."""

    def __init__(self, folder: Path, name: str, options: dict[str, Any], ledger: Path, texts: list[str]) -> None:
        self.out = folder / f"{name}.json"
        self.ready, self._go = SPAWN.Event(), SPAWN.Event()
        self.process = SPAWN.Process(target=run_rows, name=name, daemon=True,
                                     args=(options, str(ledger), texts, str(self.out), self.ready, self._go))
        self.process.start()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def go(self) -> None:
        assert self.ready.wait(120), "the process did not start"
        self._go.set()

    def statuses(self, timeout: float = 120.0) -> list[str]:
        self.process.join(timeout)
        assert self.process.exitcode == 0, f"{self.process.name} ended with {self.process.exitcode}"
        return list(json.loads(self.out.read_text()))


def started(runners: list[Runner]) -> None:
    """All at once, once every one has imported everything and made its Client."""
    for runner in runners:
        assert runner.ready.wait(120), "a process did not start"
    for runner in runners:
        runner.go()


# ------------------------------------------------------------------------------------------- who holds what
def file_locks(folder: Path) -> dict[str, list[int]]:
    """The gate's files (``slot-N``, ``presence``, ``state``) and the processes holding a lock on each, from the
    kernel's table of locks (waiters, shown as ``->``, left out)."""
    if not folder.exists():
        return {}
    names = {os.stat(path).st_ino: path.name for path in folder.iterdir()}
    held: dict[str, list[int]] = {}
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->" or fields[1] != "FLOCK":
            continue
        inode = int(fields[5].rsplit(":", 1)[1])
        if inode in names:
            held.setdefault(names[inode], []).append(int(fields[4]))
    return held


def file_slots_held(folder: Path, pid: int) -> int:
    return sum(1 for name, pids in file_locks(folder).items() if name.startswith("slot-") and pid in pids)


def file_gate_open(folder: Path, pid: int) -> bool:
    return folder.exists() and pid in file_locks(folder).get("presence", [])


def pg_slots_held(url: str, pid: int) -> int:
    """Slots (advisory locks (KEY, n >= 0)) held by the gate connections of process ``pid``."""
    import psycopg

    from akool_frames.transport._pg_gate import KEY

    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                         "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objsubid = 2 "
                         "AND l.objid < 2147483648 AND a.application_name = %s",
                         (KEY, f"akool_frames gate {pid}")).fetchone()
    return int(row[0]) if row else 0


def pg_gate_open(url: str, pid: int) -> bool:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                         (f"akool_frames gate {pid}",)).fetchone()
    return bool(row and row[0] >= 2)
