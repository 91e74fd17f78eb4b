"""Runs on a PostgreSQL ledger, over real HTTP against the sandbox: a run then a re-run makes no new create and
``af.ledger()`` reads the same frame as on SQLite; ``AKOOL_FRAMES_LEDGER`` selects it; results saved are not saved
twice; two clients in two threads create each row once; and runs following the same jobs share their polls
(on SQLite, one machine, each run polls every job it follows)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import akool_frames as af
from akool_frames.ledger import Ledger, PostgresLedger
from tests.client.conftest import VOICE

TEXTS = [f"Line {i} of the shared campaign, said once." for i in range(40)]
V3_VOICE = "LcfcDJNUP1GQjkzn1xUU"  # a legacy (v3) voice of the sandbox: legacy_tts polls one job per request
V3_POLL = "/api/open/v3/audio/infobymodelid"


def _tts(df: pd.DataFrame, client: af.Client, **options: Any) -> pd.DataFrame:
    return df.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, progress=False, **options)


def test_a_run_then_a_rerun_on_postgres_makes_no_new_create(sb: af.Sandbox, postgres: str, tmp_path: Path) -> None:
    df = pd.DataFrame({"text": TEXTS})
    with af.Client(**sb.client_options(), ledger=postgres) as client:
        assert isinstance(client.ledger, PostgresLedger) and client.ledger_path == postgres
        first = _tts(df, client)
    assert first["akool_status"].tolist() == ["completed"] * len(TEXTS)
    assert sb.stats()["creates"] == len(TEXTS)
    with af.Client(**sb.client_options(), ledger=postgres) as again:  # a later session, another process's view
        second = _tts(df, again)
        frame = af.ledger(client=again)
    assert sb.stats()["creates"] == len(TEXTS) and sb.stats()["duplicate_creates"] == 0  # nothing sent again
    assert second["akool_job_id"].tolist() == first["akool_job_id"].tolist()
    assert second["akool_status"].tolist() == ["completed"] * len(TEXTS)
    # af.ledger() reads the same frame from either store: the same columns, of the same types
    with af.Client(**sb.client_options(), ledger=tmp_path / "l.sqlite") as local:
        assert isinstance(local.ledger, Ledger)
        _tts(df, local)
        on_sqlite = af.ledger(client=local)
    assert list(frame.columns) == list(on_sqlite.columns) and frame.dtypes.equals(on_sqlite.dtypes)
    assert len(frame) == len(on_sqlite) == len(TEXTS) and (frame["status"] == "completed").all()
    assert sorted(frame["job_id"]) == sorted(first["akool_job_id"])
    polars = af.ledger(client=af.Client(**sb.client_options(), ledger=postgres), backend="polars")
    assert polars.height == len(TEXTS)


def test_the_environment_selects_a_postgres_ledger(sb: af.Sandbox, postgres: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AKOOL_FRAMES_LEDGER", postgres)
    with af.Client(**sb.client_options()) as client:
        assert client.ledger_path == postgres and isinstance(client.ledger, PostgresLedger)
        out = _tts(pd.DataFrame({"text": TEXTS[:3]}), client)
    assert out["akool_status"].tolist() == ["completed"] * 3
    assert len(af.ledger(client=af.Client(ledger=postgres))) == 3


def test_results_saved_from_a_postgres_ledger_are_not_saved_twice(sb: af.Sandbox, postgres: str,
                                                                  tmp_path: Path) -> None:
    df = pd.DataFrame({"text": TEXTS[:3], "name": ["a", "b", "c"]})
    folder = tmp_path / "out"
    with af.Client(**sb.client_options(), ledger=postgres) as client:
        out = _tts(df, client, save_to=folder, name="{name}")
        files = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
        saved = client.ledger.saved(str(folder.resolve()), out["akool_job_id"])
        gets = sum(1 for e in sb.log() if e["path"].startswith("/files/"))
        again = _tts(df, client, save_to=folder, name="{name}")
    assert sorted(files) == ["a.mp3", "b.mp3", "c.mp3"]
    assert {name for _, name in saved} == {"a", "b", "c"}
    assert again["akool_file"].tolist() == out["akool_file"].tolist()
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == files  # nothing written again
    assert sum(1 for e in sb.log() if e["path"].startswith("/files/")) == gets  # nothing fetched again


def test_two_clients_in_two_threads_on_one_postgres_ledger_create_each_row_once(sb: af.Sandbox,
                                                                               postgres: str) -> None:
    df = pd.DataFrame({"text": TEXTS})
    clients = [af.Client(**sb.client_options(), ledger=postgres) for _ in range(2)]
    results: list[Any] = [None, None]

    def cell(i: int) -> None:
        results[i] = _tts(df, clients[i])

    threads = [threading.Thread(target=cell, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for c in clients:
        c.close()
    assert all(r is not None for r in results)
    assert sb.stats()["creates"] == len(TEXTS) and sb.stats()["duplicate_creates"] == 0
    assert results[0]["akool_job_id"].tolist() == results[1]["akool_job_id"].tolist()
    assert all((r["akool_status"] == "completed").all() for r in results)


def _polls_of_two_runs(sb: af.Sandbox, ledger: str | Path) -> tuple[int, list[pd.DataFrame]]:
    """Two clients (two runs, as two processes would be) run the same legacy TTS rows at once and follow every
    job to its end; the sandbox's count of polls."""
    df = pd.DataFrame({"text": [f"Legacy line {i}, polled one job at a time." for i in range(24)]})
    clients = [af.Client(**sb.client_options(), ledger=ledger) for _ in range(2)]
    results: list[Any] = [None, None]
    go = threading.Barrier(2)

    def cell(i: int) -> None:
        go.wait()
        results[i] = df.akool.run("legacy_tts", input_text=af.col("text"), voice_id=V3_VOICE, client=clients[i],
                                  progress=False)

    threads = [threading.Thread(target=cell, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    for c in clients:
        c.close()
    assert all(r is not None and (r["akool_status"] == "completed").all() for r in results), results
    assert results[0]["akool_job_id"].tolist() == results[1]["akool_job_id"].tolist()
    stats = sb.stats()
    assert stats["creates"] == 24 and stats["duplicate_creates"] == 0
    return stats["polls_by_endpoint"].get(V3_POLL, 0), results


def test_runs_following_the_same_jobs_on_postgres_share_their_polls(make_sandbox: Any, postgres: str,
                                                                     tmp_path: Path) -> None:
    """Each job is polled by one run at a time (its lease holder); the other run reads the outcome from the
    ledger. Against the same two runs on SQLite (each polls every job it follows): well under the polls."""
    local, _ = _polls_of_two_runs(make_sandbox(time_scale=40.0, seed=3), tmp_path / "l.sqlite")
    shared, results = _polls_of_two_runs(make_sandbox(time_scale=40.0, seed=3), postgres)  # (the same job lengths)
    print(f"polls of 24 jobs followed by two runs: {local} on SQLite, {shared} on PostgreSQL")
    assert shared < 0.75 * local, (shared, local)
    assert results[0]["akool_url"].notna().all() and results[1]["akool_url"].tolist() == results[0]["akool_url"].tolist()


def test_a_run_whose_rows_are_held_past_the_timeout_stops_naming_the_holder(sb: af.Sandbox, postgres: str,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """Another session holds the claim locks of the run's rows (as a transaction that never ends would): the run
    stops after ``ledger_timeout`` with a message naming the runs that write and what to change, having sent
    nothing; and the failed write is not reported again as an unretrieved exception. Then the same cell runs."""
    import gc

    import psycopg

    from akool_frames.ledger import ledger_key
    from akool_frames.ledger._pg_schema import KEYS, key_lock

    df = pd.DataFrame({"text": TEXTS[:3]})
    other = PostgresLedger(postgres)
    theirs = other.register("run tts, 600 jobs")
    client = af.Client(**sb.client_options(), ledger=postgres, ledger_timeout=1.0)
    where = f"akool@{sb.url}"
    locks = sorted({key_lock(ledger_key(where, "tts", {"input_text": t, "voice_id": VOICE})) for t in TEXTS[:3]})
    with psycopg.connect(postgres, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s, n) FROM unnest(%s::int4[]) AS n", (KEYS, locks))
        with pytest.raises(af.LedgerError) as caught:
            _tts(df, client)
    message = str(caught.value)
    del caught  # (its traceback holds the run's frames: collected below)
    assert "run tts, 600 jobs" in message and "ledger_timeout" in message and postgres in message
    assert sb.stats()["creates"] == 0  # nothing was sent without its claim
    gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
    out = _tts(df, client)
    assert out["akool_status"].tolist() == ["completed"] * 3 and sb.stats()["creates"] == 3
    client.close()
    other.release(theirs).result(30)
    other.close()
