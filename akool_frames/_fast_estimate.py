"""A frame's estimate as frame operations, for the jobs whose rules read a few columns.

The per-row estimate (``_prepare.prepare`` + ``validate_body`` + the price rule) runs Python for every row:
about 45,000 rows a second. Here the same answer comes from expressions over whole columns (narwhals, so
pandas and polars alike), built so that it cannot differ from the per-row one:

- *validity*: a row is surely valid when every documented rule holds on it (required fields present, types
  by the columns' dtypes, enums, ranges, lengths by plan, one-of and exclusive groups, language codes the
  provider offers, the job's cross-field check evaluated once per distinct combination of what it reads).
  Rows that are not surely valid go through the per-row path, so their error texts are its texts.
- *price*: a job's rule reads few inputs (``READS``): values of some fields, the length of a text, the given
  media length. The real rule runs once per distinct combination of them (a few thousand text lengths at
  most) and its credits, basis and duration are joined back to the rows.

Anything else (a Series parameter, a nested body, an undeclared job, media to probe, a dtype that does not
say for sure) returns None, and the caller takes the per-row path.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import narwhals.stable.v2 as nw

from . import pricing
from ._ledger import CALLBACK_FIELDS
from ._localize import LANGUAGE_FIELDS
from ._values import to_py
from .jobs import (  # names, not the module: af.jobs is the job table
    Field,
    JobSpec,
    PriceContext,
    get_job,
    validate_body,
)

__all__ = ["READS", "Reads", "estimate_frame"]

NULL = "\x00"  # stands for a null text in a key
TAKEN: Counter[str] = Counter()  # estimates made here, by job (what tests look at to know the path taken)


@dataclass(frozen=True)
class Reads:
    """What a job's price rule reads: field values, text lengths (characters), the given media length; and
    the fields its cross-field check reads (free text only as "given or not", unless in ``check_values``)."""

    values: tuple[str, ...] = ()
    chars: tuple[str, ...] = ()
    duration: bool = False
    check: tuple[str, ...] = ()
    check_values: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()  # fields without which the rule would measure media: such rows go row by row


_PER_JOB = Reads()
READS: Mapping[str, Reads] = {
    "tts": Reads(chars=("input_text",)),
    "audiocleaner.tts": Reads(chars=("text",)),
    "legacy_tts": Reads(chars=("input_text",)),
    "legacy_voice_clone": Reads(chars=("input_text",)),
    "voice_clone": _PER_JOB,
    # _i2v_check: the batch-only and single-only fields (given or not), the model (its offered resolutions),
    # the resolution, negative_prompt, and _audio_check's audio_type and audio_url
    "image_to_video": Reads(values=("resolution", "video_length", "model_name", "count"),
                            check=("model_name", "last_image_url", "count", "audio_type", "audio_url", "effect_code",
                                   "is_premium_model", "resolution", "negative_prompt"),
                            check_values=("model_name",)),
    "character_swap": Reads(values=("resolution", "duration"), needs=("duration",)),  # else: probe its video
    "image_generate": _PER_JOB, "image_button": _PER_JOB, "faceswap_image": _PER_JOB, "faceswap_pro": _PER_JOB,
    "reage_image": _PER_JOB, "avatar_upload": _PER_JOB, "kling.custom_voice": _PER_JOB, "detect_faces": _PER_JOB,
    # priced by a media length: only when duration= gives it (else its media is probed, row by row)
    "talking_photo": Reads(duration=True), "lip_sync": Reads(duration=True), "voice_change": Reads(duration=True),
    "faceswap_video": Reads(duration=True), "reage_video": Reads(duration=True),
}
_INT = (nw.Int8, nw.Int16, nw.Int32, nw.Int64, nw.UInt8, nw.UInt16, nw.UInt32, nw.UInt64)
_FLOAT = (nw.Float32, nw.Float64)


class _NotSure(Exception):
    """This frame cannot be estimated here without doubt: take the per-row path."""


# ------------------------------------------------------------------------------------------- inputs
def _inputs(spec: JobSpec, params: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
    """field -> a column name (``Col``) or a constant, for flat documented fields (and ``duration``)."""
    from ._bind import Col

    polars = __import__("sys").modules.get("polars")
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name in CALLBACK_FIELDS:
            raise _NotSure
        target = name if name in spec.field_names() or name == "duration" else spec.aliases.get(name, name)
        if "." in target or (target not in spec.field_names() and target != "duration"):
            raise _NotSure  # nested, or not documented: the per-row path says what is wrong
        if polars is not None and isinstance(value, polars.Expr):
            if not value.meta.is_column():
                raise _NotSure
            value = Col(str(value.meta.output_name()))
        if isinstance(value, Col):
            if value.name not in columns:
                raise _NotSure
        elif isinstance(value, Mapping | list | tuple) or hasattr(value, "dtype") or hasattr(value, "__array__"):
            raise _NotSure  # containers and Series: row by row
        else:
            value = to_py(value)
        out[target] = value
    return out


# A text that starts with a character Python does not strip (Rust's \s lacks \x1c-\x1f, which str.strip
# removes): surely not blank. Rows with a non-empty text that starts with whitespace are left to the per-row
# path (rare), so that for every other row "blank" is just null or "" (no text has to be stripped).
_FILLED = r"^[^\s\x1c-\x1f]"


def _odd(expr: nw.Expr) -> nw.Expr:
    """A non-empty text that starts with whitespace: maybe blank, maybe not; not decided here."""
    return ~expr.is_null() & (expr != "") & ~expr.str.contains(_FILLED).fill_null(value=False)


def _blank(expr: nw.Expr, dtype: Any) -> nw.Expr:
    """What the per-row path reads as "not given": null, NaN, or a blank string (for the rows ``_odd`` leaves)."""
    if isinstance(dtype, nw.String):
        return expr.is_null() | (expr == "")
    if isinstance(dtype, _FLOAT):
        return expr.is_null() | expr.is_nan()
    return expr.is_null()


# --------------------------------------------------------------------------------------- validation
def _type_ok(kind: str, dtype: Any) -> bool | None:
    """Whether every given value of a column of ``dtype`` has the field's type (None: not sure)."""
    if kind == "any":
        return True
    if kind == "str":
        return isinstance(dtype, nw.String) or None
    if kind == "int":
        return True if isinstance(dtype, _INT) else (False if isinstance(dtype, _FLOAT) else None)
    if kind == "num":
        return True if isinstance(dtype, _INT + _FLOAT) else None
    if kind == "strnum":
        return True if isinstance(dtype, (nw.String, *_INT, *_FLOAT)) else None
    if kind == "bool":
        return True if isinstance(dtype, nw.Boolean) else None
    return None


def _enum_for(f: Field, dtype: Any) -> list[Any]:
    """The listed values a column of this dtype can hold (a field may list 2 and "2": audio_type)."""
    text = isinstance(dtype, nw.String)
    return [v for v in f.enum or () if isinstance(v, str) == text]


def _code(expr: nw.Expr, levels: Sequence[Any]) -> nw.Expr:
    """The position of each value among ``levels``: ``len(levels)`` for null, -1 for any other value."""
    return expr.fill_null(NULL).replace_strict([*levels, NULL], list(range(len(levels) + 1)), default=-1,
                                               return_dtype=nw.Int64())


def _field_problem(f: Field, expr: nw.Expr, dtype: Any, plan: str) -> tuple[nw.Expr, nw.Expr | None]:
    """Rows where the field breaks its rule (given and wrong, or missing when required); and, for a text field
    with a list of values, each row's position in it (one look-up that also decides the rule)."""
    if isinstance(dtype, nw.String) and f.enum is not None and f.pattern is None and not f.fields and \
            _type_ok(f.type, dtype):
        levels = _enum_for(f, dtype)
        code = _code(expr, levels)  # "" and whitespace are not in the list: left to the per-row path
        return ((code == len(levels)) & nw.lit(f.required)) | (code == -1), code
    return _problem(f, expr, dtype, plan), None


def _problem(f: Field, expr: nw.Expr, dtype: Any, plan: str) -> nw.Expr:
    blank = _blank(expr, dtype)
    bad = blank if f.required else nw.lit(value=False)
    if isinstance(dtype, nw.String):
        bad = bad | _odd(expr)
    typed = _type_ok(f.type, dtype)
    if typed is None or f.pattern is not None or f.fields or f.max_words is not None:
        raise _NotSure
    if typed is False:
        return bad | ~blank  # every given value has the wrong type
    given = ~blank
    if f.enum is not None:
        bad = bad | (given & ~expr.is_in(_enum_for(f, dtype)))
    if f.min is not None:
        bad = bad | (given & (expr < f.min))
    if f.max is not None:
        bad = bad | (given & (expr > f.max))
    if isinstance(dtype, _FLOAT):
        bad = bad | (given & ~expr.is_finite())
    limit = f.max_len.get(plan) if isinstance(f.max_len, Mapping) else f.max_len
    if limit is not None and isinstance(dtype, nw.String):
        bad = bad | (given & (expr.str.len_chars() > limit))
    return bad


def _constant_problem(spec: JobSpec, f: Field, value: Any, plan: str) -> bool:
    return validate_body(JobSpec(**{**spec.__dict__, "fields": (f,), "one_of": (), "exclusive": (),
                                               "check": None}), {f.name: value}, plan) is not None


# ------------------------------------------------------------------------------------------- frames
_SENTINEL = {"int": -(2 ** 31), "float": -1.7e308, "str": NULL}  # stands for null in a key part


def _fill(part: tuple[nw.Expr, str]) -> nw.Expr:
    """A key part without nulls (look-ups do not match nulls): each kind has its own stand-in."""
    expr, kind = part
    if kind == "bool":
        return expr.cast(nw.Int8).fill_null(-1)
    return expr.fill_null(_SENTINEL[kind]) if kind in _SENTINEL else expr


KeyPart = tuple[nw.Expr, str, "list[Any] | None", bool]  # expression, kind, levels if known, already coded


def _spec_field(spec: JobSpec, name: str) -> Field | None:
    return next((f for f in spec.fields if f.name == name), None)


def _coded(spec: JobSpec, fields: Mapping[str, _Field], name: str) -> KeyPart | None:
    """A text field with a list of values, as its positions in the list (null: the position after it)."""
    field, f = fields[name], _spec_field(spec, name)
    if field.code is None or f is None or f.enum is None:
        return None
    return field.code, "coded", [*_enum_for(f, field.dtype), None], True


def _part_levels(spec: JobSpec, part: tuple[nw.Expr, str], name: str | None, presence: bool) -> KeyPart:
    expr, kind = part
    return _fill(part), kind, _static(spec, name, kind, presence) if name is not None or presence else None, False


def _key(work: nw.DataFrame[Any], columns: Sequence[str], name: str, known: Sequence[list[Any] | None],
         coded: Sequence[bool]) -> tuple[nw.DataFrame[Any], list[Any]]:
    """One integer (or the value itself, for one column) per row naming its combination of ``columns``;
    with each column's levels (``known`` where the field's rule lists them), read back by ``_unkey``.
    ``coded`` columns hold positions in their levels already."""
    if not columns:
        return work.with_columns(nw.lit(0).alias(name)), []
    if len(columns) == 1 and known[0] is None:
        return work.with_columns(nw.col(columns[0]).alias(name)), [None]
    ok = work.filter(nw.col("__ok")) if any(k is None for k in known) else work
    levels = [k if k is not None else ok.select(c).unique().get_column(c).to_list()
              for c, k in zip(columns, known, strict=True)]
    if any(not level for level in levels):  # no surely-valid row: there is nothing to name
        return work.with_columns(nw.lit(-1).alias(name)), levels
    stride, code = 1, nw.lit(0)
    for c, level, done in zip(columns, levels, coded, strict=True):
        position = nw.col(c) if done else nw.col(c).replace_strict(level, list(range(len(level))), default=-1,
                                                                   return_dtype=nw.Int64())
        code = code + position * stride
        stride *= max(len(level), 1)
    return work.with_columns(code.alias(name)), levels


def _static(spec: JobSpec, name: str | None, kind: str, presence: bool = False) -> list[Any] | None:
    """The values a key part can take among surely-valid rows, when the field's rule lists them."""
    if presence:
        return [0, 1]
    f = _spec_field(spec, name) if name is not None else None
    if kind == "bool":
        return [0, 1, -1]
    if f is None or f.enum is None:
        return None
    dtype = nw.String() if kind == "str" else nw.Int64()
    return [*_enum_for(f, dtype), _SENTINEL.get(kind, NULL)]


def _combos(levels: Sequence[list[Any] | None], limit: int = 4096) -> list[int] | None:
    """Every key of known levels (each combination once), when there are few; None: look at the rows."""
    if not levels or levels == [None] or any(level is None for level in levels):
        return None
    if any(not level for level in levels):  # a level list found empty: no surely-valid row
        return []
    total = math.prod(max(len(level), 1) for level in levels)
    return list(range(total)) if total <= limit else None


def _unkey(key: Any, levels: Sequence[Any], kinds: Sequence[str]) -> list[Any]:
    """The values (None for a stand-in of null; bools as bools) behind a key made by ``_key``."""
    if not levels:
        return []
    if levels == [None]:
        values = [key]
    else:
        values, rest = [], int(key)
        for level in levels:
            rest, i = divmod(rest, max(len(level), 1))
            values.append(level[i])
    out = []
    for value, kind in zip(values, kinds, strict=True):
        value = to_py(value)
        if kind == "coded":  # the level itself (None where the row had none)
            out.append(value)
        elif kind == "bool":
            out.append(None if value == -1 else bool(value))
        else:
            out.append(None if value == _SENTINEL.get(kind, NULL) else value)
    return out


@dataclass
class _Field:
    """A field's value in the rows: an expression, the column's dtype (None for a constant) and the constant."""

    expr: nw.Expr
    dtype: Any = None
    constant: Any = None
    code: nw.Expr | None = None  # for a text field with a list of values: each row's position in it


async def estimate_frame(frame: nw.DataFrame[Any], job: str, params: Mapping[str, Any], *, client: Any, plan: str,
                         rates: Mapping[str, float], per_row: Any) -> dict[str, nw.Series[Any]] | None:
    """The estimate columns (``credits_est``, ``status``, ``error``, ``job``, ``price_basis``, ``duration_s``,
    ``duration_source``) as narwhals Series in row order, or None when this frame needs the per-row path.
    ``await per_row(positions)`` estimates the given rows the per-row way (a list of Outcomes)."""
    spec = get_job(job)
    reads = READS.get(spec.name)
    if reads is None:
        return None
    try:
        fields, problem, duration = _plan(spec, reads, params, frame.schema, plan)
    except _NotSure:
        return None
    # Keys name what varies from row to row; constants go straight into the bodies the rules see.
    check = [n for n in reads.check if n in fields and fields[n].dtype is not None] if spec.check else []
    price = [*(("value", v) for v in reads.values if v in fields and fields[v].dtype is not None),
             *(("chars", c) for c in reads.chars if c in fields and fields[c].dtype is not None),
             *([("duration", "")] if reads.duration and _varies(duration) else [])]
    checks = [_coded(spec, fields, n) or _part_levels(spec, _check_part(spec, fields, n, reads), n,
                                                      _free_text(_spec_field(spec, n), reads)) for n in check]
    prices = [(_coded(spec, fields, n) if how == "value" else None) or
              _part_levels(spec, _price_part(fields, how, n, duration), n if how == "value" else None, False)
              for how, n in price]
    anchor = nw.generate_temporary_column_name(8, frame.columns, prefix="akool_n_")  # the rows, when all is constant
    languages = [n for n in LANGUAGE_FIELDS.get(spec.name, {}) if n in fields]
    work = frame.with_row_index(anchor).select(
        nw.col(anchor), (~problem).alias("__ok"), *(p[0].alias(f"__c{i}") for i, p in enumerate(checks)),
        *(p[0].alias(f"__p{i}") for i, p in enumerate(prices)),
        *(_part(fields, n).alias(f"__lang_{n}") for n in languages))
    check_kinds, price_kinds = [p[1] for p in checks], [p[1] for p in prices]
    work, check_levels = _key(work, [f"__c{i}" for i in range(len(check))], "__check", [p[2] for p in checks],
                              [p[3] for p in checks])
    work, price_levels = _key(work, [f"__p{i}" for i in range(len(price))], "__price", [p[2] for p in prices],
                              [p[3] for p in prices])
    if spec.check is not None:  # the job's own cross-field check, once per distinct combination it reads
        combos = _combos(check_levels)
        if combos is None:
            combos = work.filter(nw.col("__ok")).select("__check").unique().get_column("__check").to_list()
        failing = [c for c in combos
                   if spec.check(_check_body(spec, reads, fields, check, _unkey(c, check_levels, check_kinds)),
                                 plan) is not None]
        if failing:
            work = work.with_columns((nw.col("__ok") & ~nw.col("__check").is_in(failing)).alias("__ok"))
    work = await _languages(work, spec, languages, client)
    keys = _combos(price_levels)
    if keys is None:
        keys = work.filter(nw.col("__ok")).select("__price").unique().get_column("__price").to_list()
    table = _price_table(spec, reads, fields, price, duration,
                         {k: _unkey(k, price_levels, price_kinds) for k in keys}, plan, rates)
    ok = nw.col("__ok")
    out = work.select(ok, *(_looked_up(table, name, ok) for name in _OUT),
                      nw.lit(None, dtype=nw.String()).alias("status"), nw.lit(spec.name).alias("job"))
    idx = nw.generate_temporary_column_name(8, out.columns, prefix="akool_i_")
    unsure = out.with_row_index(idx).filter(~ok).get_column(idx).to_list()
    if unsure:  # the per-row path's outcomes (and error texts) for the rows not surely valid
        out = _overlay(out, unsure, await per_row(unsure), frame.implementation)
    TAKEN[spec.name] += 1
    return {name: out.get_column(name) for name in ("credits_est", "status", "error", "job", "price_basis",
                                                    "duration_s", "duration_source")}


def _looked_up(table: Mapping[Any, Mapping[str, Any]], name: str, ok: nw.Expr) -> nw.Expr:
    """An output column from the table of prices by signature (a constant where the table has one value)."""
    values = [row[name] for row in table.values()]
    if len(set(values)) <= 1:  # (also: no surely-valid row at all, an empty table)  # tts has no duration or error to look up: one value for every surely-valid row
        only = values[0] if values else None
        return nw.when(ok).then(nw.lit(only, dtype=_OUT_TYPES[name])).otherwise(
            nw.lit(None, dtype=_OUT_TYPES[name])).alias(name)
    # Rows that are not surely valid get the per-row path's values over these (see _overlay): no mask needed.
    return nw.col("__price").replace_strict(list(table), values, default=None, return_dtype=_OUT_TYPES[name]).alias(name)


def _varies(duration: Any) -> bool:
    from ._bind import Col

    return isinstance(duration, Col)


def _plan(spec: JobSpec, reads: Reads, params: Mapping[str, Any], schema: Any,
          plan: str) -> tuple[dict[str, _Field], nw.Expr, Any]:
    """Each field's value, the rows that break a rule, and the given duration; _NotSure when unsure."""
    from ._bind import Col

    inputs = _inputs(spec, params, list(schema))
    fields: dict[str, _Field] = {}
    problem = nw.lit(value=False)
    for f in spec.fields:
        given = inputs.get(f.name)
        if given is None:
            given = spec.defaults.get(f.name)  # prepare skips None values where there is a default
        if isinstance(given, Col):
            dtype, expr = schema[given.name], nw.col(given.name)
            if f.name in spec.defaults:  # a null takes the default
                expr = nw.when(expr.is_null()).then(nw.lit(spec.defaults[f.name])).otherwise(expr)
            bad, code = _field_problem(f, expr, dtype, plan)
            fields[f.name] = _Field(expr, dtype, code=code)
            problem = problem | bad
        elif given is not None:
            if _constant_problem(spec, f, given, plan):
                raise _NotSure  # every row is invalid: the per-row path says how
            fields[f.name] = _Field(nw.lit(given), None, given)
        elif f.required:
            raise _NotSure
    problem = problem | _groups(spec, fields)
    duration = inputs.get("duration") if "duration" not in spec.field_names() else None
    if reads.duration:
        problem = problem | _duration_problem(duration, schema)
    elif duration is not None:
        raise _NotSure  # a given length this job's rule does not read: the per-row path checks it
    for name in reads.needs:
        if name not in fields:
            raise _NotSure
        if fields[name].dtype is not None:
            problem = problem | _blank(fields[name].expr, fields[name].dtype)
    return fields, problem, duration


def _groups(spec: JobSpec, fields: Mapping[str, _Field]) -> nw.Expr:
    def given(name: str) -> nw.Expr:
        if name not in fields:
            return nw.lit(value=False)
        field = fields[name]
        return ~_blank(field.expr, field.dtype) if field.dtype is not None else nw.lit(value=True)

    bad = nw.lit(value=False)
    for group in spec.one_of:
        bad = bad | ~nw.any_horizontal(*(given(n) for n in group), ignore_nulls=True)
    for group in spec.exclusive:
        bad = bad | (nw.sum_horizontal(*(given(n).cast(nw.Int32) for n in group)) > 1)
    return bad


def _duration_problem(duration: Any, schema: Any) -> nw.Expr:
    from ._bind import Col

    if isinstance(duration, Col):
        dtype = schema[duration.name]
        if not isinstance(dtype, _INT + _FLOAT):
            raise _NotSure
        expr = nw.col(duration.name)
        bad = _blank(expr, dtype) | ~(expr > 0)
        return bad | ~expr.is_finite() if isinstance(dtype, _FLOAT) else bad
    if duration is None or isinstance(duration, bool) or not isinstance(duration, int | float) or \
            not math.isfinite(duration) or duration <= 0:
        raise _NotSure  # no length (it would be probed), or a bad constant: row by row
    return nw.lit(value=False)


def _duration_expr(duration: Any) -> nw.Expr:
    from ._bind import Col

    return nw.col(duration.name).cast(nw.Float64) if isinstance(duration, Col) else nw.lit(float(duration))


def _part(fields: Mapping[str, _Field], name: str) -> nw.Expr:
    """A field's value as the price reads it: a blank string is not given (prepare drops it)."""
    if name not in fields:
        return nw.lit(None, dtype=nw.String())
    field = fields[name]
    if isinstance(field.dtype, nw.String):
        return nw.when(_blank(field.expr, field.dtype)).then(nw.lit(None, dtype=nw.String())).otherwise(field.expr)
    return field.expr


def _chars(fields: Mapping[str, _Field], name: str) -> nw.Expr:
    field = fields.get(name)
    if field is None:
        return nw.lit(None, dtype=nw.Int64())
    return field.expr.str.len_chars() if field.dtype is not None else nw.lit(len(str(field.constant)))


def _free_text(f: Field | None, reads: Reads) -> bool:
    """A field the check reads only as given or not (free text whose value it does not look at)."""
    return f is not None and f.type == "str" and f.enum is None and f.name not in reads.check_values


def _check_part(spec: JobSpec, fields: Mapping[str, _Field], name: str, reads: Reads) -> tuple[nw.Expr, str]:
    """What the check reads of a field: the value, or for free text whether it is given as the check reads it
    (not None and not "": the check sees the body before blanks are dropped)."""
    field = fields[name]
    if _free_text(next((f for f in spec.fields if f.name == name), None), reads):
        return ~(field.expr.is_null() | (field.expr == "")).fill_null(value=True), "bool"
    return field.expr, _dtype_kind(field.dtype)


def _check_body(spec: JobSpec, reads: Reads, fields: Mapping[str, _Field], varying: Sequence[str],
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
    from ._localize import check_languages

    for name in names:
        column = f"__lang_{name}"
        codes = [c for c in work.select(column).unique().get_column(column).to_list() if c]
        verdicts = await check_languages(client, spec.name, [{name: c} for c in codes])
        bad = [c for c, problem in zip(codes, verdicts, strict=True) if problem]
        if bad:
            work = work.with_columns((nw.col("__ok") & ~nw.col(column).is_in(bad).fill_null(value=False))
                                     .alias("__ok"))
    return work


def _kind(spec: JobSpec, name: str) -> str:
    f = next((f for f in spec.fields if f.name == name), None)
    return f.type if f is not None else "num"  # "duration" (the given length) is a number


_OUT = ("credits_est", "error", "price_basis", "duration_s", "duration_source")
_OUT_TYPES = {"credits_est": nw.Float64(), "error": nw.String(), "price_basis": nw.String(),
              "duration_s": nw.Float64(), "duration_source": nw.String(), "status": nw.String()}


def _dtype_kind(dtype: Any) -> str:
    if isinstance(dtype, nw.Boolean):
        return "bool"
    if isinstance(dtype, _INT):
        return "int"
    if isinstance(dtype, _FLOAT):
        return "float"
    return "str"


def _price_part(fields: Mapping[str, _Field], how: str, name: str, duration: Any) -> tuple[nw.Expr, str]:
    if how == "value":
        return _part(fields, name), _dtype_kind(fields[name].dtype)
    if how == "chars":
        return _chars(fields, name), "int"
    return _duration_expr(duration), "float"


def _price_table(spec: JobSpec, reads: Reads, fields: Mapping[str, _Field], varying: Sequence[tuple[str, str]],
                 duration: Any, keys: Mapping[Any, Sequence[Any]], plan: str,
                 rates: Mapping[str, float]) -> dict[Any, dict[str, Any]]:
    """Key -> what the job's own rule says of a body made from the key's values (and the constants)."""
    from ._prepare import Prepared, estimate_outcome

    constant = {n: f.constant for n, f in fields.items() if f.dtype is None and (n in reads.values or n in reads.chars)}
    table: dict[Any, dict[str, Any]] = {}
    for key, values in keys.items():
        body = {k: ("x" * len(str(v)) if k in reads.chars else v) for k, v in constant.items()}
        given = None if _varies(duration) else (float(duration) if reads.duration else None)
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
        table[key] = {name: getattr(outcome, name) for name in _OUT}
    return table


def _typed_value(spec: JobSpec, name: str, value: Any) -> Any:
    """A key's value as the per-row path has it (a frame's Int8 back to bool; an integral float stays float)."""
    f = next((f for f in spec.fields if f.name == name), None)
    return bool(value) if f is not None and f.type == "bool" else value


def _overlay(out: nw.DataFrame[Any], rows: Sequence[int], outcomes: Sequence[Any], impl: Any) -> nw.DataFrame[Any]:
    """The per-row path's outcomes at ``rows`` (with their statuses), over the fast ones."""
    names = (*_OUT, "status")
    idx = nw.generate_temporary_column_name(8, out.columns, prefix="akool_i_")
    patch = nw.from_dict({idx: list(rows), **{f"__r_{n}": [getattr(o, n) for o in outcomes] for n in names}},
                         schema={idx: nw.Int64(), **{f"__r_{n}": _OUT_TYPES[n] for n in names}}, backend=impl)
    joined = out.with_row_index(idx).with_columns(nw.col(idx).cast(nw.Int64)).join(patch, on=idx, how="left").sort(idx)
    unsure = ~nw.col("__ok")
    return joined.with_columns(
        *(nw.when(unsure).then(nw.col(f"__r_{n}")).otherwise(nw.col(n)).alias(n) for n in _OUT),
        nw.when(unsure).then(nw.col("__r_status")).otherwise(nw.lit(None, dtype=nw.String())).alias("status"))
