"""``ddf.akool`` on a distributed ``LocalCluster(processes=False)``: its workers are threads of this process, so a run
on the caller's SQLite ledger is allowed, and the partitions use the caller's client itself (its keys as given, its
ledger, its gate). The result is the pandas run's, with the frame's index, order and partitions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dask.dataframe as dd
import pandas as pd
import pytest

import akool_frames as af
from tests.dask.conftest import VOICE, cluster, lines


@pytest.fixture(scope="module")
def inproc() -> Iterator[Any]:
    """Two workers in this process, over TCP on loopback (an in-process address would make distributed look up this
    machine's IP by connecting to 8.8.8.8, which the tests' network guard refuses)."""
    with cluster(n_workers=2, processes=False, protocol="tcp://") as client:
        yield client


def test_a_one_process_cluster_runs_on_a_sqlite_ledger(box: af.Sandbox, inproc: Any,
                                                       counts: Callable[[], dict]) -> None:
    frame = lines(60, "one process", invalid=(0, 59))
    ddf = dd.from_pandas(frame, npartitions=6)
    with inproc.as_current():
        done = ddf.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client)
        assert counts()["requests"] == 0  # (lazy)
        out = done.compute()
    assert out["akool_status"].tolist() == ["invalid"] + ["completed"] * 58 + ["invalid"]
    assert list(out.index) == list(frame.index) and done.npartitions == 6 and done.divisions == ddf.divisions
    assert list(done.dtypes.items()) == list(out.dtypes.items())
    assert counts() == {**counts(), "creates": 58, "duplicate_creates": 0}
    assert box.stats()["max_in_flight"] <= box.client.max_concurrency  # (one client, one gate, for every worker)
    again = ddf.compute().akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client,
                                    progress=False)
    pd.testing.assert_frame_equal(out, again)
    assert counts()["creates"] == 58
