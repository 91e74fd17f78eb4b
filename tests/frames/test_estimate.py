"""``df.akool.estimate``: its columns (credits_est, status, error and what priced each row) on pandas and polars,
and the options it hands the engine (plan, rates). The per-row and vectorised paths agreeing is
test_fast_estimate.py's; lazy frames are test_lazy.py's."""

from __future__ import annotations

from typing import Any

from akool_frames.frames._bind import col
from tests.frames.conftest import PRICED_BY


def test_estimate_adds_its_columns(frame: Any, engine: Any, as_dict: Any) -> None:
    out = frame({"text": ["abc", None]}).akool.estimate("tts", text=col("text"), plan="max", rates={"tts": 1.0})
    assert list(out.columns)[1:] == ["akool_credits_est", "akool_status", "akool_error", *PRICED_BY]
    assert as_dict(out)["akool_status"] == [None, "invalid"]
    assert as_dict(out)["akool_credits_est"] == [3.0, None]
    call = engine.calls[-1]
    assert (call["mode"], call["plan"], call["rates"]) == ("estimate", "max", {"tts": 1.0})
