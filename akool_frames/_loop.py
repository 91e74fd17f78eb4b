"""One background event loop in a daemon thread: the async API is the real one, sync calls block on it.

Works inside a running Jupyter loop without nest_asyncio, because the cell's loop and ours are
different loops. Calling ``run_sync`` from the background loop itself would deadlock, so it raises.
Ctrl-C in the caller cancels the coroutine on the background loop and waits for it to unwind, so
the ledger is left consistent.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["get_loop", "note_interrupted", "run_sync"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _reset_after_fork() -> None:
    global _loop, _lock
    _loop, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


_interrupted: list[str] = []  # what a run cancelled by Ctrl-C had done, said once control is back


def note_interrupted(summary: str) -> None:
    """Called by a run being cancelled: ``run_sync`` ends the Ctrl-C with this summary as its message."""
    _interrupted.append(summary)


def get_loop() -> asyncio.AbstractEventLoop:
    """The background loop, started on first use."""
    global _loop
    if _loop is None:
        with _lock:
            if _loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="akool-frames-io", daemon=True)
                thread.start()
                _loop = loop
    return _loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the background loop and return its result in this thread."""
    loop = get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coro.close()
        msg = "A blocking akool_frames call was made on its own I/O loop.\n\nHint: use the async twin (arun, asubmit...)."
        raise RuntimeError(msg)
    finished = threading.Event()

    async def runner() -> T:
        try:
            return await coro
        finally:
            finished.set()

    future = asyncio.run_coroutine_threadsafe(runner(), loop)
    try:
        # Short waits keep the calling thread interruptible by Ctrl-C.
        while True:
            try:
                return future.result(0.2)
            except concurrent.futures.TimeoutError:
                pass
    except BaseException as exc:
        _interrupted.clear()
        future.cancel()
        # Let the task unwind (it writes the ledger in finally blocks) before handing back control.
        finished.wait(10)
        if isinstance(exc, KeyboardInterrupt) and _interrupted:
            # The summary is the traceback's last line: what was sent, what runs on, and how to resume.
            raise KeyboardInterrupt(_interrupted.pop()) from None
        raise
