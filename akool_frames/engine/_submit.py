"""Submitting, the flow's step after pricing: one run's creates claimed and sent through a pool the size of the
client's concurrency (``Run.create``), lost answers handed to reconciliation, other runs' rows waited for, and in
run mode every job followed to its end.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from ..catalog import TERMINAL
from ..ledger import Entry
from ..transport import receiver_of
from ._follow import Follower
from ._reconcile import reconcile
from ._run import Item, Run

__all__ = ["go", "submit_all"]

WAIT_FIRST, WAIT_MAX = 0.05, 1.0  # seconds between looks at a row another run is sending, growing


async def go(run: Run, items: list[Item], known: list[Entry], *, follow: bool, webhook: bool = False,
             leftovers: list[Item] | None = None) -> None:
    """Claim and send ``items``, reconcile what may exist, wait for what other runs are sending, and in
    run mode follow every job to its end (``webhook``: from Akool's callbacks, polling the late ones).

    ``leftovers`` (creates an earlier run may have sent: a crash's intents, unknown answers) are settled
    first, reconciliation included, while the provider's list still has their jobs near the top: sent
    together with ``items``, they would be looked up under every job this run makes."""
    task = None
    if follow and webhook and run.spec.provider == "akool" and run.spec.webhook_field:
        run.receiver = await receiver_of(run.client)
    if follow:
        run.follower = Follower(run)
        task = asyncio.create_task(run.follower.loop())
        if run.receiver is not None:
            run.receiver.listeners.append(run.follower.heard)
    try:
        run.tally.over([entry for entry in known if entry.status in TERMINAL])  # (a re-run's finished rows)
        for entry in known:
            if entry.status not in TERMINAL:
                run.track(entry.key, str(entry.job_id), entry.status, entry.credits)
        for batch in (leftovers or [], items):
            todo, pause = list(batch), WAIT_FIRST
            while todo:
                waiting, todo = await submit_all(run, todo), []
                if waiting and (run.abort or run.expired()):
                    run.leave(waiting)
                elif waiting:  # another run is sending these right now: look again soon, then follow its jobs
                    await asyncio.sleep(pause if run.deadline is None
                                        else min(pause, max(0.0, run.deadline - time.monotonic())))
                    pause = min(pause * 1.5, WAIT_MAX)
                    todo += waiting
        if run.follower and task:
            run.follower.close()
            await task
    finally:
        if run.receiver is not None and run.follower is not None:
            run.receiver.listeners.remove(run.follower.heard)
        if task and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        run.follower = None  # it refers to this run: freed now, not by a later collection (peak memory)



async def submit_all(run: Run, items: list[Item]) -> list[Item]:
    """Claim and send creates through a pool the size of the client's concurrency. Creates that may exist
    at the provider (their answer was lost) are reconciled while the others go on, once the list can show
    them, so their jobs are still near its top; those provably absent go back in line. Returns the rows
    another run is sending."""
    queue: deque[Item] = deque(items)
    waiting: list[Item] = []
    lost: list[Item] = []
    looking: asyncio.Task[None] | None = None

    async def look() -> None:  # until every lost create so far is settled, adopted or back in line
        while lost:
            after = run.client.reconcile_after
            wait = min(run.lost_at.get(i.key, 0.0) for i in lost) + after - time.time()
            if run.deadline is not None:
                wait = min(wait, run.deadline - time.monotonic())
            await asyncio.sleep(max(0.0, wait))
            now = time.time()
            ready = [now >= run.lost_at.get(i.key, 0.0) + after or run.expired() for i in lost]
            batch = [i for i, r in zip(lost, ready, strict=True) if r]
            lost[:] = [i for i, r in zip(lost, ready, strict=True) if not r]
            if batch:  # (none when the wall clock lags the loop's by a hair: look again)
                queue.extendleft(await reconcile(run, batch))  # sent next

    async def worker() -> None:
        nonlocal looking
        while queue:
            verdict, item = await run.create(queue.popleft())
            if verdict == "wait":
                waiting.append(item)
            elif verdict == "reconcile":
                lost.append(item)
                if looking is None or looking.done():
                    if looking is not None:
                        looking.result()  # a failure of the last look-up is this run's
                    looking = asyncio.create_task(look())

    try:
        while queue or looking is not None:
            await asyncio.gather(*(worker() for _ in range(min(len(queue), run.client.max_concurrency))))
            if looking is not None:  # what it puts back in line is sent by a new pool
                done, looking = looking, None
                await done
    finally:
        if looking is not None:
            looking.cancel()
            await asyncio.gather(looking, return_exceptions=True)
    return waiting
