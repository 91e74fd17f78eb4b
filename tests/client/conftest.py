"""Client tests: the real library over real HTTP against the sandbox, on pandas and on polars.

Fixtures: ``frame_lib`` ("pandas" | "polars"), ``client`` (an ``af.Client`` pointed at the ``sb`` sandbox with
a ledger of its own under ``tmp_path``), ``clean_env`` (no provider variables from the environment leak in).
Helpers build frames of either library and read them back as plain Python.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af

ENV_VARS = (
    "AKOOL_API_KEY", "AKOOL_CLIENT_ID", "AKOOL_CLIENT_SECRET", "AKOOL_BASE_URL", "AKOOL_FRAMES_LEDGER",
    "AUDIOCLEANER_API_KEY", "AUDIOCLEANER_BASE_URL", "KLING_ACCESS_KEY", "KLING_SECRET_KEY", "KLING_BASE_URL",
    "AKOOL_FRAMES_POLL_INTERVAL", "AKOOL_FRAMES_RECONCILE_AFTER",
)
RESULT_COLUMNS = ("job_id", "status", "url", "credits_est", "credits", "error", "job", "price_basis", "duration_s",
                  "duration_source")
VOICE = "6889b628662160e2caad5dbc"  # the first Akool voice (the docs' example voice document _id)
TTS_RATE = {"pro": 4.4, "max": 3.2, "business": 2.4}  # credits per 1000 characters, no rounding


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials come from the test, never from the machine running it."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(params=["pandas", "polars"])
def frame_lib(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(sb: af.Sandbox, tmp_path: Path) -> Iterator[af.Client]:
    c = af.Client(**sb.client_options(), ledger=tmp_path / "ledger.sqlite")
    yield c
    c.close()


def make_frame(lib: str, data: Mapping[str, Sequence[Any]], index: Sequence[Any] | None = None) -> Any:
    """A pandas frame (with ``index`` if given) or a polars frame of ``data``."""
    if lib == "pandas":
        return pd.DataFrame(dict(data), index=list(index) if index is not None else None)
    return pl.DataFrame(dict(data), strict=False)


def columns(frame: Any) -> dict[str, list[Any]]:
    """Column -> plain Python values (nulls as None) for either library."""
    if isinstance(frame, pl.LazyFrame):
        frame = frame.collect()
    if isinstance(frame, pl.DataFrame):
        return frame.to_dict(as_series=False)
    return {c: [None if _isna(v) else v for v in frame[c].tolist()] for c in frame.columns}


def records(frame: Any) -> list[dict[str, Any]]:
    data = columns(frame)
    n = len(next(iter(data.values()))) if data else 0
    return [{c: values[i] for c, values in data.items()} for i in range(n)]


def _isna(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def tts_credits(text: str, plan: str = "pro") -> float:
    return len(text) * TTS_RATE[plan] / 1000


def create_entries(sb: af.Sandbox) -> list[dict[str, Any]]:
    """Every create request the sandbox received (whatever it answered)."""
    return [e for e in sb.log() if e.get("kind") == "create"]
