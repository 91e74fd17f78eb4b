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
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import statistics
import time
from collections import Counter, deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

from ._errors import (AccountError, AkoolError, APIError, AuthError, BudgetExceeded, ConfigError, NotFound, QuotaError,
                      ServerError, TransportError, ValidationError)
from ._client import FOLLOW_MODES
from ._ledger import CALLBACK_FIELDS, Claim, Entry, ledger_key
from ._localize import check_languages
from ._probe import probe_lengths
from ._receiver import receiver_of
from ._rates import resolve_rates
from .jobs import TERMINAL, JobSpec, Poll, Price, PriceContext, get_job, get_path, get_path_either, undocumented, validate_body
from .pricing import estimate as price_of

__all__ = ["Outcome", "ProgressSink", "execute", "refresh_jobs", "prepare", "estimate_outcome"]

log = logging.getLogger("akool_frames")

RESENDABLE = frozenset({"rejected", "skipped"})  # ledger states where no job exists
RESEND_ROUNDS = 3  # per call: a create lost, looked up, provably absent and sent again, at most this often
FAILED_POLLS = 5  # consecutive failed polls (or answers without the job) before a job is given up on
BALANCE_PATH = "/api/open/v3/faceswap/quota/info"  # data.credit: the account's credit balance
WAIT_FIRST, WAIT_MAX = 0.05, 1.0  # seconds between looks at a row another run is sending, growing


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
    job: str | None = None
    price_basis: str | None = None  # how credits_est was made, or "no estimate: <why>"
    duration_s: float | None = None  # the media length the price used
    duration_source: str | None = None  # given | probed | ledger | predicted from text
    extra: str | None = None  # the job's extra fields (JobSpec.extra_fields) as JSON text


class ProgressSink(Protocol):
    """Receives engine events; ``_progress.make_progress`` builds the tqdm / ipywidgets one."""

    def start(self, total: int, credits_est: float | None) -> None: ...
    def submitted(self, n: int = 1) -> None: ...
    def finished(self, n: int = 1) -> None: ...
    def counts(self, by_status: Mapping[str, int], credits: float | None) -> None: ...  # None: not reported
    def close(self) -> None: ...


# --------------------------------------------------------------------------- preparing rows
def _set_path(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for name in parents:
        body = body.setdefault(name, {})
    body[last] = value


class Prepared(NamedTuple):
    """One row made ready: the documented body, its first problem (None when valid), and the media length
    given with ``duration=`` (seconds; None when not given)."""

    body: dict[str, Any]
    problem: str | None
    given: float | None = None
    unchecked: dict[str, Any] | None = None  # prepared with check=False: the body as given, to validate later

    def checked(self, spec: JobSpec, plan: str) -> Prepared:
        """This row validated (when it was prepared without checking)."""
        if self.unchecked is None or self.problem is not None:
            return self._replace(unchecked=None)
        return self._replace(problem=validate_body(spec, self.unchecked, plan), unchecked=None)


def prepare(spec: JobSpec, params: Mapping[str, Any], plan: str, *, check: bool = True) -> Prepared:
    """The documented body for one row (aliases expanded, defaults filled) and its first problem (``check``
    False leaves the validation to ``Prepared.checked``: a re-run's rows already sent need none).

    ``duration`` is the media length in seconds used for pricing instead of probing; it is not sent,
    except where it is a documented field of the job (character swap's ``duration``)."""
    body: dict[str, Any] = json.loads(json.dumps(dict(spec.defaults))) if spec.defaults else {}
    given, problem = None, None
    names = spec.field_names()
    for name, value in params.items():
        if name in CALLBACK_FIELDS:
            return Prepared(body, f"{name} is set by akool_frames itself; pass webhook_url= to the Client instead")
        if name == "duration" and name not in names:
            given, problem = _given_duration(value)
            continue
        target = spec.aliases.get(name, name) if name not in names else name
        if value is None and target in spec.defaults:
            continue
        _set_path(body, target, value)
    if not check:
        return Prepared(_without_blanks(body), problem, given, body)
    problem = problem or validate_body(spec, body, plan)
    return Prepared(_without_blanks(body), problem, given)


def _given_duration(value: Any) -> tuple[float | None, str | None]:
    """``duration=`` of one row: seconds, or a problem naming the value. Blank means not given (probe)."""
    if _blank(value):
        return None, None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return float(value), None
    return None, f"duration must be the media length in seconds (a positive number), got {value!r:.40}"


def estimate_outcome(prepared: Prepared, price: Price | None, label: Any, job: str | None = None) -> Outcome:
    """A row's estimate: ``invalid`` naming the row and its problem, else its price (or why there is none)."""
    if prepared.problem is not None:
        return Outcome("invalid", error=f"row {label}: {prepared.problem}", job=job)
    assert price is not None  # a valid row is always priced (possibly to None, with a reason)
    unpriced = None if price.credits is not None else f"no estimate: {price.reason}"
    return Outcome(None, credits_est=price.credits, error=unpriced, job=job, price_basis=unpriced or price.basis,
                   duration_s=price.duration_s, duration_source=price.duration_source)


def _without_blanks(value: Any) -> Any:
    """Drop None, NaN and blank strings (the validator reads them as "not given"), so what is sent
    is what was validated: an empty optional enum would otherwise be refused by the provider."""
    if isinstance(value, dict):
        return {k: _without_blanks(v) for k, v in value.items() if not _blank(v)}
    if isinstance(value, list):
        return [_without_blanks(v) for v in value]
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, float) and math.isnan(value))


# --------------------------------------------------------------------------- progress
class _Tally:
    """Turns engine events into ProgressSink calls: every job counted once as submitted (its create
    settled, whichever way) and once as finished (nothing more will happen to it in this call).

    Bars count jobs (ledger keys) to send or follow; identical rows share a job. Statuses are
    counted by row, as the result frame shows them.
    """

    def __init__(self, sink: ProgressSink | None, rows: Mapping[str, int]) -> None:
        self.sink = sink
        self.rows = rows  # key -> rows sharing it
        self.status: dict[str, str] = {}
        self.credits: dict[str, float] = {}
        self._submitted: set[str] = set()
        self._finished: set[str] = set()

    def start(self, credits_est: float | None) -> None:
        if self.sink:
            self.sink.start(len(self.rows), credits_est)

    def submitted(self, key: str) -> None:
        if key not in self._submitted and key in self.rows:  # a batch's other videos are not rows
            self._submitted.add(key)
            if self.sink:
                self.sink.submitted()

    def finished(self, key: str) -> None:
        """The job reached its end for this call (terminal, or given up on as unknown/skipped)."""
        self.submitted(key)
        if key not in self._finished and key in self.rows:
            self._finished.add(key)
            if self.sink:
                self.sink.finished()

    def note(self, key: str, status: str, credits: float | None = None) -> None:
        if key not in self.rows:
            return
        self.status[key] = status
        if credits is not None:
            self.credits[key] = credits

    def report(self) -> None:
        if self.sink:
            by_status = Counter({s: 0 for s in self.status.values()})
            for key, status in self.status.items():
                by_status[status] += self.rows.get(key, 1)
            self.sink.counts(dict(by_status), sum(self.credits.values()) if self.credits else None)


# --------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class _Item:
    """One create to send: the ledger key, the documented body, its estimate, and how it is claimed
    (``_ledger.Claim``): ``attempt`` is the latest attempt the run knows of (0: none; once claimed, the
    run's own), ``mode`` is send, force or resend (its create proven absent at the provider)."""

    key: str
    body: dict[str, Any]
    estimate: float | None
    attempt: int = 0
    mode: str = "send"
    resends: int = 0
    priced: Outcome | None = None  # the row's estimate (its basis and duration go into the ledger)


def _where(client: Any, spec: JobSpec) -> str:
    """Provider and base URL: the same body sent to the sandbox and to Akool are different jobs."""
    return f"{spec.provider}@{client.base_urls[spec.provider]}"


# Where each provider's credentials are set (for the message that stops a run on a refused account).
_SETTINGS = {"akool": "AKOOL_API_KEY / api_key= (or AKOOL_CLIENT_ID and AKOOL_CLIENT_SECRET / client_id=, client_secret=)",
             "audiocleaner": "AUDIOCLEANER_API_KEY / audiocleaner_api_key=",
             "kling": "KLING_ACCESS_KEY and KLING_SECRET_KEY / kling_access_key=, kling_secret_key="}


def _refusal(item: Any) -> str:
    """An errorList item (its schema is undocumented): its message and code where it has them."""
    if not isinstance(item, dict):
        return str(item)
    message = item.get("msg") or item.get("message") or json.dumps(item, ensure_ascii=False)
    return f"{message} ({item['code']})" if item.get("code") is not None else str(message)


def _account_problem(provider: str, exc: APIError) -> str:
    """Why the run stopped sending, and what to change: the account, not a row, was refused."""
    if isinstance(exc, AuthError):
        fix = f"check {_SETTINGS[provider]}"
        what = "refused the credentials"
    elif isinstance(exc, QuotaError):
        fix = "top up the account (af.credits() shows the balance), then run the same rows again"
        what = "says the account has not enough credits"
    else:
        fix = "check that the account exists and that its plan includes this job"
        what = "refused the account"
    return f"{provider} {what} ({exc.code}: {exc.message}); the rest was not sent. Hint: {fix}."


def _external_id(item: _Item) -> str:
    """Our id for a create where the provider keeps one (unique per account, so one per ledger attempt)."""
    return f"af-{item.key[:24]}-{max(item.attempt, 1)}"


_NO_LIST = ("The create may have reached {provider} but its answer was lost, and {job} has no list endpoint to "
            "check. Look for it in your account; re-run with force=True to send it again.")


@dataclass
class _Run:
    client: Any
    spec: JobSpec
    tally: _Tally
    deadline: float | None
    owner: str = ""  # this run as a writer of the ledger (claims are made in its name)
    abort: str | None = None
    lost_at: dict[str, float] = field(default_factory=dict)  # key -> when its create's answer was lost
    left: dict[str, str] = field(default_factory=dict)  # key -> why this run left it to another run
    creates: int = 0  # creates this run sent: how far back a list look-up has to page
    made: list[str] = field(default_factory=list)  # job ids this run's creates made (their answers came back)
    follower: _Follower | None = None
    receiver: Any = None  # the client's webhook receiver, when this run waits for callbacks

    @property
    def ledger(self) -> Any:
        return self.client.ledger

    @property
    def http(self) -> Any:
        return self.client.http

    @property
    def where(self) -> str:
        return _where(self.client, self.spec)

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    # ------------------------------------------------------------------ the whole call
    async def go(self, items: list[_Item], known: list[Entry], *, follow: bool, webhook: bool = False) -> None:
        """Claim and send ``items``, reconcile what may exist, wait for what other runs are sending, and in
        run mode follow every job to its end (``webhook``: from Akool's callbacks, polling the late ones)."""
        task = None
        if follow and webhook and self.spec.provider == "akool" and self.spec.webhook_field:
            self.receiver = await receiver_of(self.client)
        if follow:
            self.follower = _Follower(self)
            task = asyncio.create_task(self.follower.loop())
            if self.receiver is not None:
                self.receiver.listeners.append(self.follower.heard)
        try:
            for entry in known:
                self._track(entry.key, str(entry.job_id), entry.status, entry.credits)
            todo, pause = items, WAIT_FIRST
            while todo:
                lost, waiting = await self.submit_all(todo)
                todo = await self.reconcile(lost) if lost else []
                if waiting and (self.abort or self.expired()):
                    self._leave(waiting)
                elif waiting:  # another run is sending these right now: look again soon, then follow its jobs
                    await asyncio.sleep(pause if self.deadline is None
                                        else min(pause, max(0.0, self.deadline - time.monotonic())))
                    pause = min(pause * 1.5, WAIT_MAX)
                    todo += waiting
            if self.follower and task:
                self.follower.close()
                await task
        finally:
            if self.receiver is not None and self.follower is not None:
                self.receiver.listeners.remove(self.follower.heard)
            if task and not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    def _leave(self, items: list[_Item]) -> None:
        why = self.abort or "the run timed out"
        for item in items:
            self.left[item.key] = (f"not sent: another run was sending this row when {why}; re-run the same "
                                   "rows to follow its job")
            self.tally.note(item.key, "skipped")
            self.tally.finished(item.key)

    def _track(self, key: str, job_id: str, status: str, credits: float | None) -> None:
        """A key now has a job: count it, and follow it unless it is over (or this call only submits)."""
        self.tally.note(key, status, credits)
        self.tally.submitted(key)
        if status in TERMINAL:
            self.tally.finished(key)
        elif self.follower:
            self.follower.add(job_id, key)

    async def _settle(self, item: _Item, status: str, error: str | None) -> None:
        """A create that made no job (rejected, skipped) or may have made one nobody can find (unknown)."""
        await self.ledger.settle(item.key, item.attempt, status, error)
        self.tally.note(item.key, status)
        self.tally.finished(item.key)

    # ------------------------------------------------------------------ create
    async def submit_all(self, items: list[_Item]) -> tuple[list[_Item], list[_Item]]:
        """Claim and send creates through a pool the size of the client's concurrency. Returns (creates
        that may exist at the provider: reconcile them, never resend blindly; rows another run is sending)."""
        queue: deque[_Item] = deque(items)
        found: dict[str, list[_Item]] = {"reconcile": [], "wait": []}

        async def worker() -> None:
            while queue:
                verdict, item = await self.create(queue.popleft())
                if verdict:
                    found[verdict].append(item)

        await asyncio.gather(*(worker() for _ in range(min(len(items), self.client.max_concurrency))))
        return found["reconcile"], found["wait"]

    def _outgoing(self, item: _Item) -> dict[str, Any]:
        """The body as sent: plus the callback URL and, where the provider keeps one, an id to find it by."""
        spec, sent = self.spec, dict(item.body)
        callback = self.receiver.url if self.receiver is not None else self.client.webhook_url
        if spec.webhook_field and (callback or spec.webhook_required):
            sent[spec.webhook_field] = callback or ""
        if spec.idempotency_field and not sent.get(spec.idempotency_field):
            sent[spec.idempotency_field] = _external_id(item)  # a lost answer is found again by it
        return sent

    async def _claim(self, item: _Item) -> tuple[str, Entry]:
        priced = item.priced or Outcome(None)
        claim = Claim(item.key, self.where, self.spec.name, item.body, item.estimate, item.attempt, item.mode,
                      priced.price_basis, priced.duration_s, priced.duration_source)
        [(decision, entry)] = await self.ledger.claim(self.owner, [claim])
        return decision, entry

    async def create(self, item: _Item) -> tuple[str | None, _Item]:
        """Claim the row's key and, if this run wins it, send its create. Returns ("reconcile", item) when
        the create may exist at the provider (its answer was lost here, or a killed run's was), ("wait",
        item) when another run is sending it right now, else (None, item)."""
        spec, key = self.spec, item.key
        # The claim (an intent) is committed before anything leaves: a crash from here on is reconciled,
        # not resent, and another run sharing the ledger follows this run's job instead of sending its own.
        decision, entry = await self._claim(item)
        item = replace(item, attempt=entry.attempt)
        if decision == "wait":
            return "wait", item
        if decision == "follow":  # another run made the job (or was refused): take its outcome
            if entry.job_id:
                self._track(key, entry.job_id, entry.status, entry.credits)
            else:
                self.tally.note(key, entry.status)
                self.tally.finished(key)
            return None, item
        if decision == "reconcile":  # a create nobody is working on any more (a killed run's) may exist
            # A run that died holding it may have sent it just now; a released leftover, when last written.
            self.lost_at.setdefault(key, time.time() if entry.owner else entry.updated_at)
            return "reconcile", item
        if self.abort or self.expired():
            await self._settle(item, "skipped", f"not sent: {self.abort or 'the run timed out first'}")
            return None, item
        sent = self._outgoing(item)
        route = spec.create_for(item.body)
        path, id_path, record_path = route.create, route.id_path, route.create_record
        self.creates += 1
        try:
            # An immediate job makes nothing to pay twice for: its create is retried like any request.
            answer = await self.http.request(spec.provider, "POST", path, body=sent, create=not spec.immediate,
                                             envelope=spec.envelope)
        except (AuthError, QuotaError, AccountError) as exc:  # the account, not the row: nothing more is sent
            self.abort = _account_problem(spec.provider, exc)
            await self._settle(item, "rejected", f"{exc}. {self.abort}")
            return None, item
        except APIError as exc:  # a business error: the provider refused it, nothing was made
            await self._settle(item, "rejected", str(exc))
            return None, item
        except (TransportError, ServerError) as exc:
            if isinstance(exc, TransportError) and not exc.may_have_reached:
                await self._settle(item, "skipped", f"not sent: {exc}")
                return None, item
            # Recorded as unknown at once, so a crash before the reconciliation leaves the truth behind; the
            # claim stays this run's, so no other run sends it meanwhile.
            await self.ledger.settle(key, item.attempt, "unknown", f"{exc} The create may have reached the provider.",
                                     keep=True)
            self.lost_at[key] = time.time()
            return "reconcile", item
        # An answer that is the result itself (face detection) names no job: the ledger's own id stands for it.
        job_id = get_path_either(answer, id_path, (str, int)) if id_path else f"local-{key[:16]}-{item.attempt}"
        if job_id in (None, ""):
            await self._settle(item, "unknown", f"the create answer carried no job id at {id_path}")
            return None, item
        self.made.append(str(job_id))
        await self._adopt(item, str(job_id), get_path_either(answer, record_path, dict, {}))
        if route.batch_records:
            await self._adopt_videos(item, answer, route.batch_records)
        return None, item

    async def _adopt_videos(self, item: _Item, answer: Any, where: str) -> None:
        """A create that made several jobs (image to video, count > 1): the first is the row's job, the others
        its videos 2..n in the ledger, followed like it; items the provider refused are said on the row."""
        records = [r for r in get_path_either(answer, where, list) or [] if isinstance(r, dict)]
        reads = [(str(r.get("_id")), _read(self.spec, r, create=True)) for r in records[1:] if r.get("_id")]
        if reads:
            await self.ledger.add_videos(item.key, item.attempt, [(i, r.status, r.credits) for i, r in reads])
            for n, (job_id, read) in enumerate(reads, start=2):
                self._track(f"{item.key}#{n}", job_id, read.status, read.credits)
        refused = [e for e in get_path(answer, where.rsplit(".", 1)[0] + ".errorList") or [] if e]
        if refused and records:
            await self.ledger.note_error(str(records[0].get("_id")), f"{len(refused)} of {len(records) + len(refused)} "
                                         f"videos were refused at create: {_refusal(refused[0])}")

    async def _adopt(self, item: _Item, job_id: str, record: Any) -> None:
        """Record the job a create made (from its answer, or found again in the provider's list)."""
        read = _read(self.spec, record, create=True)
        await self.ledger.submitted(item.key, item.attempt, job_id, read.status, read.credits)
        if read.status in TERMINAL or read.extra:  # done already (or a record with extras): keep what it says
            await self.ledger.update([(job_id, *read)])
        self._track(item.key, job_id, read.status, read.credits)

    # ------------------------------------------------------------------ reconcile
    async def reconcile(self, items: list[_Item]) -> list[_Item]:
        """Creates that may have reached the provider: adopt the job found; return those provably absent
        (to send again, up to RESEND_ROUNDS times each); leave the rest ``unknown`` with what to do about it."""
        spec = self.spec
        if spec.immediate:  # nothing was made that could be paid for twice: simply send again
            for item in items:
                if item.resends >= RESEND_ROUNDS:
                    await self._settle(item, "skipped", f"no answer came back {RESEND_ROUNDS + 1} times; run again")
            return [replace(item, mode="resend", resends=item.resends + 1) for item in items
                    if item.resends < RESEND_ROUNDS]
        if spec.reconcile is None and not spec.idempotency_field:
            for item in items:
                await self._settle(item, "unknown", _NO_LIST.format(provider=spec.provider, job=spec.name))
            return []
        await self._let_list_catch_up(items)
        try:
            found, absent = await (self._find_by_idempotency(items) if spec.idempotency_field
                                   else self._find_in_list(items))
        except AkoolError as exc:
            for item in items:
                await self._settle(item, "unknown", f"The create's answer was lost and looking it up failed ({exc}). "
                                   "Re-run the same rows later: they are looked up again, not resent.")
            return []
        resend = []
        for item in items:
            if item.key in found:
                job_id, record = found[item.key]
                await self._adopt(item, job_id, record)
            elif item.key in absent and item.resends < RESEND_ROUNDS:
                resend.append(replace(item, mode="resend", resends=item.resends + 1))
            elif item.key in absent:
                await self._settle(item, "unknown", f"The create's answer was lost {RESEND_ROUNDS + 1} times. "
                                   "Re-run the same rows to look it up and try again.")
            else:
                await self._settle(item, "unknown", "The create's answer was lost and it is not among the newest "
                                   f"records of {spec.provider}'s list. Look for it in your account; re-run with "
                                   "force=True to send it again.")
        return resend

    async def _let_list_catch_up(self, items: list[_Item]) -> None:
        """A provider's list may show a job a moment after its create: wait ``reconcile_after`` from the
        latest loss."""
        wait = self.client.reconcile_after - (time.time() - max(self.lost_at.get(i.key, 0.0) for i in items))
        if self.deadline is not None:
            wait = min(wait, self.deadline - time.monotonic())
        if wait > 0:
            await asyncio.sleep(wait)

    async def _find_in_list(self, items: list[_Item]) -> tuple[dict[str, tuple[str, Any]], set[str]]:
        """Page the list, newest first: (key -> (job id, record) found, keys provably absent).

        Absent is only proven by reaching the end of the list; the pages looked at cover the spec's
        ``pages`` plus every create this run sent since, so a long run cannot push a lost job out of sight.
        """
        rec = self.spec.reconcile
        assert rec is not None
        claimed = self.ledger.claimed_job_ids(self.spec.name)  # jobs that belong to other rows already
        pending = {item.key: item.body for item in items}
        found: dict[str, tuple[str, Any]] = {}
        for page in range(1, rec.pages + math.ceil(self.creates / rec.size) + 1):
            answer = await self.http.request(self.spec.provider, "GET", rec.path,
                                             params={**rec.query, "page": str(page), "size": str(rec.size)})
            records = get_path_either(answer, rec.records, list) or []
            for record in records:
                rid = str(get_path(record, rec.record_id))
                key = next((k for k, body in pending.items() if rec.match(record, body)), None)
                if key is not None and rid not in claimed:
                    found[key] = (rid, record)
                    claimed.add(rid)
                    del pending[key]
            if not pending:
                return found, set()
            if len(records) < rec.size:  # the end of the list: what is not there was never made
                return found, set(pending)
        return found, set()

    async def _find_by_idempotency(self, items: list[_Item]) -> tuple[dict[str, tuple[str, Any]], set[str]]:
        """Ask for each lost create by the id it was sent with (Kling's external_task_id)."""
        spec = self.spec
        assert spec.idempotency_field is not None
        found: dict[str, tuple[str, Any]] = {}
        absent: set[str] = set()
        for item in items:
            external = str(item.body.get(spec.idempotency_field) or _external_id(item))
            try:
                answer = await self.http.request(spec.provider, *self._poll_request([external]))
            except NotFound:
                absent.add(item.key)
                continue
            record = get_path(answer, spec.poll.records)
            if record:
                # The record carries its id where the create answer's record does (Kling: task_id).
                found[item.key] = (str(get_path(record, spec.id_path.removeprefix(spec.create_record + "."))),
                                   record)
            else:
                absent.add(item.key)
        return found, absent

    # ------------------------------------------------------------------ poll
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
        records = get_path_either(answer, poll.records, list if poll.many else dict)
        if not poll.many:
            return {ids[0]: records} if records else {ids[0]: NotFound(spec.provider, 0, "empty answer")}
        by_id = {str(get_path(r, poll.record_id)): r for r in records or []}
        return {i: by_id.get(i, _MISSING) for i in ids}


    async def poll_list(self, ids: Sequence[str], open_ids: Collection[str]) -> dict[str, Any]:
        """Records of ``open_ids`` (jobs still followed) found on the job's list, newest first: pages until every
        one of ``ids`` (the jobs due) has been seen, the list ends, or the pages cover every job this run
        followed, plus one (another run's creates push them deeper: those are then polled one by one)."""
        rec = self.spec.reconcile
        assert rec is not None
        wanted, found = set(ids), {}
        followed = len(self.follower.jobs) if self.follower else 0
        for page in range(1, math.ceil(max(followed, len(open_ids)) / rec.size) + 2):
            answer = await self.http.request(self.spec.provider, "GET", rec.path,
                                             params={**rec.query, "page": str(page), "size": str(rec.size)})
            records = get_path_either(answer, rec.records, list) or []
            for record in records:
                rid = str(get_path(record, rec.record_id))
                if rid in open_ids:
                    found[rid] = record
                    wanted.discard(rid)
            if not wanted or len(records) < rec.size:
                break
        return found


_MISSING = object()


class _Follower:
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

    def __init__(self, run: _Run) -> None:
        poll = run.spec.poll or Poll("", "")  # an immediate job: done at its create, never added here
        self.run = run
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

    def add(self, job_id: str, key: str) -> None:
        now = asyncio.get_running_loop().time()
        self.jobs[job_id] = key
        self.added[job_id] = now
        self.spacing[job_id] = self.every
        self.due[job_id] = now + self._first_delay()
        if self.run.receiver is not None and job_id in self.run.receiver.early:
            self.early.append((job_id, self.run.receiver.early.pop(job_id)))
        self._wake.set()

    def _first_delay(self) -> float:
        learnt = statistics.median(self.ages) if len(self.ages) >= self.LEARN_AFTER else 0.0
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
            self.ages.append(asyncio.get_running_loop().time() - self.added[job_id])
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
                await self._sleep(first - now)
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
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def _through_list(self, ids: list[str]) -> tuple[list[list[str]], list[Any]]:
        """The list's pages for every followed job they show (due or not: a fresh status is free), then one
        poll each for the due jobs they do not show."""
        try:
            listed = await self.run.poll_list(ids, {*ids, *self.due})
        except Exception as exc:  # noqa: BLE001 - said on each due job like a failed poll
            return [ids], [exc]
        rest = [i for i in ids if i not in listed]
        singles = await asyncio.gather(*(self.run.poll([i]) for i in rest), return_exceptions=True)
        for job_id in listed:
            self.due.pop(job_id, None)  # seen now: scheduled again below from this sighting
        return [list(listed), *([i] for i in rest)], [listed, *singles]

    async def poll_once(self, ids: list[str]) -> None:
        """Poll ``ids`` once (in batches, or through the job's list), record what came back, and schedule the
        unfinished again."""
        if self.listed:
            batches, results = await self._through_list(ids)
        else:
            batches = [ids[i: i + self.size] for i in range(0, len(ids), self.size)]
            results = await asyncio.gather(*(self.run.poll(b) for b in batches), return_exceptions=True)
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
                read = _read(self.run.spec, record)
                self.last[job_id] = read
                updates.append((job_id, *read))
                self._note(job_id, read[0], read[2])
                if read[0] in TERMINAL:
                    if job_id in self.added:
                        self.ages.append(asyncio.get_running_loop().time() - self.added[job_id])
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
        key = self.jobs.get(job_id)
        if key is not None:
            self.run.tally.finished(key)


class Read(NamedTuple):
    """What a provider record says of a job: its status, result URL, credits, failure reason, and the job's
    extra fields (``JobSpec.extra_fields``) as JSON text, or None when the record has none of them."""

    status: str
    url: str | None
    credits: float | None
    error: str | None
    extra: str | None = None


def _extra(spec: JobSpec, record: Any) -> str | None:
    found = {name: get_path(record, path) for name, path in spec.extra_fields.items()}
    found = {k: v for k, v in found.items() if v not in (None, "", [])}
    return json.dumps(found, ensure_ascii=False, sort_keys=True) if found else None


def _read(spec: JobSpec, record: Any, *, create: bool = False) -> Read:
    """Status, result URL, credits, failure reason and extra fields from a provider record."""
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
        if spec.credit_field:
            credits = 0.0  # a failed job is not charged (the documented failed records show 0)
    return Read(status, (str(url) if url else None), credits, error, _extra(spec, record))


# --------------------------------------------------------------------------- durations for prices
async def _prices(client: Any, spec: JobSpec, bodies: list[dict[str, Any] | None], plan: str,
                  rates: Mapping[str, float], probe: bool, given: Sequence[float | None] | None = None,
                  progress: ProgressSink | None = None) -> list[Any]:
    """Each body's Price; ``given`` the rows' ``duration=`` (their media is then not probed). The media the
    rules ask for are measured first, all at once (``_probe``); ``progress`` counts those measurements."""
    given = given if given is not None else [None] * len(bodies)
    wanted: set[str] = set()

    def record(url: Any) -> tuple[float | None, str]:
        if isinstance(url, str):
            wanted.add(url)
        return None, "not probed"

    for body, seconds in zip(bodies, given, strict=True):
        if body is not None:
            price_of(spec, body, PriceContext(plan=plan, rates=rates, duration=record, given=seconds))
    known: dict[str, tuple[float | None, str]] = {}
    if wanted and probe:
        lengths = await probe_lengths(client, sorted(wanted), progress=progress)
        known = {t: (x.seconds, x.source if x.seconds is not None else str(x.reason)) for t, x in lengths.items()}

    def lookup(url: Any) -> tuple[float | None, str]:
        return known.get(url, (None, "not probed (lazy estimate)")) if isinstance(url, str) else (None, "no media")

    return [price_of(spec, body, PriceContext(plan=plan, rates=rates, duration=lookup, given=seconds))
            if body is not None else None for body, seconds in zip(bodies, given, strict=True)]


# --------------------------------------------------------------------------- public
async def execute(client: Any, job: str | JobSpec, rows: Sequence[Mapping[str, Any]], *, mode: str,
                  force: bool = False, budget: float | None = None, timeout: float | None = None,
                  progress: ProgressSink | None = None, plan: str | None = None,
                  rates: Any = None, labels: Sequence[Any] | None = None, follow: str | None = None) -> list[Outcome]:
    """``mode`` is "estimate" (validate + price), "submit" (and create) or "run" (and follow to the end, by
    polling or from webhooks: ``follow``, default the client's).

    ``rows`` are parameter dicts with per-row values resolved, keyed by documented names or the
    job's aliases. Returns one Outcome per row, in order. Raises BudgetExceeded (before sending
    anything) when the estimate of what would be sent is over ``budget``.
    """
    if mode not in ("estimate", "submit", "run"):
        raise ValueError(f"mode must be estimate, submit or run; got {mode!r}")
    follow = follow or (client.follow if mode == "run" else "poll")
    if follow not in FOLLOW_MODES:
        raise ConfigError(f"follow is {follow!r}.\n\nHint: use 'poll' or 'webhook'.")
    spec = get_job(job)
    plan = plan or client.plan
    rates = resolve_rates(rates, client)
    labels = list(labels) if labels is not None else list(range(len(rows)))
    # Rows whose job already exists (a re-run) are neither validated, priced nor probed again: the ledger keeps
    # the estimate made when they were sent. One key and one ledger look-up per row.
    prepared = [prepare(spec, row, plan, check=False) for row in rows]
    where = _where(client, spec) if mode != "estimate" else ""
    keys = [ledger_key(where, spec.name, p.body) if p.problem is None and where else None for p in prepared]
    state = client.ledger.latest({k for k in keys if k}) if where else {}  # an estimate reads no ledger
    sent = {} if force else {i: state[k] for i, k in enumerate(keys) if k in state and state[k].job_id}
    prepared = [p if i in sent else p.checked(spec, plan) for i, p in enumerate(prepared)]
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
    for i, entry in sent.items():
        prices[i] = _price_when_sent(entry)
    outcomes = [estimate_outcome(p, price, label, spec.name)
                for p, price, label in zip(prepared, prices, labels, strict=True)]
    if mode == "estimate":
        return outcomes

    client.credentials(spec.provider)
    groups: dict[str, list[int]] = {}  # ledger key -> rows (identical rows share one job)
    for i, (body, key) in enumerate(zip(bodies, keys, strict=True)):
        if body is not None and key is not None:
            groups.setdefault(key, []).append(i)
    # What this run knows (``state``, read above); each claim checks again before sending.
    new, lost, known = _sort_out(groups, state, bodies, outcomes, force)
    batches = any(route.batch_records for route in spec.routes)
    new = _budget_gate(budget, new, groups, outcomes)
    tally = _Tally(progress, {key: len(groups[key]) for key in [*(i.key for i in new + lost), *(e.key for e in known)]})
    deadline = time.monotonic() + timeout if timeout is not None else None
    run = _Run(client, spec, tally, deadline)
    if batches:  # a batch's other videos are followed with its first (they are no rows of their own)
        known += [video for videos in client.ledger.videos(known).values() for video in videos]
    estimates = [outcomes[groups[key][0]].credits_est for key in tally.rows]
    tally.start(None if None in estimates else sum(estimates))  # type: ignore[arg-type]  # None: unpriced
    run.owner = client.ledger.register(f"{mode} {spec.name}, {len(tally.rows)} jobs")
    # Jobs whose answers report no credits: the balance before and after tells calibration what they cost.
    before = await _balance(client) if mode == "run" and new and spec.provider == "akool" and not spec.credit_field \
        else None
    started = time.time()
    try:
        # Crash leftovers first: the provider's list then still has their jobs near the top.
        await run.go(lost + new, known, follow=mode == "run", webhook=follow == "webhook")
    finally:
        released = client.ledger.release(run.owner)  # committed even if this task is being cancelled
        tally.report()
        if progress:
            progress.close()
    if before is not None:
        await _record_balance(client, run, before, started)
    await released
    latest = client.ledger.latest(list(tally.rows))
    videos = client.ledger.videos(latest.values()) if batches else {}
    for key in tally.rows:
        entry = latest.get(key)
        left = run.left.get(key) if entry is None or not entry.job_id else None
        for i in groups[key]:  # the run's columns over the estimate's (its price basis and duration stay)
            outcomes[i] = (replace(outcomes[i], status="skipped", error=left) if left
                           else _outcome(entry, outcomes[i], videos.get(key, ())))
    return outcomes


async def _balance(client: Any) -> float | None:
    """The Akool account's credit balance, or None when it cannot be read (calibration then goes without)."""
    try:
        answer = await client.http.request("akool", "GET", BALANCE_PATH)
    except AkoolError:
        return None
    value = get_path(answer, "data.credit")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


async def _record_balance(client: Any, run: _Run, before: float, started: float) -> None:
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


def _report_undocumented(spec: JobSpec, bodies: Sequence[Mapping[str, Any] | None]) -> None:
    """Fields the docs do not have are sent as given (the docs lag the API): said once per call."""
    names = sorted({path.split("[")[0] for body in bodies if body is not None
                    for path, close in undocumented(spec.fields, body) if close is None})
    if names:
        log.warning("%s: %s %s not in the docs; sent as given.", spec.name, ", ".join(names),
                    "is" if len(names) == 1 else "are")


def _price_when_sent(entry: Entry) -> Price:
    """The estimate a row had when its job was sent, as the ledger keeps it."""
    basis = entry.price_basis or "as estimated when it was sent"  # (ledgers of earlier versions kept no basis)
    if entry.credits_est is not None:
        return Price(entry.credits_est, basis=basis, duration_s=entry.duration_s,
                     duration_source=entry.duration_source)
    reason = basis.removeprefix("no estimate: ") if entry.price_basis else "none was made when it was sent"
    return Price(None, reason=reason, duration_s=entry.duration_s, duration_source=entry.duration_source)


def _sort_out(groups: Mapping[str, list[int]], state: Mapping[str, Entry], bodies: list[dict[str, Any] | None],
              outcomes: list[Outcome], force: bool) -> tuple[list[_Item], list[_Item], list[Entry]]:
    """Split the keys by what the ledger knows: (to send, lost creates to reconcile, jobs that exist). The
    first two are claimed before anything is sent; the claim has the last word (another run may have
    made the job since)."""
    new, lost, known = [], [], []
    for key, members in groups.items():
        entry, first = state.get(key), members[0]
        # An attempt some run is working on as this one looks counts as made after it looked: its outcome
        # (a job, or a refusal) is followed, not overruled by this run's force or resend.
        seen = entry.attempt - (1 if entry.owner else 0) if entry else 0
        item = _Item(key, bodies[first] or {}, outcomes[first].credits_est, attempt=seen,
                     mode="force" if force else "send", priced=outcomes[first])
        if force or entry is None or entry.status in RESENDABLE:
            new.append(item)
        elif entry.job_id:
            known.append(entry)
        else:
            lost.append(item)  # an intent (crash) or an unknown create: reconcile, never blindly resend
    return new, lost, known


def _budget_gate(budget: float | None, new: list[_Item], groups: Mapping[str, list[int]],
                 outcomes: list[Outcome]) -> list[_Item]:
    """What would be newly sent must fit ``budget``; rows without a price cannot be promised under it."""
    if budget is None:
        return new
    priced = [item.estimate for item in new if item.estimate is not None]
    if sum(priced) > budget:
        raise BudgetExceeded(sum(priced), budget, unpriced=len(new) - len(priced))
    for item in new:
        if item.estimate is None:
            for i in groups[item.key]:
                outcomes[i] = replace(outcomes[i], status="skipped", error="not sent: no price is known for this "
                                      "row, so budget= cannot cover it")
    return [item for item in new if item.estimate is not None]


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
    tally = _Tally(progress, {i: 1 for i in pending})
    tally.start(0.0)
    results: dict[str, Outcome] = {}
    try:
        for name, ids in by_job.items():
            follower = _Follower(_Run(client, get_job(name), tally, deadline))
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
