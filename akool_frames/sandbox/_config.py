"""Sandbox settings: how fast, how rich, how limited and how faulty the emulator is."""

from __future__ import annotations

import dataclasses
import secrets
import ssl
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

__all__ = ["FAULT_KINDS", "Faults", "SandboxConfig", "SandboxOptions"]

# Fault kinds, in the order they are considered for one request.
FAULT_KINDS = ("reset_before", "error_5xx", "throttle", "reset_after", "html_after", "unavailable_after",
               "bad_encoding_after", "job_fail")


def _token(n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def own_tls(config: SandboxConfig) -> ssl.SSLContext | None:
    """TLS for the sandbox calling itself (admin, its own webhook sink): None over plain HTTP. Unverified:
    it is the same process on loopback, and the CA behind its certificate is the caller's, not known here."""
    if not config.tls:
        return None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@dataclass(frozen=True, kw_only=True)
class Faults:
    """Faults for one endpoint (or all), drawn from a seeded generator.

    Probabilities are per request (per create for the ``*_after`` kinds and ``job_fail``).
    ``at`` pins a fault to the n-th request of the endpoint (1-based), e.g.
    ``Faults(at={2: "reset_after"})``, for tests that need an exact schedule.

    - ``latency``: extra seconds (real time) before the request is handled; a float
      or a ``(low, high)`` range.
    - ``error_5xx``: answer with one of ``statuses`` before handling (nothing created).
    - ``reset_before``: drop the connection before the request is handled.
    - ``reset_after``: handle the create (job exists, credits charged), then drop the
      connection so the response is lost.
    - ``html_after``: handle the create, then answer as a CDN in front of the API might:
      HTTP 200, ``text/html``, a page titled "Just a moment..." instead of the envelope.
    - ``unavailable_after``: handle the create, then answer a bare HTTP 503 page (no
      provider envelope, no ``Retry-After``).
    - ``bad_encoding_after``: handle the create, then answer 200 labelled
      ``Content-Encoding: gzip`` whose body is the plain JSON envelope (decoding fails).
    - ``throttle``: answer as the provider does when throttling.
    - ``job_fail``: the job is accepted but ends in the failed state.
    """

    latency: float | tuple[float, float] = 0.0
    error_5xx: float = 0.0
    reset_before: float = 0.0
    reset_after: float = 0.0
    html_after: float = 0.0
    unavailable_after: float = 0.0
    bad_encoding_after: float = 0.0
    throttle: float = 0.0
    job_fail: float = 0.0
    statuses: tuple[int, ...] = (500, 502, 503)
    at: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for n, kind in self.at.items():
            if kind not in FAULT_KINDS:
                msg = f"Faults.at[{n}] is {kind!r}.\n\nHint: use one of {', '.join(FAULT_KINDS)}."
                raise ValueError(msg)


@dataclass(kw_only=True)
class SandboxConfig:
    """Everything the sandbox can be told. Defaults: quick, fault-free, well funded.

    - ``time_scale``: sandbox seconds per real second (jobs, expiry and webhook
      retries run on this clock; rate limits and latency are real time).
    - ``credits``: starting balance, one number for every provider or a dict
      ``{"akool": ..., "audiocleaner": ..., "kling": ...}``.
    - ``plan``: Akool plan deciding TTS rates and text limits: pro, max, business.
    - ``rate_limit``: requests per second per account (None = unlimited);
      ``rate_burst`` tokens may be spent at once (default: one second's worth).
    - ``concurrency_limit``: in-flight requests per account (None = unlimited).
    - ``http_429``: answer throttling with HTTP 429 + Retry-After instead of the
      providers' documented in-band codes.
    - ``faults``: a ``Faults`` for every endpoint, or a dict from an endpoint key
      (a job name such as ``"tts"``, a path such as ``"/api/open/v4/voice/tts"``, a
      route kind ``"create"``/``"poll"``, or ``"*"``) to ``Faults``.
    - ``expiry``: sandbox seconds a result file is served after the job completes.
    - ``job_time``: multiplies every job's simulated processing time.
    - ``media``: known durations (seconds) of input URLs the sandbox does not fetch (it fetches loopback ones
      only, and not those named here); its own result URLs are known already. Other inputs get
      ``default_media_seconds``; a loopback input is measured, and one that cannot be fetched fails its job.
    - ``prices``: credit overrides for jobs whose price the docs do not give.
    - ``faces``: how many faces face detection finds at a URL (or in a base64 ``img``),
      ``{url: n}``; other inputs have 1. The faces themselves are made up from a hash of the URL.
    - ``answer_shapes``: ``"docs"`` answers as the pages show them; ``"observed"`` as real clients meet
      Akool's answers where they differ (``message`` for ``msg``, a one-element ``data`` array as an object,
      ``data.list`` for ``data.result``), to prove the client reads both.
    - ``webhook_retries`` / ``webhook_retry_interval``: re-delivery on a non-200 answer.
    - ``token_ttl``: lifetime of getToken tokens, sandbox seconds.
    - ``keep_alive``: real seconds the server keeps an idle connection open (uvicorn's
      ``timeout_keep_alive``); every answer says so in ``Keep-Alive: timeout=N``.
    - ``tls``: ``(certfile, keyfile)`` PEM paths: serve HTTPS (``url`` starts with ``https://``);
      the certificate must name the host (``127.0.0.1`` by default).
    """

    time_scale: float = 20.0
    credits: float | dict[str, float] = 1_000_000.0
    plan: str = "pro"
    rate_limit: float | None = None
    rate_burst: float | None = None
    concurrency_limit: int | None = None
    http_429: bool = False
    faults: Faults | dict[str, Faults] | None = None
    seed: int = 0
    expiry: float = 7 * 86400.0
    job_time: float = 1.0
    media: dict[str, float] = field(default_factory=dict)
    default_media_seconds: float = 8.0
    prices: dict[str, float] = field(default_factory=dict)
    faces: dict[str, int] = field(default_factory=dict)
    answer_shapes: str = "docs"
    webhook_retries: int = 3
    webhook_retry_interval: float = 20.0
    token_ttl: float = 400 * 86400.0
    keep_alive: float = 30.0
    tls: tuple[str | Path, str | Path] | None = None
    api_key: str = field(default_factory=lambda: _token(32))
    client_id: str = field(default_factory=lambda: _token(16))
    audiocleaner_api_key: str = field(default_factory=lambda: _token(32))
    kling_access_key: str = field(default_factory=lambda: "ak-" + _token(20))
    kling_secret_key: str = field(default_factory=lambda: _token(32))

    def __post_init__(self) -> None:
        if self.answer_shapes not in ("docs", "observed"):
            msg = f"answer_shapes is {self.answer_shapes!r}.\n\nHint: use 'docs' or 'observed'."
            raise ValueError(msg)
        if self.plan not in ("pro", "max", "business"):
            msg = f"plan is {self.plan!r}.\n\nHint: use 'pro', 'max' or 'business'."
            raise ValueError(msg)
        if len(self.api_key.encode()) not in (16, 24, 32):
            # The key doubles as the AES key of webhook payloads (docs: 24 characters).
            msg = "api_key must be 16, 24 or 32 bytes: it is the AES key of webhook payloads."
            raise ValueError(msg)
        if self.time_scale <= 0:
            msg = f"time_scale must be positive, got {self.time_scale}."
            raise ValueError(msg)
        if not self.keep_alive > 0:
            msg = f"keep_alive must be positive seconds, got {self.keep_alive!r}."
            raise ValueError(msg)
        if self.tls is not None:
            self._check_tls()
        for url, n in self.faces.items():
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                msg = f"faces[{url!r}] is {n!r}.\n\nHint: give a whole number of faces, 0 or more."
                raise ValueError(msg)

    def _check_tls(self) -> None:
        # Checked here: uvicorn failing in its thread would only say "did not start".
        if not isinstance(self.tls, (tuple, list)) or len(self.tls) != 2:
            msg = f"tls is {self.tls!r}.\n\nHint: give (certfile, keyfile), two PEM file paths."
            raise ValueError(msg)
        for what, path in zip(("certificate", "key"), self.tls, strict=True):
            if not Path(path).is_file():
                msg = f"tls {what} file {str(path)!r} does not exist.\n\nHint: give (certfile, keyfile), two PEM files."
                raise ValueError(msg)
        self.tls = (str(self.tls[0]), str(self.tls[1]))

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def client_secret(self) -> str:
        """The docs: the clientSecret is the same value as the API key."""
        return self.api_key

    def balance(self, provider: str) -> float:
        if isinstance(self.credits, dict):
            return float(self.credits.get(provider, 0.0))
        return float(self.credits)

    def faults_for(self, keys: tuple[str, ...]) -> Faults | None:
        if self.faults is None or isinstance(self.faults, Faults):
            return self.faults
        for key in (*keys, "*"):
            if key in self.faults:
                return self.faults[key]
        return None

    def __repr__(self) -> str:
        # Secrets stay out of reprs, logs and tracebacks.
        shown = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not f.name.endswith(("key", "secret", "_id"))
        }
        inner = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"SandboxConfig({inner})"


class SandboxOptions(TypedDict, total=False):
    """``af.sandbox(**options)`` and ``Sandbox(**options)``: any of ``SandboxConfig``'s fields, by name."""

    time_scale: float
    credits: float | dict[str, float]
    plan: str
    rate_limit: float | None
    rate_burst: float | None
    concurrency_limit: int | None
    http_429: bool
    faults: Faults | dict[str, Faults] | None
    seed: int
    expiry: float
    job_time: float
    media: dict[str, float]
    default_media_seconds: float
    prices: dict[str, float]
    faces: dict[str, int]
    answer_shapes: str
    webhook_retries: int
    webhook_retry_interval: float
    token_ttl: float
    keep_alive: float
    tls: tuple[str | Path, str | Path] | None
    api_key: str
    client_id: str
    audiocleaner_api_key: str
    kling_access_key: str
    kling_secret_key: str
