"""Ledger writes asked for close together, committed in one transaction.

The engine's workers resume together (a burst of answers arrives in one select), and each would otherwise
commit its own claim or job id: a transaction apiece, most of a row's ledger cost. ``Batched`` gathers the
writes asked for during one loop turn (or, with ``linger``, that many seconds) and hands them to the ledger as
one list; each caller still awaits its own result, so nothing is sent before its own claim is committed.
A batch that reaches ``full`` writes (every worker waiting on it) goes at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["Batched"]

T = TypeVar("T")


class Batched(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Any], *, linger: float = 0.0, full: int = 0) -> None:
        """``write(items)`` returns a ``Written`` whose result is one value per item (or None for all)."""
        self._write = write
        self._linger, self._full = linger, full
        self._pending: list[tuple[T, asyncio.Future[Any]]] = []
        self._timer: asyncio.TimerHandle | asyncio.Handle | None = None

    async def __call__(self, item: T) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((item, future))
        if len(self._pending) == 1:
            self._timer = loop.call_later(self._linger, self._flush) if self._linger else loop.call_soon(self._flush)
        elif len(self._pending) == self._full:
            self._flush()
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        try:
            written = self._write([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - each caller gets the error
            _settle(batch, None, exc)
            return
        if written.done():  # written inline (the usual case): no hop through another thread
            _resolve(batch, written)
        else:
            asyncio.wrap_future(written).add_done_callback(lambda wrapped: _resolve(batch, written, wrapped))


def _resolve(batch: list[tuple[Any, asyncio.Future[Any]]], written: Any,
             wrapped: asyncio.Future[Any] | None = None) -> None:
    if wrapped is not None and not wrapped.cancelled():
        # The loop's copy of a write done on the ledger's thread: its error goes to the callers below, through
        # ``written``. Taken here, or the copy's collection logs it as never retrieved (the PostgreSQL ledger
        # writes every batch on its thread; SQLite, when another process holds the file).
        wrapped.exception()
    try:
        results = written.result()
    except Exception as exc:  # noqa: BLE001 - each caller gets the error (as above)
        _settle(batch, None, exc)
        return
    _settle(batch, results, None)


def _settle(batch: list[tuple[Any, asyncio.Future[Any]]], results: Sequence[Any] | None,
            error: BaseException | None) -> None:
    for i, (_, future) in enumerate(batch):
        if future.done():  # its caller was cancelled
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(results[i] if isinstance(results, list | tuple) else results)
