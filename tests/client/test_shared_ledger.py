"""Runs sharing one ledger at the same time never pay twice.

Processes racing on the same rows with one killed at a random point (the drill of ``drills/shared_ledger.py``,
in a fast version), two ``arun`` calls and two threads in one process, a run that waits for another run's
create instead of sending its own and never takes over a live run's claim, and a ledger held busy by
another process: the run waits (and says who holds it), or stops with a message naming it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from akool_frames.ledger._entries import Claim, Entry, decide
from drills.shared_ledger import WORKER, iteration, ok
from tests.client.conftest import VOICE, columns, create_entries, make_frame

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The ledger the processes share: an SQLite file, or a fresh database on the real PostgreSQL server."""
    return str(tmp_path / "ledger.sqlite") if request.param == "sqlite" else str(request.getfixturevalue("postgres"))


# ----------------------------------------------------------------------------- processes at once
@pytest.mark.timeout(240)
@pytest.mark.parametrize(("writers", "store"), [(2, "sqlite"), (4, "sqlite"), (2, "postgres"), (4, "postgres")])
def test_processes_racing_on_one_ledger_one_killed_create_each_row_once(writers: int, store: str,
                                                                        request: pytest.FixtureRequest) -> None:
    """``writers`` processes run the same 300 rows on one ledger (SQLite, or PostgreSQL) at once; the first is
    SIGKILLed once the sandbox has made a random number of jobs; the others finish; a final run follows. Looped
    50+ times by ``python drills/shared_ledger.py --writers N --iterations 50 [--ledger postgresql://...]``."""
    seed = random.randrange(1 << 30)
    rows = 300
    ledger = str(request.getfixturevalue("postgres")) if store == "postgres" else None
    result = iteration(writers, rows, random.Random(seed), ledger=ledger)
    assert ok(result, rows), f"seed {seed}: {result}"
    assert result["duplicates"] == 0 and result["creates"] == rows  # the sandbox's own count


# ----------------------------------------------------------------------------- one process
TEXTS = [f"Sentence {i}, said once however many cells ask for it." for i in range(40)]


def _ledger_rows(path: Path) -> list[tuple[str, int, str | None, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT key, attempt, job_id, status FROM submissions ORDER BY key, attempt").fetchall()


def test_two_concurrent_aruns_in_one_process_create_each_row_once(sb: af.Sandbox, client: af.Client,
                                                                   frame_lib: str) -> None:
    df = make_frame(frame_lib, {"text": TEXTS})

    async def both() -> list[Any]:
        return list(await asyncio.gather(*(df.akool.arun("tts", input_text=af.col("text"), voice_id=VOICE,
                                                          client=client, progress=False) for _ in range(2))))

    first, second = (columns(out) for out in asyncio.run(both()))
    stats = sb.stats()
    assert stats["creates"] == len(TEXTS) and stats["duplicate_creates"] == 0
    assert first["akool_status"] == ["completed"] * len(TEXTS)
    assert second["akool_status"] == ["completed"] * len(TEXTS)
    assert first["akool_job_id"] == second["akool_job_id"]  # one job per row, followed by both calls
    assert len(set(first["akool_job_id"])) == len(TEXTS)
    assert [(a, s) for _, a, _, s in _ledger_rows(client.ledger_path)] == [(1, "completed")] * len(TEXTS)


def test_two_threads_and_two_clients_on_one_ledger_create_each_row_once(sb: af.Sandbox, tmp_path: Path) -> None:
    """Two cells of one kernel, each with its own Client on the default-style shared path, run at once."""
    df = pd.DataFrame({"text": TEXTS})
    path = tmp_path / "shared" / "ledger.sqlite"
    clients = [af.Client(**sb.client_options(), ledger=path) for _ in range(2)]
    results: list[Any] = [None, None]

    def cell(i: int) -> None:
        results[i] = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=clients[i], progress=False)

    threads = [threading.Thread(target=cell, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in clients:
        c.close()
    assert all(r is not None for r in results)
    assert sb.stats()["creates"] == len(TEXTS) and sb.stats()["duplicate_creates"] == 0
    assert results[0]["akool_job_id"].tolist() == results[1]["akool_job_id"].tolist()
    assert (results[0]["akool_status"] == "completed").all() and (results[1]["akool_status"] == "completed").all()


# ----------------------------------------------------------------------------- a live claim is never taken
def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKOOL_", "AUDIOCLEANER_", "KLING_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.mark.timeout(120)
def test_a_run_waits_for_a_live_run_and_takes_over_only_once_it_is_killed(make_sandbox: Any, tmp_path: Path,
                                                                          ledger_url: str) -> None:
    """Another process is sending the same rows, each create taking seconds at the provider. This run
    sends nothing while that process lives (its rows end ``skipped`` naming the other run, at the timeout);
    once the other process is killed, the next run reconciles its claims and each row exists once."""
    sb = make_sandbox(faults={"tts": af.Faults(latency=2.5)})
    rows = 6
    scripts = [f"Slow line {i}." for i in range(rows)]
    pd.DataFrame({"script": scripts}).to_csv(tmp_path / "scripts.csv", index=False)
    ledger = ledger_url
    other = subprocess.Popen([sys.executable, str(WORKER), json.dumps(sb.client_options()), str(tmp_path / "scripts.csv"),
                              str(ledger), str(tmp_path / "other.csv")], env=_env(), stdout=subprocess.DEVNULL,
                             stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while sb.app.http_in_flight < rows:  # all its creates are at the provider, none answered yet
            assert time.monotonic() < deadline and other.poll() is None
            time.sleep(0.01)
        # A create may reach the provider a while after the run that sent it died: look it up only after
        # longer than the provider takes (2.5 s here), from the moment the dead run's claim was found.
        client = af.Client(**{**sb.client_options(), "reconcile_after": 3.5}, ledger=ledger)
        df = pd.DataFrame({"script": scripts})
        out = df.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False,
                           timeout=1.0)
        assert len(create_entries(sb)) == rows  # the other run's creates only (still at the provider): none sent
        assert out["akool_status"].tolist() == ["skipped"] * rows
        assert out["akool_error"].str.contains("another run was sending this row").all()

        other.send_signal(signal.SIGKILL)  # its creates are still at the provider, their answers lost
        other.wait(10)
        out = df.akool.run("tts", input_text=af.col("script"), voice_id=VOICE, client=client, progress=False)
        client.close()
    finally:
        if other.poll() is None:
            other.kill()
    assert out["akool_status"].tolist() == ["completed"] * rows, out["akool_error"].tolist()
    stats = sb.stats()
    assert stats["duplicate_creates"] == 0 and stats["creates"] == rows  # adopted from the list, not resent
    assert sorted(out["akool_job_id"]) == sorted(sb.state.jobs)


# ----------------------------------------------------------------------------- a busy ledger
HOLDER = """
import sqlite3, sys, time
import akool_frames as af
from akool_frames.ledger._store import Ledger
ledger = Ledger(sys.argv[1])
ledger.register("run tts, 600 jobs")
ledger.close()                                    # the registration is committed; the writer stays listed
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")                     # hold the write lock, as a long transaction would
print("held", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def _hold(ledger: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ledger), str(seconds)], env=_env(),
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_busy_ledger_delays_the_run_which_then_completes(sb: af.Sandbox, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="akool_frames")
    ledger = tmp_path / "ledger.sqlite"
    client = af.Client(**sb.client_options(), ledger=ledger)
    client.ledger  # opened (tables made) before another process holds it
    holder = _hold(ledger, 3.0)
    df = pd.DataFrame({"text": TEXTS[:5]})
    out = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    holder.communicate(timeout=10)
    assert out["akool_status"].tolist() == ["completed"] * 5
    assert sb.stats()["creates"] == 5
    assert client.ledger.max_wait >= 2.0  # it waited for the other writer, then went on
    warned = [r.getMessage() for r in caplog.records if "busy" in r.getMessage()]
    assert warned and f"pid {holder.pid}" in warned[0] and "run tts, 600 jobs" in warned[0], warned
    client.close()


def test_a_ledger_busy_past_the_timeout_stops_with_a_message_naming_the_holder(sb: af.Sandbox,
                                                                               tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    client = af.Client(**sb.client_options(), ledger=ledger, ledger_timeout=1.0)
    client.ledger  # opened (tables made) before another process holds it
    holder = _hold(ledger, 4.0)
    df = pd.DataFrame({"text": TEXTS[:3]})
    with pytest.raises(af.LedgerError) as caught:
        df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    holder.communicate(timeout=10)
    message = str(caught.value)
    assert f"pid {holder.pid}" in message and "run tts, 600 jobs" in message and str(ledger) in message
    assert "ledger_timeout" in message and "UNIQUE" not in message
    assert sb.stats()["creates"] == 0  # nothing was sent without its claim
    # once the other writer is gone, the same cell runs
    out = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    assert out["akool_status"].tolist() == ["completed"] * 3 and sb.stats()["creates"] == 3
    client.close()


# ----------------------------------------------------------------------------- the decision table
def _entry(attempt: int = 1, *, job_id: str | None = None, status: str = "intent", owner: str | None = None) -> Entry:
    return Entry("k", attempt, "akool@x", "tts", "{}", job_id, status, None, None, None, None, 0.0, None, 0.0, owner)


@pytest.mark.parametrize(("entry", "expected", "mode", "alive", "decision"), [
    (None, 0, "send", False, "send"),                                           # nobody has it
    (_entry(job_id="J", status="queued"), 0, "send", False, "follow"),          # another run made it
    (_entry(job_id="J", status="completed"), 1, "send", False, "follow"),       # a re-run
    (_entry(job_id="J", status="completed"), 1, "force", False, "send"),        # force: a new job
    (_entry(2, job_id="J", status="queued"), 1, "force", False, "follow"),      # another forced run made it
    (_entry(owner="B"), 0, "send", True, "wait"),                               # B is sending it now
    (_entry(owner="B", status="unknown"), 1, "resend", True, "wait"),           # B is reconciling it
    (_entry(owner="B"), 0, "send", False, "reconcile"),                         # B died holding it
    (_entry(owner=None), 1, "send", False, "reconcile"),                        # a crash leftover
    (_entry(owner="A", status="unknown"), 1, "resend", False, "send"),          # we proved it absent
    (_entry(2, owner=None, status="unknown"), 1, "resend", False, "reconcile"),  # someone else's since
    (_entry(status="rejected"), 1, "send", False, "send"),                      # refused before: try again
    (_entry(2, status="rejected"), 1, "send", False, "follow"),                 # refused just now: take it
    (_entry(status="skipped"), 1, "send", False, "send"),                       # never sent
])
def test_claim_decisions(entry: Entry | None, expected: int, mode: str, alive: bool, decision: str) -> None:
    claim = Claim("k", "akool@x", "tts", {}, None, expected, mode)
    assert decide(entry, claim, "A", lambda owner: alive) == decision


# ----------------------------------------------------------------------------- an earlier version's ledger
OLD_SCHEMA = """CREATE TABLE submissions (key TEXT NOT NULL, attempt INTEGER NOT NULL, provider TEXT NOT NULL,
    job TEXT NOT NULL, body TEXT NOT NULL, job_id TEXT, status TEXT NOT NULL, url TEXT, credits_est REAL,
    credits REAL, error TEXT, created_at REAL NOT NULL, submitted_at REAL, updated_at REAL NOT NULL,
    PRIMARY KEY (key, attempt))"""


def test_a_ledger_from_the_previous_version_is_upgraded_and_still_reused(sb: af.Sandbox, tmp_path: Path) -> None:
    """A ledger written before runs could share it (no owner column, no writers table) keeps its jobs."""
    df = pd.DataFrame({"text": TEXTS[:4]})
    first = tmp_path / "first.sqlite"
    with af.Client(**sb.client_options(), ledger=first) as client:
        done = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(first) as src, sqlite3.connect(old) as dst:
        dst.execute(OLD_SCHEMA)
        dst.executemany("INSERT INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        src.execute("SELECT key, attempt, provider, job, body, job_id, status, url, credits_est, "
                                    "credits, error, created_at, submitted_at, updated_at FROM submissions"))
    with af.Client(**sb.client_options(), ledger=old) as client:
        again = df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False)
    assert sb.stats()["creates"] == 4  # the old ledger's jobs were followed, none sent again
    assert again["akool_job_id"].tolist() == done["akool_job_id"].tolist()
    with sqlite3.connect(old) as db:
        assert "owner" in {row[1] for row in db.execute("PRAGMA table_info(submissions)")}


# ----------------------------------------------------------------------------- the key's format
KEYED_BODIES = [
    {"input_text": "Hello", "voice_id": VOICE, "rate": "1.0"},
    {"input_text": "Grüße, 世界 \u200b", "extra": {"b": [1, 2.5, None], "a": True}},
    {"image_url": "https://x.test/a.png", "duration": 5, "webhookUrl": "https://hook.test/cb"},
    {},
]


KNOWN_KEY = "d1b6b416e5918f2c0923d89e8004cd16f348278e494058e8eef5bde977165dc0"


@pytest.mark.parametrize("body", KEYED_BODIES)
def test_the_ledger_key_is_the_one_every_earlier_ledger_was_written_with(body: dict[str, Any]) -> None:
    """Keys are how a re-run finds its jobs: the text hashed must stay the one json.dumps made before (sorted keys,
    compact separators, UTF-8 kept, callback fields left out), or every existing ledger would pay again."""
    from akool_frames.ledger._entries import CALLBACK_FIELDS, ledger_key

    kept = {k: v for k, v in body.items() if k not in CALLBACK_FIELDS}
    text = json.dumps(["akool", "tts", kept], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    assert ledger_key("akool", "tts", body) == hashlib.sha256(text.encode()).hexdigest()
    assert ledger_key("akool", "tts", dict(reversed(body.items()))) == ledger_key("akool", "tts", body)


def test_a_known_body_keeps_its_known_key() -> None:
    from akool_frames.ledger._entries import ledger_key

    # Computed once with the first version's formula; it must never change.
    assert ledger_key("akool", "tts", {"input_text": "Hello", "voice_id": "v1"}) == KNOWN_KEY


# ----------------------------------------------------------------------------- reading the latest attempts
def test_latest_reads_the_same_by_key_look_ups_and_by_a_scan_of_the_ledger(tmp_path: Path) -> None:
    """A few keys among many are looked up by key; a quarter of the ledger or more is read in one scan. Both
    give each key's latest attempt, with or without bodies."""
    from akool_frames.ledger._entries import _INSERT
    from akool_frames.ledger._store import Ledger

    ledger = Ledger(tmp_path / "l.sqlite")
    rows = [Entry(f"k{n:03}", attempt, "akool@x", "tts", f'{{"n":{n}}}', f"job-{n}-{attempt}", "completed", None,
                  None, None, None, 1.0, 1.0, 1.0) for n in range(40) for attempt in range(1, 1 + n % 3 + 1)]
    with sqlite3.connect(tmp_path / "l.sqlite") as db:
        db.executemany(_INSERT, [tuple(getattr(e, f) for f in e.__slots__) for e in rows[::-1]])
    expected = {f"k{n:03}": f"job-{n}-{n % 3 + 1}" for n in range(40)}
    few, most = ["k001", "k005", "k404"], [*expected, "k404"]  # (k404 was never sent)
    for keys in (few, most):
        for bodies in (True, False):
            found = ledger.latest(keys, bodies=bodies)
            assert {k: e.job_id for k, e in found.items()} == {k: expected[k] for k in keys if k in expected}
            assert all((e.body != "") == bodies for e in found.values())
    ledger.close()
