"""The public types and the seams, as protocols: what a frame may be (``IntoFrame``; ``EagerFrame`` for what comes
back collected; ``FrameT`` for a frame given back as it came), what ``rates=`` takes (``Rates``), which library a
table is made in (``Backend``), what receives progress (``ProgressSink``), and what the engine and the HTTP layer ask
of a ledger (``LedgerBackend``), of the gate in front of the provider (``Gate``) and of where files live
(``Storage``). The engine and the transport are written against these, not against today's classes (the SQLite
``Ledger``, the per-process ``ProcessGate``, the ``LocalFolder``), so that a shared ledger, an account-wide gate or a
bucket plug in without touching the flow.

Nothing here imports the rest of the package at run time."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Protocol, TypeAlias, TypeVar, Union

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from .ledger import Entry, Saved

__all__ = [
    "Backend", "Commit", "EagerFrame", "FrameT", "Gate", "IntoFrame", "LedgerBackend", "ProgressSink", "Rates", "Storage",
]

# The frame libraries are optional, so their classes are named, not imported: Union[...] of those names (not one
# string) keeps the aliases usable at run time too, in `EagerFrame | X` and by typing.get_type_hints.
IntoFrame: TypeAlias = Union["pd.DataFrame", "pl.DataFrame", "pl.LazyFrame"]  # what the verbs and af.report take
# What comes back collected: the look-ups, the sheets, calibrate, and the verbs that send (a LazyFrame is collected).
EagerFrame: TypeAlias = Union["pd.DataFrame", "pl.DataFrame"]
FrameT = TypeVar("FrameT", bound=IntoFrame)  # a frame given back as it came (estimate)
# rates=: {job: credits}, "calibrated", a JSON/TOML file, or a frame of job and rate (what af.calibrate() returns).
Rates: TypeAlias = Union[Mapping[str, float], str, Path, "pd.DataFrame", "pl.DataFrame", None]
Backend: TypeAlias = Literal["pandas", "polars"]  # backend=: the library of the frames a function makes


class ProgressSink(Protocol):
    """Receives a call's progress (``progress=`` takes one; the default is tqdm or ipywidgets bars)."""

    def start(self, total: int, credits_est: float | None) -> None: ...
    def submitted(self, n: int = 1) -> None: ...
    def finished(self, n: int = 1) -> None: ...
    def counts(self, by_status: Mapping[str, int], credits: float | None) -> None: ...  # None: not reported
    def close(self) -> None: ...


class Commit(Protocol):
    """A ledger write: committed once it resolves (``await`` it on the loop, or ``.result()`` in a thread)."""

    def result(self, timeout: float | None = None) -> Any: ...
    def done(self) -> bool: ...
    def __await__(self) -> Any: ...


class LedgerBackend(Protocol):
    """What the engine asks of a ledger: claims before creates, job ids and outcomes after, and the reads a
    re-run, a reconciliation and the reports make. Every write is committed before its ``Commit`` resolves."""

    path: Any  # where it lives, for messages (a file, or a database URL without its password)

    # writers: each run registers, and releases its claims when it ends
    def register(self, what: str) -> str: ...
    def release(self, owner: str) -> Commit: ...
    def others_wrote(self, owner: str, since: float) -> bool: ...

    # writes
    def turn(self, owner: str, writes: Sequence[tuple[str, Any]]) -> Commit: ...  # claims and job ids, together
    def settle(self, key: str, attempt: int, status: str, error: str | None, *, keep: bool = False) -> Commit: ...
    def update(self, updates: Iterable[Sequence[Any]]) -> Commit: ...
    def add_videos(self, key: str, attempt: int, jobs: Sequence[tuple[str, str, float | None]]) -> Commit: ...
    def note_error(self, job_id: str, error: str) -> Commit: ...
    def deleted(self, job_ids: Iterable[str], *, cancelled: bool = False) -> Commit: ...
    def remember_lengths(self, lengths: Mapping[str, float]) -> Commit: ...
    def record_balance(self, owner: str, job: str, provider: str, before: float, after: float, started_at: float,
                       job_ids: Sequence[str]) -> Awaitable[Any]: ...
    def record_saves(self, saves: Sequence[tuple[str, str, str, str, int]]) -> Commit: ...  # results saved
    def set_budget(self, name: str, budget: float) -> Commit: ...  # a campaign's budget (claims reserve from it)

    # reads
    def latest(self, keys: Iterable[str], *, bodies: bool = True) -> dict[str, Entry]: ...
    def videos(self, entries: Iterable[Entry]) -> dict[str, list[Entry]]: ...
    def by_job_ids(self, job_ids: Iterable[str]) -> dict[str, Entry]: ...
    def made_since(self, job: str, since: float) -> int: ...
    def made_before(self, job: str, before: float, n: int) -> set[str]: ...
    def media_lengths(self, urls: Iterable[str]) -> dict[str, float]: ...
    def saved(self, folder: str, job_ids: Iterable[str]) -> dict[tuple[str, str], Saved]: ...
    def entries(self) -> list[dict[str, Any]]: ...
    def balance_records(self) -> list[dict[str, Any]]: ...
    def campaign(self, name: str) -> Any: ...  # its budget, charged and reserved credits (None: no such campaign)
    def campaigns(self) -> list[dict[str, Any]]: ...

    # shared polling: of the jobs a run is about to poll, those it polls (the others' outcomes are read back)
    def lease_polls(self, owner: str, job_ids: Sequence[str], seconds: float) -> list[str]: ...


class Gate(Protocol):
    """What the HTTP layer asks before and after each request: a slot under the concurrency cap (held for the
    exchange), a turn under the rate limit (a ticket), and how the answer went (throttling slows every request
    behind the same gate)."""

    def slot(self) -> AbstractAsyncContextManager[Any]: ...
    async def acquire(self) -> float: ...
    def throttled(self, ticket: float, retry_after: float | None, now: float) -> None: ...
    def pause(self, seconds: float, now: float) -> None: ...
    def succeeded(self, now: float) -> None: ...


class Storage(Protocol):
    """Where result files are written: a local folder (``storage.LocalFolder``) or any fsspec filesystem
    (``storage.FsspecFolder``: ``s3://``, ``gs://`` ...), resumably: a file under its final name is whole and is
    kept. Where a file shows while it is written (``atomic`` False: a local folder), it is written under a
    temporary name and renamed once complete; an object store (``atomic``) shows an object only once its upload
    completes, so it is written under its final name, and a failed write is abandoned, never committed.

    Locations are what ``join`` makes (a path, or a full URI); ``address`` is the folder as the ledger records it
    (an absolute path, or the URI)."""

    atomic: bool
    address: str

    def join(self, *parts: str) -> str: ...
    def size(self, location: str) -> int | None: ...  # None: not there
    def named(self, stem: str) -> list[str]: ...  # the files called ``stem`` with any extension
    def open_write(self, location: str) -> BinaryIO: ...  # closed by the caller (which completes the file)
    def abandon(self, handle: BinaryIO, location: str) -> None: ...  # a write that failed: nothing is kept
    def rename(self, source: str, dest: str) -> None: ...
    def remove(self, location: str) -> None: ...
