"""The PostgreSQL ledger's database before anything is read or written: the driver (psycopg, the ``postgres`` extra),
a connection with its failures told as settings to fix (the password never in them), and the schema: the SQLite
ledger's tables and columns, in a schema of their own (``akool_frames``), made on first use under a lock and
stamped with a version.

Advisory locks: the ledger takes its locks in two namespaces of the two-key form ``(namespace, n)``, so that
other users of the database (and other parts of akool_frames) keep out of them by choosing other namespaces:
``WRITERS`` (n: a run's lock id; held for the run's life by its process, the server frees it when the process
or its machine goes) and ``KEYS`` (n: the first 32 bits of a row's key; held by a claim's transaction). The
schema's setup holds ``(WRITERS, 0)`` for its transaction.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError, LedgerError
from ._address import DatabaseAddress
from ._campaigns import POSTGRES, campaign_tables

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CAMPAIGNS", "KEYS", "SCHEMA", "SCHEMA_VERSION", "TRANSIENT", "WRITERS", "connect", "driver", "driver_error", "key_lock",
    "setup",
]

WRITERS = 0x616B6601  # advisory lock namespace of runs' liveness ("akf" 1)
KEYS = 0x616B6602  # ... of claims, per row key ("akf" 2)
CAMPAIGNS = 0x616B6603  # ... of a campaign's budget, held by the claim transactions that reserve from it ("akf" 3)
SCHEMA = "akool_frames"
SCHEMA_VERSION = 1
TRANSIENT = ("40P01", "40001")  # deadlock detected, serialization failure: the transaction is tried again
CONNECT_TIMEOUT = 10  # seconds

_TABLES = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.submissions (
    key TEXT COLLATE "C" NOT NULL,
    attempt INTEGER NOT NULL,
    provider TEXT NOT NULL,
    job TEXT NOT NULL,
    body TEXT NOT NULL,
    job_id TEXT COLLATE "C",
    status TEXT NOT NULL,
    url TEXT,
    credits_est DOUBLE PRECISION,
    credits DOUBLE PRECISION,
    error TEXT,
    created_at DOUBLE PRECISION NOT NULL,
    submitted_at DOUBLE PRECISION,
    updated_at DOUBLE PRECISION NOT NULL,
    owner TEXT,
    price_basis TEXT,
    duration_s DOUBLE PRECISION,
    duration_source TEXT,
    completed_at DOUBLE PRECISION,
    extra TEXT,
    deleted_at DOUBLE PRECISION,
    PRIMARY KEY (key, attempt)
);
CREATE INDEX IF NOT EXISTS submissions_job_id ON {SCHEMA}.submissions (job_id);
CREATE INDEX IF NOT EXISTS submissions_owner ON {SCHEMA}.submissions (owner) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS submissions_made ON {SCHEMA}.submissions (job, created_at) WHERE job_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS {SCHEMA}.media (
    url TEXT PRIMARY KEY,
    seconds DOUBLE PRECISION NOT NULL,
    probed_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.balances (
    owner TEXT NOT NULL,
    job TEXT NOT NULL,
    provider TEXT NOT NULL,
    before DOUBLE PRECISION NOT NULL,
    after DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION NOT NULL,
    job_ids TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.saves (
    job_id TEXT NOT NULL,
    folder TEXT NOT NULL,
    name TEXT NOT NULL,
    file TEXT NOT NULL,
    size BIGINT NOT NULL,
    saved_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (job_id, folder, name)
);
CREATE SEQUENCE IF NOT EXISTS {SCHEMA}.writer_locks MINVALUE 1 MAXVALUE 2147483647 CYCLE;
CREATE TABLE IF NOT EXISTS {SCHEMA}.writers (
    owner TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    pid_start TEXT,
    what TEXT NOT NULL,
    started_at DOUBLE PRECISION NOT NULL,
    heartbeat_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION,
    max_wait DOUBLE PRECISION NOT NULL DEFAULT 0,
    lock_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.polls (
    job_id TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    leased_until DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS polls_owner ON {SCHEMA}.polls (owner);
{campaign_tables(POSTGRES)}
"""


def driver() -> Any:
    """psycopg (3), or a ConfigError saying how to get it."""
    try:
        return importlib.import_module("psycopg")
    except ImportError:
        msg = ("ledger= names a PostgreSQL database, which needs psycopg.\n\n"
               "Hint: pip install 'akool-frames[postgres]' (psycopg 3 with its binary package, and psycopg-pool).")
        raise ConfigError(msg) from None


def key_lock(key: str) -> int:
    """A row key's claim lock number: its first 32 bits (keys are sha256 hex digests), as a signed int4."""
    try:
        n = int(key[:8], 16)
    except ValueError:  # (not a digest: any stable number will do)
        n = int.from_bytes(key.encode()[:4].ljust(4, b"\0"), "big")
    return n - (1 << 31)


def driver_error(address: DatabaseAddress, exc: BaseException, doing: str) -> LedgerError:
    """A database error met while ``doing`` something, as a LedgerError without the password."""
    text = address.clean(str(exc).strip()) or type(exc).__name__
    return LedgerError(f"Cannot {doing} the ledger at {address.shown}: {text}")


def _unreachable(address: DatabaseAddress, exc: BaseException) -> ConfigError:
    text = address.clean(str(exc).strip())
    low = text.lower()
    if "password" in low or "authentication" in low or ("role" in low and "does not exist" in low):
        fix = ("check the user and password in ledger= (or AKOOL_FRAMES_LEDGER), or give the password through "
               "PGPASSWORD or ~/.pgpass")
    elif "database" in low and "does not exist" in low:
        fix = f"create the database first (createdb {address.database or 'NAME'}), or name an existing one in ledger="
    else:
        fix = ("check that the server runs and accepts connections at the host and port ledger= names "
               "(or AKOOL_FRAMES_LEDGER)")
    return ConfigError(f"Cannot connect to the ledger at {address.shown}: {text}\n\nHint: {fix}.")


def connect(address: DatabaseAddress, *, name: str = "akool_frames ledger") -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are opened explicitly); a failure to connect is a ConfigError
    naming the URL without its password, and what to fix."""
    pg = driver()
    kwargs: dict[str, Any] = {"autocommit": True, "application_name": name, "connect_timeout": CONNECT_TIMEOUT}
    if address.password() is not None:
        kwargs["password"] = address.password()
    try:
        conn: psycopg.Connection[Any] = pg.connect(address.conninfo, **kwargs)
    except pg.Error as exc:
        raise _unreachable(address, exc) from None
    return conn


def setup(conn: psycopg.Connection[Any], address: DatabaseAddress) -> None:
    """The schema, made once (by whichever process comes first: the others wait for its lock), and checked: a
    ledger written by a newer version of the schema is refused rather than misread."""
    pg = driver()
    try:
        version = _version(conn)
        if version is None or version < SCHEMA_VERSION:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (WRITERS,))
                for statement in filter(str.strip, _TABLES.split(";")):
                    conn.execute(statement)
                conn.execute(f"INSERT INTO {SCHEMA}.meta VALUES ('schema_version', %s) ON CONFLICT (name) DO "
                             "UPDATE SET value = EXCLUDED.value", (str(SCHEMA_VERSION),))
            version = SCHEMA_VERSION
    except pg.errors.InsufficientPrivilege as exc:
        msg = (f"Cannot make the ledger's tables at {address.shown}: {address.clean(exc)}\n\nHint: let this user "
               f"create the schema {SCHEMA} (GRANT CREATE ON DATABASE {address.database or 'NAME'} TO the user), or "
               f"have the database's owner create it once (CREATE SCHEMA {SCHEMA} AUTHORIZATION the user).")
        raise LedgerError(msg) from None
    except pg.Error as exc:
        raise driver_error(address, exc, "set up") from None
    if version > SCHEMA_VERSION:
        msg = (f"The ledger at {address.shown} was written by a newer akool_frames (schema version {version}; this "
               f"one knows {SCHEMA_VERSION}).\n\nHint: upgrade akool_frames on this machine (pip install -U "
               "'akool-frames[postgres]').")
        raise LedgerError(msg)


def _version(conn: psycopg.Connection[Any]) -> int | None:
    row = conn.execute(f"SELECT to_regclass('{SCHEMA}.meta') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute(f"SELECT value FROM {SCHEMA}.meta WHERE name = 'schema_version'").fetchone()
    return int(found[0]) if found else None
