"""One run's state, which the flow's steps share (``_submit`` sends, ``_follow`` follows, ``_reconcile`` looks up
lost answers): the rows to send (``Item``), and ``Run``, which claims a row in the ledger, sends its create, adopts
the job it made or settles the row, and counts it (``_tally``) for the progress bars.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .._errors import AccountError, APIError, AuthError, ConfigError, QuotaError, ServerError, TransportError
from ..catalog import TERMINAL, JobSpec, get_path, get_path_either
from ..ledger import Claim, Entry
from ..storage import Source
from ..typing import LedgerBackend
from ._batch import Batched
from ._inputs import staged
from ._prepare import Outcome
from ._records import external_id, read_record
from ._tally import Tally

if TYPE_CHECKING:
    from ._save import Saver

__all__ = ["SETTINGS", "Item", "Run", "Tracker", "account_problem", "refusal", "where_of"]


# Claims and job ids asked for within this many seconds share a transaction (or fewer, once every worker waits):
# the ledger's CPU per row is 150 us at one row per transaction, 77 at 4, 44 at 32 (bench/bench_ledger.py), and
# 2 ms is nothing beside a create's round trip.
WRITE_LINGER = 0.002


class Tracker(Protocol):
    """What a run asks of its follower (``_follow.Follower``): follow one more job; the jobs followed; a callback
    heard (webhook mode); no more jobs to come."""

    @property
    def jobs(self) -> Mapping[str, Any]: ...  # (read only: the Follower's dict of job id -> key)

    def add(self, job_id: str, key: str) -> None: ...
    async def heard(self, job_id: str, callback: tuple[str, str | None, str | None]) -> bool: ...
    def close(self) -> None: ...


# --------------------------------------------------------------------------- one run
@dataclass(frozen=True, slots=True)
class Item:
    """One create to send: the ledger key, the documented body, its estimate, and how it is claimed
    (``_entries.Claim``): ``attempt`` is the latest attempt the run knows of (0: none; once claimed, the
    run's own), ``mode`` is send, force or resend (its create proven absent at the provider)."""

    key: str
    body: dict[str, Any]
    estimate: float | None
    attempt: int = 0
    mode: str = "send"
    resends: int = 0
    priced: Outcome | None = None  # the row's estimate (its basis and duration go into the ledger)
    claimed_at: float = 0.0  # when this run's claim of it was written: no create of it can have been made before

    def claimed(self, attempt: int, at: float) -> Item:
        """This item as claimed (``dataclasses.replace``, without its per-call look-up of the fields: per row)."""
        return Item(self.key, self.body, self.estimate, attempt, self.mode, self.resends, self.priced, at)


def where_of(client: Any, spec: JobSpec) -> str:
    """Provider and base URL: the same body sent to the sandbox and to Akool are different jobs."""
    return f"{spec.provider}@{client.base_urls[spec.provider]}"


# Where each provider's credentials are set (for the message that stops a run on a refused account).
SETTINGS = {"akool": "AKOOL_API_KEY / api_key= (or AKOOL_CLIENT_ID and AKOOL_CLIENT_SECRET / client_id=, client_secret=)",
             "audiocleaner": "AUDIOCLEANER_API_KEY / audiocleaner_api_key=",
             "kling": "KLING_ACCESS_KEY and KLING_SECRET_KEY / kling_access_key=, kling_secret_key="}


def refusal(item: Any) -> str:
    """An errorList item (its schema is undocumented): its message and code where it has them."""
    if not isinstance(item, dict):
        return str(item)
    message = item.get("msg") or item.get("message") or json.dumps(item, ensure_ascii=False)
    return f"{message} ({item['code']})" if item.get("code") is not None else str(message)


def account_problem(provider: str, exc: APIError) -> str:
    """Why the run stopped sending, and what to change: the account, not a row, was refused."""
    if isinstance(exc, AuthError):
        fix = f"check {SETTINGS[provider]}"
        what = "refused the credentials"
    elif isinstance(exc, QuotaError):
        fix = "top up the account (af.credits() shows the balance), then run the same rows again"
        what = "says the account has not enough credits"
    else:
        fix = "check that the account exists and that its plan includes this job"
        what = "refused the account"
    return f"{provider} {what} ({exc.code}: {exc.message}); the rest was not sent. Hint: {fix}."


@dataclass
class Run:
    client: Any
    spec: JobSpec
    tally: Tally
    deadline: float | None
    owner: str = ""  # this run as a writer of the ledger (claims are made in its name)
    abort: str | None = None
    account_refused: bool = False  # the abort is the account's (a key, a balance, a plan): the call warns
    config_error: ConfigError | None = None  # a setting that stopped the run: raised once every row is settled
    lost_at: dict[str, float] = field(default_factory=dict)  # key -> when its create's answer was lost
    stop: Any = None  # a threading.Event: once set, rows not yet sent are skipped (confirm=True's Cancel)
    left: dict[str, str] = field(default_factory=dict)  # key -> why this run left it to another run
    creates: int = 0  # creates this run sent: how far back a list look-up has to page
    made: list[str] | None = None  # job ids this run's creates made (their answers came back), when asked for
    follower: Tracker | None = None  # the run's Follower, in run mode
    receiver: Any = None  # the client's webhook receiver, when this run waits for callbacks
    sources: Mapping[str, Source] = field(default_factory=dict)  # the rows' files and objects, by value as given
    campaign: str | None = None  # each create's estimate is reserved against this campaign's budget, with its claim
    saver: Saver | None = None  # saves each result as its job completes (run(..., save_to=...))
    _writes: Batched[tuple[str, Any]] | None = None  # claims and job ids of one loop turn: one transaction

    # Looked up once per run, not per row (the client's properties take a lock and check the process).
    @functools.cached_property
    def ledger(self) -> LedgerBackend:
        return self.client.ledger  # (the Client's is a LedgerBackend)

    @functools.cached_property
    def http(self) -> Any:
        return self.client.http

    @functools.cached_property
    def where(self) -> str:
        return where_of(self.client, self.spec)

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def leave(self, items: list[Item]) -> None:
        why = self.abort or "the run timed out"
        for item in items:
            self.left[item.key] = (f"not sent: another run was sending this row when {why}; re-run the same "
                                   "rows to follow its job")
            self.tally.note(item.key, "skipped")
            self.tally.finished(item.key)

    def track(self, key: str, job_id: str, status: str, credits: float | None) -> None:
        """A key now has a job: count it, and follow it unless it is over (or this call only submits)."""
        self.tally.note(key, status, credits)
        self.tally.submitted(key)
        if status in TERMINAL:
            self.tally.finished(key)
        elif self.follower:
            self.follower.add(job_id, key)

    async def settle(self, item: Item, status: str, error: str | None) -> None:
        """A create that made no job (rejected, skipped) or may have made one nobody can find (unknown)."""
        await self.ledger.settle(item.key, item.attempt, status, error)
        self.tally.note(item.key, status)
        self.tally.finished(item.key)

    def outgoing(self, item: Item) -> dict[str, Any]:
        """The body as sent: plus the callback URL and, where the provider keeps one, an id to find it by."""
        spec, sent = self.spec, dict(item.body)
        callback = self.receiver.url if self.receiver is not None else self.client.webhook_url
        if spec.webhook_field and (callback or spec.webhook_required):
            sent[spec.webhook_field] = callback or ""
        if spec.idempotency_field and not sent.get(spec.idempotency_field):
            sent[spec.idempotency_field] = external_id(item.key, item.attempt)  # a lost answer is found again by it
        return sent

    async def write(self, write: tuple[str, Any]) -> Any:
        """A claim or a job id, in one transaction with the others asked for in this loop turn (``Ledger.turn``);
        each caller still waits for its own commit."""
        if self._writes is None:
            self._writes = Batched(lambda writes: self.ledger.turn(self.owner, writes), linger=WRITE_LINGER,
                                   full=self.client.max_concurrency)
        return await self._writes(write)

    async def claim(self, item: Item) -> tuple[str, Entry]:
        priced = item.priced or Outcome(None)
        claim = Claim(item.key, self.where, self.spec.name, item.body, item.estimate, item.attempt, item.mode,
                      priced.price_basis, priced.duration_s, priced.duration_source, self.campaign)
        decision, entry = await self.write(("claim", claim))  # committed before anything is sent
        return decision, entry

    async def create(self, item: Item) -> tuple[str | None, Item]:
        """Claim the row's key and, if this run wins it, send its create. Returns ("reconcile", item) when
        the create may exist at the provider (its answer was lost here, or a killed run's was), ("wait",
        item) when another run is sending it right now, else (None, item)."""
        spec, key = self.spec, item.key
        # The claim (an intent) is committed before anything leaves: a crash from here on is reconciled,
        # not resent, and another run sharing the ledger follows this run's job instead of sending its own.
        decision, entry = await self.claim(item)
        if decision == "over":  # the campaign's budget cannot hold it: not claimed, not sent (``entry``: why)
            self.left[key] = str(entry)
            self.tally.note(key, "skipped")
            self.tally.finished(key)
            return None, item
        item = item.claimed(entry.attempt, entry.created_at)
        if decision == "wait":
            return "wait", item
        if decision == "follow":  # another run made the job (or was refused): take its outcome
            if entry.job_id:
                self.track(key, entry.job_id, entry.status, entry.credits)
            else:
                self.tally.note(key, entry.status)
                self.tally.finished(key)
            return None, item
        if decision == "reconcile":  # a create nobody is working on any more (a killed run's) may exist
            # A run that died holding it may have sent it just now; a released leftover, when last written.
            self.lost_at.setdefault(key, time.time() if entry.owner else entry.updated_at)
            return "reconcile", item
        if self.stop is not None and self.stop.is_set() and not self.abort:
            self.abort = "the run was cancelled"  # confirm=True's Cancel: nothing more is sent
        if self.abort or self.expired():
            await self.settle(item, "skipped", f"not sent: {self.abort or 'the run timed out first'}")
            return None, item
        sent = self.outgoing(item)
        if self.sources:  # files and objects: uploaded (once) and presigned for this create alone
            try:
                sent = await staged(self.client, spec, sent, self.sources)
            except Exception as exc:  # noqa: BLE001 - a store's errors share no base class; none reached the provider
                await self.settle(item, "skipped", f"not sent: an input could not be staged "
                                                   f"({type(exc).__name__}: {str(exc)[:200]})")
                return None, item
        route = spec.create_for(item.body)
        path, id_path, record_path = route.create, route.id_path, route.create_record
        self.creates += 1
        try:
            # An immediate job makes nothing to pay twice for: its create is retried like any request.
            answer = await self.http.request(spec.provider, "POST", path, body=sent, create=not spec.immediate,
                                             envelope=spec.envelope)
        except (AuthError, QuotaError, AccountError) as exc:  # the account, not the row: nothing more is sent
            if exc.code in spec.row_codes:  # ... unless this job's page says the code refuses this request alone
                await self.settle(item, "rejected", str(exc))
                return None, item
            self.abort = account_problem(spec.provider, exc)
            self.account_refused = True
            await self.settle(item, "rejected", f"{exc}. {self.abort}")
            return None, item
        except ConfigError as exc:  # the address, a certificate or a proxy refused: nothing left, nothing more is sent
            self.config_error = self.config_error or exc
            self.abort = str(self.config_error).splitlines()[0].rstrip(".")
            await self.settle(item, "skipped", f"not sent: {str(exc).splitlines()[0]}")
            return None, item
        except APIError as exc:  # a business error: the provider refused it, nothing was made
            await self.settle(item, "rejected", str(exc))
            return None, item
        except (TransportError, ServerError) as exc:
            if isinstance(exc, TransportError) and not exc.may_have_reached:
                await self.settle(item, "skipped", f"not sent: {exc}")
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
            await self.settle(item, "unknown", f"the create answer carried no job id at {id_path}")
            return None, item
        if self.made is not None:
            self.made.append(str(job_id))
        await self.adopt(item, str(job_id), get_path_either(answer, record_path, dict, {}))
        if route.batch_records:
            await self.adopt_videos(item, answer, route.batch_records)
        return None, item

    async def adopt_videos(self, item: Item, answer: Any, where: str) -> None:
        """A create that made several jobs (image to video, count > 1): the first is the row's job, the others
        its videos 2..n in the ledger, followed like it; items the provider refused are said on the row."""
        records = [r for r in get_path_either(answer, where, list) or [] if isinstance(r, dict)]
        reads = [(str(r.get("_id")), read_record(self.spec, r, create=True)) for r in records[1:] if r.get("_id")]
        if reads:
            await self.ledger.add_videos(item.key, item.attempt, [(i, r.status, r.credits) for i, r in reads])
            for n, (job_id, read) in enumerate(reads, start=2):
                self.track(f"{item.key}#{n}", job_id, read.status, read.credits)
        refused = [e for e in get_path(answer, where.rsplit(".", 1)[0] + ".errorList") or [] if e]
        if refused and records:
            await self.ledger.note_error(str(records[0].get("_id")), f"{len(refused)} of {len(records) + len(refused)} "
                                         f"videos were refused at create: {refusal(refused[0])}")

    async def adopt(self, item: Item, job_id: str, record: Any) -> None:
        """Record the job a create made (from its answer, or found again in the provider's list)."""
        read = read_record(self.spec, record, create=True)
        await self.write(("submitted", (item.key, item.attempt, job_id, read.status, read.credits)))
        if read.status in TERMINAL or read.extra:  # done already (or a record with extras): keep what it says
            await self.ledger.update([(job_id, *read)])
        self.track(item.key, job_id, read.status, read.credits)
