"""Frame fixtures, a fake engine and a real client: the accessor verbs on pandas and polars.

``frame`` builds a frame of the parametrised library (``backend``) from a dict; ``engine`` replaces
``_engine.execute/refresh_jobs`` and ``_download.fetch_files`` with async fakes whose outcomes are computed from the
rows, and records what they were given (no network). The verbs' end-to-end tests take ``client`` instead: a real
``af.Client`` on the ``sb`` sandbox over loopback, with a ledger of its own (``clean_env`` keeps the machine's
provider variables out), as in tests/client. ``RESULT``, ``PRICED_BY`` and ``dtypes`` describe the result columns.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
import akool_frames.frames._pandas  # (registers df.akool)
import akool_frames.frames._polars
from akool_frames import _client
from akool_frames import engine as _engine
from akool_frames.engine._prepare import Outcome
from akool_frames.frames import _download
from akool_frames.frames._fast_estimate import row_by_row
from tests.client.conftest import ENV_VARS

RESULT = ["akool_job_id", "akool_status", "akool_url", "akool_credits_est", "akool_credits", "akool_error",
          "akool_job", "akool_price_basis", "akool_duration_s", "akool_duration_source"]
PRICED_BY = {"akool_job": "string", "akool_price_basis": "string", "akool_duration_s": "Float64",
             "akool_duration_source": "string"}


def dtypes(native: Any) -> dict[str, str]:
    """Column -> dtype name, for either library."""
    if isinstance(native, pd.DataFrame):
        return {c: str(t) for c, t in native.dtypes.items()}
    return {c: str(t) for c, t in native.schema.items()}


CLIENT = types.SimpleNamespace(plan="pro", name="the default client",
                               ledger=types.SimpleNamespace(by_job_ids=lambda ids: {}))  # no ledger entries


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials come from the test, never from the machine running it (as in tests/client)."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def client(sb: af.Sandbox, tmp_path: Path) -> Iterator[af.Client]:
    """A real client on the ``sb`` sandbox, with a ledger of its own."""
    c = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    yield c
    c.close()


@pytest.fixture(params=["pandas", "polars"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def frame(backend: str) -> Callable[..., Any]:
    """``frame(data, index=None)``: a pandas or polars DataFrame (``index`` only for pandas)."""

    def make(data: Mapping[str, Sequence[Any]], index: Sequence[Any] | None = None) -> Any:
        if backend == "pandas":
            return pd.DataFrame(dict(data), index=index)
        return pl.DataFrame(dict(data), strict=False)

    return make


def to_dict(native: Any) -> dict[str, list[Any]]:
    """Column -> plain Python values, nulls as None, for both libraries (also the ``as_dict`` fixture)."""
    if isinstance(native, pl.LazyFrame):
        native = native.collect()
    if isinstance(native, pl.DataFrame):
        return native.to_dict(as_series=False)
    return {c: [None if pd.isna(v) else v for v in native[c].tolist()] for c in native.columns}


@pytest.fixture
def as_dict() -> Callable[[Any], dict[str, list[Any]]]:
    return to_dict


@dataclass
class FakeEngine:
    """Outcomes from the rows: no ``text`` -> invalid; else 1 credit per character; run -> completed."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    polls: dict[str, Outcome] = field(default_factory=dict)  # job id -> what refresh returns

    async def execute(self, client: Any, job: str, rows: Sequence[Mapping[str, Any]], *, mode: str,
                      **options: Any) -> list[Outcome]:
        self.calls.append({"verb": "execute", "client": client, "job": job, "rows": list(rows), "mode": mode,
                           **options})
        sink = options.get("progress")
        outcomes = []
        for i, row in enumerate(rows):
            text = row.get("text")
            label = (options.get("labels") or range(len(rows)))[i]
            if not isinstance(text, str):
                outcomes.append(Outcome("invalid", error=f"row {label}: text is required"))
                continue
            est = float(len(text))
            if mode == "estimate":
                outcomes.append(Outcome(None, credits_est=est))
            elif mode == "submit":
                outcomes.append(Outcome("queued", job_id=f"job-{text}", credits_est=est))
            else:
                outcomes.append(Outcome("completed", f"job-{text}", f"https://files.test/{text}.mp3", est, est))
        if sink is not None:
            valid = [o for o in outcomes if o.status != "invalid"]
            sink.start(len(rows), sum(o.credits_est or 0 for o in valid))
            for _ in valid:
                sink.submitted()
                if mode == "run":
                    sink.finished()
            sink.counts({"completed" if mode == "run" else "queued": len(valid)},
                        sum(o.credits or 0 for o in valid))
        return outcomes

    async def refresh_jobs(self, client: Any, job_ids: Sequence[str | None], job: str | None = None,
                           **options: Any) -> list[Outcome | None]:
        self.calls.append({"verb": "refresh", "client": client, "job_ids": list(job_ids), "job": job, **options})
        return [self.polls.get(i) if i else None for i in job_ids]

    async def fetch_files(self, client: Any, urls: Sequence[str | None], storage: Any, names: Sequence[str], *,
                          progress: Any = None, **options: Any) -> list[_download.Fetched]:
        self.calls.append({"verb": "download", "client": client, "urls": list(urls), "dest": storage.join(),
                           "names": list(names)})
        return [_download.Fetched(storage.join(f"{name}.mp3") if url else None, None if url else "no result URL")
                for url, name in zip(urls, names, strict=True)]


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEngine]:
    fake = FakeEngine()
    monkeypatch.setattr(_engine, "execute", fake.execute)
    monkeypatch.setattr(_engine, "refresh_jobs", fake.refresh_jobs)
    monkeypatch.setattr(_download, "fetch_files", fake.fetch_files)
    with row_by_row():  # the fake engine stands for the per-row path
        yield fake


@pytest.fixture(autouse=True)
def default_client(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``client=None`` resolves to CLIENT (never a real client built from the environment)."""
    monkeypatch.setattr(_client, "default_client", lambda: CLIENT)
    return CLIENT


@pytest.fixture(scope="module")
def offline_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[af.Client]:
    """A client for estimates that need no server (its address is a closed loopback port), with its own ledger."""
    c = af.Client(api_key="k" * 16, base_url="http://127.0.0.1:9", ledger=tmp_path_factory.mktemp("offline") / "ledger.sqlite")
    yield c
    c.close()
