"""polars LazyFrame: estimate stays lazy and pure (real job specs and price rules, no engine, no client I/O)."""

from __future__ import annotations

import types
from typing import Any

import polars as pl
import pytest

from akool_frames import engine as _engine
from akool_frames._errors import ValidationError
from akool_frames.frames import _fast_estimate, _lazy_estimate
from akool_frames.frames._bind import col

AC = {"voice_id": 2072, "emotion": 0, "speed": 1, "language": "en"}  # audiocleaner.tts constants


@pytest.fixture
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    async def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a lazy estimate must not call the engine")

    for name in ("execute", "refresh_jobs"):
        monkeypatch.setattr(_engine, name, forbidden)


def test_estimate_stays_lazy_and_prices_when_collected(no_engine: None, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real = _lazy_estimate.pure_pricer

    def counting(*args: Any) -> Any:
        price = real(*args)

        def wrapped(row: Any, label: Any) -> Any:
            seen.append(label)
            return price(row, label)

        return wrapped

    monkeypatch.setattr(_lazy_estimate, "pure_pricer", counting)
    taken = _fast_estimate.TAKEN["audiocleaner.tts"]
    lf = pl.LazyFrame({"t": ["x" * 60, "y" * 215, None]})
    est = lf.akool.estimate("audiocleaner.tts", text=pl.col("t"), **AC)
    assert isinstance(est, pl.LazyFrame)
    assert seen == [] and _fast_estimate.TAKEN["audiocleaner.tts"] == taken  # nothing computed yet
    assert est.collect_schema() == pl.Schema({"t": pl.String, "akool_credits_est": pl.Float64,
                                              "akool_status": pl.String, "akool_error": pl.String,
                                              "akool_job": pl.String, "akool_price_basis": pl.String,
                                              "akool_duration_s": pl.Float64, "akool_duration_source": pl.String})
    out = est.collect()
    assert _fast_estimate.TAKEN["audiocleaner.tts"] > taken  # priced by frame operations (per batch polars makes)
    assert seen == [2]  # and the row that is not surely valid, a row at a time (its error text is that path's)
    assert out["akool_credits_est"].to_list() == [1.0, 3.0, None]  # one credit per started 100 characters
    assert out["akool_status"].to_list() == [None, None, "invalid"]
    assert out["akool_error"].to_list()[:2] == [None, None]
    assert out["akool_error"][2].startswith("row 2: ") and "text is required" in out["akool_error"][2]
    assert out["akool_job"].to_list() == ["audiocleaner.tts"] * 3
    assert out["akool_price_basis"].to_list() == ["60 characters = 1 started 100", "215 characters = 3 started 100",
                                                  None]


def test_lazy_matches_eager_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lazy path and the engine's estimate (no media to probe here) give the same columns."""
    client = types.SimpleNamespace(plan="pro")
    df = pl.DataFrame({"script": ["x" * 117, "", None, "y" * 1000], "voice": ["v1", "v2", "v3", None]})
    params = {"text": pl.col("script"), "voice_id": col("voice")}
    eager = df.akool.estimate("tts", client=client, **params)
    lazy = df.lazy().akool.estimate("tts", client=client, **params).collect()
    assert lazy.to_dict(as_series=False) == eager.to_dict(as_series=False)
    assert lazy["akool_credits_est"][0] == pytest.approx(0.5148)  # 117 characters on pro


def test_plan_and_rates(no_engine: None) -> None:
    lf = pl.LazyFrame({"t": ["x" * 1000]})
    business = lf.akool.estimate("tts", text=pl.col("t"), voice_id="v", plan="business").collect()
    assert business["akool_credits_est"].to_list() == [pytest.approx(2.4)]


def test_plan_defaults_to_the_clients(no_engine: None, default_client: Any) -> None:
    lf = pl.LazyFrame({"t": ["x" * 1000]})
    out = lf.akool.estimate("tts", text=pl.col("t"), voice_id="v", client=types.SimpleNamespace(plan="max"))
    assert out.collect()["akool_credits_est"].to_list() == [pytest.approx(3.2)]
    default = lf.akool.estimate("tts", text=pl.col("t"), voice_id="v").collect()  # default client: pro
    assert default["akool_credits_est"].to_list() == [pytest.approx(4.4)]


def test_constants_only(no_engine: None) -> None:
    out = pl.LazyFrame({"a": [1, 2]}).akool.estimate("audiocleaner.tts", text="x" * 150, **AC).collect()
    assert out["akool_credits_est"].to_list() == [2.0, 2.0]
    assert out["akool_status"].to_list() == [None, None]


def test_reestimate_replaces_in_place_and_keeps_order(no_engine: None) -> None:
    lf = pl.LazyFrame({"t": ["x" * 250, "y"], "k": [2, 1]})
    once = lf.akool.estimate("audiocleaner.tts", text=pl.col("t"), **AC)
    moved = once.select("akool_error", "t", "akool_credits_est", "k", "akool_status")
    twice = moved.akool.estimate("audiocleaner.tts", text=pl.col("t"), prefix="akool_", **AC).collect()
    assert twice.columns == ["akool_error", "t", "akool_credits_est", "k", "akool_status", "akool_job",
                             "akool_price_basis", "akool_duration_s", "akool_duration_source"]
    assert twice["akool_credits_est"].to_list() == [3.0, 1.0]
    assert twice["k"].to_list() == [2, 1]


def test_composes_with_later_operations(no_engine: None) -> None:
    lf = pl.LazyFrame({"t": ["x" * 50, None, "x" * 500]})
    est = lf.akool.estimate("audiocleaner.tts", text=pl.col("t"), **AC, prefix="p_")
    total = est.filter(pl.col("p_status").is_null()).select(pl.col("p_credits_est").sum()).collect().item()
    assert total == 6.0


def test_errors_come_before_collect(no_engine: None) -> None:
    lf = pl.LazyFrame({"script": ["a"]})
    with pytest.raises(ValidationError, match="Did you mean one of these columns: \\['script'\\]"):
        lf.akool.estimate("tts", text=pl.col("scrpt"))
    with pytest.raises(ValidationError, match="cannot be lined up with the rows of a LazyFrame"):
        lf.akool.estimate("tts", text=pl.Series(["a"]))
    with pytest.raises(ValidationError, match="compute it into a column first"):
        lf.akool.estimate("tts", text=pl.col("script").str.to_uppercase())
    with pytest.raises(KeyError, match="There is no job 'ttz'"):
        lf.akool.estimate("ttz", text=pl.col("script"))


def test_no_duration_probing() -> None:
    """Duration-priced jobs get no price lazily (nothing is fetched), and say why."""
    price = _lazy_estimate.pure_pricer("video_audio", "pro", {})
    # a valid row (audio_type 2: your audio_url), so the price rule runs and needs the source video's length
    outcome = price({"audio_url": "https://example.invalid/a.mp3", "audio_type": 2, "pre_video_id": "x"}, 0)
    assert (outcome.status, outcome.credits_est) == (None, None)
    assert outcome.error is not None and outcome.error.startswith("no estimate: ")
    assert "not probed (lazy estimate)" in outcome.error
    assert _lazy_estimate.not_probed("https://example.invalid/a.mp3") == (None, "not probed (lazy estimate)")


@pytest.mark.parametrize("verb", ["submit", "run"])
def test_submit_and_run_collect_once(verb: str, engine: Any) -> None:
    lf = pl.LazyFrame({"text": ["a", "bb"]}).with_columns(n=pl.col("text").str.len_chars())
    out = getattr(lf.akool, verb)("tts", text=pl.col("text"), progress=False)
    assert isinstance(out, pl.DataFrame)
    assert out["n"].to_list() == [1, 2]
    assert [r["text"] for r in engine.calls[-1]["rows"]] == ["a", "bb"]
