"""The shared gate across machines (``PostgresGate``), in a PostgreSQL database (the ledger's): the slots are
session-level advisory locks held on a connection of this process (the server frees a dead process's the moment
its connection drops: no lease to run out), the rate's state one row changed in a transaction that locks it.

Two connections per process (psycopg 3, async, on the client's loop): one holds the slots (and a shared "present"
lock), one runs the state's transactions. Times in the state are the server's clock, read as this machine's
monotonic clock plus an offset measured against the server (every ``OFFSET_EVERY`` seconds), so machines whose
clocks disagree still space their requests on one clock. The advisory locks are ``(KEY, n)``: n >= 0 the slots,
``PRESENCE`` and ``SETUP`` below; the row lives in the table ``akool_frames.gate``.

The URL's password never appears in messages or reprs (``where`` is the URL without it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import urllib.parse
from collections.abc import Coroutine
from typing import Any

from .._errors import ConfigError, TransportError
from ._shared_gate import SharedGate, lets_through

__all__ = ["KEY", "TABLE", "PostgresGate", "shown"]

log = logging.getLogger("akool_frames")

KEY = 0x616B6761  # "akga": the advisory-lock class of the gate
PRESENCE, SETUP = -1, -2  # held shared by every open gate / by whoever creates the table or starts the state afresh
TABLE = "akool_frames.gate"  # in the ledger's schema: a role may create its own schema, not tables in public
# One free slot at most (LIMIT 1 stops the locking at the first granted), and the state as it is (see _sync).
_TRY = ("SELECT (SELECT s FROM unnest(%s::int4[]) AS s WHERE pg_try_advisory_lock(%s::int4, s) LIMIT 1), "
        f"(SELECT state FROM {TABLE} WHERE name = 'gate')")
_INHERITED: list[Any] = []  # a forked child's copies of its parent's connections: kept, never closed (closing
#                             them would end the parent's sessions, and free its slots)


def shown(url: str) -> str:
    """The URL as messages show it: a password (``user:password@``, or ``?password=``) as ``***``."""
    split = urllib.parse.urlsplit(url)
    if split.password is not None:
        user, _, host = split.netloc.rpartition("@")
        split = split._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}")
    query = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    if any(name == "password" for name, _ in query):
        hidden = [(name, "***" if name == "password" else value) for name, value in query]
        split = split._replace(query=urllib.parse.urlencode(hidden, safe="*"))
    return urllib.parse.urlunsplit(split)


class PostgresGate(SharedGate):
    """``typing.Gate`` across every process and machine that gives it the same database URL."""

    POLL = (0.001, 0.01)  # each look is a round trip
    OFFSET_EVERY = 30.0

    def __init__(self, url: str, cap: int, rate: float | None) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            msg = (f"The gate at {shown(url)} is a PostgreSQL database, and psycopg is not installed.\n\n"
                   "Hint: pip install 'akool-frames[postgres]'.")
            raise ConfigError(msg) from None
        super().__init__(cap, rate)
        self._url = url
        self.where = shown(url)
        self._pid = 0
        self._slots_db: Any = None
        self._state_db: Any = None
        self._held: set[int] = set()
        self._offset, self._offset_at = 0.0, float("-inf")
        self._opening: asyncio.Lock | None = None
        self._taking: asyncio.Lock | None = None
        self._tx: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seen: tuple[bytes, float] | None = None  # the state as the last slot taken found it, and when

    def __repr__(self) -> str:
        return f"PostgresGate({self.where!r}, cap={self.cap})"

    def clock(self) -> float:
        return time.monotonic() + self._offset

    # connections
    async def _ensure(self) -> None:
        if self._pid != os.getpid():
            self._forget()
        if self._state_db is not None:
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._state_db is None:
                await self._open()

    async def _open(self) -> None:
        import psycopg

        name = f"akool_frames gate {os.getpid()}"
        slots = state = None
        try:
            slots = await psycopg.AsyncConnection.connect(self._url, autocommit=True, application_name=name)
            state = await psycopg.AsyncConnection.connect(self._url, autocommit=True, application_name=name)
            # A machine that vanishes (power, network) sends no goodbye: the server finds its session dead, and frees
            # its slots, within a minute rather than the system's two hours.
            await slots.execute("SET tcp_keepalives_idle = 15; SET tcp_keepalives_interval = 5; "
                                "SET tcp_keepalives_count = 4")
            # (the ledger makes it too: whoever comes second finds it, or trips on the first one's insert)
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                await state.execute("CREATE SCHEMA IF NOT EXISTS akool_frames")
            async with state.transaction():  # openers one at a time: the table, the presence check and reset
                await state.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", (KEY, SETUP))
                await state.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (name text PRIMARY KEY, state bytea NOT NULL)")
                self.limiter.reset()
                await state.execute(f"INSERT INTO {TABLE} VALUES ('gate', %s) ON CONFLICT DO NOTHING",
                                    (self.limiter.dump(),))
                cur = await slots.execute("SELECT pg_try_advisory_lock(%s::int4, %s::int4)", (KEY, PRESENCE))
                alone = (await cur.fetchone() or (False,))[0]
                if alone:  # nobody else has it open: what is there is an earlier run's
                    await state.execute(f"UPDATE {TABLE} SET state = %s WHERE name = 'gate'", (self.limiter.dump(),))
                    await slots.execute("SELECT pg_advisory_unlock(%s::int4, %s::int4)", (KEY, PRESENCE))
                await slots.execute("SELECT pg_advisory_lock_shared(%s::int4, %s::int4)", (KEY, PRESENCE))
            await self._measure(state)
        except psycopg.Error as exc:
            for db in (slots, state):
                if db is not None:
                    await db.close()
            raise self._unreachable(exc) from None
        self._slots_db, self._state_db, self._pid = slots, state, os.getpid()

    async def _measure(self, db: Any) -> None:
        """The offset of the server's clock from this machine's monotonic clock: the best of three round trips."""
        best: tuple[float, float] | None = None
        for _ in range(3):
            before = time.monotonic()
            cur = await db.execute("SELECT extract(epoch FROM clock_timestamp())::float8")
            row = await cur.fetchone()
            after = time.monotonic()
            if best is None or after - before < best[0]:
                best = (after - before, row[0] - (before + after) / 2)
        assert best is not None
        self._offset, self._offset_at = best[1], time.monotonic()

    def _forget(self) -> None:
        """In a forked child: the parent's connections are kept unused (see ``_INHERITED``), not closed."""
        _INHERITED.extend(db for db in (self._slots_db, self._state_db) if db is not None)
        self._slots_db = self._state_db = None
        self._held.clear()
        self._pending.clear()
        self._seen = None
        self._opening = self._taking = self._tx = self._polling = self._turn = self._waiter = None
        self._tasks = set()
        self._pid = os.getpid()

    def _unreachable(self, exc: Exception) -> TransportError:
        """The connections are dropped (their locks went with them) and opened again at the next request."""
        for db in (self._slots_db, self._state_db):
            if db is not None:
                self._spawn(db.close())
        self._slots_db = self._state_db = None
        self._held.clear()
        words = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if self._url in words:  # (libpq does not repeat the URL; if a message ever did, no password goes out)
            words = words.replace(self._url, self.where)
        return TransportError(f"The gate's database {self.where} could not be reached ({words}); nothing was sent.",
                              may_have_reached=False)

    def __del__(self) -> None:
        """A gate dropped without ``aclose`` (its client never closed) ends its sessions here, in the process that
        opened them (the server frees the slots with them), instead of leaving psycopg to warn about open ones."""
        if getattr(self, "_pid", 0) == os.getpid():
            for db in (self._slots_db, self._state_db):
                if db is not None and not db.closed:
                    db.pgconn.finish()

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pid == os.getpid():
            for db in (self._slots_db, self._state_db):
                if db is not None:
                    await db.close()  # (the server frees the slots with the session)
        self._slots_db = self._state_db = None
        self._held.clear()
        self._pid = 0

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.debug("akool_frames gate at %s: %s", self.where, task.exception())

    # slots
    async def _take(self) -> int | None:
        await self._ensure()
        task = asyncio.ensure_future(self._lock_one())
        try:
            return await asyncio.shield(task)  # a cancelled caller must not leave a slot taken and unknown
        except asyncio.CancelledError:
            task.add_done_callback(self._give_back)
            raise

    async def _lock_one(self) -> int | None:
        """One free slot, if any. One look at a time: a session's advisory locks stack, so a slot asked for by two
        looks at once would be granted to both."""
        import psycopg

        if self._taking is None:
            self._taking = asyncio.Lock()
        async with self._taking:
            free = [n % self.cap for n in self._order() if n % self.cap not in self._held]
            if not free or self._slots_db is None:
                return None
            try:
                cur = await self._slots_db.execute(_TRY, (free, KEY))
                row = await cur.fetchone()
            except psycopg.Error as exc:
                raise self._unreachable(exc) from None
            if row is None or row[0] is None:
                return None
            self._held.add(row[0])
            self._seen = (row[1], time.monotonic())
            return int(row[0])

    def _give_back(self, task: asyncio.Task[int | None]) -> None:
        if not task.cancelled() and task.exception() is None and task.result() is not None:
            self._spawn(self.give_slot(task.result()))  # type: ignore[arg-type]

    async def give_slot(self, slot: int) -> None:
        if slot in self._held and self._pid == os.getpid():
            await asyncio.shield(self._unlock(self._slots_db, slot))

    async def _unlock(self, db: Any, slot: int) -> None:
        import psycopg

        try:
            await db.execute("SELECT pg_advisory_unlock(%s::int4, %s::int4)", (KEY, slot))
        except psycopg.Error as exc:  # the connection is gone, and the slot with it
            self._unreachable(exc)
        finally:
            self._held.discard(slot)
            self._released()

    # the state
    async def _sync(self, admit: bool) -> tuple[float, float]:
        await self._ensure()
        seen = self._seen
        if admit and seen is not None and len(self._pending) < 64 and time.monotonic() - seen[1] < 0.05:
            now = self.clock()
            if lets_through(seen[0], now):  # no rate, no pause moments ago, when this request's slot was taken
                return now, 0.0
        return await asyncio.shield(self._transact(admit))  # (a transaction is never cut halfway)

    async def _transact(self, admit: bool) -> tuple[float, float]:
        import psycopg

        if self._tx is None:
            self._tx = asyncio.Lock()
        async with self._tx:  # one transaction at a time on the state's connection
            db, limiter = self._state_db, self.limiter
            if db is None:  # (lost meanwhile)
                msg = f"The gate's database {self.where} was lost; nothing was sent."
                raise TransportError(msg, may_have_reached=False)
            events, self._pending = self._pending, []
            try:
                if time.monotonic() - self._offset_at > self.OFFSET_EVERY:
                    await self._measure(db)
                async with db.pipeline(), db.transaction():
                    cur = await db.execute(f"SELECT state FROM {TABLE} WHERE name = 'gate' FOR UPDATE")
                    row = await cur.fetchone()
                    limiter.load(row[0] if row else None)
                    ticket, wait = limiter.turn(events, self.clock(), admit)
                    await db.execute(f"UPDATE {TABLE} SET state = %s WHERE name = 'gate'", (limiter.dump(),))
            except psycopg.Error as exc:
                raise self._unreachable(exc) from None
        return ticket, wait

    def _flush_soon(self) -> None:
        if self._pid == os.getpid() and self._state_db is not None:
            self._spawn(self._sync(False))
