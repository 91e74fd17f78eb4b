"""Client settings: arguments > environment variables > defaults. Secrets are wrapped so reprs hide them."""

from __future__ import annotations

import os
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx

from ._errors import ConfigError
from ._locations import MAX_TTL, STAGEABLE, protocol
from .ledger import DatabaseAddress, PostgresLedger, is_database_url
from .transport import Network, gate_place

if TYPE_CHECKING:
    from .ledger import Ledger
    from .storage import Stager
    from .transport import Http

__all__ = ["Client", "Secret", "default_client", "default_if_set", "set_default_client"]

DEFAULT_BASE_URLS = {
    "akool": "https://openapi.akool.com",
    "audiocleaner": "https://audiocleaner.ai",
    "kling": "https://api-singapore.klingai.com",
}
DEFAULT_LEDGER = "./.akool_frames/ledger.sqlite"
FOLLOW_MODES = ("poll", "webhook")  # how a run learns that its jobs finished


class Secret:
    """A credential. ``repr``/``str`` never show it; ``reveal()`` does, for the HTTP layer only."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> NoReturn:
        msg = "A Secret cannot be pickled: credentials stay in the process that was given them."
        raise TypeError(msg)


def _setting(value: Any, env: str, default: Any = None) -> Any:
    if value is not None:
        return value
    found = os.environ.get(env)
    return found if found not in (None, "") else default


def _seconds(value: float | None, env: str, default: float | None) -> float | None:
    found = _setting(value, env, default)
    try:
        return None if found is None else float(found)
    except ValueError:
        msg = f"{env} is {found!r}; it takes a number of seconds."
        raise ConfigError(msg) from None


def _url(value: str | None, name: str, env: str, default: str) -> str:
    """A base URL setting, checked now: a URL without a scheme or host would only fail at the first request."""
    url = str(_setting(value, env, default)).strip().rstrip("/")
    split = urllib.parse.urlsplit(url)
    source = f"{name}=" if value is not None else f"{env} (environment)"
    if split.scheme not in ("http", "https") or not split.hostname:
        msg = (f"{source} is {url!r}, which is not an http(s) URL.\n\n"
               f"Hint: write it with its scheme, e.g. {default!r} (or 'http://127.0.0.1:8765' for a sandbox).")
        raise ConfigError(msg)
    try:
        split.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        msg = f"{source} is {url!r}: its port is not a number."
        raise ConfigError(msg) from None
    return url


STAGING_TTL = 24 * 3600.0  # a day: jobs start within minutes, and may wait in a queue for hours


def _staging(value: str | None) -> str | None:
    """The staging location: an object store's URI (the API must be able to fetch what is put there)."""
    raw = _setting(value, "AKOOL_FRAMES_STAGING")
    if raw is None:
        return None
    where = str(raw).strip()
    source = "staging=" if value is not None else "AKOOL_FRAMES_STAGING (environment)"
    scheme, sep, rest = where.partition("://")
    if not sep or scheme.lower() not in STAGEABLE or not rest.strip("/"):
        msg = (f"{source} is {where!r}; it takes an object store's location, where files can be presigned.\n\n"
               f"Hint: e.g. 's3://your-bucket/akool-in/' ({', '.join(s + '://' for s in STAGEABLE)}).")
        raise ConfigError(msg)
    return where if where.endswith("/") else where + "/"


def _ttl(value: float | None, staging: str | None) -> float:
    ttl = _seconds(value, "AKOOL_FRAMES_STAGING_TTL", STAGING_TTL)
    if ttl is None or ttl <= 0:
        msg = f"staging_ttl must be a positive number of seconds, got {ttl!r}."
        raise ConfigError(msg)
    scheme = protocol(staging) if staging else None
    most = MAX_TTL.get(scheme or "")
    if most is not None and ttl > most:
        msg = (f"staging_ttl is {ttl:g} s; URLs presigned by {scheme}:// last at most {most:g} s "
               f"({most / 86400:g} days).\n\nHint: staging_ttl={most:g} or less.")
        raise ConfigError(msg)
    return ttl


def _secret(value: str | Secret | None, env: str) -> Secret | None:
    raw = _setting(value.reveal() if isinstance(value, Secret) else value, env)
    return Secret(str(raw)) if raw else None


# The settings each provider needs that a client lacks, by provider.
_MISSING_CREDENTIALS: dict[str, Callable[[Client], list[str]]] = {
    "akool": lambda c: [] if (c.api_key or (c.client_id and c.client_secret))
    else ["api_key (AKOOL_API_KEY) or client_id + client_secret (AKOOL_CLIENT_ID, AKOOL_CLIENT_SECRET)"],
    "audiocleaner": lambda c: [] if c.audiocleaner_api_key else ["audiocleaner_api_key (AUDIOCLEANER_API_KEY)"],
    "kling": lambda c: [n for n, v in (("kling_access_key (KLING_ACCESS_KEY)", c.kling_access_key),
                                       ("kling_secret_key (KLING_SECRET_KEY)", c.kling_secret_key)) if not v],
}


class Client:
    """Where and how to reach the providers, and how hard to push them.

    Every argument is optional: ``AKOOL_API_KEY`` (x-api-key) or ``AKOOL_CLIENT_ID`` /
    ``AKOOL_CLIENT_SECRET`` (getToken, Bearer), ``AKOOL_BASE_URL``, ``AKOOL_FRAMES_LEDGER``,
    ``AUDIOCLEANER_API_KEY`` / ``AUDIOCLEANER_BASE_URL``, ``KLING_ACCESS_KEY`` /
    ``KLING_SECRET_KEY`` / ``KLING_BASE_URL``, ``AKOOL_FRAMES_POLL_INTERVAL`` /
    ``AKOOL_FRAMES_RECONCILE_AFTER`` fill the gaps.

    - ``max_concurrency``: in-flight HTTP requests of this client (creates, polls, tokens,
      downloads), never exceeded.
    - ``rate_limit``: requests per second ceiling; the client slows down further on throttling.
    - ``plan``: pricing plan where rates depend on it (pro, max, business).
    - ``poll_interval``: seconds between polls of one job (default: per job type).
    - ``reconcile_after``: seconds after which a create whose answer was lost is looked up in
      the provider's list (where there is one) and, if absent there, sent again; looked up while the run
      goes on, so its job is still near the top of the list. Also the margin by which a job this ledger
      knows must precede the lost create for the list to prove it absent (lists lag and may order jobs
      made close together either way).
    - ``follow``: how runs learn that jobs finished: ``"poll"`` (default) asks the provider, batched where its
      API allows; ``"webhook"`` starts a receiver and waits for Akool's signed callbacks, polling only jobs whose
      callback is late (jobs with no callback field, and other providers' jobs, are polled). ``run(follow=...)``
      chooses per call.
    - ``webhook_host`` / ``webhook_port``: where the receiver listens (loopback and a free port by default; a
      server reachable from the internet binds e.g. "0.0.0.0" and a fixed port).
    - ``webhook_url``: the callback URL sent with each create. With ``follow="webhook"``, the public address
      that forwards to the receiver (by default its own loopback address); with ``follow="poll"``, a receiver
      of your own (polling still runs).
    - ``usd_per_credit``: dollars per credit in reports and forecasts (0.04: the Jarvis price table's
      1 credit = 0.04 USD).
    - ``ledger``: where the ledger lives: an SQLite file (default ``./.akool_frames/ledger.sqlite``), or a
      PostgreSQL database that several machines share (``"postgresql://user:password@host:5432/db"``, the
      ``postgres`` extra; its password is never shown: ``ledger_path`` is the URL with ``***`` for it).
    - ``ledger_timeout``: seconds a ledger write waits while another process holds the ledger (another
      run sharing it) before the run stops with a message naming that process.
    - ``verify``: how servers' certificates are checked: True (the system's and certifi's CAs, plus
      ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` / ``REQUESTS_CA_BUNDLE`` when ``trust_env``), a CA bundle path (that
      bundle alone), an ``ssl.SSLContext``, or False (no check: unsafe).
    - ``proxy``: an http:// proxy URL for every request (``"http://user:pass@proxy:3128"``; the credentials are
      never printed). Without it, and with ``trust_env``, ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` /
      ``NO_PROXY`` (any case) decide, as in every Python HTTP tool.
    - ``trust_env``: read proxies and CA bundles from the environment (default True).
    - ``transport``: an httpx async transport for API traffic (e.g. ``httpx.MockTransport`` in your own tests);
      media probes and downloads still go over the network.
    - ``staging``: where local files given in URL fields are uploaded (``"s3://bucket/prefix/"``, ``gs://``,
      ``az://`` ...; ``AKOOL_FRAMES_STAGING``): once, content-addressed; the API gets a presigned URL. Without it a
      local path is an invalid row.
    - ``staging_ttl``: seconds the presigned URLs stay valid (default a day; at most the store's own maximum,
      7 days on S3 and GCS); ``AKOOL_FRAMES_STAGING_TTL``.
    - ``storage_options``: options for the object store's filesystem (fsspec: ``{"profile": ...}``,
      ``{"client_kwargs": {"endpoint_url": ...}}``), used for staging, ``s3://`` inputs, ``download`` and
      ``save_to``; credentials otherwise come from the store's usual places (environment, profiles). Never printed.
    - ``shared_gate``: True (default): ``max_concurrency`` and ``rate_limit`` are the account's, held across every
      process sharing this ledger (lock files in ``.<ledger>-gate/`` beside it, or a PostgreSQL ledger's database);
      throttling seen by one slows all; a process that dies frees its share at once. False: this client's alone.
      Or the place of a gate to share (a ``postgresql://`` URL, or a folder).
    """

    def __init__(
        self,
        api_key: str | Secret | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        base_url: str | None = None,
        max_concurrency: int = 8,
        rate_limit: float | None = None,
        ledger: str | Path | None = None,
        plan: str = "pro",
        audiocleaner_api_key: str | Secret | None = None,
        audiocleaner_base_url: str | None = None,
        kling_access_key: str | Secret | None = None,
        kling_secret_key: str | Secret | None = None,
        kling_base_url: str | None = None,
        timeout: float = 30.0,
        poll_interval: float | None = None,
        reconcile_after: float | None = None,
        webhook_url: str | None = None,
        follow: str = "poll",
        webhook_host: str = "127.0.0.1",
        webhook_port: int = 0,
        ledger_timeout: float = 60.0,
        usd_per_credit: float = 0.04,
        verify: bool | str | Path | ssl.SSLContext = True,
        proxy: str | None = None,
        trust_env: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        staging: str | None = None,
        staging_ttl: float | None = None,
        storage_options: Mapping[str, Any] | None = None,
        shared_gate: bool | str | Path = True,
    ) -> None:
        self.api_key: Secret | None = _secret(api_key, "AKOOL_API_KEY")
        self.client_id: str | None = _setting(client_id, "AKOOL_CLIENT_ID")
        self.client_secret: Secret | None = _secret(client_secret, "AKOOL_CLIENT_SECRET")
        self.audiocleaner_api_key: Secret | None = _secret(audiocleaner_api_key, "AUDIOCLEANER_API_KEY")
        self.kling_access_key: Secret | None = _secret(kling_access_key, "KLING_ACCESS_KEY")
        self.kling_secret_key: Secret | None = _secret(kling_secret_key, "KLING_SECRET_KEY")
        self.base_urls = {
            "akool": _url(base_url, "base_url", "AKOOL_BASE_URL", DEFAULT_BASE_URLS["akool"]),
            "audiocleaner": _url(audiocleaner_base_url, "audiocleaner_base_url", "AUDIOCLEANER_BASE_URL",
                                 DEFAULT_BASE_URLS["audiocleaner"]),
            "kling": _url(kling_base_url, "kling_base_url", "KLING_BASE_URL", DEFAULT_BASE_URLS["kling"]),
        }
        if max_concurrency < 1:
            msg = f"max_concurrency must be at least 1, got {max_concurrency}."
            raise ConfigError(msg)
        if rate_limit is not None and rate_limit <= 0:
            msg = f"rate_limit must be positive or None, got {rate_limit}."
            raise ConfigError(msg)
        if plan not in ("pro", "max", "business"):
            msg = f"plan is {plan!r}.\n\nHint: use 'pro', 'max' or 'business'."
            raise ConfigError(msg)
        self.max_concurrency = int(max_concurrency)
        self.rate_limit = rate_limit
        self.plan = plan
        self.timeout = timeout
        self.poll_interval = _seconds(poll_interval, "AKOOL_FRAMES_POLL_INTERVAL", None)
        self.reconcile_after = _seconds(reconcile_after, "AKOOL_FRAMES_RECONCILE_AFTER", 15.0)
        self.webhook_url = webhook_url
        if follow not in FOLLOW_MODES:
            msg = f"follow is {follow!r}.\n\nHint: use 'poll' or 'webhook'."
            raise ConfigError(msg)
        self.follow = follow
        self.webhook_host = webhook_host
        if not isinstance(webhook_port, int) or not 0 <= webhook_port < 65536:
            msg = f"webhook_port is {webhook_port!r}; it takes a port number (0: any free port)."
            raise ConfigError(msg)
        self.webhook_port = webhook_port
        if ledger_timeout <= 0:
            msg = f"ledger_timeout must be positive, got {ledger_timeout}."
            raise ConfigError(msg)
        self.ledger_timeout = float(ledger_timeout)
        if isinstance(usd_per_credit, bool) or not isinstance(usd_per_credit, int | float) or usd_per_credit < 0:
            msg = f"usd_per_credit must be a number of dollars, 0 or more; got {usd_per_credit!r}."
            raise ConfigError(msg)
        self.usd_per_credit = float(usd_per_credit)
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            msg = (f"transport is {type(transport).__name__}; it takes an httpx async transport "
                   "(httpx.AsyncBaseTransport), e.g. httpx.MockTransport(handler).")
            raise ConfigError(msg)
        self.transport = transport
        self.network = Network(verify=verify, proxy=proxy, trust_env=trust_env)
        self.staging: str | None = _staging(staging)
        self.staging_ttl: float = _ttl(staging_ttl, self.staging)
        self.storage_options: dict[str, Any] = dict(storage_options or {})  # (may hold keys: never in the repr)
        self._stager: Stager | None = None
        where = _setting(ledger, "AKOOL_FRAMES_LEDGER", DEFAULT_LEDGER)
        # A PostgreSQL URL is kept as text, its password apart (never shown); anything else is an SQLite file.
        self.ledger_address: DatabaseAddress | None = DatabaseAddress(where) if is_database_url(where) else None
        self.ledger_path: Path | str = self.ledger_address.shown if self.ledger_address else Path(where)
        self.gate_at = gate_place(shared_gate, where)  # where the account-wide gate lives (None: per client)
        self.shared_gate = shared_gate  # as given (Dask workers' clients are made with it)
        self._ledger: Ledger | PostgresLedger | None = None
        self._http: Http | None = None
        self.lengths: dict[str, Any] = {}  # media lengths measured in this session (by _probe), by target
        self.language_lists: dict[str, Any] = {}  # the providers' language codes, read once a session
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.base_urls["akool"]

    def __repr__(self) -> str:
        auth = "api_key" if self.api_key else ("client_id/secret" if self.client_secret else "none")
        rate = f", rate_limit={self.rate_limit}" if self.rate_limit else ""
        staging = f", staging={self.staging!r}" if self.staging else ""
        return (f"Client(base_url={self.base_url!r}, auth={auth!r}, max_concurrency={self.max_concurrency}"
                f"{rate}, plan={self.plan!r}, ledger={str(self.ledger_path)!r}{staging}, {self.network.describe()})")

    def credentials(self, provider: str) -> None:
        """Raise ConfigError naming the missing settings for ``provider``."""
        missing = _MISSING_CREDENTIALS[provider](self)  # (per request: only the provider's own are looked at)
        if missing:
            msg = (f"No {provider} credentials: set {' and '.join(missing)}.\n\n"
                   "Hint: to try things without an account, use `with af.sandbox() as sb:` and `client=sb.client`.")
            raise ConfigError(msg)

    @property
    def ledger(self) -> Ledger | PostgresLedger:
        """The ledger (opened on first use, and again in a forked child: a connection and the ledger's writer
        thread do not survive a fork): SQLite's, or PostgreSQL's when ``ledger=`` is a ``postgresql://`` URL."""
        with self._lock:
            if self._ledger is None or self._ledger.pid != os.getpid():
                if self.ledger_address is not None:
                    self._ledger = PostgresLedger(self.ledger_address, timeout=self.ledger_timeout)
                else:
                    from .ledger import Ledger

                    self._ledger = Ledger(self.ledger_path, timeout=self.ledger_timeout)
            return self._ledger

    @property
    def stager(self) -> Stager:
        """Staging and presigning of media inputs that are not URLs (made on first use)."""
        with self._lock:
            if self._stager is None:
                from .storage import Stager

                self._stager = Stager(self.staging, self.staging_ttl, self.storage_options, self.max_concurrency)
            return self._stager

    @property
    def http(self) -> Http:
        """The HTTP layer (made on first use, bound to the background loop)."""
        with self._lock:
            if self._http is None:
                from .transport import Http

                self._http = Http(self)
            return self._http

    def close(self) -> None:
        """Close connections and the ledger. The client can be used again afterwards."""
        with self._lock:
            http, self._http = self._http, None
            ledger, self._ledger = self._ledger, None
        if http is not None:  # (its webhook receiver too, if a webhook-mode run started one)
            from ._loop import run_sync

            run_sync(http.aclose())
        if ledger is not None:
            ledger.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: Client | None = None
_default_lock = threading.Lock()


def set_default_client(client: Client | None) -> None:
    """Use ``client`` wherever ``client=`` is not given."""
    global _default
    with _default_lock:
        _default = client


def default_if_set() -> Client | None:
    """The default client if one was set or made, else None (never made here: reports and forecasts need no
    credentials)."""
    return _default


def default_client() -> Client:
    """The default client (made from environment variables on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Client()
        return _default
