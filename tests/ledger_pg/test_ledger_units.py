"""The ledger's semantics, the same on SQLite and on PostgreSQL: claims and their decisions, attempts, release,
the reads a re-run makes (latest, by job id, a batch's videos), outcomes, saves, balances, media lengths; and
claims raced by several ledger objects at once (on PostgreSQL: several sessions) giving each row to one run."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import pytest

import akool_frames as af
from akool_frames.ledger import Claim, Entry, Ledger, PostgresLedger, Saved
from tests.ledger_pg.conftest import open_ledger


def _claim(key: str, expected: int = 0, mode: str = "send", body: dict[str, Any] | None = None) -> Claim:
    return Claim(key, "akool@x", "tts", body or {"input_text": key}, 1.5, expected, mode, "rate", 2.0, "given")


def _turn(ledger: Ledger | PostgresLedger, owner: str, *writes: tuple[str, Any]) -> list[Any]:
    return list(ledger.turn(owner, list(writes)).result(30))


def key(n: int) -> str:
    return f"{n:064x}"


@pytest.fixture
def two(ledger_url: str) -> Any:
    """Two ledger objects on one ledger: two runs (on PostgreSQL, two sessions, as two machines would have)."""
    a, b = open_ledger(ledger_url), open_ledger(ledger_url)
    yield a, b
    a.close()
    b.close()


def test_a_claim_is_sent_by_one_run_waited_for_by_another_then_followed(two: Any) -> None:
    a, b = two
    run_a, run_b = a.register("run tts, 1 jobs"), b.register("run tts, 1 jobs")
    [(decision, entry)] = _turn(a, run_a, ("claim", _claim(key(1))))
    assert decision == "send" and entry.attempt == 1 and entry.status == "intent" and entry.owner == run_a
    assert (entry.credits_est, entry.price_basis, entry.duration_s, entry.duration_source) == (1.5, "rate", 2.0, "given")
    [(decision, seen)] = _turn(b, run_b, ("claim", _claim(key(1))))
    assert decision == "wait" and seen.owner == run_a  # run A is alive and sending it
    assert _turn(a, run_a, ("submitted", (key(1), 1, "J1", "queued", 0.5))) == [None]
    [(decision, seen)] = _turn(b, run_b, ("claim", _claim(key(1))))
    assert decision == "follow" and seen.job_id == "J1" and seen.owner is None and seen.credits == 0.5
    found = b.latest([key(1), key(2)])
    assert list(found) == [key(1)] and found[key(1)].body == '{"input_text": "' + key(1) + '"}'
    assert b.latest([key(1)], bodies=False)[key(1)].body == ""
    assert b.by_job_ids(["J1", "J404", ""])["J1"].key == key(1)
    a.release(run_a).result(30)
    b.release(run_b).result(30)


def test_a_released_claim_is_reconciled_and_resent_only_once_proven_absent(two: Any) -> None:
    a, b = two
    run_a = a.register("run tts, 1 jobs")
    [(decision, _)] = _turn(a, run_a, ("claim", _claim(key(2))))
    assert decision == "send"
    a.release(run_a).result(30)  # ended before the create's answer came: a crash leftover
    assert a.latest([key(2)])[key(2)].owner is None
    run_b = b.register("run tts, 1 jobs")
    [(decision, entry)] = _turn(b, run_b, ("claim", _claim(key(2))))
    assert decision == "reconcile" and entry.attempt == 1 and entry.owner is None  # (the owner it had)
    assert b.latest([key(2)])[key(2)].owner == run_b  # now b's to look up
    run_c = a.register("run tts, 1 jobs")
    [(decision, _)] = _turn(a, run_c, ("claim", _claim(key(2))))
    assert decision == "wait"  # b is reconciling it
    b.settle(key(2), 1, "unknown", "lost", keep=True).result(30)
    [(decision, entry)] = _turn(b, run_b, ("claim", _claim(key(2), expected=1, mode="resend")))
    assert decision == "send" and entry.attempt == 2  # proven absent by b: a new attempt, owned by b
    [(decision, _)] = _turn(a, run_c, ("claim", _claim(key(2), expected=1, mode="resend")))
    assert decision == "wait"  # another run's attempt 2 is on its way: never a second resend
    for ledger, run in ((a, run_c), (b, run_b)):
        ledger.release(run).result(30)


def test_claims_and_job_ids_of_one_turn_commit_together_and_see_each_other(ledger_url: str) -> None:
    ledger = open_ledger(ledger_url)
    run = ledger.register("run tts, 3 jobs")
    results = _turn(ledger, run, ("claim", _claim(key(3))), ("claim", _claim(key(3))), ("claim", _claim(key(4))))
    assert [d for d, _ in results] == ["send", "reconcile", "send"]  # the second sees the first's intent
    # In one turn the claims are decided first, then the job ids recorded (a job id ends its own run's claim).
    assert _turn(ledger, run, ("submitted", (key(3), 1, "J3", "completed", 2.0)), ("claim", _claim(key(4), 1))) \
        == [None, ("reconcile", ledger.latest([key(4)])[key(4)])]
    assert _turn(ledger, run, ("claim", _claim(key(3), expected=1))) == [("follow", ledger.latest([key(3)])[key(3)])]
    entry = ledger.latest([key(3)])[key(3)]
    assert entry.status == "completed" and entry.completed_at is not None and entry.submitted_at is not None
    [(decision, forced)] = _turn(ledger, run, ("claim", _claim(key(3), expected=1, mode="force")))
    assert decision == "send" and forced.attempt == 2
    assert [e["attempt"] for e in ledger.entries() if e["key"] == key(3)] == [1, 2]
    ledger.release(run).result(30)
    ledger.close()


def test_outcomes_videos_and_notes(ledger_url: str) -> None:
    ledger = open_ledger(ledger_url)
    run = ledger.register("run image2video, 1 jobs")
    _turn(ledger, run, ("claim", _claim(key(5))))
    _turn(ledger, run, ("submitted", (key(5), 1, "V1", "queued", None)))
    ledger.add_videos(key(5), 1, [("V2", "queued", None), ("V3", "completed", 1.0)]).result(30)
    videos = ledger.videos([ledger.latest([key(5)])[key(5)]])[key(5)]
    assert [(v.key, v.attempt, v.job_id, v.status, v.body) for v in videos] == [
        (f"{key(5)}#2", 1, "V2", "queued", '{"input_text": "' + key(5) + '"}'),
        (f"{key(5)}#3", 1, "V3", "completed", '{"input_text": "' + key(5) + '"}')]
    assert videos[1].completed_at is not None and videos[0].completed_at is None
    ledger.update([("V1", "processing", None, None, None), ("V2", "completed", "https://x.test/v2.mp4", 3.0, None,
                                                            '{"seed": 1}')]).result(30)
    ledger.update([("V2", "completed", None, None, None)]).result(30)  # a later poll without a URL keeps it
    v2 = ledger.by_job_ids(["V2"])["V2"]
    assert (v2.status, v2.url, v2.credits, v2.extra) == ("completed", "https://x.test/v2.mp4", 3.0, '{"seed": 1}')
    first_completed = v2.completed_at
    ledger.update([("V2", "completed", None, None, None)]).result(30)
    assert ledger.by_job_ids(["V2"])["V2"].completed_at == first_completed  # the first sighting stays
    ledger.note_error("V1", "Stopped following it").result(30)
    ledger.deleted(["V3"], cancelled=True).result(30)
    v1, v3 = ledger.by_job_ids(["V1"])["V1"], ledger.by_job_ids(["V3"])["V3"]
    assert (v1.status, v1.error) == ("processing", "Stopped following it")
    assert (v3.status, v3.error) == ("failed", "cancelled by delete()") and v3.deleted_at is not None
    _turn(ledger, run, ("claim", _claim(key(6))))
    ledger.settle(key(6), 1, "rejected", "refused (1003)").result(30)
    six = ledger.latest([key(6)])[key(6)]
    assert (six.status, six.error, six.owner) == ("rejected", "refused (1003)", None)
    assert ledger.made_since("tts", 0.0) == 3 and ledger.made_since("tts", time.time() + 60) == 0
    assert ledger.made_before("tts", time.time() + 1, 2) <= {"V1", "V2", "V3"}
    assert len(ledger.made_before("tts", time.time() + 1, 2)) == 2
    ledger.release(run).result(30)
    ledger.close()


def test_saves_balances_media_and_other_writers(two: Any) -> None:
    a, b = two
    a.record_saves([("J1", "/out", "row-1", "row-1.mp3", 10), ("J2", "/out", "row-2", "row-2.mp3", 3_000_000_000)]
                   ).result(30)
    a.record_saves([("J1", "/out", "row-1", "row-1.wav", 12)]).result(30)  # the last save of a name is kept
    saved = b.saved("/out", ["J1", "J2", "J3"])
    assert set(saved) == {("J1", "row-1"), ("J2", "row-2")}
    assert saved[("J1", "row-1")][:2] == ("row-1.wav", 12) and isinstance(saved[("J1", "row-1")], Saved)
    assert saved[("J2", "row-2")].size == 3_000_000_000  # (past a 32-bit integer)
    assert b.saved("/elsewhere", ["J1"]) == {}
    started = time.time()
    a.record_balance("o", "tts", "akool", 100.0, 97.5, started - 5, ["J1", "J2"]).result(30)
    [record] = b.balance_records()
    assert {k: record[k] for k in ("owner", "job", "provider", "before", "after", "started_at")} == {
        "owner": "o", "job": "tts", "provider": "akool", "before": 100.0, "after": 97.5, "started_at": started - 5}
    assert record["job_ids"] == '["J1", "J2"]' and record["ended_at"] >= started
    a.remember_lengths({"https://x.test/a.mp3": 12.25, "https://x.test/b.mp3": 3.0}).result(30)
    a.remember_lengths({"https://x.test/a.mp3": 12.5}).result(30)
    assert b.media_lengths(["https://x.test/a.mp3", "https://x.test/c.mp3"]) == {"https://x.test/a.mp3": 12.5}
    run_a = a.register("run tts, 1 jobs")
    since = time.time()
    run_b = b.register("run tts, 1 jobs")
    assert a.others_wrote(run_a, since) and b.others_wrote(run_b, since)
    b.release(run_b).result(30)
    a.release(run_a).result(30)


def test_entries_hold_every_attempt_oldest_first_and_no_owner(ledger_url: str) -> None:
    ledger = open_ledger(ledger_url)
    run = ledger.register("run tts, 2 jobs")
    _turn(ledger, run, ("claim", _claim(key(8))))
    _turn(ledger, run, ("claim", _claim(key(7))))
    rows = ledger.entries()
    assert [r["key"] for r in rows] == [key(8), key(7)] and "owner" not in rows[0]
    assert isinstance(rows[0]["created_at"], float) and isinstance(rows[0]["attempt"], int)
    ledger.release(run).result(30)
    ledger.close()


def test_a_write_that_fails_fails_alone_and_the_ledger_goes_on(ledger_url: str) -> None:
    ledger = open_ledger(ledger_url)
    run = ledger.register("run tts, 2 jobs")
    table = "akool_frames.writers" if isinstance(ledger, PostgresLedger) else "writers"
    ledger._submit(lambda db: time.sleep(0.3))  # (on PostgreSQL the writes below queue behind it: one batch)
    good = ledger.turn(run, [("claim", _claim(key(9)))])
    bad = ledger._submit(lambda db: 1 / 0)
    worse = ledger._submit(lambda db: db.execute(f"SELECT no_such_column FROM {table}"))
    after = ledger.turn(run, [("claim", _claim(key(10)))])
    with pytest.raises(ZeroDivisionError):
        bad.result(30)
    with pytest.raises(af.LedgerError, match="no_such_column"):
        worse.result(30)
    assert good.result(30)[0][0] == "send" and after.result(30)[0][0] == "send"
    assert {e["key"] for e in ledger.entries()} == {key(9), key(10)}  # both committed, nothing else
    assert _turn(ledger, run, ("claim", _claim(key(11))))[0][0] == "send"
    ledger.release(run).result(30)
    ledger.close()


@pytest.mark.timeout(120)
def test_claims_raced_by_four_ledgers_give_each_row_to_one_run(ledger_url: str) -> None:
    """Four ledger objects (PostgreSQL: four sessions, as four machines) claim the same 200 keys at once, in
    batches of 8 in different orders: every key is sent by exactly one run, the others wait on it."""
    ledgers = [open_ledger(ledger_url) for _ in range(4)]
    keys = [key(1000 + n) for n in range(200)]
    decisions: list[list[tuple[str, Entry]]] = [[] for _ in ledgers]
    go = threading.Barrier(len(ledgers))

    def race(i: int) -> None:
        ledger = ledgers[i]
        run = ledger.register("run tts, 200 jobs")
        order = keys[::-1] if i % 2 else keys
        go.wait()
        for start in range(0, len(order), 8):
            decisions[i] += _turn(ledger, run, *(("claim", _claim(k)) for k in order[start: start + 8]))
        ledger.release(run).result(30)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(ledgers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    sent = [entry.key for made in decisions for decision, entry in made if decision == "send"]
    assert sorted(sent) == sorted(keys)  # each key once
    # the others wait for the live run sending it, or, once that run has ended, reconcile what it left
    assert {decision for made in decisions for decision, _ in made} <= {"send", "wait", "reconcile"}
    rows = ledgers[0].entries()
    assert len(rows) == 200 and {r["attempt"] for r in rows} == {1}
    for ledger in ledgers:
        ledger.close()


def test_poll_leases_share_jobs_between_runs_on_postgres_and_not_on_sqlite(two: Any, ledger_url: str) -> None:
    a, b = two
    run_a, run_b = a.register("run tts, 3 jobs"), b.register("run tts, 3 jobs")
    assert a.lease_polls(run_a, ["J1", "J2"], 30.0) == ["J1", "J2"]
    theirs = b.lease_polls(run_b, ["J3", "J2", "J1"], 30.0)
    if isinstance(a, Ledger):  # one machine: every run polls its own jobs
        assert theirs == ["J3", "J2", "J1"]
    else:
        assert theirs == ["J3"]  # J1 and J2 are a's for 30 s
        assert a.lease_polls(run_a, ["J1", "J2", "J3"], 30.0) == ["J1", "J2"]  # a renews its own
        assert a.lease_polls(run_a, ["J3"], 0.0) == []
        assert b.lease_polls(run_b, ["J3"], 0.0) == ["J3"]  # its own: renewed (here for no time: free at once)
        assert a.lease_polls(run_a, ["J3"], 30.0) == ["J3"]  # an expired lease is taken over
        a.release(run_a).result(30)  # a's leases end with its run
        assert b.lease_polls(run_b, ["J1", "J2"], 30.0) == ["J1", "J2"]
    b.release(run_b).result(30)


def test_a_claim_held_up_past_the_timeout_on_postgres_says_who_writes(postgres: str) -> None:
    """Another session holds a key's claim lock (a claim's transaction that does not end): a claim of that key
    waits up to the ledger's timeout, then fails naming the runs that write, and what to change; once the lock
    is let go, the same claim goes through."""
    import psycopg

    from akool_frames.ledger._pg_schema import KEYS, key_lock

    holder = PostgresLedger(postgres)
    theirs = holder.register("run tts, 600 jobs")
    ledger = PostgresLedger(postgres, timeout=1.0)
    mine = ledger.register("run tts, 1 jobs")
    with psycopg.connect(postgres, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", (KEYS, key_lock(key(42))))
        with pytest.raises(af.LedgerError) as caught:
            _turn(ledger, mine, ("claim", _claim(key(42))))
        other.execute("SELECT pg_advisory_unlock(%s, %s)", (KEYS, key_lock(key(42))))
    message = str(caught.value)
    assert "busy for 1 s" in message and "run tts, 600 jobs" in message and f"pid {os.getpid()}" in message
    assert "ledger_timeout" in message and postgres in message
    assert _turn(ledger, mine, ("claim", _claim(key(42))))[0][0] == "send"
    for one, run in ((ledger, mine), (holder, theirs)):
        one.release(run).result(30)
        one.close()


def test_two_postgres_writers_whose_batches_claim_keys_in_opposite_orders_never_deadlock(
        postgres: str, caplog: pytest.LogCaptureFixture) -> None:
    """Each writer commits the turns queued together in one transaction: one writer's holds a claim of a high key,
    then of a low one; the other's, the reverse, at the same moment. The keys of a whole transaction are locked at
    its start, in one order, so neither waits for the other in a circle (which the server would break after a
    second by aborting one, a deadlock tried again)."""
    caplog.set_level(logging.DEBUG, logger="akool_frames")
    low, high = "0" * 64, "f" * 64
    ledgers = [PostgresLedger(postgres), PostgresLedger(postgres)]
    runs = [ledger.register("run tts, 2 jobs") for ledger in ledgers]
    turns = []
    for ledger, run, (first, second) in zip(ledgers, runs, ((high, low), (low, high)), strict=True):
        ledger._submit(lambda db: time.sleep(0.3))  # (the writes below queue behind it: one transaction)
        turns.append(ledger.turn(run, [("claim", _claim(first))]))
        ledger._submit(lambda db: time.sleep(0.5))
        turns.append(ledger.turn(run, [("claim", _claim(second))]))
    decisions = [turn.result(30)[0][0] for turn in turns]
    assert sorted(decisions) == ["send", "send", "wait", "wait"]
    assert not [r for r in caplog.records if "tried again" in r.getMessage()]  # no deadlock was broken
    for ledger, run in zip(ledgers, runs, strict=True):
        ledger.release(run).result(30)
        ledger.close()
