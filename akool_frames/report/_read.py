"""Reading a result frame for ``af.report``: every group of result columns stacked into one long frame,
per-row flags, one ``group_by`` into lines, and the unpriced rows with their reasons (no Python loop over
rows). ``report.py`` turns these into a ``Report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals.stable.v2 as nw

from .._errors import ValidationError
from .._values import to_py

__all__ = ["COUNTS", "DEFAULT_USD_PER_CREDIT", "KINDS", "METRICS"]

DEFAULT_USD_PER_CREDIT = 0.04  # the Jarvis price table: 1 credit = 0.04 USD
KINDS = ("estimate", "run", "forecast")
COUNTS = ("rows", "invalid_rows", "priced_rows", "unpriced_rows", "charged_rows", "unreported_rows")
METRICS = ("rows", "invalid_rows", "priced_rows", "unpriced_rows", "credits_est", "usd_est",
           "charged_rows", "unreported_rows", "credits_charged", "usd_charged")
_RUN_METRICS = ("charged_rows", "unreported_rows", "credits_charged", "usd_charged")
_SENT = ("queued", "processing", "completed", "failed", "unknown")  # statuses of rows the provider received
_TEXT = (nw.String, nw.Categorical, nw.Enum, nw.Object)
# Internal column names of the stacked frame, so that no frame column (even "status") can collide.
_POS, _GROUP, _JOB, _STATUS, _EST, _CREDITS, _ERROR, _BASIS = (
    f"__af_{n}" for n in ("pos", "group", "job", "status", "est", "credits", "error", "basis"))
_LISTED = ("row", "reason")  # columns of the unpriced listing besides job and the keys


# ------------------------------------------------------------------------------------- reading
def _groups(columns: Sequence[str]) -> list[str]:
    """Prefixes of the result groups: a ``{prefix}job`` column beside a ``{prefix}credits_est`` one."""
    present = set(columns)
    return [c[:-3] for c in columns if c.endswith("job") and f"{c[:-3]}credits_est" in present]


def _keys(by: str | Sequence[str] | None, columns: Sequence[str]) -> list[str]:
    keys = ["job"] if by is None else [by] if isinstance(by, str) else list(by)
    if not keys or len(set(keys)) != len(keys):
        msg = f"by= needs distinct keys, got {by!r}.\n\nHint: by=\"job\" or by=[\"job\", \"language\"]."
        raise ValidationError(msg)
    for key in keys:
        if key in METRICS or key in _LISTED:
            msg = f"by={key!r} is the name of a report column.\n\nHint: rename that column of the frame first."
            raise ValidationError(msg)
        if key != "job" and key not in columns:
            msg = (f"by={key!r} is neither \"job\" nor a column of the frame.\n\n"
                   f"Hint: a key is \"job\" or one of the frame's columns: {list(columns)}.")
            raise ValidationError(msg)
    return keys


def _stack(frame: nw.DataFrame[Any], prefixes: Sequence[str], keys: Sequence[str]) -> nw.DataFrame[Any]:
    """One frame of every group's rows: row position, job, status, estimate, charge, error and the keys."""
    frame = frame.with_row_index(_POS)
    columns = set(frame.columns)
    own = [k for k in keys if k != "job"]

    def optional(name: str, dtype: Any, alias: str) -> nw.Expr:
        return (nw.col(name) if name in columns else nw.lit(None)).cast(dtype).alias(alias)

    parts = []
    for i, prefix in enumerate(prefixes):
        named = frame.get_column(f"{prefix}job").drop_nulls().head(1).to_list()
        # A group whose job column is empty (older frames) is named by its prefix.
        name = str(to_py(named[0])) if named else (prefix.rstrip("_") or "job")
        parts.append(frame.select(
            nw.col(_POS).cast(nw.Int64),
            nw.lit(i).cast(nw.Int64).alias(_GROUP),
            nw.col(f"{prefix}job").cast(nw.String).fill_null(name).alias(_JOB),
            optional(f"{prefix}status", nw.String(), _STATUS),
            optional(f"{prefix}credits_est", nw.Float64(), _EST),
            optional(f"{prefix}credits", nw.Float64(), _CREDITS),
            optional(f"{prefix}error", nw.String(), _ERROR),
            optional(f"{prefix}price_basis", nw.String(), _BASIS),  # after a run, the reason is kept here
            *(nw.col(k) for k in own),
        ))
    return nw.concat(parts, how="vertical") if len(parts) > 1 else parts[0]


def _flags(long: nw.DataFrame[Any]) -> nw.DataFrame[Any]:
    """Per-row 0/1 flags and the values each sum takes, so the group_by only needs plain sums."""
    invalid = (nw.col(_STATUS) == "invalid").fill_null(value=False)
    sent = nw.col(_STATUS).is_in(_SENT).fill_null(value=False)
    return long.with_columns(
        invalid_rows=invalid.cast(nw.Int64),
        priced_rows=(~invalid & ~nw.col(_EST).is_null()).cast(nw.Int64),
        unpriced_rows=(~invalid & nw.col(_EST).is_null()).cast(nw.Int64),
        charged_rows=(~nw.col(_CREDITS).is_null()).cast(nw.Int64),
        unreported_rows=(sent & nw.col(_CREDITS).is_null()).cast(nw.Int64),
        credits_est=nw.when(~invalid).then(nw.col(_EST)),
        credits_charged=nw.col(_CREDITS),
    )


def _aggregate(flagged: nw.DataFrame[Any], keys: Sequence[str], run: bool, usd: float) -> nw.DataFrame[Any]:
    sums = ["invalid_rows", "priced_rows", "unpriced_rows", "credits_est"]
    if run:
        sums += ["charged_rows", "unreported_rows", "credits_charged"]
    grouped = flagged.rename({_JOB: "job"}) if "job" in keys else flagged
    lines = (grouped.group_by(*keys).agg(nw.len().alias("rows"), *(nw.col(c).sum() for c in sums))
             .sort(*keys, nulls_last=True))
    lines = lines.with_columns(*(nw.col(k).cast(nw.String) for k in keys if isinstance(lines.schema[k], _TEXT)))
    order = [*keys, "rows", "invalid_rows", "priced_rows", "unpriced_rows", "credits_est", "usd_est"]
    return _complete(lines, usd).select(*order, *(_RUN_METRICS if run else ()))


def _complete(sums: nw.DataFrame[Any], usd: float) -> nw.DataFrame[Any]:
    """Sums made honest: counts as integers, a null (never a 0 that looks like a price) where no row of the
    line has a price or a reported charge, and the USD columns."""
    columns = set(sums.columns)
    exprs = [nw.col(c).cast(nw.Int64) for c in COUNTS if c in columns]
    if {"credits_est", "priced_rows", "unpriced_rows"} <= columns:
        exprs.append(nw.when((nw.col("priced_rows") == 0) & (nw.col("unpriced_rows") > 0)).then(nw.lit(None))
                     .otherwise(nw.col("credits_est")).alias("credits_est"))
    if {"credits_charged", "charged_rows"} <= columns:
        exprs.append(nw.when(nw.col("charged_rows") == 0).then(nw.lit(None))
                     .otherwise(nw.col("credits_charged")).alias("credits_charged"))
    out = sums.with_columns(*exprs)
    credits = [c for c in ("credits_est", "credits_charged") if c in columns]
    out = out.with_columns(*(nw.col(c).cast(nw.Float64).round(6) for c in credits))
    return out.with_columns(*((nw.col(c) * usd).round(6).alias(c.replace("credits_", "usd_")) for c in credits))


def _unpriced(flagged: nw.DataFrame[Any], keys: Sequence[str], labels: Any) -> nw.DataFrame[Any]:
    """The unpriced rows alone (only they are materialised): row label, job, keys, reason."""
    rows = flagged.filter(nw.col("unpriced_rows") == 1).sort(_POS, _GROUP)  # row order, then group order
    said = nw.when(nw.col(_BASIS).str.starts_with("no estimate: ")).then(nw.col(_BASIS)).otherwise(nw.col(_ERROR))
    reason = said.str.replace(r"^no estimate: ", "").fill_null("no price and no reason given").alias("reason")
    own = [k for k in keys if k != "job"]
    out = rows.select(nw.col(_POS).alias("row"), nw.col(_JOB).alias("job"), *(nw.col(k) for k in own), reason)
    if labels is not None:  # pandas: the index label, as errors name rows; else the position stays
        positions = out.get_column("row").to_list()
        out = nw.from_native(out.to_native().assign(row=[to_py(v) for v in labels.take(positions)]), eager_only=True)
    return out
