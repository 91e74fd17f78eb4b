"""What the ledger holds and decides, apart from the file: its schema, an attempt (``Entry``), a run's claim on
a key and the decision it gets (``decide``), and the key of a row (``ledger_key``). ``_store`` reads and writes
them; the engine, the estimate and the lookups use them without opening anything.
"""

from __future__ import annotations

import hashlib
import json
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["CALLBACK_FIELDS", "PUBLIC_COLUMNS", "TERMINAL", "Claim", "Entry", "decide", "decide_all", "ledger_key"]

CALLBACK_FIELDS = frozenset({"webhookUrl", "webhookurl", "callback_url"})
TERMINAL = frozenset({"completed", "failed", "rejected"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    key TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    provider TEXT NOT NULL,
    job TEXT NOT NULL,
    body TEXT NOT NULL,
    job_id TEXT,
    status TEXT NOT NULL,
    url TEXT,
    credits_est REAL,
    credits REAL,
    error TEXT,
    created_at REAL NOT NULL,
    submitted_at REAL,
    updated_at REAL NOT NULL,
    owner TEXT,
    price_basis TEXT,
    duration_s REAL,
    duration_source TEXT,
    completed_at REAL,
    extra TEXT,
    deleted_at REAL,
    PRIMARY KEY (key, attempt)
);
CREATE INDEX IF NOT EXISTS submissions_job_id ON submissions (job_id);
CREATE TABLE IF NOT EXISTS media (
    url TEXT PRIMARY KEY,
    seconds REAL NOT NULL,
    probed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS balances (
    owner TEXT NOT NULL,
    job TEXT NOT NULL,
    provider TEXT NOT NULL,
    before REAL NOT NULL,
    after REAL NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    job_ids TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS saves (
    job_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    size INTEGER NOT NULL,
    saved_at REAL NOT NULL,
    PRIMARY KEY (job_id, folder, name)
);
CREATE TABLE IF NOT EXISTS writers (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start TEXT,
    what TEXT NOT NULL,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL,
    ended_at REAL,
    max_wait REAL NOT NULL DEFAULT 0
);
"""
_LATEST = ("SELECT {columns} FROM submissions s WHERE key IN ({marks}) AND attempt = "
           "(SELECT MAX(attempt) FROM submissions WHERE key = s.key)")
# Columns later versions added to submissions (a ledger from an earlier version gets them on open).
_ADDED = {"owner": "TEXT", "price_basis": "TEXT", "duration_s": "REAL", "duration_source": "TEXT",
          "completed_at": "REAL", "extra": "TEXT", "deleted_at": "REAL"}


def ledger_key(provider: str, job: str, body: Mapping[str, Any]) -> str:
    canonical = {k: v for k, v in body.items() if k not in CALLBACK_FIELDS} if CALLBACK_FIELDS & body.keys() else body
    return hashlib.sha256(_CANONICAL.encode([provider, job, canonical]).encode()).hexdigest()


# The key's text, made by one encoder (json.dumps with options builds a new one per call); never change it: the
# keys of every ledger ever written depend on it.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_STORED = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)  # an attempt's body, as sent


@dataclass(slots=True)
class Entry:
    key: str
    attempt: int
    provider: str
    job: str
    body: str
    job_id: str | None
    status: str  # intent | queued | processing | completed | failed | rejected | skipped | unknown
    url: str | None
    credits_est: float | None
    credits: float | None
    error: str | None
    created_at: float
    submitted_at: float | None
    updated_at: float
    owner: str | None = None  # the run working on this attempt's create right now, if any
    price_basis: str | None = None  # how its estimate was made (shown again when a re-run follows it)
    duration_s: float | None = None  # the media length its estimate used
    duration_source: str | None = None
    completed_at: float | None = None  # when the job was first seen completed (result links last 7 days)
    extra: str | None = None  # the job's extra fields (a clone's voice_id, moderation's findings) as JSON
    deleted_at: float | None = None  # when delete() removed its result (or cancelled it) at the provider

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


PUBLIC_COLUMNS = tuple(f.name for f in fields(Entry) if f.name != "owner")  # the owner is a run's internal id
_NAMES = tuple(f.name for f in fields(Entry))
_COLUMNS = ", ".join(_NAMES)  # by name: a migrated ledger has them in another order
_COLUMNS_NO_BODY = ", ".join("'' AS body" if name == "body" else name for name in _NAMES)  # outcomes need no body
_INSERT = f"INSERT INTO submissions ({_COLUMNS}) VALUES ({', '.join('?' * len(_NAMES))})"
_AS_ROW = operator.attrgetter(*_NAMES)  # an entry as the row _INSERT takes (one call, not one per field)


@dataclass(frozen=True, slots=True)
class Claim:
    """A run asks for a key before sending its create. ``expected``: the latest attempt the run knew of
    when it looked (0: none). ``mode``: ``send`` (a row as usual), ``force`` (a new job even if one
    exists), ``resend`` (the run proved the create of attempt ``expected`` absent at the provider)."""

    key: str
    provider: str
    job: str
    body: Mapping[str, Any]
    estimate: float | None
    expected: int = 0
    mode: str = "send"
    price_basis: str | None = None
    duration_s: float | None = None
    duration_source: str | None = None
    campaign: str | None = None  # the campaign whose budget the estimate is reserved against, before the create


def decide(entry: Entry | None, claim: Claim, owner: str, alive: Callable[[str], bool]) -> str:
    """What a run does with a key, given its latest attempt: ``send`` (a new attempt, owned by the run),
    ``follow`` (a job exists, or another run's create was refused: take its outcome), ``wait`` (another
    live run is sending or reconciling it), ``reconcile`` (a create nobody works on may exist: look it up)."""
    if entry is None:
        return "send"
    fresh = entry.attempt > claim.expected  # another run made this attempt after this one looked
    if entry.job_id:
        return "send" if claim.mode == "force" and not fresh else "follow"
    if entry.owner and entry.owner != owner and alive(entry.owner):
        return "wait"
    if entry.status == "skipped":  # nothing was sent
        return "send"
    if entry.status == "rejected":  # nothing was made; sent again only by a run that saw the refusal
        return "follow" if fresh else "send"
    if claim.mode in ("resend", "force") and not fresh:
        return "send"
    return "reconcile"  # an intent or unknown create nobody is working on: it may exist at the provider


Decided = tuple[list[tuple[str, Any]], list["Entry"], list[tuple[str, str, int]]]


def decide_all(claims: Sequence[Claim], latest: dict[str, Entry], owner: str, alive: Callable[[str], bool],
               reserve: Callable[[Claim], str | None]) -> Decided:
    """A batch of claims decided (``decide``) against their keys' latest attempts (``latest``, as the batch changes
    them: a later claim of a key sees an earlier one's attempt), in one transaction of either store. Returns per claim
    (decision, entry) — or ("over", why) when ``reserve`` (its campaign's budget) cannot hold a claim to send —, the
    new attempts to insert (intents owned by ``owner``), and the (owner, key, attempt) a reconcile takes over."""
    now = time.time()
    out: list[tuple[str, Any]] = []
    new: list[Entry] = []
    owned: list[tuple[str, str, int]] = []
    for claim in claims:
        entry = latest.get(claim.key)
        decision = decide(entry, claim, owner, alive)
        if decision == "send" and claim.campaign is not None:  # reserved with the claim, or not claimed
            refused = reserve(claim)
            if refused is not None:
                out.append(("over", refused))
                continue
        if decision == "send":
            body = _STORED.encode({k: v for k, v in claim.body.items() if k not in CALLBACK_FIELDS})
            entry = Entry(claim.key, entry.attempt + 1 if entry else 1, claim.provider, claim.job, body,
                          None, "intent", None, claim.estimate, None, None, now, None, now, owner,
                          claim.price_basis, claim.duration_s, claim.duration_source, None, None)
            new.append(entry)
            latest[claim.key] = entry
        elif decision == "reconcile":
            assert entry is not None
            owned.append((owner, entry.key, entry.attempt))
            latest[claim.key] = replace(entry, owner=owner)
        out.append((decision, entry))
    return out, new, owned

