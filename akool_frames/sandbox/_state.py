"""What the sandbox remembers: a clock, balances, jobs, issued tokens and what it received."""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import _media
from ._config import FAULT_KINDS, Faults, SandboxConfig
from ._inputs import Fetched

__all__ = ["Clock", "Job", "Media", "SandboxState", "STATIC_FILES", "new_id", "static_file"]

QUEUEING, PROCESSING, COMPLETED, FAILED = 1, 2, 3, 4
WEBHOOK_FIELDS = ("webhookUrl", "webhookurl", "callback_url")


STATUS_NAMES = {1: "queueing", 2: "processing", 3: "completed", 4: "failed"}  # the webhook page's words


def new_id(n: int = 24) -> str:
    """A Mongo ObjectId-like hex id (24 hex), or ``n`` hex characters."""
    return os.urandom(n // 2 + 1).hex()[:n]


class Clock:
    """Sandbox time in seconds since the epoch, running ``scale`` times faster than real time."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._origin_wall = time.time()
        self._origin = time.monotonic()
        self._skew = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._origin_wall + (time.monotonic() - self._origin) * self.scale + self._skew

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        """Jump forward (tests use it to expire result files without waiting)."""
        with self._lock:
            self._skew += seconds

    def real_seconds(self, sandbox_seconds: float) -> float:
        return sandbox_seconds / self.scale


@dataclass(frozen=True)
class Media:
    """A result file the sandbox serves: extension and duration (None for images).

    The duration is the one the served file really has, so what the sandbox bills for an input
    it made itself matches what a client measures in that file.
    """

    ext: str
    duration: float | None = None

    def __post_init__(self) -> None:
        if self.duration is not None:
            object.__setattr__(self, "duration", round(_media.rendered_duration(self.ext, self.duration), 6))


@dataclass
class Job:
    """One job on the provider's side. Its status is a function of the clock."""

    id: str
    name: str  # job type, e.g. "tts", "talking_photo"
    provider: str  # "akool" | "audiocleaner" | "kling"
    body: dict[str, Any]
    created: float
    started: float  # leaves the queue
    finished: float  # reaches its terminal state
    credits: float
    media: Media | None
    fail_reason: str | None = None  # set: the job ends failed
    webhook: str | None = None
    webhook_type: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # family-specific record fields
    settled: bool = False  # refund handled (a failed job's credits are back)
    notified: bool = False  # webhook delivery started (by the app's ticker only)
    deleted: bool = False

    def status(self, now: float) -> int:
        if now < self.started:
            return QUEUEING
        if now < self.finished:
            return PROCESSING
        return FAILED if self.fail_reason else COMPLETED

    def charged(self, now: float) -> float:
        """Credits as charged now: failed jobs are refunded."""
        return 0.0 if self.status(now) == FAILED else self.credits


# Catalogue files (voice previews, avatar pictures, effect demos): served by name, never expiring.
STATIC_FILES: dict[str, Media] = {}


def static_file(base_url: str, stem: str, media: Media) -> str:
    """Register a catalogue file and return its URL on this sandbox."""
    name = f"static-{stem}.{media.ext}"
    STATIC_FILES[name] = media
    return f"{base_url}/files/{name}"


class _NewestFirst(Sequence[Job]):
    """A list in creation order, read newest first without copying it."""

    def __init__(self, jobs: list[Job]) -> None:
        self._jobs = jobs

    def __len__(self) -> int:
        return len(self._jobs)

    def __getitem__(self, index: int | slice) -> Any:
        n = len(self._jobs)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._jobs[n - stop: n - start][::-1] if stop > start else []
        if not -n <= index < n:
            raise IndexError(index)
        return self._jobs[n - 1 - index % n]


class SandboxState:
    """All mutable state, guarded by one lock (handlers are short and never await inside it)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = Clock(config.time_scale)
        self.lock = threading.RLock()
        self.balances = {p: config.balance(p) for p in ("akool", "audiocleaner", "kling")}
        self.jobs: dict[str, Job] = {}
        # Indexes, so that nothing scans every job per request or per tick (a 100,000-job run made the
        # webhook ticker and the list endpoints the bench's bottleneck): each type's jobs in creation order,
        # the jobs not settled yet by end time, and the settled ones whose callback is still to start.
        self._by_name: dict[str, list[Job]] = {}
        self._unsorted: set[str] = set()  # types whose jobs were not added in creation order (seeded pasts)
        self._deleted: Counter[str] = Counter()  # deleted jobs by type (none: a list page is a slice)
        self._ending: list[tuple[float, int, Job]] = []  # heap: (finished, tie-break, job)
        self._tie = itertools.count()
        self._to_notify: list[Job] = []
        self.tokens: dict[str, float] = {}  # getToken token -> expiry (sandbox time)
        self.files: dict[str, tuple[Media, float, str]] = {}  # name -> media, available-from, job id
        self.fetched: dict[str, Fetched] = {}  # input URL -> what fetching it found (see _fetch)
        self.input_fetches = 0  # input URLs fetched over HTTP (loopback only)
        self.random = random.Random(config.seed)
        self._fault_rngs: dict[str, random.Random] = {}
        self.endpoint_counts: Counter[str] = Counter()
        # what it received
        self.requests = 0
        self.creates: Counter[str] = Counter()
        self.create_bodies: Counter[tuple[str, str]] = Counter()
        self.polls: Counter[str] = Counter()
        self.detections: Counter[str] = Counter()  # face detection requests (no job, nothing charged)
        self.throttled = 0
        self.faults: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight = 0
        self.max_in_flight_by: Counter[str] = Counter()
        self.log: list[dict[str, Any]] = []
        self.webhooks: list[dict[str, Any]] = []  # deliveries attempted
        self.sink: list[dict[str, Any]] = []  # callbacks received by the built-in sink
        self.rate_tokens: dict[str, tuple[float, float]] = {}  # account -> tokens, last (real)

    # ----------------------------------------------------------------- limits
    def enter(self, account: str) -> bool:
        """Count one request in flight; False when the concurrency limit is reached."""
        with self.lock:
            limit = self.config.concurrency_limit
            if limit is not None and self.in_flight[account] >= limit:
                return False
            self.in_flight[account] += 1
            self.max_in_flight_by[account] = max(self.max_in_flight_by[account], self.in_flight[account])
            return True

    def leave(self, account: str) -> None:
        with self.lock:
            self.in_flight[account] -= 1

    def take_rate_token(self, account: str) -> float:
        """Token bucket per account in real time. Returns 0 if allowed, else seconds to wait."""
        rate = self.config.rate_limit
        if rate is None:
            return 0.0
        burst = self.config.rate_burst or max(1.0, rate)
        now = time.monotonic()
        with self.lock:
            tokens, last = self.rate_tokens.get(account, (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self.rate_tokens[account] = (tokens - 1.0, now)
                return 0.0
            self.rate_tokens[account] = (tokens, now)
            return (1.0 - tokens) / rate

    # ----------------------------------------------------------------- faults
    def draw_fault(self, keys: tuple[str, ...], kinds: tuple[str, ...]) -> tuple[str | None, float]:
        """Pick the fault (if any) for this request of the endpoint ``keys[0]`` and its latency."""
        faults: Faults | None = self.config.faults_for(keys)
        if faults is None:
            return None, 0.0
        endpoint = keys[0]
        with self.lock:
            self.endpoint_counts[endpoint] += 1
            n = self.endpoint_counts[endpoint]
            rng = self._fault_rngs.setdefault(endpoint, random.Random(f"{self.config.seed}:{endpoint}"))
            latency = faults.latency
            delay = rng.uniform(*latency) if isinstance(latency, tuple) else float(latency)
            pinned = faults.at.get(n)
            if pinned is not None:
                return (pinned if pinned in kinds else None), delay
            for kind in FAULT_KINDS:
                p = getattr(faults, kind)
                if kind in kinds and p > 0 and rng.random() < p:
                    return kind, delay
            return None, delay

    def fault_status(self, keys: tuple[str, ...]) -> int:
        faults = self.config.faults_for(keys)
        statuses = faults.statuses if faults else (500,)
        with self.lock:
            return self.random.choice(statuses)

    # ----------------------------------------------------------------- jobs
    def charge(self, provider: str, credits: float) -> bool:
        """Deduct ``credits``; False (nothing deducted) when the balance is short."""
        with self.lock:
            if self.balances[provider] + 1e-9 < credits:
                return False
            self.balances[provider] -= credits
            return True

    def add_job(self, job: Job) -> Job:
        with self.lock:
            self.jobs[job.id] = job
            same = self._by_name.setdefault(job.name, [])
            if same and job.created < same[-1].created:
                self._unsorted.add(job.name)
            same.append(job)
            self.ends_at(job)
            if job.media is not None:
                self.files[self.file_name(job)] = (job.media, job.finished, job.id)
        return job

    def ends_at(self, job: Job) -> None:
        """(Re)schedule ``job``'s settling at its ``finished`` time: call again when that moves earlier (a cancel)."""
        with self.lock:
            heapq.heappush(self._ending, (job.finished, next(self._tie), job))

    def newest(self, name: str, provider: str | None = None) -> Sequence[Job]:
        """The jobs of type ``name`` not deleted, newest first (created descending; ties newest added first).
        Without deletions or a provider to filter on, a view: a page of it costs the page, not every job."""
        with self.lock:
            same = self._by_name.get(name, [])
            if name in self._unsorted:
                same.sort(key=lambda j: j.created)
                self._unsorted.discard(name)
            if not self._deleted[name] and provider is None:
                return _NewestFirst(same)
            return [j for j in reversed(same) if not j.deleted and (provider is None or j.provider == provider)]

    def delete(self, job: Job) -> None:
        with self.lock:
            if not job.deleted:
                job.deleted = True
                self._deleted[job.name] += 1

    @staticmethod
    def file_name(job: Job) -> str:
        assert job.media is not None
        return f"{job.id}.{job.media.ext}"

    def timing(self, processing: float) -> tuple[float, float, float]:
        """created, started, finished for a job that takes ``processing`` sandbox seconds."""
        now = self.clock.now()
        scale = self.config.job_time
        with self.lock:
            queue = self.random.uniform(1.0, 3.0) * scale
        return now, now + queue, now + queue + processing * scale

    def record_create(self, endpoint: str, body: dict[str, Any]) -> None:
        canonical = {k: v for k, v in body.items() if k not in WEBHOOK_FIELDS}
        digest = hashlib.sha256(json.dumps(canonical, sort_keys=True, default=str).encode()).hexdigest()
        with self.lock:
            self.creates[endpoint] += 1
            self.create_bodies[(endpoint, digest)] += 1

    def served(self, name: str) -> Media | None:
        """What ``/files/<name>`` serves now: a catalogue file, or a completed job's result not expired yet; else None."""
        static = STATIC_FILES.get(name)
        if static is not None:
            return static
        with self.lock:
            found = self.files.get(name)
            job = self.jobs.get(found[2]) if found is not None else None
        alive = job is not None and not job.deleted and job.fail_reason is None
        return found[0] if found and alive and found[1] <= self.clock.now() < found[1] + self.config.expiry else None

    def media_seconds(self, url: Any) -> float:
        """Duration of an input medium: measured in the file fetched from it (loopback), a sandbox result file, a
        configured URL, or the default."""
        if not isinstance(url, str):
            return self.config.default_media_seconds
        with self.lock:
            fetched = self.fetched.get(url.strip())
        if fetched is not None and fetched.seconds is not None:
            return fetched.seconds
        if url in self.config.media:
            return float(self.config.media[url])
        name = url.rsplit("/files/", 1)[-1] if "/files/" in url else None
        static = STATIC_FILES.get(name) if name else None
        if static is not None and static.duration is not None:
            return float(static.duration)
        with self.lock:
            entry = self.files.get(name) if name else None
        if entry is not None and entry[0].duration is not None:
            return float(entry[0].duration)
        return self.config.default_media_seconds

    def settle_due(self) -> list[Job]:
        """Refund the jobs that ended failed since the last call; returns the newly ended jobs.

        Anyone may call it (``stats()`` does, so balances are exact); webhooks are tracked
        separately by ``webhooks_due`` so that settling here never swallows a callback.
        """
        now = self.clock.now()
        due = []
        with self.lock:
            ending = self._ending
            while ending and ending[0][0] <= now:
                job = heapq.heappop(ending)[2]
                if not job.settled and now >= job.finished:  # a rescheduled job's older entry finds it settled
                    job.settled = True
                    if job.fail_reason:
                        self.balances[job.provider] += job.credits
                    if job.webhook:
                        self._to_notify.append(job)
                    due.append(job)
        return due

    def webhooks_due(self) -> list[Job]:
        """Ended jobs with a callback URL whose delivery has not started yet (marked started)."""
        self.settle_due()
        with self.lock:
            due, self._to_notify = [j for j in self._to_notify if not j.notified], []
            for job in due:
                job.notified = True
        return due

    # ----------------------------------------------------------------- inspection
    def stats(self) -> dict[str, Any]:
        self.settle_due()
        now = self.clock.now()
        with self.lock:
            duplicates = sum(n - 1 for n in self.create_bodies.values() if n > 1)
            charged = {p: 0.0 for p in self.balances}
            for job in self.jobs.values():
                charged[job.provider] += job.charged(now)
            return {
                "requests": self.requests,
                "creates": sum(self.creates.values()),
                "creates_by_endpoint": dict(self.creates),
                "duplicate_creates": duplicates,
                "polls": sum(self.polls.values()),
                "polls_by_endpoint": dict(self.polls),
                "detections": sum(self.detections.values()),
                "detections_by_endpoint": dict(self.detections),
                "throttled": self.throttled,
                "inputs_fetched": self.input_fetches,
                "faults": dict(self.faults),
                "max_in_flight": self.max_in_flight,
                "max_in_flight_by_account": dict(self.max_in_flight_by),
                "credits_charged": round(sum(charged.values()), 6),
                "credits_charged_by_provider": {p: round(c, 6) for p, c in charged.items()},
                "balances": {p: round(b, 6) for p, b in self.balances.items()},
                "jobs": len(self.jobs),
                # by the docs' names (1 queueing, 2 processing, 3 completed, 4 failed)
                "jobs_by_status": dict(Counter(STATUS_NAMES[j.status(now)] for j in self.jobs.values())),
                "webhooks_sent": len(self.webhooks),
            }
