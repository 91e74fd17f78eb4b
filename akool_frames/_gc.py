"""Python's cyclic garbage collector paused over a burst of per-row work (bodies, keys, outcomes, columns).

Each burst allocates a few objects per row and frees none of them until it ends, so the collector would walk a
heap growing by 100,000s of objects again and again, and find nothing: a quarter of a re-run's time at 100,000 rows
(bench/README.md). The collector is paused only over such synchronous bursts, never across an ``await`` (the
loop's other work runs with it), and its state is restored when the last burst of any thread ends.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["paused_gc"]

_lock = threading.Lock()
_depth = 0  # bursts running now, in any thread
_was_enabled = True  # the collector's state when the first of them began


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
