"""Python's cyclic garbage collector paused over a burst of per-row work (bodies, keys, outcomes, columns), and
the heap a run starts with kept out of its collections while it runs.

Each burst allocates a few objects per row and frees none of them until it ends, so the collector would walk a
heap growing by 100,000s of objects again and again, and find nothing: a quarter of a re-run's time at 100,000 rows
(bench/README.md). The collector is paused only over such synchronous bursts, never across an ``await`` (the
loop's other work runs with it), and its state is restored when the last burst of any thread ends.

A run (minutes to hours of awaits) keeps the collector on, but what existed when it began (the frame, the rows'
bodies, their outcomes: most of the heap, and alive until the run ends) is frozen (``gc.freeze``): collections
walk only what the run made since. Unfrozen when the last run of the process ends; garbage among the frozen is
collected then.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

__all__ = ["frozen_heap", "paused_gc"]

_lock = threading.Lock()
_depth = 0  # bursts running now, in any thread
_was_enabled = True  # the collector's state when the first of them began
_frozen = 0  # runs holding the heap frozen now


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


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    global _frozen
    with _lock:
        _frozen += 1
        gc.freeze()  # (again for a second run: what the first made since is kept out too)
    try:
        yield
    finally:
        with _lock:
            _frozen -= 1
            if _frozen == 0:
                gc.unfreeze()
