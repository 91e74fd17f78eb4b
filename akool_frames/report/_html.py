"""The Report as HTML, read at a glance: a headline with the totals and what is left out and why, then one
line per group with the money first (rows, credits, USD, charged, price basis), the rows without a price
grouped by reason, the chart, and the inputs folded away.

The page fits a 1280 px window without scrolling sideways: text cells wrap (``overflow-wrap: anywhere``,
a maximum width), no cell is nowrap or of a fixed width, and the folded inputs scroll inside their own box.
The headline carries ``id``/``data-testid`` attributes (``af-headline``, ``af-total-credits``,
``af-total-usd``) so a browser test can find it; the page itself has no script.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING, Any

import narwhals.stable.v2 as nw

from .._values import to_py
from . import _render as render

if TYPE_CHECKING:
    from ._model import ReportData as Report

__all__ = ["LINES_SHOWN", "body", "page"]

LINES_SHOWN = 500  # table lines rendered (totals always are)
_MONEY = ("rows", "credits_est", "usd_est", "credits_charged", "usd_charged", "price_basis")
_LEFT_OUT = ("priced_rows", "unpriced_rows", "invalid_rows", "charged_rows", "unreported_rows")  # shown if any
_METRICS = frozenset((*_MONEY, *_LEFT_OUT))
_COUNTS = frozenset(("rows", *_LEFT_OUT, "count"))

_STYLE = """
.af-report{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:14px;color:#222;max-width:1200px}
.af-report *{box-sizing:border-box}
.af-report h2{margin:.3em 0 .4em}
.af-report h3{margin:1.2em 0 .3em;font-size:15px}
.af-report table{border-collapse:collapse;margin:.4em 0 1em;max-width:100%}
.af-report th,.af-report td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top;
  overflow-wrap:break-word}
.af-report td.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}
.af-report td.af-text{max-width:34em;overflow-wrap:anywhere}
.af-report tr.af-total td{font-weight:600;background:#f4f4f4}
.af-report .af-incomplete{color:#a33}
.af-report .af-note{color:#555;font-size:12px}
.af-report img{max-width:100%;height:auto}
.af-report .af-headline{border:1px solid #ccd;border-radius:6px;background:#f7f8fc;padding:10px 14px;margin:0 0 1em}
.af-report .af-figures{display:flex;flex-wrap:wrap;gap:6px 28px;align-items:baseline}
.af-report .af-big{font-size:26px;font-weight:700;font-variant-numeric:tabular-nums}
.af-report .af-headline p{margin:.4em 0}
.af-report .af-headline ul{margin:.2em 0 .2em 1.2em;padding:0}
.af-report .af-headline li{overflow-wrap:anywhere}
.af-report .af-headline table{margin:.2em 0 .4em}
.af-report .af-headline td.num{font-size:18px;font-weight:700}
.af-report details{margin:.5em 0 1em}
.af-report summary{cursor:pointer;color:#345}
.af-report .af-scroll{max-width:100%;overflow-x:auto}
"""


# ---------------------------------------------------------------------------------------- cells
def _cell(column: str, value: Any) -> str:
    value = to_py(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if column.startswith("usd_"):
        return render.fmt_usd(value)
    if column in _COUNTS and isinstance(value, int | float) and float(value).is_integer():
        return f"{int(value):,}"
    if isinstance(value, float):
        return render.fmt_credits(value)
    if isinstance(value, int):
        return f"{value:,}" if column in _COUNTS else str(value)
    return str(value)


def _metric_cell(column: str, row: dict[str, Any]) -> tuple[str, bool]:
    """A cell's text, and whether it is a sum that leaves rows out (so it is never read as complete)."""
    text = _cell(column, row.get(column))
    left = {"credits_est": "unpriced_rows", "usd_est": "unpriced_rows",
            "credits_charged": "unreported_rows", "usd_charged": "unreported_rows"}.get(column)
    missing = render.whole(row.get(left)) if left else 0
    if not missing:
        return text, column == "price_basis" and text.startswith("no price")
    what = "unpriced" if left == "unpriced_rows" else "not reported"
    known = f"{text} + ?" if text else "?"
    return (f"{known} ({missing:,} {what})" if column.startswith("credits_") else known), True


def _table(frame: nw.DataFrame[Any], columns: list[str], totals: set[int] | None = None,
           headers: dict[str, str] | None = None) -> str:
    head = "".join(f"<th>{html.escape((headers or {}).get(c, c))}</th>" for c in columns)
    body = []
    for i, row in enumerate(frame.rows(named=True)):
        cells = []
        for c in columns:
            text, incomplete = _metric_cell(c, row)
            value = to_py(row.get(c))
            number = (isinstance(value, int | float) and not isinstance(value, bool)) or (incomplete and c != "price_basis")
            classes = " ".join(n for n, on in (("num", number), ("af-text", not number and len(text) > 30),
                                                ("af-incomplete", incomplete)) if on)
            cells.append(f"<td class=\"{classes}\">{html.escape(text)}</td>" if classes else f"<td>{html.escape(text)}</td>")
        total = totals is not None and i in totals
        body.append(f"<tr class=\"af-total\">{''.join(cells)}</tr>" if total else f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# ------------------------------------------------------------------------------------- headline
def _left_out(rep: Report, noun: str) -> list[str]:
    """The reasons rows are left out, each once and whole: "500 units · talking_photo: reason"."""
    merged: dict[tuple[Any, Any], dict[Any, int]] = {}  # (job, reason) -> units per scenario
    for group in render.reason_groups(rep):
        merged.setdefault((group.get("job"), group["reason"]), {})[group.get("scenario")] = group["units"]
    order = [None if s is None else str(s) for s in
             (to_py(t.get("scenario")) for t in rep._totals_frame.rows(named=True))]
    items = []
    for (job, reason), units in merged.items():
        if "scenario" in rep.keys:
            every = len(set(units.values())) == 1 and set(units) == set(order)
            counts = (f"{render.many(next(iter(units.values())), noun)} in each scenario" if every
                      else ", ".join(f"{s}: {render.many(units[s], noun)}" for s in order if s in units))
        else:
            counts = render.many(sum(units.values()), noun)
        name = f"<b>{html.escape(str(job))}</b>: " if job is not None else ""
        items.append(f"<li><span class=\"af-incomplete\">{html.escape(counts)}</span> · {name}{html.escape(str(reason))}</li>")
    return items


def _figures(rep: Report, total: dict[str, Any], noun: str) -> str:
    est = to_py(total.get("credits_est"))
    credits = "none" if est is None else render.fmt_credits(est)
    usd = "—" if est is None else render.fmt_usd(est * rep.usd_per_credit)
    rows, priced = render.whole(total.get("rows")), render.whole(total.get("priced_rows"))
    scope = (f"estimated for {priced:,} of {render.many(rows, noun)}" if priced != rows and "priced_rows" in total
             else f"estimated for {render.many(rows, noun)}")
    return ("<div class=\"af-figures\">"
            f"<div><span class=\"af-big\" data-testid=\"af-total-credits\">{credits}</span> credits</div>"
            f"<div><span class=\"af-big\" data-testid=\"af-total-usd\">{usd}</span> USD</div>"
            f"<div>{html.escape(scope)}</div></div>")


def _scenario_table(rep: Report, totals: list[dict[str, Any]], noun: str) -> str:
    head = f"<tr><th>scenario</th><th>credits</th><th>USD</th><th>priced {noun}</th><th>left out (no price)</th></tr>"
    rows = []
    for total in totals:
        est = to_py(total.get("credits_est"))
        unpriced = render.whole(total.get("unpriced_rows"))
        rows.append(
            f"<tr><td>{html.escape(str(to_py(total.get('scenario'))))}</td>"
            f"<td class=\"num\" data-testid=\"af-total-credits\">{'none' if est is None else render.fmt_credits(est)}</td>"
            f"<td class=\"num\" data-testid=\"af-total-usd\">"
            f"{'—' if est is None else render.fmt_usd(est * rep.usd_per_credit)}</td>"
            f"<td>{render.whole(total.get('priced_rows')):,} of {render.whole(total.get('rows')):,}</td>"
            f"<td class=\"{'af-incomplete' if unpriced else ''}\">{render.many(unpriced, noun) if unpriced else '—'}</td></tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _charges(rep: Report, total: dict[str, Any]) -> list[str]:
    out = []
    invalid = render.whole(total.get("invalid_rows"))
    if invalid:
        out.append(f"{render.many(invalid, 'rows')} invalid (nothing sent, not in the totals).")
    if "credits_charged" not in total:
        return out
    charged, credits = render.whole(total.get("charged_rows")), to_py(total.get("credits_charged"))
    if charged and credits is not None:
        out.append(f"Charged, as the API reported: <b>{render.fmt_credits(credits)} credits "
                   f"({render.fmt_usd(credits * rep.usd_per_credit)} USD)</b> on {render.many(charged, 'rows')}.")
    unreported = render.whole(total.get("unreported_rows"))
    if unreported:
        jobs = ", ".join(rep.unreported_jobs)
        out.append(f"<span class=\"af-incomplete\">Charges not reported by the API for "
                   f"{render.many(unreported, 'rows')}</span>" + (f" ({html.escape(jobs)})" if jobs else "") + ".")
    elif not charged:
        out.append("No charges reported.")
    return out


def _headline(rep: Report) -> str:
    noun = "units" if rep.kind == "forecast" else "rows"
    totals = rep._totals_frame.rows(named=True)
    parts = ["<section class=\"af-headline\" id=\"af-headline\" data-testid=\"af-headline\">"]
    if "scenario" in rep.keys:
        parts.append(_scenario_table(rep, totals, noun))
    elif totals:
        parts.append(_figures(rep, totals[0], noun))
        parts += [f"<p>{line}</p>" for line in _charges(rep, totals[0])]
    unpriced = sum(render.whole(t.get("unpriced_rows")) for t in totals)
    reasons = _left_out(rep, noun)
    if unpriced or reasons:
        lead = ("Left out of the totals (no price):" if "scenario" in rep.keys else
                f"<b>{render.many(unpriced, noun)}</b> left out of the totals (no price):")
        parts.append(f"<p class=\"af-incomplete\">{lead}</p><ul>{''.join(reasons)}</ul>")
    parts.append("</section>")
    return "".join(parts)


# ------------------------------------------------------------------------------------- sections
def _unpriced_section(rep: Report) -> list[str]:
    groups = render.reason_groups(rep)
    if not groups:
        return []
    forecast = rep.kind == "forecast"
    rows = sum(g["rows"] for g in groups)
    lead = (f"Lines without a price ({rows:,} lines, {sum(g['units'] for g in groups):,} units), by reason"
            if forecast else f"Rows without a price ({rows:,}), by reason")
    scenario = "scenario" in groups[0]
    head = ["scenario"] * scenario + ["job", "reason", "lines" if forecast else "rows"] + ["units"] * forecast
    head.append("first lines" if forecast else "first rows")
    body = []
    for g in groups:
        first = ", ".join(str(v) for v in g["first"]) + (", …" if g["rows"] > len(g["first"]) else "")
        first = first if g["first"] else "see Report.unpriced"
        cells = ([html.escape(str(g.get("scenario")))] * scenario
                 + [html.escape(str(g.get("job") or "")), html.escape(str(g["reason"]))])
        numbers = [f"{g['rows']:,}"] + [f"{g['units']:,}"] * forecast
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells[:-1]) + f"<td class=\"af-text\">{cells[-1]}</td>"
                    + "".join(f"<td class=\"num\">{n}</td>" for n in numbers) + f"<td>{html.escape(first)}</td></tr>")
    table = (f"<table><thead><tr>{''.join(f'<th>{h}</th>' for h in head)}</tr></thead>"
             f"<tbody>{''.join(body)}</tbody></table>")
    return [f"<h3>{html.escape(lead)}</h3>", table,
            "<p class=\"af-note\">Every row is in Report.unpriced, with its reason.</p>"]


def body(rep: Report) -> str:
    """The report as an HTML fragment (Jupyter's ``_repr_html_``)."""
    lines, totals = rep._lines, rep._totals_frame
    shown = lines.head(LINES_SHOWN)
    parts_of = [(shown, False), (totals, True)]  # (rows, whether they are total lines)
    named = len(totals) and None not in [to_py(v) for v in totals.get_column("scenario").to_list()] \
        if "scenario" in totals.columns else False
    if "scenario" in rep.keys and len(lines) <= LINES_SHOWN and named:  # each scenario's total after its lines
        parts_of = [(f.filter(nw.col("scenario") == t["scenario"]), f is totals) for t in totals.rows(named=True)
                    for f in (shown, totals)]
    parts_of = [(part, total) for part, total in parts_of if len(part)]
    table = nw.concat([part for part, _ in parts_of], how="vertical") if len(totals) else shown
    marked, at = set(), 0  # the total lines' places in the table (a report keyed by scenario alone names none)
    for part, total in parts_of if len(totals) else []:
        marked |= set(range(at, at + len(part))) if total else set()
        at += len(part)
    keys = [k for k in rep.keys if k in table.columns]
    counted = [c for c in _LEFT_OUT if c in table.columns and c != "priced_rows"
               and any(render.whole(v) for v in table.get_column(c).to_list())]
    main = [*keys, *(c for c in _MONEY if c in table.columns), *counted]
    inputs = [c for c in table.columns if c not in keys and c not in _METRICS]
    headers = {"rows": "units"} if rep.kind == "forecast" else {}
    parts = [f"<div class=\"af-report\"><style>{_STYLE}</style>", f"<h2>{html.escape(rep.title)}</h2>",
             _headline(rep), _table(table, main, marked, headers)]
    if len(lines) > LINES_SHOWN:
        parts.append(f"<p class=\"af-note\">First {LINES_SHOWN:,} of {len(lines):,} lines, then the totals.</p>")
    if any(c in lines.columns for c in ("unpriced_rows", "unreported_rows")):
        parts.append("<p class=\"af-note\">“+ ?” marks a sum that leaves rows out: rows without a price, or "
                     "whose charge the API did not report. They are counted, never added as 0.</p>")
    parts += _unpriced_section(rep)
    encoded = base64.b64encode(render.png(render.chart(rep))).decode("ascii")
    parts.append(f"<img alt=\"{html.escape(rep.title)} chart\" src=\"data:image/png;base64,{encoded}\">")
    if inputs:
        parts.append(f"<details><summary>Inputs per line ({html.escape(', '.join(inputs))})</summary>"
                     f"<div class=\"af-scroll\">{_table(shown, [*keys, *inputs])}</div></details>")
    parts.append("</div>")
    return "\n".join(parts)


def page(rep: Report) -> str:
    """A whole self-contained HTML page: no scripts, no external styles or images."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(rep.title)}</title>\n</head>\n<body>\n{body(rep)}\n</body>\n</html>\n")
