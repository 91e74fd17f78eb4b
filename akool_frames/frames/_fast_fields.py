"""Each field's value in a frame's rows, for the vectorised estimate (``_fast_estimate``): a column or a constant,
and the rows that break one of the job's documented rules (``_fast_rules``) or that cannot be decided here."""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw

from .._blank import FLOAT, surely_blank
from .._locations import kind_of
from .._values import to_py
from ..catalog import Field, JobSpec
from ..ledger import CALLBACK_FIELDS
from ..pricing import Reads
from ._bind import Col
from ._fast_rules import INT, NotSure, constant_problem, field_problem, plain_columns

__all__ = ["FieldValue", "field_values", "spec_field"]


def spec_field(spec: JobSpec, name: str) -> Field | None:
    """The job's field of that name (None for ``duration=``, the given media length)."""
    return next((f for f in spec.fields if f.name == name), None)


@dataclass
class FieldValue:
    """A field's value in the rows: an expression, the column's dtype (None for a constant) and the constant."""

    expr: nw.Expr
    dtype: Any = None
    constant: Any = None
    code: nw.Expr | None = None  # for a text field with a list of values: each row's position in it
    length: nw.Expr | None = None  # for a text field with a limit or a price per character: its length


def _inputs(spec: JobSpec, params: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """field -> a column name (``Col``) or a constant, for flat documented fields (and ``duration``)."""
    polars = sys.modules.get("polars")
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name in CALLBACK_FIELDS:
            raise NotSure
        target = name if name in spec.field_names() or name == "duration" else spec.aliases.get(name, name)
        if "." in target or (target not in spec.field_names() and target != "duration"):
            raise NotSure  # nested, or not documented: the per-row path says what is wrong
        if polars is not None and isinstance(value, polars.Expr):
            if not value.meta.is_column():
                raise NotSure
            value = Col(str(value.meta.output_name()))
        if isinstance(value, Col):
            if value.name not in columns:
                raise NotSure
        elif isinstance(value, Mapping | list | tuple) or hasattr(value, "dtype") or hasattr(value, "__array__"):
            raise NotSure  # containers and Series: row by row
        else:
            value = to_py(value)
        out[target] = value
    return out


def field_values(spec: JobSpec, reads: Reads, params: Mapping[str, Any], frame: nw.DataFrame[Any],
                 plan: str) -> tuple[dict[str, FieldValue], nw.Expr, Any, dict[str, nw.Expr]]:
    """Each field's value, the rows that break a rule, the given duration, and the columns to compute first
    (the enum fields' positions); NotSure when unsure."""
    schema = frame.schema
    inputs = _inputs(spec, params, list(schema))
    free = {f.name for f in spec.fields if f.type == "str" and f.enum is None}
    plain = plain_columns(frame, [v.name for n, v in inputs.items() if isinstance(v, Col) and n in free])
    fields: dict[str, FieldValue] = {}
    codes: dict[str, nw.Expr] = {}  # the enum fields' positions, computed once before the rest reads them
    problem = nw.lit(value=False)
    for f in spec.fields:
        given = inputs.get(f.name)
        if given is None:
            given = spec.defaults.get(f.name)  # prepare skips None values where there is a default
        if isinstance(given, Col):
            dtype, expr = schema[given.name], nw.col(given.name)
            if f.name in spec.defaults:  # a null takes the default
                expr = nw.when(expr.is_null()).then(nw.lit(spec.defaults[f.name])).otherwise(expr)
            code_name = nw.generate_temporary_column_name(8, [*schema, *codes], prefix="akool_code_")
            length = None
            if isinstance(dtype, nw.String) and (f.max_len is not None or f.name in reads.chars):
                len_name = nw.generate_temporary_column_name(8, [*schema, *codes, code_name], prefix="akool_len_")
                codes[len_name], length = expr.str.len_chars().alias(len_name), nw.col(len_name)  # counted once
            bad, code = field_problem(f, expr, dtype, plan, code_name, given.name in plain, length)
            if code is not None:
                codes[code_name] = code
            fields[f.name] = FieldValue(expr, dtype, code=nw.col(code_name) if code is not None else None, length=length)
            problem = problem | bad
        elif given is not None:
            if f.type == "url" and not (isinstance(given, str) and kind_of(given) == "http"):
                raise NotSure  # a file or an object: checked (and found) row by row
            if constant_problem(spec, f, given, plan):
                raise NotSure  # every row is invalid: the per-row path says how
            fields[f.name] = FieldValue(nw.lit(given), None, given)
        elif f.required:
            raise NotSure
    problem = problem | _groups(spec, fields)
    duration = inputs.get("duration") if "duration" not in spec.field_names() else None
    if reads.duration:
        problem = problem | _duration_problem(duration, schema)
    elif duration is not None:
        raise NotSure  # a given length this job's rule does not read: the per-row path checks it
    for name in reads.needs:
        if name not in fields:
            raise NotSure
        if fields[name].dtype is not None:
            problem = problem | surely_blank(fields[name].expr, fields[name].dtype)
    return fields, problem, duration, codes


def _groups(spec: JobSpec, fields: Mapping[str, FieldValue]) -> nw.Expr:
    def given(name: str) -> nw.Expr:
        if name not in fields:
            return nw.lit(value=False)
        field = fields[name]
        return ~surely_blank(field.expr, field.dtype) if field.dtype is not None else nw.lit(value=True)

    bad = nw.lit(value=False)
    for group in spec.one_of:
        bad = bad | ~nw.any_horizontal(*(given(n) for n in group), ignore_nulls=True)
    for group in spec.exclusive:
        bad = bad | (nw.sum_horizontal(*(given(n).cast(nw.Int32) for n in group)) > 1)
    return bad


def _duration_problem(duration: Any, schema: Any) -> nw.Expr:
    if isinstance(duration, Col):
        dtype = schema[duration.name]
        if not isinstance(dtype, INT + FLOAT):
            raise NotSure
        expr = nw.col(duration.name)
        bad = surely_blank(expr, dtype) | ~(expr > 0)
        return bad | ~expr.is_finite() if isinstance(dtype, FLOAT) else bad
    if duration is None or isinstance(duration, bool) or not isinstance(duration, int | float) or \
            not math.isfinite(duration) or duration <= 0:
        raise NotSure  # no length (it would be probed), or a bad constant: row by row
    return nw.lit(value=False)
