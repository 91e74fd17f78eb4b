"""Cost reports: totals, a breakdown, USD, a chart and a shareable HTML file, from estimate/run output.

``af.report(frame, by=...)`` reads every group of result columns in a frame (a group is the
``{prefix}job`` column with its ``{prefix}credits_est``, ``{prefix}status`` ... siblings; chains carry
several), stacks them, and aggregates with one ``group_by`` (no Python loop over rows). Rows without a
price are counted and listed with their reasons, never summed as 0: a line that has any is shown as
incomplete wherever it is rendered.

The ``Report`` is also built from precomputed pieces by ``af.forecast``. The rendering lives in
``_report_render`` (summary text, chart) and ``_report_html`` (the page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals.stable.v2 as nw
from narwhals.stable.v2.dependencies import is_pandas_dataframe

from . import _report_html, _report_render as render
from ._errors import ValidationError
from ._frames import to_py
from ._report_read import (
    _JOB,
    _TEXT,
    COUNTS,
    DEFAULT_USD_PER_CREDIT,
    KINDS,
    METRICS,
    _aggregate,
    _complete,
    _flags,
    _groups,
    _keys,
    _stack,
    _unpriced,
)

__all__ = ["COUNTS", "DEFAULT_USD_PER_CREDIT", "KINDS", "METRICS", "Report", "report"]


def _tidy(native: Any, integers: Sequence[str] = ()) -> Any:
    """pandas only: a fresh 0..n-1 index (group_by and concat leave theirs) and the nullable dtypes the
    result columns use, so an unknown sum reads <NA>, not NaN, and a count 500, not 500.0: ``integers`` (the
    integer columns before a null total was added) and a whole ``count`` as Int64, other numbers Float64."""
    if not is_pandas_dataframe(native):
        return native
    out = native.reset_index(drop=True)
    types = {c: "Int64" if c in COUNTS else "Float64" for c in METRICS if c in out.columns}
    for c in out.columns:
        if c not in types and out[c].dtype.kind in "fiu":
            whole = c in integers or (c == "count" and bool(((out[c] % 1 == 0) | out[c].isna()).all()))
            types[c] = "Int64" if whole else "Float64"
        elif c not in types and out[c].dtype.kind in "OT":  # text (pandas 3's NaN-based str, or object): "string"
            types[c] = "string"
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
        integers = [c for c, t in lines.schema.items() if t.is_integer()]
        self.table = frame if isinstance(table, nw.DataFrame) else _tidy(frame.to_native(), integers)
        self.unpriced = unpriced if isinstance(unpriced, nw.DataFrame) else _tidy(
            unpriced, [c for c, t in self._unpriced.schema.items() if t.is_integer()])
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
        """A matplotlib Figure: credits estimated per line, each bar labelled (charged beside them after a run),
        the totals in the title, lines without a price as hatched placeholders saying how many rows they leave out.

        Example:
            >>> af.report(est).chart().savefig("cost.png")  # doctest: +SKIP
        """
        return render.chart(self)

    def to_html(self, path: Any) -> Any:
        """Write one self-contained HTML file; return ``path``. It reads at a glance in a 1280 px window: a
        headline (total credits and USD, the rows left out and why), a line per group with the money first,
        the unpriced rows grouped by reason, the chart, then the inputs folded.

        Example:
            >>> af.report(done, by="language").to_html("cost.html")  # doctest: +SKIP
            'cost.html'
        """
        from pathlib import Path

        Path(path).write_text(_report_html.page(self), encoding="utf-8")
        return path

    def _repr_html_(self) -> str:
        return _report_html.body(self)

    def __repr__(self) -> str:
        return render.short(self)
