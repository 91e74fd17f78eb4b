"""The collector paused over a burst of per-row work comes back as it was: nested, raised through, from threads."""

from __future__ import annotations

import gc
import threading

import pytest

from akool_frames.engine._gc import frozen_heap, paused_gc


@pytest.fixture(autouse=True)
def _collector_restored() -> None:
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_nested_bursts_keep_it_paused_until_the_outer_one_ends() -> None:
    gc.enable()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_burst_that_raises_still_restores_it() -> None:
    gc.enable()
    with pytest.raises(ValueError), paused_gc():
        raise ValueError("row 3")
    assert gc.isenabled()


def test_a_collector_the_user_disabled_stays_disabled() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_overlapping_bursts_in_threads_restore_it_once_the_last_ends() -> None:
    gc.enable()
    inside, release = threading.Event(), threading.Event()

    def burst() -> None:
        with paused_gc():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=burst)
    worker.start()
    inside.wait(5)
    with paused_gc():
        pass
    assert not gc.isenabled()  # the thread's burst still runs
    release.set()
    worker.join(5)
    assert gc.isenabled()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_runs_heap_is_frozen_until_the_last_run_ends_and_its_garbage_collected_then() -> None:
    import weakref

    gc.enable()
    gc.collect()
    before = _Cycle()
    gone_before = weakref.ref(before)
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        del before
        gc.collect()
        assert gone_before() is not None  # frozen: not collected while a run holds the heap
        made = _Cycle()
        gone_made = weakref.ref(made)
        del made
        gc.collect()
        assert gone_made() is None  # what the run makes is collected as usual
        with frozen_heap():  # a second run in the same process
            pass
        assert gc.get_freeze_count() > 0  # the first still runs
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gone_before() is None


def test_a_run_that_raises_still_unfreezes() -> None:
    with pytest.raises(ValueError), frozen_heap():
        raise ValueError("cancelled")
    assert gc.get_freeze_count() == 0
