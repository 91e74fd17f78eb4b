"""The PostgreSQL ledger's reads (mixed into ``PostgresLedger``): the SQLite ``Ledger``'s, on a pool of connections,
each read one statement (a whole key set in one, not 500 at a time: the server takes an array)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ._address import DatabaseAddress
from ._entries import _COLUMNS, _COLUMNS_NO_BODY, PUBLIC_COLUMNS, Entry
from ._pg_schema import SCHEMA, driver, driver_error
from ._saves import Saved

if TYPE_CHECKING:
    import psycopg

__all__ = ["LATEST", "PgReads"]

S = SCHEMA  # (every table is the schema's: the SQL below names it)
CHUNK = 10_000  # keys or ids per read
LATEST = f"SELECT DISTINCT ON (key) {{columns}} FROM {S}.submissions WHERE key = ANY(%s) ORDER BY key, attempt DESC"


class PgReads:
    """What a run, a re-run, a reconciliation and the reports read (see ``Ledger`` for each)."""

    address: DatabaseAddress
    _pool: Any  # a psycopg_pool.ConnectionPool

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._pool.connection() as conn:
                return list(conn.execute(sql, args).fetchall())
        except driver().Error as exc:
            raise driver_error(self.address, exc, "read") from None

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Entry]:
        return [Entry(*row) for row in self._query(sql, args)]

    @staticmethod
    def _latest_in(db: psycopg.Connection[Any], keys: Sequence[str]) -> dict[str, Entry]:
        """The latest attempt of each key, read on ``db`` (a write's own connection, inside its transaction)."""
        return {row[0]: Entry(*row) for row in db.execute(LATEST.format(columns=_COLUMNS), (list(keys),))}

    def latest(self, keys: Iterable[str], *, bodies: bool = True) -> dict[str, Entry]:
        """The latest attempt of each key that has one (``bodies=False``: with an empty body, for outcomes)."""
        wanted = sorted(set(keys))
        columns = _COLUMNS if bodies else _COLUMNS_NO_BODY
        found: dict[str, Entry] = {}
        for i in range(0, len(wanted), CHUNK):
            for entry in self._read(LATEST.format(columns=columns), (wanted[i: i + CHUNK],)):
                found[entry.key] = entry
        return found

    def videos(self, entries: Iterable[Entry]) -> dict[str, list[Entry]]:
        """The other jobs one create made (``{key}#2``, ``{key}#3``, ... of the same attempt), by the main key."""
        found: dict[str, list[Entry]] = {}
        for entry in entries:
            # keys are hex digests (collation "C"): "#" < "$" brackets exactly the "{key}#..." ones
            rows = self._read(f"SELECT {_COLUMNS} FROM {S}.submissions WHERE key > %s AND key < %s AND attempt = %s",
                              (entry.key + "#", entry.key + "$", entry.attempt))
            if rows:
                found[entry.key] = sorted(rows, key=lambda e: int(e.key.rsplit("#", 1)[1]))
        return found

    def by_job_ids(self, job_ids: Iterable[str]) -> dict[str, Entry]:
        ids = [i for i in dict.fromkeys(job_ids) if i]
        found: dict[str, Entry] = {}
        for i in range(0, len(ids), CHUNK):
            for entry in self._read(f"SELECT {_COLUMNS} FROM {S}.submissions WHERE job_id = ANY(%s)",
                                    (ids[i: i + CHUNK],)):
                found[str(entry.job_id)] = entry
        return found

    def made_since(self, job: str, since: float) -> int:
        """Jobs of ``job`` that runs on this ledger made after ``since`` (see ``Ledger.made_since``)."""
        [(n,)] = self._query(f"SELECT COUNT(*) FROM {S}.submissions WHERE job = %s AND job_id IS NOT NULL "
                             "AND created_at >= %s", (job, since))
        return int(n)

    def made_before(self, job: str, before: float, n: int) -> set[str]:
        """Up to ``n`` of the latest jobs of ``job`` whose ids this ledger learnt before ``before``."""
        rows = self._query(f"SELECT job_id FROM {S}.submissions WHERE job = %s AND job_id IS NOT NULL AND "
                           "submitted_at <= %s ORDER BY submitted_at DESC LIMIT %s", (job, before, n))
        return {r[0] for r in rows}

    def entries(self) -> list[dict[str, Any]]:
        """Every attempt, oldest first, as plain dicts of ``PUBLIC_COLUMNS`` (for ``af.ledger()``)."""
        return [{name: getattr(e, name) for name in PUBLIC_COLUMNS}
                for e in self._read(f"SELECT {_COLUMNS} FROM {S}.submissions ORDER BY created_at, key, attempt")]

    def media_lengths(self, urls: Iterable[str]) -> dict[str, float]:
        """Lengths in seconds of media URLs probed before (by any run on this ledger)."""
        wanted = list(dict.fromkeys(urls))
        found: dict[str, float] = {}
        for i in range(0, len(wanted), CHUNK):
            for url, seconds in self._query(f"SELECT url, seconds FROM {S}.media WHERE url = ANY(%s)",
                                            (wanted[i: i + CHUNK],)):
                found[url] = seconds
        return found

    def balance_records(self) -> list[dict[str, Any]]:
        names = ("owner", "job", "provider", "before", "after", "started_at", "ended_at", "job_ids")
        rows = self._query(f"SELECT {', '.join(names)} FROM {S}.balances ORDER BY started_at")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def others_wrote(self, owner: str, since: float) -> bool:
        """Whether another run wrote to the ledger since ``since`` (it may have spent credits meanwhile)."""
        [(n,)] = self._query(f"SELECT COUNT(*) FROM {S}.writers WHERE owner != %s AND started_at <= %s AND "
                             "(ended_at IS NULL OR ended_at >= %s)", (owner, time.time(), since))
        return bool(n)

    def saved(self, folder: str, job_ids: Iterable[str]) -> dict[tuple[str, str], Saved]:
        """What was saved in ``folder`` of these jobs' results: (job id, name without extension) -> ``Saved``."""
        ids = [i for i in dict.fromkeys(job_ids) if i]
        found: dict[tuple[str, str], Saved] = {}
        for i in range(0, len(ids), CHUNK):
            for job_id, name, file, size, at in self._query(
                    f"SELECT job_id, name, file, size, saved_at FROM {S}.saves WHERE folder = %s AND job_id = ANY(%s)",
                    (folder, ids[i: i + CHUNK])):
                found[(job_id, name)] = Saved(file, size, at)
        return found
