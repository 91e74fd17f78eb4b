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

from .. import pricing
from .._errors import VoiceLanguageWarning, say
from .._values import to_py
from ..catalog import Field, JobSpec, get_job
from ..engine import LANGUAGE_FIELDS, VOICE_LANGUAGE
from ..ledger import CALLBACK_FIELDS
from ..pricing import PriceContext
from ._fast_keys import (
    _OUT,
    _SENTINEL,
    NULL,
    KeyPart,
    _combos,
    _distinct,
    _fill,
    _key,
    _looked_up,
    _overlay,
    _span,
    _unkey,
)
from ._fast_rules import _FLOAT, _INT, _blank, _constant_problem, _enum_for, _field_problem, _NotSure, _plain

__all__ = ["READS", "Reads", "estimate_frame"]

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


# --------------------------------------------------------------------------------------- validation
# ------------------------------------------------------------------------------------------- frames
def _spec_field(spec: JobSpec, name: str) -> Field | None:
    return next((f for f in spec.fields if f.name == name), None)


def _coded(spec: JobSpec, fields: Mapping[str, _Field], name: str) -> KeyPart | None:
    """A text field with a list of values, as its positions in the list (null: the position after it)."""
    field, f = fields[name], _spec_field(spec, name)
    if field.code is None or f is None or f.enum is None:
        return None
    return field.code, "coded", [*_enum_for(f, field.dtype), None], True


def _part_levels(spec: JobSpec, part: tuple[nw.Expr, str], name: str | None, presence: bool) -> KeyPart:
    _, kind = part
    return _fill(part), kind, _static(spec, name, kind, presence) if name is not None or presence else None, False


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


@dataclass
class _Field:
    """A field's value in the rows: an expression, the column's dtype (None for a constant) and the constant."""

    expr: nw.Expr
    dtype: Any = None
    constant: Any = None
    code: nw.Expr | None = None  # for a text field with a list of values: each row's position in it
    length: nw.Expr | None = None  # for a text field with a limit or a price per character: its length


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
        fields, problem, duration, codes = _plan(spec, reads, params, frame, plan)
    except _NotSure:
        return None
    if codes:
        frame = frame.with_columns(*codes.values())
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
    voice, said_in = VOICE_LANGUAGE.get(spec.name, ("", ""))
    voices = [voice] if voice in fields and said_in in languages else []  # the voice the language is checked against
    work = frame.with_row_index(anchor).select(
        nw.col(anchor), (~problem).alias("__ok"), *(p[0].alias(f"__c{i}") for i, p in enumerate(checks)),
        *(p[0].alias(f"__p{i}") for i, p in enumerate(prices)),
        *(_part(fields, n).alias(f"__lang_{n}") for n in languages),
        *(_part(fields, n).alias(f"__voice_{n}") for n in voices))
    check_kinds, price_kinds = [p[1] for p in checks], [p[1] for p in prices]
    work, check_levels = _key(work, [f"__c{i}" for i in range(len(check))], "__check", [p[2] for p in checks],
                              [p[3] for p in checks])
    work, price_levels = _key(work, [f"__p{i}" for i in range(len(price))], "__price", [p[2] for p in prices],
                              [p[3] for p in prices])
    if spec.check is not None:  # the job's own cross-field check, once per distinct combination it reads
        combos = _combos(check_levels)
        if combos is None:
            combos = _distinct(work, "__check")
        failing = [c for c in combos
                   if spec.check(_check_body(spec, reads, fields, check, _unkey(c, check_levels, check_kinds)),
                                 plan) is not None]
        if failing:
            work = work.with_columns((nw.col("__ok") & ~nw.col("__check").is_in(failing)).alias("__ok"))
    work = await _languages(work, spec, languages, client)
    keys = _combos(price_levels)
    if keys is None:
        keys = _span(work, price_levels, price_kinds)
    if keys is None:
        keys = _distinct(work, "__price")
    table = _price_table(spec, reads, fields, price, duration,
                         {k: _unkey(k, price_levels, price_kinds) for k in keys}, plan, rates)
    ok = nw.col("__ok")
    out = _looked_up(work, table, ok, frame.implementation).with_columns(
        nw.lit(None, dtype=nw.String()).alias("status"), nw.lit(spec.name).alias("job"))
    idx = nw.generate_temporary_column_name(8, out.columns, prefix="akool_i_")
    unsure = out.with_row_index(idx).filter(~ok).get_column(idx).to_list()
    if unsure:  # the per-row path's outcomes (and error texts) for the rows not surely valid
        out = _overlay(out, unsure, await per_row(unsure), frame.implementation)
    TAKEN[spec.name] += 1
    return {name: out.get_column(name) for name in ("credits_est", "status", "error", "job", "price_basis",
                                                    "duration_s", "duration_source")}


def _varies(duration: Any) -> bool:
    from ._bind import Col

    return isinstance(duration, Col)


def _plan(spec: JobSpec, reads: Reads, params: Mapping[str, Any], frame: nw.DataFrame[Any],
          plan: str) -> tuple[dict[str, _Field], nw.Expr, Any, dict[str, nw.Expr]]:
    """Each field's value, the rows that break a rule, the given duration, and the columns to compute first
    (the enum fields' positions); _NotSure when unsure."""
    from ._bind import Col

    schema = frame.schema
    inputs = _inputs(spec, params, list(schema))
    free = {f.name for f in spec.fields if f.type == "str" and f.enum is None}
    plain = _plain(frame, [v.name for n, v in inputs.items() if isinstance(v, Col) and n in free])
    fields: dict[str, _Field] = {}
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
            bad, code = _field_problem(f, expr, dtype, plan, code_name, given.name in plain, length)
            if code is not None:
                codes[code_name] = code
            fields[f.name] = _Field(expr, dtype, code=nw.col(code_name) if code is not None else None, length=length)
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
    return fields, problem, duration, codes


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
    if field.dtype is None:
        return nw.lit(len(str(field.constant)))
    return field.length if field.length is not None else field.expr.str.len_chars()


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
    from ..engine import check_languages, voice_mismatch, voice_records

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


def _kind(spec: JobSpec, name: str) -> str:
    f = next((f for f in spec.fields if f.name == name), None)
    return f.type if f is not None else "num"  # "duration" (the given length) is a number


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
    from ..engine import Prepared, estimate_outcome

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

