"""Parameter binding: constants, af.col, pl.col, Series, nested dicts/lists, nulls and scalar types."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import akool_frames.frames._verbs as F
from akool_frames._errors import ValidationError
from akool_frames.frames._bind import col


def rows(engine: Any) -> list[dict[str, Any]]:
    return engine.calls[-1]["rows"]


def test_constants_and_columns(frame: Any, engine: Any) -> None:
    df = frame({"script": ["hi", "there"], "voice": ["v1", "v2"]})
    df.akool.estimate("tts", text=col("script"), voice_id=col("voice"), speed=1.5)
    assert rows(engine) == [{"text": "hi", "voice_id": "v1", "speed": 1.5},
                            {"text": "there", "voice_id": "v2", "speed": 1.5}]
    assert engine.calls[-1]["mode"] == "estimate"


def test_polars_plain_column_expression(frame: Any, engine: Any) -> None:
    df = frame({"script": ["a", "b"]})
    df.akool.estimate("tts", text=pl.col("script"))
    assert [r["text"] for r in rows(engine)] == ["a", "b"]


@pytest.mark.parametrize("expr", [pl.col("script").str.to_uppercase(), pl.col("script").alias("text"),
                                  pl.col("script") + "!", pl.all(), pl.lit("x")])
def test_complex_expression_is_an_error(frame: Any, engine: Any, expr: pl.Expr) -> None:
    df = frame({"script": ["a"]})
    with pytest.raises(ValidationError, match="compute it into a column first"):
        df.akool.estimate("tts", text=expr)
    assert engine.calls == []


def test_unknown_column_names_it_and_hints(frame: Any, engine: Any) -> None:
    df = frame({"script": ["a"], "voice": ["v"]})
    with pytest.raises(ValidationError) as info:
        df.akool.estimate("tts", text=col("scrpt"))
    message = str(info.value)
    assert "'scrpt'" in message and "parameter 'text'" in message
    assert "Hint: Did you mean one of these columns: ['script']?" in message
    assert "Available columns: ['script', 'voice']" in message
    assert engine.calls == []


def test_nested_dicts_and_lists_resolve_per_row(frame: Any, engine: Any) -> None:
    df = frame({"script": ["a", "b"], "speed": [1.0, 2.0], "lang": ["en", "fr"]})
    df.akool.estimate("tts", text=col("script"),
                      voice_options={"speed": pl.col("speed"), "style": "calm"},
                      targets=[col("lang"), "de", {"code": col("lang")}])
    assert rows(engine) == [
        {"text": "a", "voice_options": {"speed": 1.0, "style": "calm"}, "targets": ["en", "de", {"code": "en"}]},
        {"text": "b", "voice_options": {"speed": 2.0, "style": "calm"}, "targets": ["fr", "de", {"code": "fr"}]},
    ]
    first, second = rows(engine)
    assert first["voice_options"] is not second["voice_options"]  # no shared nested objects


def test_unknown_column_inside_nested_dict(frame: Any, engine: Any) -> None:
    df = frame({"script": ["a"]})
    with pytest.raises(ValidationError, match=r"parameter 'voice_options'\.speed"):
        df.akool.estimate("tts", voice_options={"speed": col("sped")})


def test_nulls_become_none(frame: Any, engine: Any) -> None:
    df = frame({"text": ["a", None, "c"], "speed": [1.0, None, float("nan")]})
    df.akool.estimate("tts", text=col("text"), speed=col("speed"))
    assert rows(engine) == [{"text": "a", "speed": 1.0}, {"text": None, "speed": None},
                            {"text": "c", "speed": None}]


def test_scalars_are_plain_python(frame: Any, engine: Any) -> None:
    df = frame({"n": [1, 2], "x": [0.5, 1.5], "ok": [True, False], "s": ["a", "b"]})
    df.akool.estimate("tts", n=col("n"), x=col("x"), ok=col("ok"), s=col("s"))
    for row in rows(engine):
        assert [type(row[k]) for k in ("n", "x", "ok", "s")] == [int, float, bool, str]


def test_pandas_nullable_dtypes(engine: Any) -> None:
    df = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "s": pd.array(["a", None], dtype="string"),
                       "t": pd.to_datetime(["2024-01-02", None])})
    df.akool.estimate("tts", n=col("n"), s=col("s"), t=col("t"))
    assert rows(engine) == [{"n": 1, "s": "a", "t": "2024-01-02T00:00:00"}, {"n": None, "s": None, "t": None}]


def test_polars_struct_and_list_columns(engine: Any) -> None:
    df = pl.DataFrame({"opts": [{"speed": 1.0, "pitch": None}], "langs": [["en", "fr"]]})
    df.akool.estimate("tts", voice_options=col("opts"), langs=pl.col("langs"))
    assert rows(engine) == [{"voice_options": {"speed": 1.0, "pitch": None}, "langs": ["en", "fr"]}]


def test_pandas_series_aligns_by_index(engine: Any) -> None:
    df = pd.DataFrame({"a": [1, 2, 3]}, index=["x", "y", "z"])
    voices = pd.Series(["vz", "vx", "vy", "extra"], index=["z", "x", "y", "w"])
    df.akool.estimate("tts", voice_id=voices)
    assert [r["voice_id"] for r in rows(engine)] == ["vx", "vy", "vz"]


def test_pandas_series_missing_label_is_an_error(engine: Any) -> None:
    df = pd.DataFrame({"a": [1, 2]}, index=["x", "y"])
    with pytest.raises(ValidationError, match=r"no value for 1 row label.*'y'.*\n\nHint: series.reindex"):
        df.akool.estimate("tts", voice_id=pd.Series(["vx"], index=["x"]))


def test_polars_series_by_position(frame: Any, engine: Any) -> None:
    df = frame({"a": [1, 2]}, index=[7, 3])  # pandas: a polars Series still goes by position
    df.akool.estimate("tts", voice_id=pl.Series(["first", "second"]))
    assert [r["voice_id"] for r in rows(engine)] == ["first", "second"]


def test_series_of_wrong_length_is_an_error(frame: Any, engine: Any) -> None:
    df = frame({"a": [1, 2, 3]})
    with pytest.raises(ValidationError, match="length 2, but the frame has 3 rows"):
        df.akool.estimate("tts", voice_id=pl.Series(["a", "b"]))


def test_labels_name_rows(frame: Any, engine: Any) -> None:
    df = frame({"text": ["a", None]}, index=["first", "second"])
    out = df.akool.estimate("tts", text=col("text"))
    expected = ["first", "second"] if isinstance(df, pd.DataFrame) else [0, 1]
    assert engine.calls[-1]["labels"] == expected
    assert F.to_py(out["akool_error"].to_list()[1]).startswith(f"row {expected[1]}:")


def test_col_rejects_non_names() -> None:
    with pytest.raises(TypeError, match="takes a column name"):
        col(3)  # type: ignore[arg-type]
    assert repr(col("script")) == "af.col('script')"


@pytest.mark.parametrize(("value", "expected"), [
    (np.int64(3), 3), (np.float32(1.5), 1.5), (np.bool_(True), True), (np.str_("a"), "a"),
    (np.float64("nan"), None), (pd.NA, None), (pd.NaT, None), (np.datetime64("NaT"), None), (None, None),
    (pd.Timestamp("2024-01-02 03:04:05"), "2024-01-02T03:04:05"), (dt.date(2024, 1, 2), "2024-01-02"),
    (decimal.Decimal("1.25"), 1.25), (dt.timedelta(seconds=90), 90.0),
    (np.array([1, 2]), [1, 2]), ({"a": [np.int64(1), pd.NA]}, {"a": [1, None]}), ((1, "x"), [1, "x"]),
])
def test_to_py(value: Any, expected: Any) -> None:
    result = F.to_py(value)
    assert result == expected
    assert type(result) is type(expected)
