"""Binding, the frame side's first step: a frame plus the verbs' parameters turned into one parameter dict per row.

A parameter value is a constant unless it is ``af.col("name")``, a polars expression that is a plain column
(``pl.col("name")``) or a Series aligned with the frame; dicts and lists are searched recursively, so nested
documented objects can take per-row values too. The backend-specific part is small and marked: aligning a
pandas Series by index.
"""

from __future__ import annotations

import difflib
import itertools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import narwhals.stable.v2 as nw
from narwhals.stable.v2.dependencies import is_pandas_dataframe, is_pandas_series, is_polars_series

from .._errors import ValidationError
from .._values import to_py

__all__ = ["Col", "col"]


# ---------------------------------------------------------------------------------------------- col
@dataclass(frozen=True)
class Col:
    """A per-row value: the parameter takes, for each row, that row's value of column ``name``."""

    name: str

    def __repr__(self) -> str:
        return f"af.col({self.name!r})"


def col(name: str) -> Col:
    """A per-row value taken from column ``name``; any other parameter value is a constant.

    Example:
        >>> df.akool.run("tts", text=af.col("script"), voice_id="en-US-1")  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name:
        msg = f"af.col() takes a column name, got {name!r}.\n\nHint: af.col(\"script\")."
        raise TypeError(msg)
    return Col(name)


# --------------------------------------------------------------------------------------- binding
@dataclass(frozen=True)
class _Slot:
    key: str  # a column name, or "\0series<i>" for a bound Series


@dataclass
class _Binding:
    template: dict[str, Any]
    columns: list[str] = field(default_factory=list)  # frame columns the rows read
    series: dict[str, list[Any]] = field(default_factory=dict)  # per-row values from bound Series


def _column_error(name: str, available: Sequence[str], where: str) -> ValidationError:
    close = difflib.get_close_matches(name, list(available), n=3)
    guess = f"Did you mean one of these columns: {close}? " if close else ""
    msg = (f"Column {name!r} (bound to {where}) is not in the frame.\n\n"
           f"Hint: {guess}Available columns: {list(available)}.")
    return ValidationError(msg)


def _expr_column(expr: Any, where: str) -> str:
    """The column of a polars expression that is exactly ``pl.col("name")``; anything else is an error."""
    if expr.meta.is_column():
        return str(expr.meta.output_name())
    msg = (f"{where} is bound to the polars expression {expr}, which is not a plain column.\n\n"
           f"Hint: compute it into a column first (df.with_columns(x=...)), then pass pl.col(\"x\") or af.col(\"x\").")
    raise ValidationError(msg)


def _series_values(series: Any, frame: nw.DataFrame[Any] | None, where: str) -> list[Any]:
    if frame is None:
        msg = (f"{where} is bound to a Series, which cannot be lined up with the rows of a LazyFrame.\n\n"
               "Hint: add it as a column (lf.with_columns(...)) and pass af.col(name), or collect() first.")
        raise ValidationError(msg)
    native = frame.to_native()
    if is_pandas_series(series) and is_pandas_dataframe(native):  # pandas: align by index
        if not series.index.equals(native.index):
            if not series.index.is_unique:
                msg = (f"{where} is bound to a Series whose index differs from the frame's and has duplicates.\n\n"
                       "Hint: pass series.set_axis(df.index) to line it up by position.")
                raise ValidationError(msg)
            missing = native.index.difference(series.index)
            if len(missing):
                msg = (f"{where} is bound to a Series with no value for {len(missing)} row label(s) of the frame, "
                       f"e.g. {list(missing[:5])}.\n\n"
                       "Hint: series.reindex(df.index) if missing values are meant to be null.")
                raise ValidationError(msg)
            series = series.reindex(native.index)
        values = series.tolist()
    else:  # polars (or any other) Series: by position
        values = nw.from_native(series, series_only=True).to_list()
        if len(values) != len(frame):
            msg = (f"{where} is bound to a Series of length {len(values)}, but the frame has {len(frame)} rows.\n\n"
                   "Hint: a Series is matched to rows by position and needs one value per row.")
            raise ValidationError(msg)
    return [to_py(v) for v in values]


def _bind(params: Mapping[str, Any], names: Sequence[str], frame: nw.DataFrame[Any] | None) -> _Binding:
    """Turn parameters into a template with slots for per-row values; check every bound column exists."""
    binding = _Binding(template={})
    known = set(names)
    polars = sys.modules.get("polars")

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, Col) or (polars is not None and isinstance(value, polars.Expr)):
            name = value.name if isinstance(value, Col) else _expr_column(value, where)
            if name not in known:
                raise _column_error(name, names, where)
            if name not in binding.columns:
                binding.columns.append(name)
            return _Slot(name)
        if is_pandas_series(value) or is_polars_series(value) or isinstance(value, nw.Series):
            key = f"\0series{len(binding.series)}"
            binding.series[key] = _series_values(value, frame, where)
            return _Slot(key)
        if isinstance(value, nw.Expr):
            msg = f"{where} is bound to a narwhals expression.\n\nHint: use af.col(\"name\") for a column."
            raise ValidationError(msg)
        if isinstance(value, Mapping):
            return {k: walk(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return to_py(value)

    binding.template = {k: walk(v, f"parameter {k!r}") for k, v in params.items()}
    return binding


def _fill(template: Any, values: Mapping[str, list[Any]], i: int) -> Any:
    if isinstance(template, _Slot):
        return values[template.key][i]
    if isinstance(template, dict):
        return {k: _fill(v, values, i) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values, i) for v in template]
    return template


def _rows(binding: _Binding, values: Mapping[str, list[Any]], n: int) -> list[dict[str, Any]]:
    """One parameter dict per row: fresh objects, so no two rows share a nested dict or list."""
    template = binding.template
    if any(isinstance(v, dict | list) for v in template.values()):
        return [_fill(template, values, i) for i in range(n)]
    # Flat parameters (the usual case): each row's dict zipped from the columns, in the parameters' order.
    columns = [values[v.key] if isinstance(v, _Slot) else itertools.repeat(v, n) for v in template.values()]
    names = list(template)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if columns else [{} for _ in range(n)]


def _eager_rows(frame: nw.DataFrame[Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    binding = _bind(params, frame.columns, frame)
    values = {name: [to_py(v) for v in frame.get_column(name).to_list()] for name in binding.columns}
    return _rows(binding, values | binding.series, len(frame))
