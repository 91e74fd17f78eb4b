"""Cost reports: totals, a breakdown, USD, a chart and a shareable HTML file, from estimate/run output.

``af.report(frame, by=...)`` reads every group of result columns in a frame (a group is the
``{prefix}job`` column with its ``{prefix}credits_est``, ``{prefix}status`` ... siblings; chains carry
several), stacks them, and aggregates with one ``group_by`` (no Python loop over rows). Rows without a
price are counted and listed with their reasons, never summed as 0: a line that has any is shown as
incomplete wherever it is rendered.

The ``Report`` is also built from precomputed pieces by ``af.forecast``. The rendering lives in
``_render`` (summary text, chart) and ``_html`` (the page), over the data in ``_model``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import narwhals.stable.v2 as nw
from narwhals.stable.v2.dependencies import is_pandas_dataframe

from .._errors import ValidationError
from . import _html as _report_html
from . import _render as render
from ._model import ReportData, usd_rate
from ._read import _JOB, COUNTS, DEFAULT_USD_PER_CREDIT, KINDS, METRICS, _aggregate, _flags, _groups, _keys, _stack, _unpriced

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .._client import Client
    from ..typing import IntoFrame

__all__ = ["COUNTS", "DEFAULT_USD_PER_CREDIT", "KINDS", "METRICS", "Report", "report"]

PathT = TypeVar("PathT", bound="str | os.PathLike[str]")  # to_html gives back the path it was given


def report(frame: IntoFrame, by: str | Sequence[str] | None = None, *, usd_per_credit: float | None = None,
           client: Client | None = None) -> Report:
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
    usd = usd_rate(usd_per_credit, client)
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
class Report(ReportData):
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

    # -- rendering --------------------------------------------------------------------------------
    def summary(self) -> str:
        """One paragraph: what is estimated and charged, and what is left out and why.

        Example:
            >>> print(af.report(est).summary())  # doctest: +SKIP
            12.5 credits (0.50 USD) estimated for 8 of 10 rows; 2 rows have no price and are not included (...).
        """
        return render.summary(self)

    def chart(self) -> Figure:
        """A matplotlib Figure: credits estimated per line, each bar labelled (charged beside them after a run),
        the totals in the title, lines without a price as hatched placeholders saying how many rows they leave out.

        Example:
            >>> af.report(est).chart().savefig("cost.png")  # doctest: +SKIP
        """
        return render.chart(self)

    def to_html(self, path: PathT) -> PathT:
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
