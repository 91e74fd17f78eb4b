"""Following jobs, the flow's step after a create: each job polled (batched where the poll endpoint takes many
ids, or read off the job's list) or heard from through webhook callbacks, until it is over; ``Read`` is what a
provider record says of a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from collections import Counter, deque
from collections.abc import Collection, Sequence
from typing import Any

from .._errors import NotFound
from ..catalog import TERMINAL, Poll, get_path, get_path_either
from ._records import ENDED, Read, poll_request, read_record
from ._run import Run

__all__ = ["FAILED_POLLS", "Follower", "poll", "poll_list"]

FAILED_POLLS = 5  # consecutive failed polls (or answers without the job) before a job is given up on


# --------------------------------------------------------------------------- poll
async def poll(run: Run, ids: list[str]) -> dict[str, Any]:
    """Records by job id (a NotFound value for ids the provider does not know)."""
    poll, spec = run.spec.poll, run.spec
    assert poll is not None  # (a followed job's spec has a poll)
    method, path = poll_request(spec, ids)
    joined = ",".join(ids)
    params = {poll.id_param: joined} if poll.id_in == "query" else None
    body = {poll.id_param: joined} if poll.id_in == "body" else None
    try:
        answer = await run.http.request(spec.provider, method, path, params=params, body=body)
    except NotFound as exc:
        return {i: exc for i in ids}
    records = get_path_either(answer, poll.records, list if poll.many else dict)
    if not poll.many:
        return {ids[0]: records} if records else {ids[0]: NotFound(spec.provider, 0, "empty answer")}
    by_id = {str(get_path(r, poll.record_id)): r for r in records or []}
    return {i: by_id.get(i, _MISSING) for i in ids}


async def poll_list(run: Run, ids: Sequence[str], open_ids: Collection[str]) -> dict[str, Read]:
    """What the job's list says of ``open_ids`` (jobs still followed), newest first: pages until every
    one of ``ids`` (the jobs due) has been seen, the list ends, or the pages cover every job this run
    followed, plus one. Other runs on the account (processes sharing a ledger) push this run's jobs deeper:
    past that, pages go on while two or more due jobs are unseen, a page per due job at most, so they never
    cost more than polling those jobs one by one (which is what happens to the rest)."""
    rec = run.spec.reconcile
    assert rec is not None
    wanted, found = set(ids), {}
    followed = len(run.follower.jobs) if run.follower else 0
    covered = math.ceil(max(followed, len(open_ids)) / rec.size) + 1
    for page in range(1, covered + len(ids) + 1):
        answer = await run.http.request(run.spec.provider, "GET", rec.path,
                                       params={**rec.query, "page": str(page), "size": str(rec.size)})
        records = get_path_either(answer, rec.records, list) or []
        for record in records:
            rid = str(get_path(record, rec.record_id))
            if rid in open_ids:
                found[rid] = read_record(run.spec, record)  # read now: pages of records need not be kept (peak memory)
                wanted.discard(rid)
        if not wanted or len(records) < rec.size or (page >= covered and len(wanted) < 2):
            break
    return found


_MISSING = object()


class Follower:
    """Polls a run's jobs until each is terminal (or the deadline passes).

    A job is first polled one interval (the client's poll_interval, else its job type's) after its
    create, or, once a few jobs of the run have finished, after the median age at which they were seen
    finished: jobs of one type and size take about as long, and polling them earlier mostly finds them
    unfinished. Later polls come at growing spacings, so long jobs do not cost a poll per interval for
    their whole life. Where the poll endpoint takes many ids, a poll that is due takes along every job
    due within half an interval: requests then carry full batches instead of a trickle of ids each.
    """

    PATIENCE = 30  # webhook mode: intervals before a job whose callback has not come is polled (at least ...
    PATIENCE_AGES = 3  # ... this many times the median age at which callbacks came)
    GROWTH = 1.25  # each poll that finds a job unfinished spaces its next poll further apart ...
    MAX_SPACING = 4.0  # ... up to this many intervals
    LEARN_AFTER = 5  # finished jobs seen before their ages set the first poll
    LEASE = 2 * MAX_SPACING  # intervals a poll lease lasts (shared ledgers): its holder renews it well before

    def __init__(self, run: Run, *, keep_reads: bool = False) -> None:
        poll = run.spec.poll or Poll("", "")  # an immediate job: done at its create, never added here
        self.run = run
        self.keep_reads = keep_reads  # keep each finished job's read (a refresh of jobs no ledger row holds)
        self.every = run.client.poll_interval or poll.every
        self.listed = poll.listed and run.spec.reconcile is not None
        self.size = poll.max_ids if poll.many else 1
        self.window = self.every / 2 if poll.many or self.listed else 0.0
        self.jobs: dict[str, str] = {}  # job id -> ledger key
        self.due: dict[str, float] = {}  # job id -> loop time of its next poll
        self.spacing: dict[str, float] = {}
        self.failures: Counter[str] = Counter()  # consecutive polls that did not tell its state
        self.last: dict[str, Read] = {}  # job id -> last read
        self.added: dict[str, float] = {}  # job id -> loop time it was added
        self.ages: deque[float] = deque(maxlen=101)  # ages at which recent jobs were seen finished
        self.done: set[str] = set()  # jobs seen over (a late poll answer or a repeated callback changes nothing)
        self.early: list[tuple[str, Any]] = []  # callbacks that came before their job was added
        self.closed = False
        self._wake = asyncio.Event()
        self._until = float("inf")  # when the loop's current sleep ends (add() wakes it only for an earlier job)
        self._median: float | None = None  # of ``ages``, kept until the next age comes

    def add(self, job_id: str, key: str) -> None:
        now = asyncio.get_running_loop().time()
        self.jobs[job_id] = key
        self.added[job_id] = now
        self.spacing[job_id] = self.every
        due = self.due[job_id] = now + self._first_delay()
        if self.run.receiver is not None and job_id in self.run.receiver.early:
            self.early.append((job_id, self.run.receiver.early.pop(job_id)))
            self._wake.set()
        elif due < self._until:  # the loop sleeps past this job's first poll (else it need not wake: O(jobs))
            self._wake.set()

    def _first_delay(self) -> float:
        if self._median is None and len(self.ages) >= self.LEARN_AFTER:  # once per new age, not per job added
            self._median = statistics.median(self.ages)
        learnt = self._median or 0.0
        if self.run.receiver is not None:  # callbacks tell; a poll is the fallback for a late one
            return max(self.every * self.PATIENCE, learnt * self.PATIENCE_AGES)
        return max(self.every, learnt)

    async def heard(self, job_id: str, callback: tuple[str, str | None, str | None]) -> bool:
        """A verified callback's (status, URL, error) for ``job_id``; False when the job is not this run's."""
        if job_id not in self.jobs:
            return False
        if job_id in self.last and self.last[job_id].status in TERMINAL:
            return True  # a repeated or late callback changes nothing
        status, url, error = callback
        read = Read(status, url, None, error, None)  # a callback tells no credits: the create's answer did
        await self.run.ledger.update([(job_id, *read)])
        self.last[job_id] = read
        self._note(job_id, status, None)
        if status in TERMINAL and job_id not in self.done:
            self._completed(job_id, read)
            self.ages.append(asyncio.get_running_loop().time() - self.added[job_id])
            self._median = None
            self._over(job_id)
            self._wake.set()
        self.run.tally.report()
        return True

    def close(self) -> None:
        """No more jobs will be added: the loop ends once the last one is over."""
        self.closed = True
        self._wake.set()

    async def loop(self) -> None:
        clock = asyncio.get_running_loop()
        while not self.run.expired():
            while self.early:
                await self.heard(*self.early.pop())
            if not self.due:
                if self.closed:
                    return
                await self._sleep(None)
                continue
            now = clock.time()
            first = min(self.due.values())
            if first > now:
                self._until = first
                await self._sleep(first - now)
                self._until = float("inf")
                continue
            ready = sorted((j for j, t in self.due.items() if t <= now + self.window), key=self.due.__getitem__)
            for job_id in ready:
                del self.due[job_id]  # in flight; put back by _again unless over
            await self.poll_once(ready)

    async def _sleep(self, seconds: float | None) -> None:
        """Until ``seconds`` pass, a job is added, or the follower is closed (and never past the deadline)."""
        if self.run.deadline is not None:
            left = max(0.0, self.run.deadline - time.monotonic())
            seconds = left if seconds is None else min(seconds, left)
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _through_list(self, ids: list[str]) -> tuple[list[list[str]], list[Any]]:
        """The list's pages for every followed job they show (due or not: a fresh status is free), then one
        poll each for the due jobs they do not show."""
        try:
            listed = await poll_list(self.run, ids, {*ids, *self.due})
        except Exception as exc:  # noqa: BLE001 - said on each due job like a failed poll
            return [ids], [exc]
        rest = [i for i in ids if i not in listed]
        singles = await asyncio.gather(*(poll(self.run, [i]) for i in rest), return_exceptions=True)
        for job_id in listed:
            self.due.pop(job_id, None)  # seen now: scheduled again below from this sighting
        return [list(listed), *([i] for i in rest)], [listed, *singles]

    def _shared(self, ids: list[str]) -> list[str]:
        """Of ``ids``, those this run polls: where runs in other processes follow the same jobs on one ledger
        (PostgreSQL), the ledger leases each job to one of them at a time (``lease_polls``; an SQLite ledger
        gives every job). The jobs another run polls are read back from the ledger, where its polls land, and
        looked at again later unless over."""
        if not self.run.owner or not ids:  # (a refresh belongs to no run)
            return ids
        mine = self.run.ledger.lease_polls(self.run.owner, ids, self.every * self.LEASE)
        if len(mine) == len(ids):
            return ids
        theirs = sorted(set(ids) - set(mine))
        known = self.run.ledger.by_job_ids(theirs)
        for job_id in theirs:
            entry = known.get(job_id)
            if entry is None or not entry.terminal:
                if entry is not None:
                    self._note(job_id, entry.status, entry.credits)
                self._again(job_id)
            elif job_id not in self.done:
                read = Read(entry.status, entry.url, entry.credits, entry.error, entry.extra)
                self.last[job_id] = read
                self._note(job_id, read.status, read.credits)
                self._completed(job_id, read)
                self._over(job_id)
        return mine

    async def poll_once(self, ids: list[str]) -> None:
        """Poll ``ids`` once (in batches, or through the job's list), record what came back, and schedule the
        unfinished again. Jobs another run polls (a shared ledger) are read from the ledger instead."""
        ids = self._shared(ids)
        if not ids:
            self.run.tally.report()
            return
        if self.listed:
            batches, results = await self._through_list(ids)
        else:
            batches = [ids[i: i + self.size] for i in range(0, len(ids), self.size)]
            results = await asyncio.gather(*(poll(self.run, b) for b in batches), return_exceptions=True)
        updates, writes = [], []
        for batch, result in zip(batches, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):  # cancelled, interrupted: not ours to swallow
                    raise result
                writes += [self._failed(job_id, f"could not poll it ({result})") for job_id in batch]
                continue
            for job_id, record in result.items():
                if job_id in self.done:  # its callback came while this poll was out
                    continue
                if record is _MISSING or isinstance(record, NotFound):
                    writes.append(self._failed(job_id, f"{self.run.spec.provider} does not know job {job_id}",
                                               gone=True))
                    continue
                self.failures.pop(job_id, None)
                read = record if isinstance(record, Read) else read_record(self.run.spec, record)
                self.last[job_id] = read
                updates.append((job_id, *read))
                self._note(job_id, read[0], read[2])
                if read[0] in TERMINAL:
                    self._completed(job_id, read)
                    if job_id in self.added:
                        self.ages.append(asyncio.get_running_loop().time() - self.added[job_id])
                        self._median = None
                    self._over(job_id)
                else:
                    self._again(job_id)
        if updates:
            writes.append(self.run.ledger.update(updates))
        for written in writes:
            if written is not None:
                await written
        self.run.tally.report()

    def _failed(self, job_id: str, why: str, *, gone: bool = False) -> Any:
        """A poll that told nothing about the job: try again, up to FAILED_POLLS times in a row. Returns the
        ledger write that says it is no longer followed, if it is not."""
        self.failures[job_id] += 1
        if self.failures[job_id] < FAILED_POLLS:
            self._again(job_id)
            return None
        self._over(job_id)
        if gone:  # the provider keeps answering without it: it is not coming back
            self.last[job_id] = Read("failed", None, None, f"{why} (any more)")
            self._note(job_id, "failed", None)
            return self.run.ledger.update([(job_id, *self.last[job_id])])
        # the job may well be running: leave its status, say why it is not followed
        return self.run.ledger.note_error(job_id, f"Stopped following it: {why}. Refresh the rows later.")

    def _completed(self, job_id: str, read: Read) -> None:
        """A job seen over: with ``save_to=``, its result is saved now, while the run goes on (not at its end)."""
        if self.run.saver is not None and read.status == "completed":
            self.run.saver.completed(job_id, self.jobs.get(job_id), read.url)

    def _note(self, job_id: str, status: str, credits: float | None) -> None:
        if job_id in self.jobs:
            self.run.tally.note(self.jobs[job_id], status, credits)

    def _again(self, job_id: str) -> None:
        spacing = self.spacing.get(job_id, self.every / self.GROWTH)  # a one-off refresh never add()ed it
        self.spacing[job_id] = min(spacing * self.GROWTH, self.every * self.MAX_SPACING)
        self.due[job_id] = asyncio.get_running_loop().time() + self.spacing[job_id]

    def _over(self, job_id: str) -> None:
        self.done.add(job_id)
        self.due.pop(job_id, None)
        # What it said is in the ledger now: keep only that it is over (100,000 jobs' reads: tens of MB).
        self.spacing.pop(job_id, None)
        self.added.pop(job_id, None)
        read = self.last.get(job_id)
        if read is not None and read.status in ENDED and not self.keep_reads:
            self.last[job_id] = ENDED[read.status]
        key = self.jobs.get(job_id)
        if key is not None:
            self.run.tally.finished(key)


