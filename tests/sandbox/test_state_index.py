"""The sandbox's job indexes (newest first by type, settling by end time) give what a scan of every job gives:
a 100,000-job bench made the scans its bottleneck, and a wrong index would make every list test lie."""

from __future__ import annotations

import random

from akool_frames.sandbox._config import SandboxConfig
from akool_frames.sandbox._state import Job, SandboxState


def _job(i: int, name: str, created: float, finished: float, provider: str = "akool", webhook: str | None = None,
         fail: bool = False) -> Job:
    return Job(id=f"j{i}", name=name, provider=provider, body={}, created=created, started=created,
               finished=finished, credits=1.0, media=None, webhook=webhook, fail_reason="x" if fail else None)


def _scan(state: SandboxState, name: str, provider: str | None = None) -> list[Job]:
    return sorted((j for j in state.jobs.values() if j.name == name and not j.deleted
                   and (provider is None or j.provider == provider)), key=lambda j: (-j.created, -int(j.id[1:])))


def test_newest_first_matches_a_scan_through_pages_deletions_and_seeded_pasts() -> None:
    rng = random.Random(5)
    state = SandboxState(SandboxConfig(credits=1e9))
    created = 0.0
    for i in range(400):
        created += rng.choice([0.0, 0.5, 1.0])  # ties included: the newer added comes first
        past = rng.random() < 0.05  # a job seeded with an earlier creation time
        state.add_job(_job(i, rng.choice(["tts", "voice_change"]), created - (50 if past else 0), 1e9,
                           provider=rng.choice(["akool", "kling"])))
        if i % 97 == 0:
            for name in ("tts", "voice_change"):
                view, scan = state.newest(name), _scan(state, name)
                assert list(view) == scan and len(view) == len(scan)
                for size in (1, 7, 100):
                    for page in range(len(scan) // size + 2):
                        assert list(view[page * size: (page + 1) * size]) == scan[page * size: (page + 1) * size]
                assert not scan or [view[k] for k in (0, -1)] == [scan[0], scan[-1]]
    for job in rng.sample(list(state.jobs.values()), 40):
        state.delete(job)
    for name in ("tts", "voice_change"):
        assert list(state.newest(name)) == _scan(state, name)
        assert list(state.newest(name, provider="kling")) == _scan(state, name, "kling")


def test_settling_by_end_time_refunds_failures_once_and_queues_each_callback_once() -> None:
    state = SandboxState(SandboxConfig(credits=100.0))
    now = state.clock.now()
    state.balances["akool"] = 100.0
    jobs = [_job(i, "tts", now, now + (i % 3) * 1e6, webhook="http://cb" if i % 2 else None, fail=i % 4 == 0)
            for i in range(12)]
    for job in jobs:
        state.add_job(job)
    due = state.webhooks_due()  # the jobs ended now (i % 3 == 0): 0, 3, 6, 9
    assert sorted(j.id for j in due) == ["j3", "j9"]  # ... with a callback
    assert state.balances["akool"] == 101.0  # j0 failed: refunded; j3, j6, j9 completed
    cancelled = jobs[5]  # would end far ahead; cancelled now, as faceswap's cancel does
    cancelled.fail_reason, cancelled.finished = "Task cancelled", now
    state.ends_at(cancelled)
    assert [j.id for j in state.settle_due()] == ["j5"] and state.balances["akool"] == 102.0
    assert [j.id for j in state.webhooks_due()] == ["j5"]  # its callback, once
    assert state.webhooks_due() == [] and state.settle_due() == []
