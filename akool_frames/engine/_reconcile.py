"""Reconciling creates whose answer was lost (a crash, a reset, a 5xx): the job found at the provider, in its
list or by the id the create was sent with, is adopted; only a create provably absent is sent again, and at
most RESEND_ROUNDS times. Where there is no way to look, the row stays ``unknown``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from .._errors import AkoolError, NotFound
from ..catalog import get_path, get_path_either
from ._inputs import matchable, without_signatures
from ._records import external_id, poll_request
from ._run import Item, Run

# Per call: a create lost, looked up, provably absent and sent again, at most this often. With 6.5% of creates
# losing their answer (the soak drill's faults), 4 tries left 1 row in 55,000 unfinished; 6 leave 1 in 13 million.
__all__ = ["CLOCK_SKEW", "LANDMARKS", "RESEND_ROUNDS", "reconcile"]

RESEND_ROUNDS = 5
CLOCK_SKEW = 600.0  # seconds the provider's clock may differ from ours when records say when they were made
LANDMARKS = 20  # jobs known to be older than a lost create, looked for in the list (one may have been deleted)


_NO_LIST = ("The create may have reached {provider} but its answer was lost, and {job} has no list endpoint to "
            "check. Look for it in your account; re-run with force=True to send it again.")


async def reconcile(run: Run, items: list[Item]) -> list[Item]:
    """Creates that may have reached the provider: adopt the job found; return those provably absent
    (to send again, up to RESEND_ROUNDS times each); leave the rest ``unknown`` with what to do about it."""
    spec = run.spec
    if spec.immediate:  # nothing was made that could be paid for twice: simply send again
        for item in items:
            if item.resends >= RESEND_ROUNDS:
                await run.settle(item, "skipped", f"no answer came back {RESEND_ROUNDS + 1} times; run again")
        return [replace(item, mode="resend", resends=item.resends + 1) for item in items
                if item.resends < RESEND_ROUNDS]
    if spec.reconcile is None and not spec.idempotency_field:
        for item in items:
            await run.settle(item, "unknown", _NO_LIST.format(provider=spec.provider, job=spec.name))
        return []
    try:
        found, absent = await (_find_by_idempotency(run, items) if spec.idempotency_field
                               else _find_in_list(run, items))
    except AkoolError as exc:
        for item in items:
            await run.settle(item, "unknown", f"The create's answer was lost and looking it up failed ({exc}). "
                              "Re-run the same rows later: they are looked up again, not resent.")
        return []
    resend = []
    for item in items:
        if item.key in found:
            job_id, record = found[item.key]
            await run.adopt(item, job_id, record)
        elif item.key in absent and item.resends < RESEND_ROUNDS:
            resend.append(replace(item, mode="resend", resends=item.resends + 1))
        elif item.key in absent:
            await run.settle(item, "unknown", f"The create's answer was lost {RESEND_ROUNDS + 1} times. "
                              "Re-run the same rows to look it up and try again.")
        else:
            await run.settle(item, "unknown", "The create's answer was lost and it is not among the newest "
                              f"records of {spec.provider}'s list. Look for it in your account; re-run with "
                              "force=True to send it again.")
    return resend


async def _find_in_list(run: Run, items: list[Item]) -> tuple[dict[str, tuple[str, Any]], set[str]]:
    """Page the list, newest first: (key -> (job id, record) found, keys provably absent).

    Absent is proven by reaching, below every record that could be one of these creates' jobs:
    - a landmark: a job this ledger learnt the id of ``reconcile_after`` before the earliest of these creates
      was claimed, so made before any of them could be (the margin is the list's own lag: jobs made close
      together may not be listed in order yet; ObjectId-sorted lists order a second's jobs arbitrarily); only
      our clock is compared with itself;
    - records that say they were made before that claim less CLOCK_SKEW (the provider's clock against ours);
    - the end of the list.
    Without either, the pages looked at cover the spec's ``pages`` plus every create this run sent since (and
    with dates at least ``max_pages``), so a long run cannot push a lost job out of sight.
    """
    rec = run.spec.reconcile
    assert rec is not None
    # Signatures left out on both sides: a staged input's URL is signed anew for every create.
    pending = {item.key: await matchable(run.client, run.spec, item.body, run.sources) for item in items}
    found: dict[str, tuple[str, Any]] = {}
    claimed_from = min(item.claimed_at for item in items)
    landmarks = run.ledger.made_before(run.spec.name, claimed_from - run.client.reconcile_after, LANDMARKS)
    cutoff_ms = (claimed_from - CLOCK_SKEW) * 1000
    # every job made since the earliest claim may sit above a lost create (this run's, and a crashed run's that
    # this ledger knows of); dated records allow reading further still
    newer = max(run.creates, run.ledger.made_since(run.spec.name, claimed_from) if claimed_from > 0 else 0)
    pages = rec.pages + math.ceil(newer / rec.size)
    if rec.created:
        pages = max(pages, rec.max_pages)
    for page in range(1, pages + 1):
        answer = await run.http.request(run.spec.provider, "GET", rec.path,
                                        params={**rec.query, "page": str(page), "size": str(rec.size)})
        records = get_path_either(answer, rec.records, list) or []
        below = next((n for n, r in enumerate(records) if str(get_path(r, rec.record_id)) in landmarks), None)
        _match(run, records[:below], pending, found)
        if not pending:
            return found, set()
        if below is not None:  # every record from here on was made before any of these creates
            return found, set(pending)
        if len(records) < rec.size:  # the end of the list: what is not there was never made
            return found, set(pending)
        if rec.created and records and all(_made_before(r, rec.created, cutoff_ms) for r in records):
            return found, set(pending)  # older than every claim: what is not above was never made
    return found, set()


def _match(run: Run, records: list[Any], pending: dict[str, Any], found: dict[str, tuple[str, Any]]) -> None:
    """Adopt each record that is a pending create's job, unless its job belongs to a row already."""
    rec = run.spec.reconcile
    assert rec is not None
    ids = [str(get_path(record, rec.record_id)) for record in records]
    taken = {*run.ledger.by_job_ids(ids), *(rid for rid, _ in found.values())}
    for rid, record in zip(ids, records, strict=True):
        bare = without_signatures(run.spec, record) if isinstance(record, dict) else record
        key = next((k for k, body in pending.items() if rec.match(bare, body)), None)
        if key is not None and rid not in taken:
            found[key] = (rid, record)
            taken.add(rid)
            del pending[key]


def _made_before(record: Any, path: str, cutoff_ms: float) -> bool:
    made = get_path(record, path)
    return isinstance(made, int | float) and not isinstance(made, bool) and made < cutoff_ms


async def _find_by_idempotency(run: Run, items: list[Item]) -> tuple[dict[str, tuple[str, Any]], set[str]]:
    """Ask for each lost create by the id it was sent with (Kling's external_task_id)."""
    spec = run.spec
    assert spec.idempotency_field is not None
    found: dict[str, tuple[str, Any]] = {}
    absent: set[str] = set()
    for item in items:
        external = str(item.body.get(spec.idempotency_field) or external_id(item.key, item.attempt))
        try:
            answer = await run.http.request(spec.provider, *poll_request(spec, [external]))
        except NotFound:
            absent.add(item.key)
            continue
        assert spec.poll is not None  # (poll_request asked it)
        record = get_path(answer, spec.poll.records)
        if record:
            # The record carries its id where the create answer's record does (Kling: task_id).
            assert spec.id_path is not None  # (its create answer names the job)
            found[item.key] = (str(get_path(record, spec.id_path.removeprefix(spec.create_record + "."))),
                               record)
        else:
            absent.add(item.key)
    return found, absent
