"""How a verb is called: the frame seen through narwhals (and handed back as it came), the default client, the
progress sink, and sync calls over the background loop (each sync verb is ``blocking(<async twin>)``)."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import narwhals.stable.v2 as nw

from .._errors import ValidationError, collecting, warn_now
from .._loop import get_loop, run_sync
from .._values import to_py
from ..typing import ProgressSink
from ._join import _existing
from ._progress import make_progress

if TYPE_CHECKING:
    from .._client import Client

__all__ = ["as_narwhals", "blocking", "client_or_default", "labels", "on_loop", "sink_for", "texts_of"]

P = ParamSpec("P")
T = TypeVar("T")


def as_narwhals(frame: Any) -> tuple[nw.DataFrame[Any], Callable[[nw.DataFrame[Any]], Any]]:
    """The frame as a narwhals DataFrame (a LazyFrame is collected once, here) and a way back."""
    given = nw.from_native(frame)
    keep_narwhals = isinstance(frame, nw.DataFrame | nw.LazyFrame)
    eager = given.collect() if isinstance(given, nw.LazyFrame) else given
    if not isinstance(eager, nw.DataFrame):
        msg = f"Expected a pandas or polars DataFrame, got {type(frame).__name__}."
        raise TypeError(msg)
    return eager, (lambda out: out) if keep_narwhals else nw.to_native


def labels(frame: nw.DataFrame[Any]) -> list[Any]:
    """How errors name rows: the pandas index label, else the position."""
    index = nw.maybe_get_index(frame)
    return [to_py(v) for v in index.tolist()] if index is not None else list(range(len(frame)))


def client_or_default(client: Client | None) -> Client:
    if client is not None:
        return client
    from .._client import default_client

    return default_client()


def sink_for(progress: bool | ProgressSink | None, label: str) -> ProgressSink | None:
    if progress is None or progress is False:
        return None
    if progress is True:
        return make_progress(label, enabled=True)
    return progress


async def on_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` on the background loop, where the client's connections and limiters live."""
    loop = get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:  # pragma: no cover - always called from a coroutine
        running = None
    if running is loop:
        return await coro
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))


def blocking(afn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """The sync twin of an async frame function: ``run_sync(afn(...))``.

    ``progress=True`` is turned into a sink here, in the caller's thread, so that Jupyter shows the
    bars and the panel under the calling cell rather than wherever the loop thread last printed.
    """
    signature = inspect.signature(afn)

    @functools.wraps(afn)
    def call(*args: P.args, **kwargs: P.kwargs) -> T:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        if bound.arguments.get("progress") is True and not bound.arguments.get("confirm"):
            label = bound.arguments.get("job") or afn.__name__.removeprefix("a")  # refresh, download
            bound.arguments["progress"] = make_progress(str(label), enabled=True)
        with collecting() as notices:  # the loop's task runs in a copy of this context (call_soon_threadsafe)
            result = run_sync(afn(*bound.args, **bound.kwargs))
        for category, notice in notices:  # in the caller's thread, where its warnings filters apply
            warn_now(category, notice)
        return result

    call.__name__ = call.__qualname__ = afn.__name__.removeprefix("a")
    call.__doc__ = f"Blocking twin of ``{afn.__name__}``.\n\n{inspect.getdoc(afn) or ''}"
    return call


def texts_of(eager: nw.DataFrame[Any], column: str, *, verb: str, hint: str) -> list[str | None]:
    """A result column a verb needs, as text (None for a blank); a ValidationError naming it when the frame lacks it
    (the verb was given the wrong frame, or the prefix differs)."""
    if column not in eager.columns:
        msg = f"The frame has no {column!r} column, so there is nothing to {verb}.\n\nHint: {hint}"
        raise ValidationError(msg)
    return [None if v is None or v == "" else str(v) for v in _existing(eager, column)]
