"""Cost reports: totals, a breakdown, USD, a chart and a shareable HTML file, from estimate/run output.

``af.report(frame, by=...)`` reads every group of result columns in a frame (a group is the
``{prefix}job`` column with its ``{prefix}credits_est``, ``{prefix}status`` ... siblings; chains carry
several), stacks them, and aggregates with one ``group_by`` (no Python loop over rows). Rows without a
price are counted and listed with their reasons, never summed as 0: a line that has any is shown as
incomplete wherever it is rendered.

The ``Report`` is also built from precomputed pieces by ``af.forecast``. The rendering (summary text,
chart, HTML) lives in ``_report_render``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
from narwhals.stable.v2.dependencies import is_pandas_dataframe

from . import _report_render as render
from ._errors import ValidationError
from ._frames import to_py

__all__ = ["COUNTS", "DEFAULT_USD_PER_CREDIT", "KINDS", "METRICS", "Report", "report"]

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


def _tidy(native: Any) -> Any:
    """pandas only: a fresh 0..n-1 index (group_by and concat leave theirs) and the nullable dtypes the
    result columns use, so an unknown sum reads <NA>, not NaN."""
    if not is_pandas_dataframe(native):
        return native
    out = native.reset_index(drop=True)
    types = {c: "Int64" if c in COUNTS else "Float64" for c in METRICS if c in out.columns}
    return out.astype(types) if types else out


def _usd(usd_per_credit: float | None, client: Any) -> float:
    if usd_per_credit is None:
        if client is None:
            from . import _client

            client = _client._default  # noqa: SLF001  # read, never created: a report needs no credentials
        usd_per_credit = getattr(client, "usd_per_credit", DEFAULT_USD_PER_CREDIT)
    if isinstance(usd_per_credit, bool) or not isinstance(usd_per_credit, int | float) or not usd_per_credit >= 0:
        msg = f"usd_per_credit must be a number of dollars >= 0, got {usd_per_credit!r}.\n\nHint: usd_per_credit=0.04."
        raise ValidationError(msg)
    return float(usd_per_credit)


def report(frame: Any, by: str | Sequence[str] | None = None, *, usd_per_credit: float | None = None,
           client: Any = None) -> Report:
    """What the jobs of a frame will cost (after ``estimate``) or cost (after ``run``), line by line.

    Args:
        frame: A pandas or polars frame returned by ``estimate``, ``submit``, ``run`` or ``refresh``; every
            group of result columns in it (``akool_``, ``tts_``, ``video_`` ...) is counted.
        by: The keys of the lines: ``"job"`` (the group's job) and/or columns of the frame; default ``"job"``.
        usd_per_credit: Dollars per credit; default: the client's, else 0.04 (the Jarvis price table).
        client: Whose ``usd_per_credit`` to use; default: the default client if one is set.

    Returns:
        A ``Report``: ``.table`` (a frame of the input's library: the keys, rows, invalid_rows, priced_rows,
        unpriced_rows, credits_est, usd_est, and after a run charged_rows, unreported_rows, credits_charged,
        usd_charged; then a total line), ``.unpriced``, ``.summary()``, ``.chart()``, ``.to_html(path)``.

    Example:
        >>> est = df.akool.estimate("tts", input_text=af.col("script"), voice_id="v1")  # doctest: +SKIP
        >>> rep = af.report(est, by=["job", "language"])  # doctest: +SKIP
        >>> print(rep.summary())  # doctest: +SKIP
        4.4 credits (0.18 USD) estimated for 10 rows.
    """
    given = nw.from_native(frame)
    eager = given.collect() if isinstance(given, nw.LazyFrame) else given
    if not isinstance(eager, nw.DataFrame):
        msg = f"report() takes a pandas or polars DataFrame, got {type(frame).__name__}."
        raise TypeError(msg)
    prefixes = _groups(eager.columns)
    if not prefixes:
        msg = ("The frame has no result columns to report on (a '{prefix}job' column beside '{prefix}credits_est').\n\n"
               "Hint: report on what df.akool.estimate(...) or df.akool.run(...) returned.")
        raise ValidationError(msg)
    keys = _keys(by, eager.columns)
    usd = _usd(usd_per_credit, client)
    run = any(f"{p}credits" in eager.columns or f"{p}job_id" in eager.columns for p in prefixes)
    flagged = _flags(_stack(eager, prefixes, keys))
    lines = _aggregate(flagged, keys, run, usd)
    native = eager.to_native()
    labels = native.index if is_pandas_dataframe(native) else None
    unpriced = _unpriced(flagged, keys, labels)
    unreported = {}
    if run:
        by_job = flagged.filter(nw.col("unreported_rows") == 1).group_by(_JOB).agg(nw.len().alias("n")).sort(_JOB)
        unreported = dict(zip(by_job.get_column(_JOB).to_list(), by_job.get_column("n").to_list(), strict=True))
    keep = isinstance(frame, nw.DataFrame | nw.LazyFrame)
    return Report(lines if keep else lines.to_native(), unpriced if keep else unpriced.to_native(), keys=keys,
                  has_totals=False, usd_per_credit=usd, kind="run" if run else "estimate", unreported_jobs=unreported)


# -------------------------------------------------------------------------------------- Report
class Report:
    """A cost report: a table of lines and totals, the unpriced rows, a summary, a chart, an HTML file.

    Built by ``af.report(frame)`` and ``af.forecast(campaign)``, or from precomputed pieces.

    Args:
        table: A pandas or polars frame: the key columns, then any of ``METRICS`` (rows, invalid_rows,
            priced_rows, unpriced_rows, credits_est, usd_est, charged_rows, unreported_rows, credits_charged,
            usd_charged) and any descriptive columns (count, duration_s ...), kept and rendered as they are.
            Total lines have "total" in the first key other than ``scenario``, one per scenario when there is
            a ``scenario`` key; when the table has none (or that key is not text) they are appended, summing
            the metric columns.
        unpriced: A frame of the rows without a price (row, job, the keys, reason); None for none.
        title: The heading of the summary, chart and HTML; default from ``kind``.
        usd_per_credit: Dollars per credit (for the totals' USD); default: the default client's, else 0.04.
        kind: "estimate", "run" or "forecast" (a run also reports what was charged).
        keys: The key columns; default: the leading text columns (up to the first number or metric), or
            ``scenario`` and ``job``.
        has_totals: False when the table has no total lines (they are appended); default: look for them.
        unreported_jobs: Rows per job whose charge the API did not report; default: from the table's
            ``unreported_rows`` by its ``job`` key.

    Example:
        >>> table = pd.DataFrame({"job": ["tts"], "rows": [3], "priced_rows": [3], "unpriced_rows": [0],
        ...                       "credits_est": [1.5], "usd_est": [0.06]})
        >>> Report(table, None, kind="forecast").total_est  # doctest: +SKIP
        1.5
    """

    def __init__(self, table: Any, unpriced: Any = None, *, title: str | None = None,
                 usd_per_credit: float | None = None, kind: str = "estimate",
                 keys: Sequence[str] | None = None, has_totals: bool | None = None,
                 unreported_jobs: Mapping[str, int] | None = None) -> None:
        if kind not in KINDS:
            msg = f"kind must be one of {KINDS}, got {kind!r}."
            raise ValidationError(msg)
        frame = nw.from_native(table, eager_only=True)
        self.kind = kind
        self.usd_per_credit = _usd(usd_per_credit, None)
        self.title = title or {"estimate": "Cost estimate", "run": "Cost report", "forecast": "Forecast"}[kind]
        if keys is None:
            # The leading text columns name the lines; the first number (count, rows ...) ends them.
            keys = []
            for c in frame.columns:
                if c in METRICS or not (c == "scenario" or isinstance(frame.schema[c], _TEXT)):
                    break
                keys.append(c)
            if "job" in frame.columns and keys in ([], ["scenario"]):
                keys.append("job")
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            msg = f"keys {missing} are not columns of the table {frame.columns}."
            raise ValidationError(msg)
        self.keys = list(keys)
        self._label_keys = [k for k in self.keys if k != "scenario"]  # what names a line within a scenario
        is_total = None if has_totals is False else self._total_mask(frame)
        if is_total is None:
            lines = frame
            frame, totals = self._with_totals(frame, self._totals(frame))
        else:
            lines, totals = frame.filter(~is_total), frame.filter(is_total)
        self._lines, self._totals_frame = lines, totals
        if unpriced is None:
            empty = nw.from_dict({"row": [], "job": [], "reason": []},
                                 {"row": nw.Int64(), "job": nw.String(), "reason": nw.String()},
                                 backend=frame.implementation)
            unpriced = empty if isinstance(table, nw.DataFrame) else empty.to_native()
        self._unpriced = nw.from_native(unpriced, eager_only=True)
        self.table = frame if isinstance(table, nw.DataFrame) else _tidy(frame.to_native())
        self.unpriced = unpriced if isinstance(unpriced, nw.DataFrame) else _tidy(unpriced)
        if unreported_jobs is None and "job" in lines.columns and "unreported_rows" in lines.columns:
            by_job = lines.group_by("job").agg(nw.col("unreported_rows").sum()).sort("job")
            unreported_jobs = dict(zip(by_job.get_column("job").to_list(),
                                       by_job.get_column("unreported_rows").to_list(), strict=True))
        self.unreported_jobs = {str(j): int(n) for j, n in (unreported_jobs or {}).items() if n}

    # -- totals ---------------------------------------------------------------------------------
    def _total_mask(self, frame: nw.DataFrame[Any]) -> Any:
        """Rows with "total" in the first label key; None when there is none (or that key is not text)."""
        if not self._label_keys or len(frame) == 0 or not isinstance(frame.schema[self._label_keys[0]], _TEXT):
            return None
        mask = (frame.get_column(self._label_keys[0]).cast(nw.String) == "total").fill_null(value=False)
        return mask if mask.any() else None

    def _totals(self, lines: nw.DataFrame[Any]) -> nw.DataFrame[Any]:
        """Total line(s) summed from the lines, one per scenario when there are scenarios; metric columns
        summed (unknown sums stay null), key columns "total" or null, descriptive columns null."""
        sums = [nw.col(c).sum() for c in METRICS if c in lines.columns and not c.startswith("usd_")]
        if "scenario" in self.keys:
            totals = (lines.group_by("scenario").agg(*sums) if sums else lines.select("scenario").unique())
        else:
            totals = lines.select(*sums) if sums else lines.select(nw.len().alias("rows"))
        totals = _complete(totals, self.usd_per_credit)
        schema = lines.schema
        first = self._label_keys[0] if self._label_keys else None
        fill = []
        for c in lines.columns:
            if c in totals.columns:
                fill.append(nw.col(c).cast(schema[c]))
            elif c == first and isinstance(schema[c], _TEXT):
                fill.append(nw.lit("total").cast(nw.String).alias(c))
            else:  # pandas' numpy integers hold no null: a float column (NaN) there, as pandas itself does
                numpy_int = schema[c].is_integer() and lines.implementation is not nw.Implementation.POLARS
                fill.append(nw.lit(None).cast(nw.Float64 if numpy_int else schema[c]).alias(c))
        return totals.select(*fill)

    def _with_totals(self, lines: nw.DataFrame[Any],
                     totals: nw.DataFrame[Any]) -> tuple[nw.DataFrame[Any], nw.DataFrame[Any]]:
        """The table with its totals, and the totals in table order."""
        if "scenario" not in self.keys or len(lines) == 0:
            return nw.concat([lines, totals], how="vertical"), totals
        parts, ordered = [], []
        # Each scenario's total right after its lines; there are few scenarios, so this loop is short.
        for name in lines.get_column("scenario").unique(maintain_order=True).to_list():
            same = nw.col("scenario").is_null() if name is None else nw.col("scenario") == name
            ordered.append(totals.filter(same))
            parts += [lines.filter(same), ordered[-1]]
        return nw.concat(parts, how="vertical"), nw.concat(ordered, how="vertical")

    def _total(self, column: str) -> Any:
        if column not in self._totals_frame.columns or len(self._totals_frame) != 1:
            return None
        return to_py(self._totals_frame.get_column(column).item(0))

    @property
    def total_est(self) -> float | None:
        """Credits estimated for the priced rows; None when no row has a price (or several scenarios)."""
        return self._total("credits_est")

    @property
    def total_charged(self) -> float | None:
        """Credits the provider reported as charged; None before a run or when it reported nothing."""
        return self._total("credits_charged")

    @property
    def unpriced_rows(self) -> int:
        """Rows without a price, never included in a sum (over every scenario)."""
        if "unpriced_rows" in self._lines.columns:
            return int(to_py(self._lines.get_column("unpriced_rows").sum()) or 0)
        return len(self._unpriced)

    @property
    def scenario_totals(self) -> dict[Any, dict[str, Any]]:
        """The total line of each scenario (or of the report, under None) as plain numbers."""
        rows = self._totals_frame.rows(named=True)
        return {to_py(r.get("scenario")): {c: to_py(v) for c, v in r.items() if c in METRICS} for r in rows}

    # -- rendering --------------------------------------------------------------------------------
    def summary(self) -> str:
        """One paragraph: what is estimated and charged, and what is left out and why.

        Example:
            >>> print(af.report(est).summary())  # doctest: +SKIP
            12.5 credits (0.50 USD) estimated for 8 of 10 rows; 2 rows have no price and are not included (...).
        """
        return render.summary(self)

    def chart(self) -> Any:
        """A matplotlib Figure: credits estimated per line (charged beside them after a run).

        Example:
            >>> af.report(est).chart().savefig("cost.png")  # doctest: +SKIP
        """
        return render.chart(self)

    def to_html(self, path: Any) -> Any:
        """Write one self-contained HTML file (summary, table, unpriced rows, chart); return ``path``.

        Example:
            >>> af.report(done, by="language").to_html("cost.html")  # doctest: +SKIP
            'cost.html'
        """
        from pathlib import Path

        Path(path).write_text(render.page(self), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return render.body(self)

    def __repr__(self) -> str:
        return render.short(self)
