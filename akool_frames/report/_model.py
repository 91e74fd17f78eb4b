"""A cost report's data: the lines, their totals, the unpriced rows and the figures read from them. The rendering
modules read it (``_render``, ``_html``); ``_report.Report`` adds the rendering to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw
from narwhals.stable.v2.dependencies import is_pandas_dataframe

from .._errors import ValidationError
from .._values import to_py
from ._read import _TEXT, COUNTS, DEFAULT_USD_PER_CREDIT, KINDS, METRICS, _complete

if TYPE_CHECKING:
    from .._client import Client
    from ..typing import EagerFrame

__all__ = ["ReportData", "tidy", "usd_rate"]


def tidy(native: Any, integers: Sequence[str] = ()) -> Any:
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



def usd_rate(usd_per_credit: float | None, client: Client | None) -> float:
    if usd_per_credit is None:
        if client is None:
            from .._client import default_if_set

            client = default_if_set()  # read, never made: a report needs no credentials
        usd_per_credit = getattr(client, "usd_per_credit", DEFAULT_USD_PER_CREDIT)
    if isinstance(usd_per_credit, bool) or not isinstance(usd_per_credit, int | float) or not usd_per_credit >= 0:
        msg = f"usd_per_credit must be a number of dollars >= 0, got {usd_per_credit!r}.\n\nHint: usd_per_credit=0.04."
        raise ValidationError(msg)
    return float(usd_per_credit)


class ReportData:
    """The data of a cost report and its totals, without rendering (``_render`` and ``_html`` read it; ``Report``
    adds the rendering). See ``Report`` for the arguments."""

    def __init__(self, table: EagerFrame | nw.DataFrame[Any], unpriced: EagerFrame | nw.DataFrame[Any] | None = None,
                 *, title: str | None = None, usd_per_credit: float | None = None, kind: str = "estimate",
                 keys: Sequence[str] | None = None, has_totals: bool | None = None,
                 unreported_jobs: Mapping[str, int] | None = None) -> None:
        if kind not in KINDS:
            msg = f"kind must be one of {KINDS}, got {kind!r}."
            raise ValidationError(msg)
        frame = nw.from_native(table, eager_only=True)
        self.kind = kind
        self.usd_per_credit = usd_rate(usd_per_credit, None)
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
        self.table = frame if isinstance(table, nw.DataFrame) else tidy(frame.to_native(), integers)
        self.unpriced = unpriced if isinstance(unpriced, nw.DataFrame) else tidy(
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

