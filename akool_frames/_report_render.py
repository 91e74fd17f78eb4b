"""How a Report is shown: numbers without float noise, the summary paragraph, the chart, the HTML.

Everything here reads the report's aggregated table (one line per key, not per row) and at most the
first ``UNPRICED_SHOWN`` unpriced rows, so rendering costs the same for ten rows or ten million.
matplotlib is imported only when a chart is drawn, and only its object API is used (a ``Figure`` on an
Agg canvas): nothing touches pyplot's global figures or backend, so nothing pops up or is shown twice.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from ._frames import to_py

if TYPE_CHECKING:
    from .report import Report

__all__ = ["UNPRICED_SHOWN", "body", "chart", "fmt_credits", "fmt_usd", "page", "short", "summary"]

UNPRICED_SHOWN = 200  # unpriced rows listed in HTML; the rest are counted
LINES_SHOWN = 500  # table lines rendered in HTML (totals always are)
BARS_SHOWN = 40  # lines drawn in the chart
_REASON_CHARS = 120
_COUNTS = frozenset({"rows", "invalid_rows", "priced_rows", "unpriced_rows", "charged_rows", "unreported_rows",
                     "count"})


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


def _count(value: Any) -> int:
    value = to_py(value)
    return 0 if value is None else int(value)


def _many(n: int, noun: str) -> str:
    return f"{n:,} {noun if n != 1 else noun[:-1]}"


def _cell(column: str, value: Any) -> str:
    value = to_py(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if column.startswith("usd_"):
        return fmt_usd(value)
    if column in _COUNTS and isinstance(value, int | float):
        return f"{int(value):,}"
    if isinstance(value, float):
        return fmt_credits(value)
    return str(value)


# ------------------------------------------------------------------------------------- summary
def _reasons(rep: Report, scenario: Any, has_scenario: bool) -> str:
    """"job: first reason (+k other reasons)" per job of the unpriced rows, most frequent reason first."""
    unpriced = rep._unpriced  # noqa: SLF001
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
        first = first if len(first) <= _REASON_CHARS else first[:_REASON_CHARS - 1] + "…"
        others = distinct[name] - 1
        more = f" (+{others} other reason{'s' if others != 1 else ''})" if others else ""
        parts.append(f"{name}: {first}{more}" if name is not None else f"{first}{more}")
    return "; ".join(parts)


def _paragraph(rep: Report, total: dict[str, Any], scenario: Any, has_scenario: bool) -> str:
    noun = "units" if rep.kind == "forecast" else "rows"
    rows, priced = total.get("rows"), total.get("priced_rows")
    unpriced, invalid = _count(total.get("unpriced_rows")), _count(total.get("invalid_rows"))
    est = to_py(total.get("credits_est"))
    clauses = []
    if est is None:
        clauses.append("no credits estimated")
    else:
        text = f"{fmt_credits(est)} credits ({fmt_usd(est * rep.usd_per_credit)} USD) estimated"
        if rows is not None and priced is not None and _count(priced) != _count(rows):
            text += f" for {_count(priced):,} of {_many(_count(rows), noun)}"
        elif rows is not None:
            text += f" for {_many(_count(rows), noun)}"
        clauses.append(text)
    if unpriced:
        reasons = _reasons(rep, scenario, has_scenario)
        verb = "has no price and is" if unpriced == 1 else "have no price and are"
        clauses.append(f"{_many(unpriced, noun)} {verb} not included" + (f" ({reasons})" if reasons else ""))
    if invalid:
        clauses.append(f"{_many(invalid, noun)} {'is' if invalid == 1 else 'are'} invalid (nothing sent)")
    if "credits_charged" in total:
        charged, unreported = _count(total.get("charged_rows")), _count(total.get("unreported_rows"))
        credits = to_py(total.get("credits_charged"))
        if charged and credits is not None:
            clauses.append(f"charged {fmt_credits(credits)} credits ({fmt_usd(credits * rep.usd_per_credit)} USD) "
                           f"on {_many(charged, 'rows')}")
        if unreported:
            jobs = ", ".join(rep.unreported_jobs) if not has_scenario else ""
            lead = "not reported by the API" if charged else "charges not reported by the API"
            clauses.append(f"{lead} for {_many(unreported, 'rows')}" + (f" ({jobs})" if jobs else ""))
        elif not charged:
            clauses.append("no charges reported")
    text = "; ".join(clauses) + "."
    return text[0].upper() + text[1:]


def summary(rep: Report) -> str:
    """The report in one paragraph; with scenarios, one sentence group per scenario."""
    has_scenario = "scenario" in rep.keys
    totals = rep._totals_frame.rows(named=True)  # noqa: SLF001  # one total line, or one per scenario
    parts = []
    for total in totals:
        scenario = to_py(total.get("scenario")) if has_scenario else None
        text = _paragraph(rep, total, scenario, has_scenario)
        parts.append(f"Scenario {scenario}: {text}" if has_scenario else text)
    return " ".join(parts) if parts else "Nothing to report."


def short(rep: Report) -> str:
    """A compact repr: kind, lines, totals, what is left out."""
    lines = len(rep._lines)  # noqa: SLF001
    parts = [f"{lines:,} line{'s' if lines != 1 else ''}"]
    if "scenario" in rep.keys:
        parts.append(f"{len(rep._totals_frame):,} scenarios")  # noqa: SLF001
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
def _figure_class() -> type:
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


def _bar_note(ax: Any, x: float, height: float, text: str) -> None:
    ax.annotate(text, (x, height), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                fontsize=7, rotation=90, color="#a33")


def chart(rep: Report) -> Any:
    """Bars of credits estimated per line, charged beside them after a run; unpriced counts annotated.
    With a ``scenario`` key the bars are grouped by scenario, one colour per line."""
    total_lines = len(rep._lines)  # noqa: SLF001
    shown = rep._lines.head(BARS_SHOWN).rows(named=True)  # noqa: SLF001  # lines of the table, not frame rows
    keys = rep._label_keys  # noqa: SLF001
    has_scenario = "scenario" in rep.keys
    run = "credits_charged" in rep._lines.columns  # noqa: SLF001
    clusters: dict[Any, list[dict[str, Any]]] = {}
    for i, row in enumerate(shown):  # a cluster per scenario, or per line (two lines may share a label)
        clusters.setdefault(to_py(row.get("scenario")) if has_scenario else i, []).append(row)
    ticks = [str(k) if has_scenario else _label(v[0], keys) for k, v in clusters.items()]
    labels = list(dict.fromkeys(_label(r, keys) for r in shown))
    per_cluster = max(len(v) for v in clusters.values()) if clusters else 1
    bars = (2 if run else 1) * (per_cluster if has_scenario else 1)
    figure = _figure_class()(figsize=(min(16.0, max(6.0, 1.2 + 0.45 * bars * max(len(clusters), 1))), 4.8),
                             layout="constrained")
    ax = figure.add_subplot()
    palette = [f"C{i % 10}" for i in range(len(labels))]
    width = 0.8 / bars
    for c, (name, members) in enumerate(clusters.items()):
        for m, row in enumerate(members):
            colour = palette[labels.index(_label(row, keys))] if has_scenario else "C0"
            series = [("credits_est", "unpriced_rows", "unpriced", colour, None)]
            if run:
                series.append(("credits_charged", "unreported_rows", "not reported",
                               colour if has_scenario else "C1", "//"))
            for s, (column, left_out, note, fill, hatch) in enumerate(series):
                slot = m * len(series) + s
                x = c + (slot + 0.5) * width - 0.4
                height = to_py(row.get(column)) or 0.0
                ax.bar(x, height, width * 0.95, color=fill, hatch=hatch, edgecolor="white" if hatch else None)
                missing = _count(row.get(left_out))
                if missing:
                    _bar_note(ax, x, height, f"+{missing:,} {note}")
    tilt = len(clusters) > 4 or sum(len(t) for t in ticks) > 60
    ax.set_xticks(range(len(clusters)), ticks, rotation=30 if tilt else 0, ha="right" if tilt else "center")
    ax.set_ylabel("credits")
    ax.margins(y=0.15)
    if rep.usd_per_credit > 0:
        rate = rep.usd_per_credit
        ax.secondary_yaxis("right", functions=(lambda c: c * rate, lambda d: d / rate)).set_ylabel("USD")
    handles = _legend(has_scenario, run, labels, palette)
    if handles:
        ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.12, 1.0) if has_scenario else None)
    more = f" (first {BARS_SHOWN} of {total_lines:,} lines)" if total_lines > BARS_SHOWN else ""
    ax.set_title(f"{rep.title}{more}", fontsize=11)
    return figure


def _legend(has_scenario: bool, run: bool, labels: list[str], palette: list[str]) -> list[Any]:
    from matplotlib.patches import Patch

    handles = [Patch(color=p, label=label) for p, label in zip(palette, labels, strict=True)] if has_scenario else []
    if run:
        handles += [Patch(facecolor="C0" if not has_scenario else "grey", label="estimated"),
                    Patch(facecolor="C1" if not has_scenario else "grey", hatch="//", edgecolor="white",
                          label="charged")]
    return handles


# ---------------------------------------------------------------------------------------- HTML
_STYLE = """
.af-report{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;color:#222;max-width:1100px}
.af-report table{border-collapse:collapse;margin:.5em 0 1em}
.af-report th,.af-report td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
.af-report td.num{text-align:right;font-variant-numeric:tabular-nums}
.af-report tr.af-total td{font-weight:600;background:#f4f4f4}
.af-report .af-incomplete{color:#a33}
.af-report .af-note{color:#555;font-size:12px}
.af-report img{max-width:100%}
"""


def _metric_cell(column: str, row: dict[str, Any]) -> tuple[str, bool]:
    """A metric cell's text, and whether it leaves rows out (so it is never read as complete)."""
    text = _cell(column, row.get(column))
    left = {"credits_est": "unpriced_rows", "usd_est": "unpriced_rows",
            "credits_charged": "unreported_rows", "usd_charged": "unreported_rows"}.get(column)
    missing = _count(row.get(left)) if left else 0
    if not missing:
        return text, False
    what = "unpriced" if left == "unpriced_rows" else "not reported"
    known = f"{text} + ?" if text else "?"
    return (f"{known} ({missing:,} {what})" if column.startswith("credits_") else known), True


def _table_html(frame: nw.DataFrame[Any], totals: set[int] | None = None, limit: int | None = None) -> str:
    columns = frame.columns
    rows = frame.head(limit).rows(named=True) if limit is not None else frame.rows(named=True)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for c in columns:
            text, incomplete = _metric_cell(c, row)
            value = to_py(row.get(c))
            classes = " ".join(n for n, on in (("num", isinstance(value, int | float) or incomplete),
                                                ("af-incomplete", incomplete)) if on)
            cells.append(f"<td class=\"{classes}\">{html.escape(text)}</td>" if classes
                         else f"<td>{html.escape(text)}</td>")
        total = totals is not None and i in totals
        body.append(f"<tr class=\"af-total\">{''.join(cells)}</tr>" if total else f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def body(rep: Report) -> str:
    """The report as an HTML fragment (Jupyter's ``_repr_html_``): summary, table, unpriced rows, chart."""
    lines, totals = rep._lines, rep._totals_frame  # noqa: SLF001
    shown = lines.head(LINES_SHOWN)
    table = nw.concat([shown, totals], how="vertical") if len(totals) else shown
    total_rows = set(range(len(shown), len(table)))
    parts = [f"<div class=\"af-report\"><style>{_STYLE}</style>",
             f"<h2>{html.escape(rep.title)}</h2>",
             f"<p class=\"af-summary\">{html.escape(rep.summary())}</p>",
             _table_html(table, total_rows)]
    if len(lines) > LINES_SHOWN:
        parts.append(f"<p class=\"af-note\">First {LINES_SHOWN:,} of {len(lines):,} lines, then the totals.</p>")
    if any(c in lines.columns for c in ("unpriced_rows", "unreported_rows")):
        parts.append("<p class=\"af-note\">“+ ?” marks a sum that leaves rows out: rows without a price, or "
                     "whose charge the API did not report. They are counted, never added as 0.</p>")
    unpriced = rep._unpriced  # noqa: SLF001
    if len(unpriced):
        parts.append(f"<h3>Rows without a price ({len(unpriced):,})</h3>")
        parts.append(_table_html(unpriced, limit=UNPRICED_SHOWN))
        if len(unpriced) > UNPRICED_SHOWN:
            rest = len(unpriced) - UNPRICED_SHOWN
            parts.append(f"<p class=\"af-note\">… and {rest:,} more rows without a price (see Report.unpriced).</p>")
    figure = chart(rep)
    encoded = base64.b64encode(png(figure)).decode("ascii")
    parts.append(f"<img alt=\"{html.escape(rep.title)} chart\" src=\"data:image/png;base64,{encoded}\">")
    parts.append("</div>")
    return "\n".join(parts)


def page(rep: Report) -> str:
    """A whole self-contained HTML page: no scripts, no external styles or images."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(rep.title)}</title>\n</head>\n<body>\n{body(rep)}\n</body>\n</html>\n")
