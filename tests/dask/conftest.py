"""The Dask tests' shared pieces: a sandbox per module (a cluster's workers are pointed at it when they start), real
``LocalCluster``s (in this process, or worker processes given the sandbox's environment and this tree's PYTHONPATH),
and small frames."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest

import akool_frames as af

pytest.importorskip("dask.dataframe", reason="the Dask tests need dask[dataframe] (the dask or test extra)")
pytest.importorskip("distributed", reason="the Dask tests need distributed (the dask or test extra)")

FAST = 200.0  # sandbox seconds per real second: jobs finish in well under a second
VOICE = "6889b628662160e2caad5dbc"


@pytest.fixture(scope="module")
def box() -> Iterator[af.Sandbox]:
    """One sandbox for the module: a cluster's workers learn its address and keys when they start."""
    with af.sandbox(time_scale=FAST) as sandbox:
        yield sandbox


def lines(n: int, tag: str, *, invalid: tuple[int, ...] = ()) -> pd.DataFrame:
    """``n`` distinct lines, told apart from other tests' by ``tag`` (a row in ``invalid`` has no text: an invalid
    row), indexed from 100 in steps of 3."""
    texts = ["" if i in invalid else f"Line {i} of {tag}." for i in range(n)]
    return pd.DataFrame({"line": list(range(n)), "text": texts}, index=pd.Index(range(100, 100 + 3 * n, 3), name="k"))


def worker_env(sandbox: af.Sandbox, *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """What a worker process is started with: the sandbox's address and credentials, and this tree on the path."""
    env = {k: v for k, v in sandbox.env().items() if k not in without}
    return {**env, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}


@contextmanager
def cluster(**options: Any) -> Iterator[Any]:
    """A LocalCluster and a distributed Client on it, not the default scheduler (``client.as_current()`` makes it
    that); its dashboard on a free loopback port."""
    from distributed import Client, LocalCluster

    options = {"host": "127.0.0.1", "threads_per_worker": 2, "dashboard_address": "127.0.0.1:0", "silence_logs": 40,
               **options}
    with LocalCluster(**options) as local, Client(local, set_as_default=False) as client:
        yield client


@pytest.fixture
def counts(box: af.Sandbox) -> Callable[[], dict[str, int]]:
    """The sandbox's creates and duplicate creates since the test began."""
    start = box.stats()

    def now() -> dict[str, int]:
        stats = box.stats()
        return {"creates": stats["creates"] - start["creates"],
                "duplicate_creates": stats["duplicate_creates"] - start["duplicate_creates"],
                "requests": stats["requests"] - start["requests"]}

    return now
