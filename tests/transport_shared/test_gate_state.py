"""The shared gate's state, on the file gate and on PostgreSQL: a throttling answer seen by one process cuts the
rate and pauses every process on the gate; a gate opened while nobody holds it starts afresh (nothing learnt by an
earlier run, no pause left over); and which gate a Client gets (``shared_gate=``), with no password shown.
Separate gate objects stand for separate processes where that is enough: each has its own open files (``flock``
locks are per open file) or its own connections."""

from __future__ import annotations

import asyncio
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

import akool_frames as af
from akool_frames.transport import FileGate, PostgresGate, SharedGate, gate_for
from akool_frames.transport._limiter import ProcessGate
from tests.transport_shared import _procs as procs
from tests.transport_shared._procs import SPAWN

GATES = ["file", "postgres"]


def _where(gate: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    return str(tmp_path / ".ledger.sqlite-gate") if gate == "file" else str(request.getfixturevalue("postgres"))


def throttle_once(where: str, retry_after: float) -> None:
    """Another process: one request, answered with throttling (Retry-After ``retry_after``)."""

    async def main() -> None:
        gate = gate_for(4, 40.0, where)
        assert isinstance(gate, SharedGate)
        ticket = await gate.acquire()
        gate.throttled(ticket, retry_after, 0.0)
        await gate.refresh()
        await gate.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("gate", GATES)
def test_throttling_seen_by_one_process_cuts_and_pauses_every_process(gate: str, tmp_path: Path,
                                                                       request: pytest.FixtureRequest) -> None:
    where = _where(gate, tmp_path, request)
    ours = gate_for(4, 40.0, where)
    assert isinstance(ours, SharedGate)

    async def steady() -> Any:
        for _ in range(5):
            async with ours.slot():
                await ours.acquire()
            ours.succeeded(0.0)
        return await ours.refresh()

    async def after() -> Any:
        limiter = await ours.refresh()
        return limiter.rate, limiter.cuts, limiter.delay(ours.clock())

    limiter = asyncio.run(steady())
    assert (limiter.rate, limiter.cuts) == (40.0, 0)
    other = SPAWN.Process(target=throttle_once, args=(where, 30.0))
    other.start()
    other.join(60)
    assert other.exitcode == 0
    rate, cuts, wait = asyncio.run(after())
    assert cuts == 1 and rate < 40.0  # the other process's throttle cut the rate this one sends at
    assert wait > 20  # and this one waits out the Retry-After the other was given (30 s, from moments ago)
    asyncio.run(ours.aclose())


@pytest.mark.parametrize("gate", GATES)
def test_a_gate_opened_while_nobody_holds_it_starts_afresh(gate: str, tmp_path: Path,
                                                          request: pytest.FixtureRequest) -> None:
    where = _where(gate, tmp_path, request)

    async def throttled_then(gates: list[Any]) -> tuple[Any, ...]:
        """``gates[0]`` sees a throttle and closes; ``gates[1]`` (if any) stays open meanwhile; then a new one."""
        first = gates[0]
        async with first.slot():
            ticket = await first.acquire()
        first.throttled(ticket, 30.0, 0.0)
        for gate in gates:
            await gate.refresh()
        await first.aclose()
        new = gate_for(4, 40.0, where)
        assert isinstance(new, SharedGate)
        limiter = await new.refresh()
        seen = (limiter.rate, limiter.cuts, limiter.delay(new.clock()) > 0)
        for gate in (*gates[1:], new):
            await gate.aclose()
        return seen

    assert asyncio.run(throttled_then([gate_for(4, 40.0, where)])) == (40.0, 0, False)  # nobody held it: afresh
    rate, cuts, paused = asyncio.run(throttled_then([gate_for(4, 40.0, where), gate_for(4, 40.0, where)]))
    assert cuts == 1 and rate < 40.0 and paused  # another held it meanwhile: what was learnt stands


def test_a_forked_child_keeps_none_of_its_parents_slots(tmp_path: Path) -> None:
    """A child forked while its parent holds a slot, and that never uses the gate: once the parent lets go (its
    Client closed), the slot is free, though the child lives on (it was given copies of the parent's files)."""
    folder = tmp_path / "gate"
    gate = gate_for(2, None, str(folder))
    assert isinstance(gate, SharedGate)
    slot = gate.slot()
    asyncio.run(slot.__aenter__())
    assert procs.file_slots_held(folder, os.getpid()) == 1
    go_read, go_write = os.pipe()
    up_read, up_write = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (fork with threads: the child only waits, then exits)
        child = os.fork()
    if child == 0:
        os.write(up_write, b"x")  # (running: the fork's hooks have run)
        os.read(go_read, 1)
        os._exit(0)
    try:
        os.read(up_read, 1)
        asyncio.run(gate.aclose())
        assert not any(name.startswith("slot-") for name in procs.file_locks(folder))  # nobody holds a slot
    finally:
        os.write(go_write, b"x")
        os.waitpid(child, 0)


# ------------------------------------------------------------------------------------------ which gate
def test_the_gate_follows_the_ledger_unless_told(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    with af.Client(api_key="k", ledger=ledger) as client:
        gate = client.http.gate
        assert isinstance(gate, FileGate) and gate.folder == ledger.resolve().parent / ".ledger.sqlite-gate"
    with af.Client(api_key="k", ledger=ledger, shared_gate=False) as client:
        assert isinstance(client.http.gate, ProcessGate)
    with af.Client(api_key="k", ledger=ledger, shared_gate=tmp_path / "elsewhere") as client:
        assert isinstance(client.http.gate, FileGate) and client.http.gate.folder == tmp_path / "elsewhere"
    for url in ("postgresql://akool:s3cret-word@db.invalid:5432/akool",
                "postgres://akool@db.invalid/akool?sslmode=require&password=s3cret-word"):
        for options in ({"ledger": url}, {"ledger": ledger, "shared_gate": url}):
            with af.Client(api_key="k", **options) as client:  # type: ignore[arg-type]
                gate = client.http.gate
                assert isinstance(gate, PostgresGate) and client.gate_at == url
                assert "s3cret" not in repr(gate) and "db.invalid" in gate.where and "s3cret" not in gate.where
    for bad in ("", 3):
        with pytest.raises(af.ConfigError, match="shared_gate"):
            af.Client(api_key="k", ledger=ledger, shared_gate=bad)  # type: ignore[arg-type]


def test_an_unreachable_gate_database_is_named_without_its_password() -> None:
    gate = gate_for(4, None, "postgresql://akool:s3cret-word@127.0.0.1:1/akool")  # (nothing listens on port 1)

    async def ask() -> None:
        async with gate.slot():
            pass

    with pytest.raises(af.TransportError) as caught:
        asyncio.run(ask())
    assert "127.0.0.1:1" in str(caught.value) and "s3cret" not in str(caught.value)
    assert not caught.value.may_have_reached
