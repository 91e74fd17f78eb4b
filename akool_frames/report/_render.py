"""How a Report is shown: numbers without float noise, the summary paragraph, the reasons rows are left out,
the chart. The HTML page is put together in ``_html``.

Everything here reads the report's aggregated table (one line per key, not per row) and the unpriced
rows grouped by reason (one ``group_by``, and the first ``FIRST_ROWS`` labels of each reason), so what is
rendered stays small for ten rows or ten million.
matplotlib is imported only when a chart is drawn, and only its object API is used (a ``Figure`` on an
Agg canvas): nothing touches pyplot's global figures or backend, so nothing pops up or is shown twice.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from .._values import to_py

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ._model import ReportData as Report

__all__ = ["FIRST_ROWS", "chart", "fmt_credits", "fmt_usd", "many", "reason_groups", "short", "summary", "whole"]

FIRST_ROWS = 5  # row labels named per reason of the unpriced rows (all of them are counted)
_ORDER, _NULL = "__af_order", "\x00"  # a row-order column; the stand-in of a null key while grouping
BARS_SHOWN = 40  # lines drawn in the chart


# ------------------------------------------------------------------------------------- numbers
def fmt_credits(value: Any) -> str:
    """Credits with at most 4 decimals, thousands separated, no float noise: 1234.50000001 -> "1,234.5"."""
    if value is None:
        return ""
    text = f"{float(value):,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def fmt_usd(value: Any) -> str:
    """Dollars to the cent: 49.375 -> "49.38"."""
    return "" if value is None else f"{float(value):,.2f}"


def whole(value: Any) -> int:
    value = to_py(value)
    return 0 if value is None else int(value)


def many(n: int, noun: str) -> str:
    return f"{n:,} {noun if n != 1 else noun[:-1]}"


# ------------------------------------------------------------------------------------- summary
def _reasons(rep: Report, scenario: Any, has_scenario: bool) -> str:
    """"job: first reason (+k other reasons)" per job of the unpriced rows, most frequent reason first."""
    unpriced = rep._unpriced
    if "reason" not in unpriced.columns or len(unpriced) == 0:
        return ""
    if has_scenario and "scenario" in unpriced.columns:
        unpriced = unpriced.filter(nw.col("scenario").is_null() if scenario is None else nw.col("scenario") == scenario)
    keys = ["job", "reason"] if "job" in unpriced.columns else ["reason"]
    counted = (unpriced.with_columns(nw.col(k).cast(nw.String) for k in keys)
               .group_by(*keys).agg(nw.len().alias("n")).sort("n", *keys, descending=[True] + [False] * len(keys)))
    # One line per job (reasons may be as many as rows): its most frequent reason and how many others.
    job = keys[:-1] or None
    top = counted.unique(subset=job, keep="first", maintain_order=True) if job else counted.head(1)
    distinct = (dict(counted.group_by("job").agg(nw.len().alias("k")).select("job", "k").iter_rows())
                if job else {None: len(counted)})
    parts = []
    for row in top.rows(named=True):
        name, first = row.get("job"), str(row["reason"])
        others = distinct[name] - 1
        more = f" (+{others} other reason{'s' if others != 1 else ''})" if others else ""
        parts.append(f"{name}: {first}{more}" if name is not None else f"{first}{more}")
    return "; ".join(parts)


def reason_groups(rep: Report) -> list[dict[str, Any]]:
    """The unpriced rows grouped by (scenario,) job and reason, most units first: each reason once and whole,
    with the rows (lines, in a forecast) and units it leaves out and its first few row labels."""
    unpriced = rep._unpriced
    if "reason" not in unpriced.columns or len(unpriced) == 0:
        return []
    keys = [k for k in ("scenario", "job", "reason") if k in unpriced.columns]
    units = nw.col("count").fill_null(0) if "count" in unpriced.columns else nw.lit(1)
    # Keys as text, null as a marker (a null key would drop out of a group), so the groups are exact.
    grouped = unpriced.with_row_index(_ORDER).with_columns(
        *(nw.col(k).cast(nw.String).fill_null(_NULL) for k in keys), units.cast(nw.Int64).alias("units"))
    counted = (grouped.group_by(*keys).agg(nw.len().alias("rows"), nw.col("units").sum(), nw.col(_ORDER).min())
               .sort("units", _ORDER, descending=[True, False]))  # most units first, then in row order
    firsts = grouped.filter(nw.col(_ORDER).cum_count().over(*keys, order_by=_ORDER) <= FIRST_ROWS)
    first: dict[tuple[Any, ...], list[Any]] = {}
    for row in firsts.sort(_ORDER).iter_rows(named=True):  # at most FIRST_ROWS per reason
        first.setdefault(tuple(row[k] for k in keys), []).append(to_py(row.get("row")))
    return [{**{k: None if row[k] == _NULL else row[k] for k in keys}, "rows": whole(row["rows"]),
             "units": whole(row["units"]), "first": first.get(tuple(row[k] for k in keys), [])}
            for row in counted.rows(named=True)]


def _paragraph(rep: Report, total: dict[str, Any], scenario: Any, has_scenario: bool) -> str:
    noun = "units" if rep.kind == "forecast" else "rows"
    rows, priced = total.get("rows"), total.get("priced_rows")
    unpriced, invalid = whole(total.get("unpriced_rows")), whole(total.get("invalid_rows"))
    est = to_py(total.get("credits_est"))
    clauses = []
    if est is None:
        clauses.append("no credits estimated")
    else:
        text = f"{fmt_credits(est)} credits ({fmt_usd(est * rep.usd_per_credit)} USD) estimated"
        if rows is not None and priced is not None and whole(priced) != whole(rows):
            text += f" for {whole(priced):,} of {many(whole(rows), noun)}"
        elif rows is not None:
            text += f" for {many(whole(rows), noun)}"
        clauses.append(text)
    if unpriced:
        reasons = _reasons(rep, scenario, has_scenario)
        verb = "has no price and is" if unpriced == 1 else "have no price and are"
        clauses.append(f"{many(unpriced, noun)} {verb} not included" + (f" ({reasons})" if reasons else ""))
    if invalid:
        clauses.append(f"{many(invalid, noun)} {'is' if invalid == 1 else 'are'} invalid (nothing sent)")
    if "credits_charged" in total:
        charged, unreported = whole(total.get("charged_rows")), whole(total.get("unreported_rows"))
        credits = to_py(total.get("credits_charged"))
        if charged and credits is not None:
            clauses.append(f"charged {fmt_credits(credits)} credits ({fmt_usd(credits * rep.usd_per_credit)} USD) "
                           f"on {many(charged, 'rows')}")
        if unreported:
            jobs = ", ".join(rep.unreported_jobs) if not has_scenario else ""
            lead = "not reported by the API" if charged else "charges not reported by the API"
            clauses.append(f"{lead} for {many(unreported, 'rows')}" + (f" ({jobs})" if jobs else ""))
        elif not charged:
            clauses.append("no charges reported")
    text = "; ".join(clauses) + "."
    return text[0].upper() + text[1:]


def summary(rep: Report) -> str:
    """The report in one paragraph; with scenarios, one sentence group per scenario."""
    has_scenario = "scenario" in rep.keys
    totals = rep._totals_frame.rows(named=True)  # one total line, or one per scenario
    parts = []
    for total in totals:
        scenario = to_py(total.get("scenario")) if has_scenario else None
        text = _paragraph(rep, total, scenario, has_scenario)
        parts.append(f"Scenario {scenario}: {text}" if has_scenario else text)
    return " ".join(parts) if parts else "Nothing to report."


def short(rep: Report) -> str:
    """A compact repr: kind, lines, totals, what is left out."""
    lines = len(rep._lines)
    parts = [f"{lines:,} line{'s' if lines != 1 else ''}"]
    if "scenario" in rep.keys:
        parts.append(f"{len(rep._totals_frame):,} scenarios")
    elif rep.total_est is not None:
        parts.append(f"{fmt_credits(rep.total_est)} credits ({fmt_usd(rep.total_est * rep.usd_per_credit)} USD) est")
    if rep.total_charged is not None:
        parts.append(f"{fmt_credits(rep.total_charged)} charged")
    if rep.unpriced_rows:
        parts.append(f"{rep.unpriced_rows:,} unpriced")
    if rep.unreported_jobs:
        parts.append(f"{sum(rep.unreported_jobs.values()):,} charges not reported")
    return f"<Report {rep.kind} {rep.title!r}: {', '.join(parts)}>"


# --------------------------------------------------------------------------------------- chart
@functools.cache
def _figure_class() -> type[Figure]:
    from matplotlib.figure import Figure

    class ReportFigure(Figure):
        """A Figure that shows itself in Jupyter as a PNG, with or without pyplot ever imported."""

        def _repr_png_(self) -> bytes:
            return png(self)

    return ReportFigure


def png(figure: Any) -> bytes:
    """The figure as PNG bytes, drawn on an Agg canvas (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def _label(row: dict[str, Any], keys: list[str]) -> str:
    values = [to_py(row.get(k)) for k in keys]
    return " · ".join("—" if v is None else str(v) for v in values) or "all"


_UNPRICED = "#a33"  # the colour of what is left out: hatched placeholder bars and their notes


def _bar_note(ax: Any, x: float, height: float, text: str, *, upright: bool, colour: str = "#333") -> None:
    ax.annotate(text, (x, height), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                fontsize=7, rotation=0 if upright else 90, color=colour)


def totals_lines(rep: Report) -> list[str]:
    """One line per total (per scenario): credits and USD estimated (and charged), what is left out."""
    noun = "units" if rep.kind == "forecast" else "rows"
    out = []
    for total in rep._totals_frame.rows(named=True):
        est, charged = to_py(total.get("credits_est")), to_py(total.get("credits_charged"))
        text = ("no credits estimated" if est is None else
                f"{fmt_credits(est)} credits ({fmt_usd(est * rep.usd_per_credit)} USD) estimated")
        if charged is not None:
            text += f", {fmt_credits(charged)} credits ({fmt_usd(charged * rep.usd_per_credit)} USD) charged"
        unpriced = whole(total.get("unpriced_rows"))
        if unpriced:
            text += f"; {many(unpriced, noun)} unpriced, not included"
        out.append(f"{to_py(total.get('scenario'))}: {text}" if "scenario" in rep.keys else f"Total: {text}")
    return out


def chart(rep: Report) -> Figure:
    """Bars of credits estimated per line, each labelled with its credits, charged beside them after a run;
    a line without any price is a hatched, outlined placeholder saying how many rows or units it leaves out,
    and the title gives the totals. With a ``scenario`` key the bars are grouped by scenario, one colour per line."""
    total_lines = len(rep._lines)
    shown = rep._lines.head(BARS_SHOWN).rows(named=True)  # lines of the table, not frame rows
    keys = rep._label_keys
    has_scenario = "scenario" in rep.keys
    run = "credits_charged" in rep._lines.columns
    noun = "units" if rep.kind == "forecast" else "rows"
    clusters: dict[Any, list[dict[str, Any]]] = {}
    for i, row in enumerate(shown):  # a cluster per scenario, or per line (two lines may share a label)
        clusters.setdefault(to_py(row.get("scenario")) if has_scenario else i, []).append(row)
    ticks = [str(k) if has_scenario else _label(v[0], keys) for k, v in clusters.items()]
    labels = list(dict.fromkeys(_label(r, keys) for r in shown))
    per_cluster = max(len(v) for v in clusters.values()) if clusters else 1
    bars = (2 if run else 1) * (per_cluster if has_scenario else 1)
    upright = bars * max(len(clusters), 1) <= 8  # few bars: notes read across; many: turned up
    figure = _figure_class()(figsize=(min(16.0, max(7.0, 1.2 + 0.45 * bars * max(len(clusters), 1))), 5.2),
                             layout="constrained")
    ax = figure.add_subplot()
    palette = [f"C{i % 10}" for i in range(len(labels))]
    width = 0.8 / bars
    heights = [to_py(r.get(c)) or 0.0 for r in shown for c in ("credits_est", "credits_charged")]
    placeholder = max(heights, default=0.0) * 0.08 or 1.0  # the height of a line that has no price at all
    marked = False
    for c, members in enumerate(clusters.values()):
        for m, row in enumerate(members):
            colour = palette[labels.index(_label(row, keys))] if has_scenario else "C0"
            series: list[tuple[str, str, str, str, str | None]] = [("credits_est", "unpriced_rows", "unpriced", colour, None)]
            if run:
                series.append(("credits_charged", "unreported_rows", "not reported",
                               colour if has_scenario else "C1", "//"))
            for s, (column, left_out, note, fill, hatch) in enumerate(series):
                x = c + (m * len(series) + s + 0.5) * width - 0.4
                value, missing = to_py(row.get(column)), whole(row.get(left_out))
                if value is None and missing:  # nothing known: an outlined, hatched placeholder, never a 0
                    ax.bar(x, placeholder, width * 0.95, facecolor="none", edgecolor=_UNPRICED, hatch="xx")
                    _bar_note(ax, x, placeholder, f"{missing:,} {noun} {note}", upright=upright, colour=_UNPRICED)
                    marked = True
                    continue
                ax.bar(x, value or 0.0, width * 0.95, color=fill, hatch=hatch, edgecolor="white" if hatch else None)
                text = fmt_credits(value or 0.0) + (f" (+{missing:,} {note})" if missing else "")
                _bar_note(ax, x, value or 0.0, text, upright=upright, colour=_UNPRICED if missing else "#333")
    tilt = len(clusters) > 4 or sum(len(t) for t in ticks) > 60
    ax.set_xticks(range(len(clusters)), ticks, rotation=30 if tilt else 0, ha="right" if tilt else "center")
    ax.set_ylabel("credits")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_credits(v)))
    ax.margins(y=0.2)
    if rep.usd_per_credit > 0:
        rate = rep.usd_per_credit
        def usd(credits: Any) -> Any:  # (matplotlib passes numbers and arrays)
            return credits * rate

        def back(usd: Any) -> Any:
            return usd / rate

        ax.secondary_yaxis("right", functions=(usd, back)).set_ylabel("USD")
    handles = _legend(has_scenario, run, labels, palette, marked=marked, noun=noun)
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1.0) if has_scenario else None)
    more = f" (first {BARS_SHOWN} of {total_lines:,} lines)" if total_lines > BARS_SHOWN else ""
    ax.set_title("\n".join([f"{rep.title}{more}", *totals_lines(rep)]), fontsize=10, loc="left")
    return figure


def _legend(has_scenario: bool, run: bool, labels: list[str], palette: list[str], *, marked: bool,
            noun: str) -> list[Any]:
    from matplotlib.patches import Patch

    handles = [Patch(color=p, label=label) for p, label in zip(palette, labels, strict=True)] if has_scenario else []
    if run:
        handles += [Patch(facecolor="C0" if not has_scenario else "grey", label="estimated"),
                    Patch(facecolor="C1" if not has_scenario else "grey", hatch="//", edgecolor="white",
                          label="charged")]
    if marked:
        handles.append(Patch(facecolor="none", edgecolor=_UNPRICED, hatch="xx", label=f"no price: {noun} left out"))
    return handles
