"""Submit, follow, reconcile: rows of parameters in, one Outcome per row out. Knows nothing of DataFrames.

    rows -> prepare (aliases, defaults, validate) -> price -> budget gate -> dedupe by ledger key
         -> ledger (intent) -> create -> ledger (job id) -> follow (batched polls) -> ledger (terminal)
         -> one Outcome per row, in order

Never pays twice: a key whose latest ledger attempt has a job id is followed, not sent again;
an intent without a job id (a crash, or a lost answer) is reconciled through the provider's list
endpoint where one exists, and stays ``unknown`` where none does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import media
from ._errors import APIError, AuthError, BudgetExceeded, NotFound, ServerError, TransportError, ValidationError
from ._ledger import CALLBACK_FIELDS, Entry, ledger_key
from .jobs import JobSpec, PriceContext, get_job, get_path, validate_body
from .pricing import estimate as price_of

__all__ = ["Outcome", "ProgressSink", "execute", "refresh_jobs", "download_files", "prepare"]

RESENDABLE = frozenset({"rejected", "skipped"})  # ledger states where no job exists


@dataclass
class Outcome:
    """What one row ends with. ``status`` is one of PRODUCT.md's statuses (None only for a valid
    row in an estimate, where nothing is submitted)."""

    status: str | None
    job_id: str | None = None
    url: str | None = None
    credits_est: float | None = None
    credits: float | None = None
    error: str | None = None


class ProgressSink(Protocol):
    """Receives engine events; ``_progress.make_progress`` builds the tqdm / ipywidgets one."""

    def start(self, total: int, credits_est: float) -> None: ...
    def submitted(self, n: int = 1) -> None: ...
    def finished(self, n: int = 1) -> None: ...
    def counts(self, by_status: Mapping[str, int], credits: float) -> None: ...
    def close(self) -> None: ...


# --------------------------------------------------------------------------- preparing rows
def _set_path(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        body = body.setdefault(name, {})
    body[last] = value


def prepare(spec: JobSpec, params: Mapping[str, Any], plan: str) -> tuple[dict[str, Any], str | None]:
    """The documented body for one row (aliases expanded, defaults filled) and its first problem."""
    body: dict[str, Any] = json.loads(json.dumps(dict(spec.defaults)))
    for name, value in params.items():
        if name in CALLBACK_FIELDS:
            return body, (f"{name} is set by akool_frames itself; pass webhook_url= to the Client instead")
        target = spec.aliases.get(name, name) if name not in spec.field_names() else name
        if value is None and target in spec.defaults:
            continue
        _set_path(body, target, value)
    body = {k: v for k, v in body.items() if v is not None}
    return body, validate_body(spec, body, plan)


# --------------------------------------------------------------------------- one run
@dataclass
class _Run:
    client: Any
    spec: JobSpec
    progress: ProgressSink | None
    deadline: float | None
    state: dict[str, Entry] = field(default_factory=dict)  # key -> latest ledger entry
    abort: str | None = None

    @property
    def ledger(self) -> Any:
        return self.client.ledger

    @property
    def http(self) -> Any:
        return self.client.http

    @property
    def where(self) -> str:
        """Provider and base URL: the same body sent to the sandbox and to Akool are different jobs."""
        return f"{self.spec.provider}@{self.client.base_urls[self.spec.provider]}"

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def refresh_state(self, keys: Sequence[str]) -> None:
        self.state.update(self.ledger.latest(keys))

    # ------------------------------------------------------------------ create
    async def create(self, key: str, body: dict[str, Any], estimate: float | None, *, new_attempt: bool) -> None:
        spec = self.spec
        if self.abort or self.expired():
            self.ledger.intend([(key, self.where, spec.name, body, estimate)], new_attempt=new_attempt)
            self.ledger.settle(key, "skipped", f"not sent: {self.abort or 'the run timed out first'}")
            return
        sent = dict(body)
        if spec.webhook_field and self.client.webhook_url:
            sent[spec.webhook_field] = self.client.webhook_url
        if spec.idempotency_field and not sent.get(spec.idempotency_field):
            sent[spec.idempotency_field] = key[:32]  # lets a lost answer be found again by this id
        # The intent is committed before anything leaves: a crash from here on is reconciled, not resent.
        self.ledger.intend([(key, self.where, spec.name, body, estimate)], new_attempt=new_attempt)
        create, id_path, record_path = spec.create_for(body)
        try:
            answer = await self.http.request(spec.provider, "POST", create, body=sent, create=True)
        except AuthError as exc:
            self.abort = f"authentication failed ({exc})"
            self.ledger.settle(key, "rejected", str(exc))
            return
        except APIError as exc:
            self.ledger.settle(key, "rejected", str(exc))
            return
        except (TransportError, ServerError) as exc:
            if isinstance(exc, TransportError) and not exc.may_have_reached:
                self.ledger.settle(key, "skipped", f"not sent: {exc}")
            else:
                self.ledger.settle(key, "unknown", f"{exc} The create may have reached the provider.")
            return
        job_id = get_path(answer, id_path)
        if job_id in (None, ""):
            self.ledger.settle(key, "unknown", f"the create answer carried no job id at {id_path}")
            return
        record = get_path(answer, record_path, {})
        status, _, credits, _ = _read(spec, record, create=True)
        self.ledger.submitted(key, str(job_id), status, credits)
        if self.progress:
            self.progress.submitted()

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, items: list[tuple[str, dict[str, Any], float | None]]) -> None:
        """Keys whose create may have reached the provider: adopt the job found, resend if provably absent."""
        spec = self.spec
        if spec.reconcile is None and not spec.idempotency_field:
            for key, _, _ in items:
                self.ledger.settle(key, "unknown", (
                    f"The create may have reached {spec.provider} but its answer was lost, and {spec.name} has no "
                    "list endpoint to check. Look for it in your account; re-run with force=True to send it again."))
            return
        oldest = min(self.state[k].created_at for k, _, _ in items if k in self.state) if self.state else time.time()
        wait = self.client.reconcile_after - (time.time() - oldest)
        if wait > 0:
            await asyncio.sleep(wait)  # let the provider's list catch up with the lost create
        found = await (self._find_by_idempotency(items) if spec.idempotency_field else self._find_in_list(items))
        resend = []
        for key, body, estimate in items:
            record = found.get(key)
            if record is None:
                resend.append((key, body, estimate))
                continue
            status, _, credits, _ = _read(spec, record, create=True)
            job_id = str(get_path(record, spec.reconcile.record_id if spec.reconcile else "task_id"))
            self.ledger.submitted(key, job_id, status, credits)
        await asyncio.gather(*(self.create(k, b, e, new_attempt=True) for k, b, e in resend))

    async def _find_in_list(self, items: list[tuple[str, dict[str, Any], float | None]]) -> dict[str, Any]:
        rec = self.spec.reconcile
        assert rec is not None
        claimed = self.ledger.claimed_job_ids(self.spec.name)
        found: dict[str, Any] = {}
        pending = {key: body for key, body, _ in items}
        for page in range(1, rec.pages + 1):
            params = {**rec.query, "page": str(page), "size": str(rec.size)}
            answer = await self.http.request(self.spec.provider, "GET", rec.path, params=params)
            records = get_path(answer, rec.records) or []
            for record in records:
                rid = str(get_path(record, rec.record_id))
                if rid in claimed:
                    continue
                for key, body in list(pending.items()):
                    if rec.match(record, body):
                        found[key] = record
                        claimed.add(rid)
                        del pending[key]
                        break
            if not pending or len(records) < rec.size:
                break
        return found

    async def _find_by_idempotency(self, items: list[tuple[str, dict[str, Any], float | None]]) -> dict[str, Any]:
        found = {}
        for key, body, _ in items:
            external = body.get(self.spec.idempotency_field) or key[:32]  # type: ignore[arg-type]
            try:
                answer = await self.http.request(self.spec.provider, *self._poll_request([str(external)]))
            except NotFound:
                continue
            record = get_path(answer, self.spec.poll.records)
            if record:
                found[key] = record
        return found

    # ------------------------------------------------------------------ follow
    def _poll_request(self, ids: list[str]) -> tuple[str, str]:
        poll = self.spec.poll
        return poll.method, poll.path.replace("{id}", ids[0]) if poll.id_in == "path" else poll.path

    async def poll(self, ids: list[str]) -> dict[str, Any]:
        """Records by job id (a NotFound value for ids the provider does not know)."""
        poll, spec = self.spec.poll, self.spec
        method, path = self._poll_request(ids)
        joined = ",".join(ids)
        params = {poll.id_param: joined} if poll.id_in == "query" else None
        body = {poll.id_param: joined} if poll.id_in == "body" else None
        try:
            answer = await self.http.request(spec.provider, method, path, params=params, body=body)
        except NotFound as exc:
            return {i: exc for i in ids}
        records = get_path(answer, poll.records)
        if not poll.many:
            return {ids[0]: records} if records else {ids[0]: NotFound(spec.provider, 0, "empty answer")}
        by_id = {str(get_path(r, poll.record_id)): r for r in records or []}
        return {i: by_id.get(i, _MISSING) for i in ids}

    async def follow(self, jobs: dict[str, str]) -> None:
        """Poll ``jobs`` (job id -> key) until each is terminal or the deadline passes."""
        spec = self.spec
        every = self.client.poll_interval or spec.poll.every
        loop = asyncio.get_running_loop()
        due = {job_id: loop.time() + every for job_id in jobs}
        misses: Counter[str] = Counter()
        while jobs and not self.expired():
            now = loop.time()
            ready = [j for j in jobs if due[j] <= now]
            if not ready:
                await asyncio.sleep(max(0.0, min(due[j] for j in jobs) - now))
                continue
            size = spec.poll.max_ids if spec.poll.many else 1
            batches = [ready[i: i + size] for i in range(0, len(ready), size)]
            results = await asyncio.gather(*(self.poll(b) for b in batches), return_exceptions=True)
            updates, done = [], 0
            for batch, result in zip(batches, results, strict=True):
                if isinstance(result, BaseException):
                    if isinstance(result, asyncio.CancelledError):
                        raise result
                    for job_id in batch:
                        due[job_id] = loop.time() + every  # transient: try again next round
                    continue
                for job_id, record in result.items():
                    if record is _MISSING or isinstance(record, NotFound):
                        misses[job_id] += 1
                        if misses[job_id] >= 5:
                            updates.append((job_id, "failed", None, None, f"{spec.provider} no longer knows job {job_id}"))
                            del jobs[job_id]
                            done += 1
                        else:
                            due[job_id] = loop.time() + every
                        continue
                    status, url, credits, error = _read(spec, record)
                    updates.append((job_id, status, url, credits, error))
                    if status in ("completed", "failed"):
                        del jobs[job_id]
                        done += 1
                    else:
                        due[job_id] = loop.time() + every
            if updates:
                self.ledger.update(updates)
            if self.progress and done:
                self.progress.finished(done)


_MISSING = object()


def _read(spec: JobSpec, record: Any, *, create: bool = False) -> tuple[str, str | None, float | None, str | None]:
    """Status, result URL, credits and failure reason from a provider record."""
    field_name = (spec.create_status_field or spec.status_field) if create else spec.status_field
    raw = get_path(record, field_name)
    status = spec.statuses.get(raw, "queued" if create else "processing")
    url = get_path(record, spec.result_field) if status == "completed" else None
    credits = None
    if spec.credit_field:
        value = get_path(record, spec.credit_field)
        try:
            credits = float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            credits = None
    error = None
    if status == "failed":
        reasons = [f"{f}: {v}" for f in spec.error_fields if (v := get_path(record, f)) not in (None, "", [])]
        error = "; ".join(reasons) or f"the job failed at {spec.provider} (no reason given)"
    return status, (str(url) if url else None), credits, error


# --------------------------------------------------------------------------- durations for prices
async def _probe(client: Any, target: Any) -> tuple[float | None, str]:
    if not isinstance(target, str) or not target:
        return None, "no media given"
    if not target.startswith(("http://", "https://")):
        seconds = media.probe_local(target)
        return (seconds, "probed") if seconds is not None else (None, f"could not read the duration of {target}")
    status, head, total = await client.http.fetch(target, head_bytes=256 * 1024)
    if status not in (200, 206):
        return None, f"could not fetch {target} (HTTP {status})"
    seconds = media.duration_from_bytes(head, total)
    return (seconds, "probed") if seconds is not None else (None, f"could not read the duration of {target}")


async def _prices(client: Any, spec: JobSpec, bodies: list[dict[str, Any] | None], plan: str,
                  rates: Mapping[str, float], probe: bool) -> list[Any]:
    wanted: set[str] = set()

    def record(url: Any) -> tuple[float | None, str]:
        if isinstance(url, str):
            wanted.add(url)
        return None, "not probed"

    for body in bodies:
        if body is not None:
            price_of(spec, body, PriceContext(plan=plan, rates=rates, duration=record))
    known: dict[str, tuple[float | None, str]] = {}
    if wanted and probe:
        results = await asyncio.gather(*(_probe(client, url) for url in sorted(wanted)))
        known = dict(zip(sorted(wanted), results, strict=True))

    def lookup(url: Any) -> tuple[float | None, str]:
        return known.get(url, (None, "not probed (lazy estimate)")) if isinstance(url, str) else (None, "no media")

    ctx = PriceContext(plan=plan, rates=rates, duration=lookup)
    return [price_of(spec, body, ctx) if body is not None else None for body in bodies]


# --------------------------------------------------------------------------- public
async def execute(client: Any, job: str | JobSpec, rows: Sequence[Mapping[str, Any]], *, mode: str,
                  force: bool = False, budget: float | None = None, timeout: float | None = None,
                  progress: ProgressSink | None = None, plan: str | None = None,
                  rates: Mapping[str, float] | None = None, labels: Sequence[Any] | None = None) -> list[Outcome]:
    """``mode`` is "estimate" (validate + price), "submit" (and create) or "run" (and follow to the end).

    ``rows`` are parameter dicts with per-row values resolved, keyed by documented names or the
    job's aliases. Returns one Outcome per row, in order. Raises BudgetExceeded (before sending
    anything) when the estimate of what would be sent is over ``budget``.
    """
    if mode not in ("estimate", "submit", "run"):
        raise ValueError(f"mode must be estimate, submit or run; got {mode!r}")
    spec = get_job(job)
    plan = plan or client.plan
    rates = dict(rates or {})
    labels = list(labels) if labels is not None else list(range(len(rows)))
    prepared = [prepare(spec, row, plan) for row in rows]
    bodies = [body if problem is None else None for body, problem in prepared]
    prices = await _prices(client, spec, bodies, plan, rates, probe=True)
    outcomes: list[Outcome] = []
    for (body, problem), price, label in zip(prepared, prices, labels, strict=True):
        if problem is not None:
            outcomes.append(Outcome("invalid", error=f"row {label}: {problem}"))
        else:
            outcomes.append(Outcome(None, credits_est=price.credits,
                                    error=None if price.credits is not None else f"no estimate: {price.reason}"))
    if mode == "estimate":
        return outcomes

    client.credentials(spec.provider)
    deadline = time.monotonic() + timeout if timeout is not None else None
    run = _Run(client, spec, progress, deadline)
    groups: dict[str, list[int]] = {}
    for i, body in enumerate(bodies):
        if body is not None:
            groups.setdefault(ledger_key(run.where, spec.name, body), []).append(i)
    run.refresh_state(list(groups))
    new, adopt, lost = [], [], []
    for key, members in groups.items():
        entry = run.state.get(key)
        first = members[0]
        item = (key, bodies[first], outcomes[first].credits_est)
        if force or entry is None or entry.status in RESENDABLE:
            new.append((*item, entry is not None))
        elif entry.job_id:
            adopt.append(key)
        else:
            lost.append(item)  # an intent (crash) or an unknown create: reconcile, never blindly resend
    # Budget: what would be newly sent. Rows without a price cannot be promised under a budget.
    if budget is not None:
        priced = [e for _, _, e, _ in new if e is not None]
        total = sum(priced)
        if total > budget:
            raise BudgetExceeded(total, budget, unpriced=len(new) - len(priced))
        held = {k for k, _, e, _ in new if e is None}
        for key in held:
            for i in groups[key]:
                outcomes[i] = Outcome("skipped", credits_est=None,
                                      error="not sent: no price is known for this row, so budget= cannot cover it")
        new = [n for n in new if n[0] not in held]
        for key in held:
            del groups[key]
    if progress:
        progress.start(len(rows), sum(o.credits_est or 0 for o in outcomes))
    try:
        await _submit_all(run, new)
        if lost:
            run.refresh_state([k for k, _, _ in lost])
            await run.reconcile(lost)
        run.refresh_state(list(groups))
        if mode == "run":
            active = {e.job_id: k for k, e in run.state.items()
                      if k in groups and e.job_id and e.status not in ("completed", "failed")}
            if progress:
                progress.finished(sum(1 for k, e in run.state.items() if k in groups and e.terminal))
            await run.follow(dict(active))
            run.refresh_state(list(groups))
    finally:
        if progress:
            by_status = Counter(_row_status(run.state.get(k)) for k, m in groups.items() for _ in m)
            progress.counts(by_status, sum((run.state[k].credits or 0) for k in groups if k in run.state))
            progress.close()
    for key, members in groups.items():
        entry = run.state.get(key)
        for i in members:
            outcomes[i] = _outcome(entry, outcomes[i].credits_est)
    return outcomes


async def _submit_all(run: _Run, new: list[tuple[str, dict[str, Any], float | None, bool]]) -> None:
    """Creates through a worker pool the size of the client's concurrency."""
    queue: asyncio.Queue[tuple[str, dict[str, Any], float | None, bool]] = asyncio.Queue()
    for item in new:
        queue.put_nowait(item)

    async def worker() -> None:
        while not queue.empty():
            key, body, estimate, seen = queue.get_nowait()
            await run.create(key, body, estimate, new_attempt=seen)

    workers = min(len(new), run.client.max_concurrency)
    await asyncio.gather(*(worker() for _ in range(workers)))


def _row_status(entry: Entry | None) -> str:
    if entry is None:
        return "skipped"
    return "unknown" if entry.status == "intent" else entry.status


def _outcome(entry: Entry | None, estimate: float | None) -> Outcome:
    if entry is None:
        return Outcome("skipped", credits_est=estimate, error="not sent")
    return Outcome(_row_status(entry), entry.job_id, entry.url, estimate, entry.credits, entry.error)


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
    deadline = time.monotonic() + timeout if timeout is not None else None
    results: dict[str, Outcome] = {}
    for name, ids in by_job.items():
        spec = get_job(name)
        run = _Run(client, spec, progress, deadline)
        pending = {i: i for i in ids if not (i in known and known[i].terminal)}
        if pending:
            if follow:
                await run.follow(dict(pending))
            else:
                size = spec.poll.max_ids if spec.poll.many else 1
                chunks = [sorted(pending)[i: i + size] for i in range(0, len(pending), size)]
                answers = await asyncio.gather(*(run.poll(c) for c in chunks))
                updates = [(i, *_read(spec, r)) for a in answers for i, r in a.items()
                           if r is not _MISSING and not isinstance(r, NotFound)]
                ledger.update(updates)
                for job_id, status, url, credits, error in updates:
                    if job_id not in known:
                        results[job_id] = Outcome(status, job_id, url, None, credits, error)
        fresh = ledger.by_job_ids(ids)
        for job_id in ids:
            if job_id in fresh:
                results[job_id] = _outcome(fresh[job_id], fresh[job_id].credits_est)
    return [results.get(i) if i else None for i in job_ids]


async def download_files(client: Any, urls: Sequence[str | None], dest: str, names: Sequence[str]) -> list[str | None]:
    """Fetch result files into ``dest``; the local path, or None (no URL, expired, unreachable)."""
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)

    async def one(url: str | None, name: str) -> str | None:
        if not url:
            return None
        status, data, _ = await client.http.fetch(url)
        if status != 200:
            return None
        suffix = Path(url.split("?", 1)[0]).suffix
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)
        return str(path)

    return list(await asyncio.gather(*(one(u, n) for u, n in zip(urls, names, strict=True))))
