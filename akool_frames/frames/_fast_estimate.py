"""A frame's estimate as frame operations, for the jobs whose price rules declare what they read.

The per-row estimate (``_prepare.prepare`` + ``validate_body`` + the price rule) runs Python for every row:
about 45,000 rows a second. Here the same answer comes from expressions over whole columns (narwhals, so
pandas and polars alike), built so that it cannot differ from the per-row one:

- *validity*: a row is surely valid when every documented rule holds on it (required fields present, types
  by the columns' dtypes, enums, ranges, lengths by plan, one-of and exclusive groups, language codes the
  provider offers), all read from the job's ``Field`` declarations; and the job's cross-field check, evaluated
  once per distinct combination of the fields it may read: every field given by a column, free text only as
  "given or not" unless the price rule reads its value. Rows that are not surely valid go through the per-row
  path, so their error texts are its texts.
- *price*: a job's rule declares what it reads (``pricing``, ``@reads``): values of some fields, the length of
  a text, the given media length. The real rule runs once per distinct combination of them (a few thousand
  text lengths at most) and its credits, basis and duration are joined back to the rows.

Anything else (a Series parameter, a nested body, a rule without a declaration, media to probe, a dtype that
does not say for sure) returns None, and the caller takes the per-row path (as it does in ``row_by_row()``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw

from .. import pricing
from .._blank import FLOAT, surely_blank
from .._errors import VoiceLanguageWarning, say
from ..catalog import Field, JobSpec, get_job
from ..engine import (
    LANGUAGE_FIELDS,
    VOICE_LANGUAGE,
    Outcome,
    Prepared,
    check_languages,
    estimate_outcome,
    voice_mismatch,
    voice_records,
)
from ..pricing import PriceContext, Reads
from ._bind import Col
from ._fast_fields import FieldValue, field_values, spec_field
from ._fast_keys import (
    NULL,
    OUT,
    SENTINEL,
    KeyPart,
    distinct_keys,
    fill_nulls,
    key_span,
    keyed,
    known_keys,
    looked_up,
    overlay,
    unkey,
)
from ._fast_rules import INT, NotSure, enum_for

__all__ = ["TAKEN", "estimate_frame", "estimate_rows", "row_by_row", "vectorised"]

TAKEN: Counter[str] = Counter()  # estimates made here, by job (what tests look at to know the path taken)
_ROW_BY_ROW: ContextVar[bool] = ContextVar("akool_row_by_row", default=False)


@contextmanager
def row_by_row() -> Iterator[None]:
    """Estimates made inside take the per-row path (what the vectorised one is compared with). A context variable:
    it holds in this thread and the tasks it starts (a sync call's coroutine runs in a copy of this context)."""
    token = _ROW_BY_ROW.set(True)
    try:
        yield
    finally:
        _ROW_BY_ROW.reset(token)


def vectorised() -> bool:
    """Whether estimates here may be made by frame operations (outside ``row_by_row()``)."""
    return not _ROW_BY_ROW.get()


# ------------------------------------------------------------------------------------------- frames
def _coded(spec: JobSpec, fields: Mapping[str, FieldValue], name: str) -> KeyPart | None:
    """A text field with a list of values, as its positions in the list (null: the position after it)."""
    field, f = fields[name], spec_field(spec, name)
    if field.code is None or f is None or f.enum is None:
        return None
    return field.code, "coded", [*enum_for(f, field.dtype), None], True


def _part_levels(spec: JobSpec, part: tuple[nw.Expr, str], name: str | None, presence: bool) -> KeyPart:
    _, kind = part
    return fill_nulls(part), kind, _static(spec, name, kind, presence) if name is not None or presence else None, False


def _static(spec: JobSpec, name: str | None, kind: str, presence: bool = False) -> list[Any] | None:
    """The values a key part can take among surely-valid rows, when the field's rule lists them."""
    if presence:
        return [0, 1]
    f = spec_field(spec, name) if name is not None else None
    if kind == "bool":
        return [0, 1, -1]
    if f is None or f.enum is None:
        return None
    dtype = nw.String() if kind == "str" else nw.Int64()
    return [*enum_for(f, dtype), SENTINEL.get(kind, NULL)]


@dataclass
class _Built:
    """A frame made ready to price: the rows' validity (``__ok``) and price keys (``__price``) in ``work``."""

    spec: JobSpec
    reads: Reads
    fields: dict[str, FieldValue]
    work: nw.DataFrame[Any]
    price: list[tuple[str, str]]
    levels: list[Any]
    kinds: list[str]
    duration: Any
    languages: list[str]


async def estimate_frame(frame: nw.DataFrame[Any], job: str, params: Mapping[str, Any], *, client: Any, plan: str,
                         rates: Mapping[str, float],
                         per_row: Callable[[list[int]], Awaitable[list[Outcome]]]) -> dict[str, nw.Series[Any]] | None:
    """The estimate columns (``credits_est``, ``status``, ``error``, ``job``, ``price_basis``, ``duration_s``,
    ``duration_source``) as narwhals Series in row order, or None when this frame needs the per-row path.
    ``await per_row(positions)`` estimates the given rows the per-row way (a list of Outcomes)."""
    built = _build(frame, job, params, plan)
    if built is None:
        return None
    built.work = await _languages(built.work, built.spec, built.languages, client)
    out, unsure = _priced(built, plan, rates, frame.implementation)
    if unsure:  # the per-row path's outcomes (and error texts) for the rows not surely valid
        out = overlay(out, unsure, await per_row(unsure), frame.implementation)
    return _columns(out)


def estimate_rows(frame: nw.DataFrame[Any], job: str, params: Mapping[str, Any], *, plan: str,
                  rates: Mapping[str, float],
                  per_row: Callable[[list[int]], list[Outcome]]) -> dict[str, nw.Series[Any]] | None:
    """``estimate_frame`` without the provider's language lists and nothing awaited: a pure function of the rows
    (the lazy estimate's, run by polars on each batch)."""
    built = _build(frame, job, params, plan)
    if built is None:
        return None
    out, unsure = _priced(built, plan, rates, frame.implementation)
    if unsure:
        out = overlay(out, unsure, per_row(unsure), frame.implementation)
    return _columns(out)


def _columns(out: nw.DataFrame[Any]) -> dict[str, nw.Series[Any]]:
    return {name: out.get_column(name) for name in ("credits_est", "status", "error", "job", "price_basis",
                                                    "duration_s", "duration_source")}


def _build(frame: nw.DataFrame[Any], job: str, params: Mapping[str, Any], plan: str) -> _Built | None:
    spec = get_job(job)
    reads = pricing.reads_of(pricing.rule(spec.price))
    if reads is None:
        return None
    try:
        fields, problem, duration, codes = field_values(spec, reads, params, frame, plan)
    except NotSure:
        return None
    if codes:
        frame = frame.with_columns(*codes.values())
    # Keys name what varies from row to row; constants go straight into the bodies the rules see.
    check = [n for n, f in fields.items() if f.dtype is not None] if spec.check else []  # all it may read
    price = [*(("value", v) for v in reads.values if v in fields and fields[v].dtype is not None),
             *(("chars", c) for c in reads.chars if c in fields and fields[c].dtype is not None),
             *([("duration", "")] if reads.duration and isinstance(duration, Col) else [])]
    checks = [_coded(spec, fields, n) or _part_levels(spec, _check_part(spec, fields, n, reads), n,
                                                      _free_text(spec_field(spec, n), reads)) for n in check]
    prices = [(_coded(spec, fields, n) if how == "value" else None) or
              _part_levels(spec, _price_part(fields, how, n, duration), n if how == "value" else None, False)
              for how, n in price]
    anchor = nw.generate_temporary_column_name(8, frame.columns, prefix="akool_n_")  # the rows, when all is constant
    languages = [n for n in LANGUAGE_FIELDS.get(spec.name, {}) if n in fields]
    voice, said_in = VOICE_LANGUAGE.get(spec.name, ("", ""))
    voices = [voice] if voice in fields and said_in in languages else []  # the voice the language is checked against
    work = frame.with_row_index(anchor).select(
        nw.col(anchor), (~problem).alias("__ok"), *(p[0].alias(f"__c{i}") for i, p in enumerate(checks)),
        *(p[0].alias(f"__p{i}") for i, p in enumerate(prices)),
        *(_part(fields, n).alias(f"__lang_{n}") for n in languages),
        *(_part(fields, n).alias(f"__voice_{n}") for n in voices))
    try:
        work, check_levels = keyed(work, [f"__c{i}" for i in range(len(check))], "__check", [p[2] for p in checks],
                                   [p[3] for p in checks])
        work, price_levels = keyed(work, [f"__p{i}" for i in range(len(price))], "__price", [p[2] for p in prices],
                                   [p[3] for p in prices])
    except NotSure:
        return None
    if spec.check is not None:  # the job's own cross-field check, once per distinct combination it reads
        combos = known_keys(check_levels)
        if combos is None:
            combos = distinct_keys(work, "__check")
        kinds = [p[1] for p in checks]
        failing = [c for c in combos
                   if spec.check(_check_body(spec, reads, fields, check, unkey(c, check_levels, kinds)), plan)
                   is not None]
        if failing:
            work = work.with_columns((nw.col("__ok") & ~nw.col("__check").is_in(failing)).alias("__ok"))
    return _Built(spec, reads, fields, work, price, price_levels, [p[1] for p in prices], duration, languages)


def _priced(built: _Built, plan: str, rates: Mapping[str, float],
            impl: Any) -> tuple[nw.DataFrame[Any], list[int]]:
    """The estimate columns of the surely-valid rows, and the positions of the others (for the per-row path)."""
    work = built.work
    keys = known_keys(built.levels)
    if keys is None:
        keys = key_span(work, built.levels, built.kinds)
    if keys is None:
        keys = distinct_keys(work, "__price")
    table = _price_table(built.spec, built.reads, built.fields, built.price, built.duration,
                         {k: unkey(k, built.levels, built.kinds) for k in keys}, plan, rates)
    ok = nw.col("__ok")
    out = looked_up(work, table, ok, impl).with_columns(
        nw.lit(None, dtype=nw.String()).alias("status"), nw.lit(built.spec.name).alias("job"))
    idx = nw.generate_temporary_column_name(8, out.columns, prefix="akool_i_")
    unsure = out.with_row_index(idx).filter(~ok).get_column(idx).to_list()
    TAKEN[built.spec.name] += 1
    return out, unsure


def _duration_expr(duration: Any) -> nw.Expr:
    return nw.col(duration.name).cast(nw.Float64) if isinstance(duration, Col) else nw.lit(float(duration))


def _part(fields: Mapping[str, FieldValue], name: str) -> nw.Expr:
    """A field's value as the price reads it: a blank string is not given (prepare drops it)."""
    if name not in fields:
        return nw.lit(None, dtype=nw.String())
    field = fields[name]
    if isinstance(field.dtype, nw.String):
        return nw.when(surely_blank(field.expr, field.dtype)).then(nw.lit(None, dtype=nw.String())).otherwise(field.expr)
    return field.expr


def _chars(fields: Mapping[str, FieldValue], name: str) -> nw.Expr:
    field = fields.get(name)
    if field is None:
        return nw.lit(None, dtype=nw.Int64())
    if field.dtype is None:
        return nw.lit(len(str(field.constant)))
    return field.length if field.length is not None else field.expr.str.len_chars()


def _free_text(f: Field | None, reads: Reads) -> bool:
    """A field the check reads only as given or not (free text whose value it does not look at)."""
    return f is not None and f.type == "str" and f.enum is None and f.name not in reads.values


def _check_part(spec: JobSpec, fields: Mapping[str, FieldValue], name: str, reads: Reads) -> tuple[nw.Expr, str]:
    """What the check reads of a field: the value, or for free text whether it is given as the check reads it
    (not None and not "": the check sees the body before blanks are dropped)."""
    field = fields[name]
    if _free_text(next((f for f in spec.fields if f.name == name), None), reads):
        return ~(field.expr.is_null() | (field.expr == "")).fill_null(value=True), "bool"
    return field.expr, _dtype_kind(field.dtype)


def _check_body(spec: JobSpec, reads: Reads, fields: Mapping[str, FieldValue], varying: Sequence[str],
                values: Sequence[Any]) -> dict[str, Any]:
    """A body that makes the job's check answer as it does for the rows of this combination."""
    by_name = {f.name: f for f in spec.fields}
    body = {n: field.constant for n, field in fields.items() if field.dtype is None}
    for name, value in zip(varying, values, strict=True):
        if value is None:
            continue
        if _free_text(by_name.get(name), reads):
            if value:
                body[name] = "x"  # given; its text does not matter to the check
            continue
        body[name] = bool(value) if by_name[name].type == "bool" else value
    return body


async def _languages(work: nw.DataFrame[Any], spec: JobSpec, names: Sequence[str],
                     client: Any) -> nw.DataFrame[Any]:
    """Rows whose language codes the provider does not offer are not surely valid (its list, once a session)."""
    for name in names:
        column = f"__lang_{name}"
        codes = [c for c in work.select(column).unique().get_column(column).to_list() if c]
        verdicts = await check_languages(client, spec.name, [{name: c} for c in codes])
        bad = [c for c, problem in zip(codes, verdicts, strict=True) if problem]
        if bad:
            work = work.with_columns((nw.col("__ok") & ~nw.col(column).is_in(bad).fill_null(value=False))
                                     .alias("__ok"))
    voice, said_in = VOICE_LANGUAGE.get(spec.name, ("", ""))
    if f"__voice_{voice}" in work.columns:  # one warning for the rows whose voice speaks another language
        pairs = (work.filter(nw.col("__ok")).group_by(f"__voice_{voice}", f"__lang_{said_in}")
                 .agg(nw.len().alias("__rows")))
        said = voice_mismatch(await voice_records(client, spec.name),
                              zip(pairs.get_column(f"__voice_{voice}").to_list(),
                                  pairs.get_column(f"__lang_{said_in}").to_list(), strict=True),
                              pairs.get_column("__rows").to_list())
        if said:
            say(VoiceLanguageWarning, said)
    return work


def _dtype_kind(dtype: Any) -> str:
    if isinstance(dtype, nw.Boolean):
        return "bool"
    if isinstance(dtype, INT):
        return "int"
    if isinstance(dtype, FLOAT):
        return "float"
    return "str"


def _price_part(fields: Mapping[str, FieldValue], how: str, name: str, duration: Any) -> tuple[nw.Expr, str]:
    if how == "value":
        return _part(fields, name), _dtype_kind(fields[name].dtype)
    if how == "chars":
        return _chars(fields, name), "int"
    return _duration_expr(duration), "float"


def _price_table(spec: JobSpec, reads: Reads, fields: Mapping[str, FieldValue], varying: Sequence[tuple[str, str]],
                 duration: Any, keys: Mapping[Any, Sequence[Any]], plan: str,
                 rates: Mapping[str, float]) -> dict[Any, dict[str, Any]]:
    """Key -> what the job's own rule says of a body made from the key's values (and the constants)."""
    constant = {n: f.constant for n, f in fields.items() if f.dtype is None and (n in reads.values or n in reads.chars)}
    table: dict[Any, dict[str, Any]] = {}
    for key, values in keys.items():
        body = {k: ("x" * len(str(v)) if k in reads.chars else v) for k, v in constant.items()}
        given = None if isinstance(duration, Col) else (float(duration) if reads.duration else None)
        for (how, name), value in zip(varying, values, strict=True):
            if value is None:
                continue
            if how == "chars":
                body[name] = "x" * int(value)
            elif how == "duration":
                given = float(value)
            else:
                body[name] = _typed_value(spec, name, value)
        ctx = PriceContext(plan=plan, rates=rates, given=given, duration=lambda _t: (None, "not probed"))
        outcome = estimate_outcome(Prepared(body, None, given), pricing.estimate(spec, body, ctx), None, spec.name)
        table[key] = {name: getattr(outcome, name) for name in OUT}
    return table


def _typed_value(spec: JobSpec, name: str, value: Any) -> Any:
    """A key's value as the per-row path has it (a frame's Int8 back to bool; an integral float stays float)."""
    f = next((f for f in spec.fields if f.name == name), None)
    return bool(value) if f is not None and f.type == "bool" else value

