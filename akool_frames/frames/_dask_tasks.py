"""What a Dask partition runs, on whichever process the scheduler puts it: the pandas verb on that partition, with a
client of its own process. Imports no Dask (the workers import it to run the tasks; ``_dask`` builds the graph).

Nothing secret enters the task graph. ``Settings`` carries a client's settings without its credentials: the URLs,
limits, plan, ledger (a file, or a database URL without its password), staging, and a handle to the caller's client.
Where a partition runs in the caller's own process (the threaded or synchronous scheduler, a
``LocalCluster(processes=False)``), the handle finds the caller's very client (its keys, its ledger, its gate). In any
other process a client is made once per process from the settings, and it reads the credentials from that process's
environment (``AKOOL_API_KEY`` ..., ``PGPASSWORD``, the object store's own), as every worker of a cluster is given
them; a setting that cannot leave the caller (an ``ssl.SSLContext``, a proxy's password, credentials inside
``storage_options``) is named there instead of silently dropped.

A SQLite ledger is one file that one machine sees: the partitions that send (submit, run) may then run only in the
process that built the graph or in the one worker process it saw (``Settings.processes``); any other process refuses
(a retried partition on a restarted worker, a scheduler chosen at compute time).
"""

from __future__ import annotations

import os
import pickle
import re
import socket
import ssl
import threading
import urllib.parse
import uuid
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from .._errors import ConfigError
from ._join import _with_columns

if TYPE_CHECKING:
    from .._client import Client

__all__ = [
    "SQLITE_HINT", "Settings", "akool_download", "akool_estimate", "akool_refresh", "akool_run", "akool_submit",
    "conform", "identity", "is_database", "ledger_location", "settings_of",
]

SQLITE_HINT = ("Hint: share a PostgreSQL ledger across the cluster, the same URL on every machine: "
               "af.Client(ledger=\"postgresql://user@host:5432/db\") (or AKOOL_FRAMES_LEDGER; its password from "
               "PGPASSWORD on the workers); or keep the run in one process: dask.config.set(scheduler=\"threads\"), "
               "LocalCluster(processes=False) or a cluster of one worker process.")
# storage_options entries that are credentials (s3fs key/secret/token, gcsfs token, adlfs account_key, sas_token,
# connection_string, botocore's aws_* ...): they stay in the caller's process.
_CREDENTIAL = re.compile(r"key|secret|token|password|passwd|credential|connection_string|sas", re.IGNORECASE)
_NOT_CREDENTIAL = frozenset({"key_prefix"})

_handles: weakref.WeakValueDictionary[str, Client] = weakref.WeakValueDictionary()  # handle -> the caller's client
_handle_of: weakref.WeakKeyDictionary[Client, str] = weakref.WeakKeyDictionary()
_made: dict[bytes, Client] = {}  # a worker process's clients, by their settings
_lock = threading.Lock()


def identity() -> tuple[str, int]:
    """This process: its host and pid."""
    return socket.gethostname(), os.getpid()


def is_database(location: str) -> bool:
    """Whether a ledger location is a database URL (PostgreSQL), not a SQLite file."""
    return re.match(r"(?i)postgres(ql)?(\+\w+)?://", location) is not None


@dataclass(frozen=True)
class Settings:
    """A client's settings for the task graph: nothing secret (see the module's doc)."""

    handle: str  # the caller's client, in the caller's process (a random name, meaningless elsewhere)
    origin: tuple[str, int]  # the process that built the graph
    options: dict[str, Any]  # Client keyword arguments, credentials left out
    ledger: str  # a file path (absolute) or a database URL without its password
    withheld: tuple[str, ...] = ()  # settings that stayed with the caller, said in other processes
    processes: frozenset[tuple[str, int]] = field(default_factory=frozenset)  # also allowed to send on SQLite
    ledger_password: bool = False  # the database URL had one: the workers take theirs from PGPASSWORD or .pgpass

    @property
    def sqlite(self) -> bool:
        return not is_database(self.ledger)


def ledger_location(client: Any) -> tuple[str, bool]:
    """Where the client's ledger lives, for another process, and whether a password was taken out: a file as an
    absolute path; a database URL without its password (the workers take theirs from PGPASSWORD or ~/.pgpass)."""
    raw = str(getattr(client, "ledger_url", None) or client.ledger_path)
    if not is_database(raw):
        return os.path.abspath(raw), False
    return _bare(raw)


def _bare(raw: str) -> tuple[str, bool]:
    """A database URL without its password, and whether it had one."""
    split = urllib.parse.urlsplit(raw)
    netloc, had = split.netloc, split.password is not None
    if had:
        host = netloc.rsplit("@", 1)[-1]
        netloc = f"{split.username}@{host}" if split.username else host  # (the user as written: still quoted)
    query = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k.lower() != "password"]
    had = had or len(kept) != len(query)
    return urllib.parse.urlunsplit((split.scheme, netloc, split.path, urllib.parse.urlencode(kept), "")), had


def _without_credentials(options: Mapping[str, Any], where: str = "") -> tuple[dict[str, Any], list[str]]:
    kept: dict[str, Any] = {}
    dropped: list[str] = []
    for name, value in options.items():
        path = f"{where}{name}"
        if _CREDENTIAL.search(str(name)) and name not in _NOT_CREDENTIAL:
            dropped.append(path)
        elif isinstance(value, Mapping):
            kept[name], inner = _without_credentials(value, f"{path}.")
            dropped += inner
        else:
            kept[name] = value
    return kept, dropped


def settings_of(client: Client, processes: frozenset[tuple[str, int]] = frozenset()) -> Settings:
    """The client's settings for the graph, and a handle by which its own process finds the client itself."""
    network = client.network
    options: dict[str, Any] = {
        "base_url": client.base_urls["akool"], "audiocleaner_base_url": client.base_urls["audiocleaner"],
        "kling_base_url": client.base_urls["kling"], "client_id": client.client_id,
        "max_concurrency": client.max_concurrency, "rate_limit": client.rate_limit, "plan": client.plan,
        "timeout": client.timeout, "poll_interval": client.poll_interval, "reconcile_after": client.reconcile_after,
        "webhook_url": client.webhook_url, "follow": client.follow, "webhook_host": client.webhook_host,
        "webhook_port": client.webhook_port, "ledger_timeout": client.ledger_timeout,
        "usd_per_credit": client.usd_per_credit, "trust_env": network.trust_env, "staging": client.staging,
        "staging_ttl": client.staging_ttl,
    }
    withheld: list[str] = []
    if isinstance(network.verify, ssl.SSLContext):
        withheld.append("verify= (an ssl.SSLContext: give the workers a CA bundle's path instead)")
    else:
        options["verify"] = os.fspath(network.verify) if isinstance(network.verify, os.PathLike) else network.verify
    if network.proxy and urllib.parse.urlsplit(network.proxy).password is not None:
        withheld.append("proxy= (it holds a password: set HTTPS_PROXY in the workers' environment instead)")
    elif network.proxy:
        options["proxy"] = network.proxy
    if client.transport is not None:
        withheld.append("transport= (an object of this process)")
    options["storage_options"], dropped = _without_credentials(client.storage_options)
    if dropped:
        withheld.append(f"storage_options {', '.join(dropped)} (credentials: give the workers their own, e.g. "
                        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in their environment)")
    gate = getattr(client, "shared_gate", True)  # True follows the ledger; a URL travels without its password
    options["shared_gate"] = gate if isinstance(gate, bool) else (
        _bare(str(gate))[0] if is_database(str(gate)) else os.path.abspath(gate))
    ledger, password = ledger_location(client)
    with _lock:
        handle = _handle_of.get(client)
        if handle is None:
            handle = _handle_of[client] = uuid.uuid4().hex
            _handles[handle] = client
    return Settings(handle, identity(), options, ledger, tuple(withheld), processes, password)


def client_for(settings: Settings, *, sends: bool, provider: str | None = None) -> Client:
    """The client a partition uses: the caller's own in the caller's process, else one made in this process from the
    settings (once per process), its credentials from this process's environment."""
    if sends and settings.sqlite and identity() != settings.origin and identity() not in settings.processes:
        msg = (f"This partition would send on a SQLite ledger ({settings.ledger}) from a process the graph was not "
               f"built for ({_where()}); every process that sends must see the same claims, and a SQLite file is "
               f"seen by one machine, so a row could be paid twice.\n\n{SQLITE_HINT}")
        raise ConfigError(msg)
    if identity() == settings.origin and (mine := _handles.get(settings.handle)) is not None:
        return mine
    if settings.withheld:
        msg = (f"The client's {'; '.join(settings.withheld)} stayed in the process that built the Dask graph: "
               f"settings never travel with their secrets, and {_where()} has no such setting of its own.\n\n"
               "Hint: leave them out of af.Client(...) and give each worker its own, in its environment.")
        raise ConfigError(msg)
    if settings.ledger_password and not _pg_password():
        msg = (f"The ledger's password stayed in the process that built the Dask graph, and {_where()} has none of "
               "its own.\n\nHint: set PGPASSWORD (or PGPASSFILE, ~/.pgpass) in every worker's environment.")
        raise ConfigError(msg)
    key = pickle.dumps((settings.options, settings.ledger))
    with _lock:
        client = _made.get(key)
        if client is None:
            from .._client import Client

            client = _made[key] = Client(**settings.options, ledger=settings.ledger)
    if provider is not None:
        try:
            client.credentials(provider)
        except ConfigError:
            names = {"akool": "AKOOL_API_KEY (or AKOOL_CLIENT_ID and AKOOL_CLIENT_SECRET)",
                     "audiocleaner": "AUDIOCLEANER_API_KEY", "kling": "KLING_ACCESS_KEY and KLING_SECRET_KEY"}
            msg = (f"No {provider} credentials on {_where()}: credentials never travel in a Dask task graph, so each "
                   "worker reads its own from its environment.\n\n"
                   f"Hint: set {names.get(provider, provider)} in every worker's environment: "
                   "LocalCluster(env={...}), the `dask worker` command's environment, or your deployment's secrets.")
            raise ConfigError(msg) from None
    return client


def _pg_password() -> bool:
    """Whether this process has a PostgreSQL password of its own (libpq's environment variables or password file)."""
    if os.environ.get("PGPASSWORD") or os.environ.get("PGSERVICE"):
        return True
    found = os.environ.get("PGPASSFILE") or os.path.join(os.path.expanduser("~"), ".pgpass")
    return os.path.isfile(found)


def _where() -> str:
    host, pid = identity()
    try:
        from distributed import get_worker

        return f"the Dask worker {get_worker().address} (pid {pid})"
    except (ImportError, ValueError):
        return f"the process {pid} on {host}"


def conform(frame: Any, prefix: str, columns: Sequence[str], *, strict: bool = True) -> Any:
    """The partition's result with exactly the columns of the graph's meta, in its order: result columns that this
    partition did not make (``files`` where no row made several videos) are added empty, with their types."""
    eager = nw.from_native(frame, eager_only=True)
    missing = [c for c in columns if c not in eager.columns]
    extra = [c for c in eager.columns if c not in columns]
    if extra and strict:  # (a result column the meta does not foresee: the meta must learn it)
        msg = f"The partition made columns the Dask meta lacks: {extra}."
        raise RuntimeError(msg)
    if missing:
        eager = _with_columns(eager, prefix, {c.removeprefix(prefix): [None] * len(eager) for c in missing})
    return eager.select(list(columns)).to_native()


# ---------------------------------------------------------------------------------- the tasks (one per verb)
# Named as the dashboard shows them: akool_run-<token>. ``columns`` is the meta's, ``options`` the verb's own.
def akool_estimate(partition: Any, settings: Settings, job: str, prefix: str, columns: Sequence[str],
                   options: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    from ._verbs import estimate

    client = client_for(settings, sends=False)
    out = estimate(partition, job, client=client, prefix=prefix, progress=False, **options, **params)
    return conform(out, prefix, columns)


def akool_submit(partition: Any, settings: Settings, job: str, prefix: str, columns: Sequence[str],
                 options: Mapping[str, Any], params: Mapping[str, Any], provider: str) -> Any:
    from ._verbs import submit

    client = client_for(settings, sends=True, provider=provider)
    out = submit(partition, job, client=client, prefix=prefix, progress=False, **options, **params)
    return conform(out, prefix, columns)


def akool_run(partition: Any, settings: Settings, job: str, prefix: str, columns: Sequence[str],
              options: Mapping[str, Any], params: Mapping[str, Any], provider: str) -> Any:
    from ._verbs import run

    client = client_for(settings, sends=True, provider=provider)
    out = run(partition, job, client=client, prefix=prefix, progress=False, **options, **params)
    return conform(out, prefix, columns)


def akool_refresh(partition: Any, settings: Settings, prefix: str, columns: Sequence[str],
                  options: Mapping[str, Any]) -> Any:
    from ._verbs import refresh

    client = client_for(settings, sends=False)
    out = refresh(partition, client=client, prefix=prefix, progress=False, **options)
    return conform(out, prefix, columns, strict=False)  # (a job's extra columns the frame lacks: job= adds them)


def akool_download(partition: Any, settings: Settings, dest: str, prefix: str, columns: Sequence[str],
                   options: Mapping[str, Any]) -> Any:
    from ._verbs import download

    client = client_for(settings, sends=False)
    out = download(partition, dest, client=client, prefix=prefix, progress=False, **options)
    return conform(out, prefix, columns)
