"""Submit, follow, reconcile: rows of parameters in, one Outcome per row out. Knows nothing of DataFrames.

    rows -> prepare (aliases, defaults, validate) -> price -> budget gate -> dedupe by ledger key
         -> ledger (intent) -> create -> ledger (job id) -> follow (batched polls) -> ledger (terminal)
         -> one Outcome per row, in order

Never pays twice: a key whose latest ledger attempt has a job id is followed, not sent again. A create
that may have reached the provider without its answer coming back (a crash, a reset, a 5xx) is
reconciled through the provider's list endpoint where one exists: the job found there is adopted, and
only a create provably absent from the list is sent again. Where there is no list, the row stays
``unknown`` and is never resent on its own.

Following runs while the creates still go out: each job is polled as soon as it has an id, batched
where the poll endpoint takes many ids, so a long run finishes its first jobs long before its last
create.

The steps live apart, in the flow's order: ``_prepare`` (bodies, validation, prices), ``_follow`` (polls and
callbacks), ``_reconcile`` (lost creates), ``_submit`` (claims and creates); this module joins them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from .._client import FOLLOW_MODES
from .._errors import AccountWarning, AkoolError, ConfigError, ValidationError, say
from .._loop import note_interrupted
from ..catalog import JobSpec, get_job, get_path
from ..ledger import TERMINAL, Entry, ledger_key
from ..pricing import resolve_rates
from ..storage import Source
from ..typing import ProgressSink
from ._budget import budget_gate, open_campaign
from ._follow import Follower
from ._gc import frozen_heap, paused_gc
from ._inputs import keyed, resolve_inputs
from ._localize import check_languages
from ._prepare import Outcome, Prepared, _prices, _report_undocumented, _sent_basis, _sent_outcome, estimate_outcome, prepare_rows
from ._run import Item, Run, where_of
from ._save import Saver, SaveTo
from ._submit import go
from ._tally import Tally

__all__ = ["execute", "refresh_jobs"]

RESENDABLE = frozenset({"rejected", "skipped"})  # ledger states where no job exists
BALANCE_PATH = "/api/open/v3/faceswap/quota/info"  # data.credit: the account's credit balance


# --------------------------------------------------------------------------- public
async def execute(client: Any, job: str | JobSpec, rows: Sequence[Mapping[str, Any]], *, mode: str,
                  force: bool = False, budget: float | None = None, timeout: float | None = None,
                  progress: ProgressSink | None = None, plan: str | None = None,
                  rates: Any = None, labels: Sequence[Any] | None = None, follow: str | None = None,
                  stop: Any = None, campaign: str | None = None, save: SaveTo | None = None) -> list[Outcome]:
    """``mode`` is "estimate" (validate + price), "submit" (and create) or "run" (and follow to the end, by
    polling or from webhooks: ``follow``, default the client's).

    ``rows`` are parameter dicts with per-row values resolved, keyed by documented names or the
    job's aliases. Returns one Outcome per row, in order. Raises BudgetExceeded (before sending
    anything) when the estimate of what would be sent is over ``budget``; with ``campaign``, ``budget`` is
    that campaign's, held in the ledger across runs and processes: each create reserves its row's estimate first,
    and rows that do not fit end ``skipped`` (``ledger._campaigns``).

    A run the account stopped (a wrong key, no credits, no plan) says so once, after its rows are settled: an
    ``AccountWarning`` (``_errors.say``: the caller's thread says it, where the call collects).

    ``save`` (run mode only): each row's result file saved into ``save.storage`` as soon as its job is seen
    completed, during the run; the call returns once every save is over, with ``save.files`` filled (``_save``).
    """
    if mode not in ("estimate", "submit", "run"):
        msg = f"mode must be estimate, submit or run; got {mode!r}"
        raise ValueError(msg)
    if save is not None and mode != "run":
        msg = f"save= saves the results a run follows to their end; mode is {mode!r}"
        raise ValueError(msg)
    follow = follow or (client.follow if mode == "run" else "poll")
    if follow not in FOLLOW_MODES:
        msg = f"follow is {follow!r}.\n\nHint: use 'poll' or 'webhook'."
        raise ConfigError(msg)
    spec = get_job(job)
    plan = plan or client.plan
    rates = resolve_rates(rates, client)
    labels = list(labels) if labels is not None else list(range(len(rows)))
    with paused_gc():
        prepared, keys, state, sent, sources = await _read_rows(client, spec, rows, plan, mode, force)
    del rows  # the bodies are made: the caller's parameter dicts need not outlive them (peak memory)
    if mode != "estimate" and len(sent) == len(prepared) and not any(r.batch_records for r in spec.routes) \
            and all(entry.status in TERMINAL for entry in sent.values()):
        client.credentials(spec.provider)
        with paused_gc():
            ended = _all_over(spec.name, [sent[i] for i in range(len(prepared))], progress)
        if save is not None:  # saved before (the ledger says where), or saved now
            await Saver(client, save, {}).finish(ended)
        return ended
    # Language codes the provider does not offer: invalid rows now, not refused creates later.
    languages = await check_languages(client, spec.name, [p.body if p.problem is None and i not in sent else None
                                                          for i, p in enumerate(prepared)])
    prepared = [p._replace(problem=problem) if problem and p.problem is None else p
                for p, problem in zip(prepared, languages, strict=True)]
    bodies = [p.body if p.problem is None else None for p in prepared]
    _report_undocumented(spec, [None if i in sent else b for i, b in enumerate(bodies)])
    prices = await _prices(client, spec, [None if i in sent else b for i, b in enumerate(bodies)], plan, rates,
                           probe=True, given=[p.given for p in prepared],
                           progress=progress if mode == "estimate" else None)
    with paused_gc():
        outcomes = [estimate_outcome(p, price, label, spec.name) if i not in sent else _sent_outcome(sent[i], spec.name)
                    for i, (p, price, label) in enumerate(zip(prepared, prices, labels, strict=True))]
    del prices  # (in the outcomes now)
    if mode == "estimate":
        return outcomes

    client.credentials(spec.provider)
    groups: dict[str, list[int]] = {}  # ledger key -> rows (identical rows share one job)
    with paused_gc():
        for i, (body, key) in enumerate(zip(bodies, keys, strict=True)):
            if body is not None and key is not None:
                groups.setdefault(key, []).append(i)
        # What this run knows (``state``, read above); each claim checks again before sending.
        new, lost, known = _sort_out(groups, state, bodies, outcomes, force)
    batches = any(route.batch_records for route in spec.routes)
    new = budget_gate(budget, new, groups, outcomes) if campaign is None else new
    tally = Tally(progress, {key: len(groups[key]) for key in [*(i.key for i in new + lost), *(e.key for e in known)]})
    deadline = time.monotonic() + timeout if timeout is not None else None
    if campaign is not None:
        await open_campaign(client, campaign, budget)
    run = Run(client, spec, tally, deadline, stop=stop, sources=sources, campaign=campaign)
    run.saver = Saver(client, save, groups) if save is not None else None  # (the follower starts each save)
    if batches:  # a batch's other videos are followed with its first (they are no rows of their own)
        known += [video for videos in client.ledger.videos(known).values() for video in videos]
    estimates = [outcomes[groups[key][0]].credits_est for key in tally.rows]
    tally.start(None if None in estimates else sum(estimates))  # type: ignore[arg-type]  # summed only when none is None (unpriced)
    run.owner = client.ledger.register(f"{mode} {spec.name}, {len(tally.rows)} jobs")
    # Jobs whose answers report no credits: the balance before and after tells calibration what they cost.
    before = await _balance(client) if mode == "run" and new and spec.provider == "akool" and not spec.credit_field \
        else None
    run.made = [] if before is not None else None
    del prepared, bodies, keys, state, sent, estimates, languages  # the run needs only its items (peak memory)
    started = time.time()
    try:
        # Crash leftovers first: the provider's list then still has their jobs near the top.
        with frozen_heap():  # the rows, bodies and outcomes live through the run: collections need not walk them
            await go(run, new, known, follow=mode == "run", webhook=follow == "webhook", leftovers=lost)
    except asyncio.CancelledError:  # Ctrl-C (run_sync cancels us): say what was sent and how to resume
        note_interrupted(tally.interrupted(spec.provider))
        if run.saver is not None:
            run.saver.cancel()
        raise
    finally:
        released = client.ledger.release(run.owner)  # committed even if this task is being cancelled
        tally.report()
        if progress:
            progress.close()
    if before is not None:
        await _record_balance(client, run, before, started)
    await released
    if run.config_error is not None:  # every claimed row is settled as not sent; the setting is the news
        if run.saver is not None:
            run.saver.cancel()
        raise run.config_error
    # Jobs over before the run began are as they were read (a re-run of finished rows reads its ledger once).
    over = {e.key: e for e in known if e.status in TERMINAL and e.key in groups}
    del new, lost, known  # (peak memory: the final read comes next)
    ordered = list(tally.rows)
    for start in range(0, len(ordered), OUTCOME_CHUNK):  # in chunks: one chunk's ledger entries alive at a time
        with paused_gc():
            part = ordered[start: start + OUTCOME_CHUNK]
            latest = {key: over[key] for key in part if key in over} | client.ledger.latest(
                [key for key in part if key not in over], bodies=False)
            videos = client.ledger.videos(latest.values()) if batches else {}
            for key in part:
                entry = latest.get(key)
                left = run.left.get(key) if entry is None or not entry.job_id else None
                for i in groups[key]:  # the run's columns over the estimate's (its price basis and duration stay)
                    outcomes[i] = (replace(outcomes[i], status="skipped", error=left) if left
                                   else _outcome(entry, outcomes[i], videos.get(key, ())))
    if run.saver is not None:  # the saves still going, and those of jobs the run did not see complete
        await run.saver.finish(outcomes)
    if run.account_refused:
        say(AccountWarning, _account_notice(str(run.abort), outcomes))
    return outcomes


# --------------------------------------------------------------------------- account stops
def _account_notice(abort: str, outcomes: Sequence[Outcome]) -> str:
    """The run's stop reason (cause and setting to change), with how many rows it left unsent."""
    unsent = sum(1 for o in outcomes if o.status == "skipped" and o.error and abort in o.error)
    return abort.replace("; the rest was not sent.", f"; the rest was not sent ({unsent} of {len(outcomes)} rows).", 1)


OUTCOME_CHUNK = 5000  # rows whose final state is read from the ledger at once


def _all_over(job: str, entries: Sequence[Entry], progress: ProgressSink | None) -> list[Outcome]:
    """A re-run whose every row's job is over (the usual re-run of a finished cell): each row's outcome as the
    ledger keeps it, with the estimate made when it was sent; nothing sent, followed or read again."""
    if progress:  # the bars and the panel, as a run would leave them
        tally = Tally(progress, Counter(entry.key for entry in entries))
        firsts = {entry.key: entry for entry in entries}
        estimates = [entry.credits_est for entry in firsts.values()]
        tally.start(None if None in estimates else sum(estimates))  # type: ignore[arg-type]  # summed only when none is None (unpriced)
        tally.over(list(firsts.values()))
        tally.report()
        progress.close()
    return [Outcome(entry.status, entry.job_id, entry.url, entry.credits_est, entry.credits, entry.error, job,
                    _sent_basis(entry), entry.duration_s, entry.duration_source, entry.extra)
            if entry.deleted_at is None else _outcome(entry, _sent_outcome(entry, job)) for entry in entries]


async def _read_rows(client: Any, spec: JobSpec, rows: Sequence[Mapping[str, Any]], plan: str, mode: str,
                     force: bool) -> tuple[list[Prepared], list[str | None], dict[str, Entry], dict[int, Entry],
                                           dict[str, Source]]:
    """Each row's body, its ledger key (None where the row is invalid, or in an estimate), the ledger's latest
    attempt of each key, and the rows sent before (by position): their job exists, so they are neither validated,
    priced nor probed again; the ledger keeps the estimate made when they were sent. Last, the rows' files and
    objects (``_inputs``): identified for the keys, unless this is an estimate."""
    prepared, sources = await resolve_inputs(client, spec, prepare_rows(spec, rows), identity=mode != "estimate")
    where = where_of(client, spec) if mode != "estimate" else ""
    keys = [ledger_key(where, spec.name, keyed(spec, p.body, sources)) if p.problem is None and where else None
            for p in prepared]
    state = client.ledger.latest({k for k in keys if k}, bodies=False) if where else {}  # an estimate reads none
    sent = {} if force else {i: state[k] for i, k in enumerate(keys) if k in state and state[k].job_id}
    checked = [p if i in sent else p.checked(spec, plan) for i, p in enumerate(prepared)]
    return checked, keys, state, sent, sources


async def _balance(client: Any) -> float | None:
    """The Akool account's credit balance, or None when it cannot be read (calibration then goes without)."""
    try:
        answer = await client.http.request("akool", "GET", BALANCE_PATH)
    except AkoolError:
        return None
    value = get_path(answer, "data.credit")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


async def _record_balance(client: Any, run: Run, before: float, started: float) -> None:
    """Record what the balance says this run's jobs cost, when it can only be theirs: every create answered
    (no lost one whose job might be charged unseen), every job over, no other run writing meanwhile."""
    if not run.made or run.lost_at or client.ledger.others_wrote(run.owner, started):
        return
    states = client.ledger.by_job_ids(run.made)
    if any(i not in states or not states[i].terminal for i in run.made):
        return
    after = await _balance(client)
    if after is not None:
        await client.ledger.record_balance(run.owner, run.spec.name, run.spec.provider, before, after, started,
                                           run.made)


def _sort_out(groups: Mapping[str, list[int]], state: Mapping[str, Entry], bodies: list[dict[str, Any] | None],
              outcomes: list[Outcome], force: bool) -> tuple[list[Item], list[Item], list[Entry]]:
    """Split the keys by what the ledger knows: (to send, lost creates to reconcile, jobs that exist). The
    first two are claimed before anything is sent; the claim has the last word (another run may have
    made the job since)."""
    new, lost, known = [], [], []
    for key, members in groups.items():
        entry, first = state.get(key), members[0]
        # An attempt some run is working on as this one looks counts as made after it looked: its outcome
        # (a job, or a refusal) is followed, not overruled by this run's force or resend.
        if not force and entry is not None and entry.job_id and entry.status not in RESENDABLE:
            known.append(entry)
            continue
        seen = entry.attempt - (1 if entry.owner else 0) if entry else 0
        item = Item(key, bodies[first] or {}, outcomes[first].credits_est, attempt=seen,
                     mode="force" if force else "send", priced=outcomes[first])
        if force or entry is None or entry.status in RESENDABLE:
            new.append(item)
        else:
            lost.append(item)  # an intent (crash) or an unknown create: reconcile, never blindly resend
    return new, lost, known


def _row_status(entry: Entry | None) -> str:
    if entry is None:
        return "skipped"
    return "unknown" if entry.status == "intent" else entry.status


def _outcome(entry: Entry | None, estimate: Outcome, videos: Sequence[Entry] = ()) -> Outcome:
    """A row's outcome after a run: the ledger's state of its job (and of its batch's other videos) over the
    row's estimate."""
    if entry is None:
        return replace(estimate, status="skipped", error="not sent")
    if videos:
        entry = _combined(entry, videos)
    if entry.deleted_at is not None and entry.status == "completed":  # its result is gone: no dead link
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(entry.deleted_at))
        return replace(estimate, status="completed", job_id=entry.job_id, url=None, credits=entry.credits,
                       error=f"its result was deleted on {when} (delete()); force=True makes it again",
                       extra=entry.extra)
    e = estimate  # built, not replace()d: a re-run makes one per row
    return Outcome(_row_status(entry), entry.job_id, entry.url, e.credits_est, entry.credits, entry.error, e.job,
                   e.price_basis, e.duration_s, e.duration_source, entry.extra)


def _combined(first: Entry, others: Sequence[Entry]) -> Entry:
    """One row's batch of videos as one entry: the first's id and url, every video's credits, a status that is
    over only when all are, the failures counted; the ids and urls of all in its extra (video_ids, video_urls)."""
    entries = [first, *others]
    statuses = {e.status for e in entries}
    failed = [e for e in entries if e.status == "failed"]
    status = (next((s for s in ("processing", "queued") if s in statuses), None)
              or ("failed" if len(failed) == len(entries) else "completed"))
    notes = [first.error] if first.error and first.status != "failed" else []
    if failed and status == "completed":
        notes.append(f"{len(failed)} of {len(entries)} videos failed: {failed[0].error}")
    credits = [e.credits for e in entries if e.credits is not None]
    extra = {**(json.loads(first.extra) if first.extra else {}),
             "video_ids": [e.job_id for e in entries], "video_urls": [e.url for e in entries]}
    return replace(first, status=status, url=next((e.url for e in entries if e.url), None),
                   credits=sum(credits) if credits else None,
                   error="; ".join(notes) or (failed[0].error if status == "failed" else None),
                   extra=json.dumps(extra, ensure_ascii=False))


async def refresh_jobs(client: Any, job_ids: Sequence[str | None], job: str | None = None, *,
                       timeout: float | None = None, follow: bool = False,
                       progress: ProgressSink | None = None) -> list[Outcome | None]:
    """Poll the given job ids (job names from the ledger, or ``job``); None for rows without an id."""
    ledger = client.ledger
    known = ledger.by_job_ids([i for i in job_ids if i])
    by_job: dict[str, set[str]] = {}
    for job_id in {i for i in job_ids if i}:
        name = known[job_id].job if job_id in known else job
        if name is None:
            msg = (f"Job id {job_id} is not in the ledger at {ledger.path}, so its job type is unknown.\n\n"
                   "Hint: pass job= to refresh().")
            raise ValidationError(msg)
        by_job.setdefault(name, set()).add(job_id)
    # A batch's other videos are polled with its first (their rows show them combined).
    batched = [e for e in known.values() if any(r.batch_records for r in get_job(e.job).routes)]
    videos = ledger.videos(batched) if batched else {}
    for entry in batched:
        for video in videos.get(entry.key, ()):
            known[str(video.job_id)] = video
            by_job[entry.job].add(str(video.job_id))
    deadline = time.monotonic() + timeout if timeout is not None else None
    pending = {i for ids in by_job.values() for i in ids if not (i in known and known[i].terminal)}
    tally = Tally(progress, {i: 1 for i in pending})
    tally.start(0.0)
    results: dict[str, Outcome] = {}
    try:
        for name, ids in by_job.items():
            follower = Follower(Run(client, get_job(name), tally, deadline), keep_reads=True)
            mine = sorted(ids & pending) if get_job(name).poll else []  # an immediate job has nothing to poll
            for job_id in mine:
                tally.submitted(job_id)
            if follow:
                for job_id in mine:
                    follower.add(job_id, job_id)
                follower.close()
                await follower.loop()
            elif mine:
                await follower.poll_once(mine)
            fresh = ledger.by_job_ids(ids)
            now_videos = ledger.videos([fresh[i] for i in ids if i in fresh and fresh[i].key in videos])
            for job_id in ids:  # the ledger's row where it has one, else what the poll said
                if job_id in fresh:
                    entry = fresh[job_id]
                    results[job_id] = _outcome(entry, Outcome(None, credits_est=entry.credits_est, job=entry.job),
                                               now_videos.get(entry.key, ()))
                elif job_id in follower.last:
                    read = follower.last[job_id]
                    results[job_id] = Outcome(read.status, job_id, read.url, None, read.credits, read.error,
                                              extra=read.extra)
    finally:
        tally.report()
    return [results.get(i) if i else None for i in job_ids]
