"""``ddf.akool`` on real ``LocalCluster``s of worker processes: each worker makes its own client from the settings in
the graph and its own environment's credentials (the sandbox's, given when the cluster starts), and no secret is in
the graph, the task names or the logs. On a SQLite ledger, sends across several processes are refused with the
PostgreSQL hint (when the verb is called, or in the partition when the scheduler is chosen at compute time); one
worker process may send. On a PostgreSQL ledger several worker processes share the work."""

from __future__ import annotations

import pickle
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import dask
import dask.dataframe as dd
import distributed
import httpx
import pandas as pd
import pytest

import akool_frames as af
from tests.dask.conftest import VOICE, cluster, lines, worker_env

# The workers get the sandbox's Akool credentials, not its audiocleaner key (a provider a worker lacks credentials for).
WITHOUT = ("AUDIOCLEANER_API_KEY",)


@pytest.fixture(scope="module")
def two(box: af.Sandbox) -> Iterator[Any]:
    """Two worker processes (a distributed Client, not the default scheduler)."""
    with cluster(n_workers=2, processes=True, env=worker_env(box, without=WITHOUT)) as client:
        yield client


@pytest.fixture(scope="module")
def one(box: af.Sandbox) -> Iterator[Any]:
    """One worker process, two threads."""
    with cluster(n_workers=1, processes=True, env=worker_env(box, without=WITHOUT)) as client:
        yield client


def _secrets(box: af.Sandbox) -> list[str]:
    return [box.api_key, box.client_secret, box.audiocleaner_api_key, box.kling_access_key, box.kling_secret_key]


def _run(ddf: dd.DataFrame, client: af.Client, **options: Any) -> dd.DataFrame:
    return ddf.akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=client, **options)


def test_several_processes_on_a_sqlite_ledger_are_refused_with_the_hint(box: af.Sandbox, two: Any,
                                                                       counts: Callable[[], dict]) -> None:
    ddf = dd.from_pandas(lines(12, "refused"), npartitions=3)
    with two.as_current():
        for verb in ("run", "submit"):
            with pytest.raises(af.ConfigError, match="2 worker processes") as caught:
                getattr(ddf.akool, verb)("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client)
            assert "SQLite ledger" in str(caught.value) and "postgresql://" in str(caught.value)
    with dask.config.set(scheduler="processes"), pytest.raises(af.ConfigError, match="multiprocessing scheduler"):
        _run(ddf, box.client)
    # A graph built for this process, computed on the cluster: each partition refuses where it runs.
    with dask.config.set(scheduler="threads"):
        done = _run(ddf, box.client)
    with pytest.raises(af.ConfigError, match="from a process the graph was not built for") as caught:
        done.compute(scheduler=two)
    assert "postgresql://" in str(caught.value)
    assert counts()["creates"] == 0


def test_the_estimate_runs_on_worker_processes(box: af.Sandbox, two: Any) -> None:
    ddf = dd.from_pandas(lines(30, "the estimate on processes", invalid=(3,)), npartitions=3)
    with two.as_current():
        est = ddf.akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client)
        out = est.compute()
    expected = ddf.compute().akool.estimate("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client)
    pd.testing.assert_frame_equal(out, expected)


def test_one_worker_process_runs_on_a_sqlite_ledger_with_its_own_credentials(
        box: af.Sandbox, one: Any, counts: Callable[[], dict]) -> None:
    frame = lines(40, "one worker process", invalid=(7,))
    ddf = dd.from_pandas(frame, npartitions=4)
    with one.as_current():
        done = _run(ddf, box.client)
        out = done.compute()
    assert out["akool_status"].tolist() == ["completed"] * 7 + ["invalid"] + ["completed"] * 32
    assert list(out.index) == list(frame.index) and done.npartitions == 4
    assert counts() == {**counts(), "creates": 39, "duplicate_creates": 0}
    # The worker wrote the caller's ledger (one machine, the same file): the pandas run finds every job there.
    again = ddf.compute().akool.run("tts", input_text=af.col("text"), voice_id=VOICE, client=box.client,
                                    progress=False)
    pd.testing.assert_frame_equal(out, again)
    assert counts()["creates"] == 39


def test_no_secret_in_the_graph_the_task_names_or_the_logs(box: af.Sandbox, one: Any, tmp_path: Path) -> None:
    ddf = dd.from_pandas(lines(10, "secrets"), npartitions=2)
    with one.as_current():
        # A client given its keys as arguments (the workers have the same ones in their environment).
        client = af.Client(**box.client_options(), client_secret=box.client_secret, ledger=tmp_path / "l.sqlite")
        done = _run(ddf, client)
        graph = dict(done.__dask_graph__())
        blob = cloudpickle.dumps(graph) + pickle.dumps(list(graph)) + repr(graph).encode()
        names = " ".join(map(str, graph))
        kept = done.persist()
        distributed.wait(kept)
        out = kept.compute()
        logs = repr(one.get_worker_logs()) + repr(one.get_worker_logs(nanny=True)) + repr(one.get_scheduler_logs())
        pages = _dashboard(one, list(graph))
    assert out["akool_status"].eq("completed").all()
    assert "akool_run" in names and pages.count("akool_run-") >= 2, pages[:3000]
    for secret in _secrets(box):
        assert secret.encode() not in blob
        assert secret not in names and secret not in logs and secret not in pages


def _dashboard(client: Any, keys: list[Any]) -> str:
    """The scheduler's web pages (its dashboard's, without bokeh): workers, logs, and each task's page."""
    base = client.dashboard_link.rsplit("/", 1)[0]
    paths = ["/info/main/workers.html", "/info/main/logs.html", "/json/counts.json"]
    paths += [f"/info/task/{urllib.parse.quote(str(k), safe='')}.html" for k in keys]
    with httpx.Client(timeout=10) as http:
        return "".join(http.get(base + path).raise_for_status().text for path in paths)


def test_a_worker_without_credentials_says_where_they_go(box: af.Sandbox, one: Any,
                                                          counts: Callable[[], dict]) -> None:
    ddf = dd.from_pandas(lines(4, "no audiocleaner key"), npartitions=2)
    with one.as_current():
        cleaned = ddf.akool.run("audiocleaner.tts", text=af.col("text"), voice_id=2072, emotion=0, speed=1,
                                language="en", client=box.client)
        with pytest.raises(af.ConfigError, match="AUDIOCLEANER_API_KEY in every worker's environment") as caught:
            cleaned.compute()
    assert "Dask worker" in str(caught.value)
    assert counts()["creates"] == 0


def test_settings_holding_credentials_stay_with_the_caller(box: af.Sandbox, one: Any, tmp_path: Path) -> None:
    storage = {"key": "AKIA-not-a-real-key", "secret": "not-a-real-secret-value",
               "client_kwargs": {"endpoint_url": "http://127.0.0.1:9", "aws_session_token": "not-a-real-token"}}
    client = af.Client(**box.client_options(), ledger=tmp_path / "l.sqlite", storage_options=storage)
    ddf = dd.from_pandas(lines(6, "withheld"), npartitions=2)
    with one.as_current():
        done = _run(ddf, client)
        blob = cloudpickle.dumps(dict(done.__dask_graph__()))
        with pytest.raises(af.ConfigError, match=r"storage_options key, secret, client_kwargs.aws_session_token"):
            done.compute()
    for value in ("AKIA-not-a-real-key", "not-a-real-secret-value", "not-a-real-token"):
        assert value.encode() not in blob
    assert b"http://127.0.0.1:9" in blob  # (what is not a credential travels)
    with dask.config.set(scheduler="threads"):  # in the caller's process the client is used as it is
        assert _run(ddf, client).compute()["akool_status"].eq("completed").all()


@pytest.fixture
def postgres_ledger(postgres: str) -> str:
    """A fresh PostgreSQL database's URL for a ledger."""
    return postgres


def test_several_worker_processes_share_a_postgresql_ledger(box: af.Sandbox, two: Any, postgres_ledger: str,
                                                            counts: Callable[[], dict]) -> None:
    client = af.Client(**box.client_options(), ledger=postgres_ledger)
    frame = lines(200, "postgres")
    ddf = dd.from_pandas(frame, npartitions=8)
    with two.as_current():
        done = _run(ddf, client)
        out = done.compute()
    assert out["akool_status"].eq("completed").all() and list(out.index) == list(frame.index)
    assert counts() == {**counts(), "creates": 200, "duplicate_creates": 0}
    with two.as_current():  # computed again: every job found in the shared ledger, none sent again
        pd.testing.assert_frame_equal(done.compute(), out)
    assert counts()["creates"] == 200
