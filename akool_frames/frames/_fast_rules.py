"""What the frame estimate tests of each field, as expressions over whole columns (see ``_fast_estimate``):
a row breaks a field's rule, or cannot be decided here (then it takes the per-row path, whose texts are the
errors). Each rule is read from the job's ``Field`` declarations and agrees with ``catalog.validate_body``; "blank"
is ``_blank``'s, for both paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw

from .._blank import FLOAT, SURELY_FILLED, surely_blank, surely_filled
from ..catalog import Field, JobSpec, validate_body

__all__ = ["INT", "SURELY_HTTP", "NotSure", "constant_problem", "enum_for", "field_problem", "plain_columns", "positions"]

# An http(s) URL whose host is plain (no user info, no brackets): ``_locations.form_problem`` finds nothing in it.
SURELY_HTTP = r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]+)?(?:[/?#]|$)"
INT = (nw.Int8, nw.Int16, nw.Int32, nw.Int64, nw.UInt8, nw.UInt16, nw.UInt32, nw.UInt64)


class NotSure(Exception):
    """This frame cannot be estimated here without doubt: take the per-row path."""


def plain_columns(frame: nw.DataFrame[Any], names: Sequence[str]) -> set[str]:
    """The text columns whose every text is null, "" or starts in the first range of ``SURELY_FILLED`` (printable
    ASCII and a few controls): one cheap pass (a comparison of string views each), which spares them the seven
    ranges of ``surely_filled`` (about 4x dearer)."""
    names = [n for n in dict.fromkeys(names) if isinstance(frame.schema[n], nw.String)]
    if not names:
        return set()
    low, high = SURELY_FILLED[0]
    # (nulls named outright: pandas' str dtype compares a null as False, where polars gives null and all() skips it)
    verdict = frame.select(*((nw.col(n).is_null() | (nw.col(n) == "") | ((nw.col(n) >= low) & (nw.col(n) < high)))
                             .all().alias(n) for n in names))
    return {n for n in names if verdict.get_column(n).item()}


def _odd(expr: nw.Expr, *, plain: bool = False) -> nw.Expr:
    """A non-empty text that is not surely filled: maybe blank, maybe not; not decided here."""
    return nw.lit(value=False) if plain else ~(expr.is_null() | (expr == "") | surely_filled(expr))


def _type_ok(kind: str, dtype: Any) -> bool | None:
    """Whether every given value of a column of ``dtype`` has the field's type (None: not sure)."""
    if kind == "any":
        return True
    if kind in ("str", "url"):
        return isinstance(dtype, nw.String) or None
    if kind == "int":
        return True if isinstance(dtype, INT) else (False if isinstance(dtype, FLOAT) else None)
    if kind == "num":
        return True if isinstance(dtype, INT + FLOAT) else None
    if kind == "strnum":
        return True if isinstance(dtype, (nw.String, *INT, *FLOAT)) else None
    if kind == "bool":
        return True if isinstance(dtype, nw.Boolean) else None
    return None

def enum_for(f: Field, dtype: Any) -> list[Any]:
    """The listed values a column of this dtype can hold (a field may list 2 and "2": audio_type)."""
    text = isinstance(dtype, nw.String)
    listed = [v for v in f.enum or () if isinstance(v, str) == text]
    return [float(v) for v in listed] if isinstance(dtype, FLOAT) else listed  # (a float column: 3.0 is listed 3)

def positions(expr: nw.Expr, levels: Sequence[Any]) -> nw.Expr:
    """The position of each value among ``levels`` (no nulls among either), -1 for any other value."""
    if len(levels) > 64:  # (a hash look-up: a chain of comparisons grows with the levels)
        return expr.replace_strict(list(levels), list(range(len(levels))), default=-1, return_dtype=nw.Int64())
    code: nw.Expr = nw.lit(-1, dtype=nw.Int64())
    for i, level in reversed(list(enumerate(levels))):
        code = nw.when(expr == level).then(nw.lit(i, dtype=nw.Int64())).otherwise(code)
    return code

def _code(expr: nw.Expr, levels: Sequence[Any]) -> nw.Expr:
    """The position of each value among ``levels``: ``len(levels)`` for null, -1 for any other value.
    (Nested when/then: a few comparisons of string views, about 3x faster than replace_strict on 1M rows.)"""
    return nw.when(expr.is_null()).then(nw.lit(len(levels), dtype=nw.Int64())).otherwise(positions(expr, levels))

def field_problem(f: Field, expr: nw.Expr, dtype: Any, plan: str, code_name: str, plain: bool,
                   length: nw.Expr | None) -> tuple[nw.Expr, nw.Expr | None]:
    """Rows where the field breaks its rule (given and wrong, or missing when required); and, for a text field
    with a list of values, each row's position in it, to be computed once as the column ``code_name`` (one
    look-up that decides the rule and names the value in the keys)."""
    if isinstance(dtype, nw.String) and f.enum is not None and f.pattern is None and not f.fields and \
            _type_ok(f.type, dtype):
        levels = enum_for(f, dtype)
        code = nw.col(code_name)  # "" and whitespace are not in the list: left to the per-row path
        return ((code == len(levels)) & nw.lit(f.required)) | (code == -1), _code(expr, levels).alias(code_name)
    return _problem(f, expr, dtype, plan, plain=plain, length=length), None

def _problem(f: Field, expr: nw.Expr, dtype: Any, plan: str, *, plain: bool = False,
             length: nw.Expr | None = None) -> nw.Expr:
    blank = surely_blank(expr, dtype)
    bad = blank if f.required else nw.lit(value=False)
    if isinstance(dtype, nw.String):
        bad = ~surely_filled(expr, plain=plain) if f.required else _odd(expr, plain=plain)  # a blank required text is bad
    typed = _type_ok(f.type, dtype)
    if typed is None or f.pattern is not None or f.fields or f.max_words is not None:
        raise NotSure
    if typed is False:
        return bad | ~blank  # every given value has the wrong type
    given = ~blank
    if f.type == "url":  # an http(s) URL to a plain host is sent as is; files and objects are checked row by row
        bad = bad | (given & ~expr.str.contains(SURELY_HTTP))
    if f.enum is not None:
        bad = bad | (given & ~expr.is_in(enum_for(f, dtype)))
    if f.min is not None:
        bad = bad | (given & (expr < f.min))
    if f.max is not None:
        bad = bad | (given & (expr > f.max))
    if isinstance(dtype, FLOAT):
        bad = bad | (given & ~expr.is_finite())
    limit = f.max_len.get(plan) if isinstance(f.max_len, Mapping) else f.max_len
    if limit is not None and isinstance(dtype, nw.String):
        bad = bad | (given & ((expr.str.len_chars() if length is None else length) > limit))
    return bad

def constant_problem(spec: JobSpec, f: Field, value: Any, plan: str) -> bool:
    return validate_body(JobSpec(**{**spec.__dict__, "fields": (f,), "one_of": (), "exclusive": (),
                                               "check": None}), {f.name: value}, plan) is not None
