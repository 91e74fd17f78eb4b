"""Reports and forecasts read at a glance, checked in the HTML, the frames and the chart.

The sample campaign (sample_data/campaign.csv) has two lines the docs give no price for (500 talking
photos, 40 video translations): the page leads with the totals and those 540 units with their reasons,
each reason once and whole; per line the money comes first, the campaign's inputs folded after it; counts
are integers everywhere; the chart's title carries the totals and unpriced lines are hatched placeholders.
(The layout in a real browser is tests/test_report_browser.py.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af

ROOT = Path(__file__).resolve().parents[1]
TP_REASON = ("the docs give no price for talking_photo; pass rates={'talking_photo': ...} (credits per minute of "
             "output video, as long as its audio) or calibrate from the ledger")
VT_REASON = ("the docs give no price for video_translation; pass rates={'video_translation': ...} (credits per "
             "minute of source video per target language) or calibrate from the ledger")


class _Client:
    plan, usd_per_credit = "pro", 0.04


@pytest.fixture(params=["pandas", "polars"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def campaign() -> pd.DataFrame:
    return af.read_sheet(ROOT / "sample_data" / "campaign.csv")


def scenarios(backend: str = "pandas") -> af.Report:
    plan = campaign()
    at_720p = plan.assign(resolution=plan["resolution"].replace({"1080p": "720p"}))
    return af.forecast({"as planned": plan, "720p only": at_720p}, client=_Client(), backend=backend)


def headers(table_html: str) -> list[str]:
    return re.findall(r"<th>(.*?)</th>", table_html.split("</thead>")[0])


def escaped(text: str) -> str:
    return text.replace("'", "&#x27;")


# ---------------------------------------------------------------------------------------- page
def test_the_page_leads_with_the_totals_and_what_is_left_out() -> None:
    page = scenarios()._repr_html_()
    headline = page.split('data-testid="af-headline"')[1].split("</section>")[0]
    assert page.index('data-testid="af-headline"') < page.index("<th>credits_est</th>")  # before any line
    assert re.findall(r'data-testid="af-total-credits">([^<]*)<', headline) == ["13,556", "11,556"]
    assert re.findall(r'data-testid="af-total-usd">([^<]*)<', headline) == ["542.24", "462.24"]
    assert "4,550 of 5,090" in headline and "540 units" in headline
    # each reason once, whole, with its count; the same in both scenarios is said once
    assert headline.count(escaped(TP_REASON)) == 1 and headline.count(escaped(VT_REASON)) == 1
    assert "500 units in each scenario</span> · <b>talking_photo</b>" in headline
    assert "40 units in each scenario</span> · <b>video_translation</b>" in headline
    assert "…" not in page


def test_one_estimate_headline_says_the_rows_left_out(backend: str) -> None:
    fc = af.forecast(campaign(), client=_Client(), backend=backend)
    headline = fc._repr_html_().split("</section>")[0]
    assert '<span class="af-big" data-testid="af-total-credits">13,556</span> credits' in headline
    assert '<span class="af-big" data-testid="af-total-usd">542.24</span> USD' in headline
    assert "estimated for 4,550 of 5,090 units" in headline
    assert "<b>540 units</b> left out of the totals (no price)" in headline


def test_money_columns_first_and_the_inputs_folded() -> None:
    page = scenarios()._repr_html_()
    main = page[page.index("</section>"):]
    assert headers(main) == ["scenario", "job", "units", "credits_est", "usd_est", "price_basis", "unpriced_rows"]
    folded = page[page.index("<details>"):page.index("</details>")]
    assert headers(folded.split("<table>")[1]) == ["scenario", "job", "count", "duration_s", "characters",
                                                   "resolution", "video_length", "languages", "type",
                                                   "description", "unit_credits"]
    assert page.index("<details>") > page.index("<img")  # inputs after the money and the chart
    # each scenario's total right after its own lines
    firsts = re.findall(r"<tr(?: class=\"af-total\")?><td>([^<]*)</td><td>([^<]*)</td>", main.split("</table>")[0])
    assert firsts[7] == ("as planned", "total") and firsts[-1] == ("720p only", "total")


def test_counts_are_integers_in_the_page_and_the_table(backend: str) -> None:
    fc = scenarios(backend)
    page = fc._repr_html_()
    assert not re.search(r">[\d,]+\.0<", page)  # no 500.0, 30.0 ...
    assert '<td class="num">500</td>' in page and '<td class="num">30</td>' in page
    schema = dict(fc.table.schema) if backend == "polars" else fc.table.dtypes.astype(str).to_dict()
    ints, floats = ("Int64", "Float64") if backend == "pandas" else (pl.Int64, pl.Float64)
    for column in ("count", "rows", "priced_rows", "unpriced_rows", "duration_s", "characters", "video_length"):
        assert schema[column] == ints, column
    for column in ("unit_credits", "credits_est", "usd_est"):
        assert schema[column] == floats, column
    unpriced = dict(fc.unpriced.schema) if backend == "polars" else fc.unpriced.dtypes.astype(str).to_dict()
    assert unpriced["count"] == ints and unpriced["row"] == ints
    if backend == "pandas":
        lines = fc.table[fc.table["job"] != "total"]
        assert lines["count"].tolist()[:2] == [500, 2000] and isinstance(lines["count"].tolist()[0], int)


def test_summary_reasons_are_whole() -> None:
    text = af.forecast(campaign(), client=_Client()).summary()
    assert f"(talking_photo: {TP_REASON}; video_translation: {VT_REASON})." in text
    assert "…" not in text


def test_a_report_groups_its_unpriced_rows_by_reason(tmp_path: Path) -> None:
    n = 30
    frame = pd.DataFrame({
        "language": pd.Series(["en", "fr", "de"] * 10 + ["en", "fr"], dtype="string"),
        "akool_job": pd.Series(["talking_photo"] * n + ["tts"] * 2, dtype="string"),
        "akool_status": pd.Series([None] * (n + 2), dtype="string"),
        "akool_credits_est": pd.Series([None] * n + [0.5, 0.25], dtype="Float64"),
        "akool_error": pd.Series([f"no estimate: {TP_REASON}"] * n + [None, None], dtype="string"),
    })
    rep = af.report(frame, by=["job", "language"])
    page = rep.to_html(tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count(escaped(TP_REASON)) == 2  # once in the headline, once in the listing: never 30 times
    assert "Rows without a price (30), by reason" in page
    assert '<td class="num">30</td><td>0, 1, 2, 3, 4, …</td>' in page
    assert '<span class="af-big" data-testid="af-total-credits">0.75</span>' in page
    assert "<b>30 rows</b> left out of the totals (no price)" in page
    assert headers(page[page.index("</section>"):]) == ["job", "language", "rows", "credits_est", "usd_est",
                                                         "unpriced_rows"]
    assert "<details>" not in page  # a report has no inputs to fold


# --------------------------------------------------------------------------------------- chart
def _texts(figure: Any) -> list[str]:
    ax = figure.axes[0]
    return [t.get_text() for t in ax.texts]


def test_chart_title_has_the_totals_and_unpriced_lines_are_marked() -> None:
    figure = scenarios().chart()
    ax = figure.axes[0]
    title = ax.get_title(loc="left")
    assert "as planned: 13,556 credits (542.24 USD) estimated; 540 units unpriced, not included" in title
    assert "720p only: 11,556 credits (462.24 USD) estimated; 540 units unpriced, not included" in title
    hatched = [p for p in ax.patches if p.get_hatch() == "xx"]
    assert len(hatched) == 4  # talking photo and video translation, in each scenario
    texts = _texts(figure)
    assert texts.count("500 units unpriced") == 2 and texts.count("40 units unpriced") == 2
    assert "10,000" in texts and "8,000" in texts  # every priced bar says its credits
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "no price: units left out" in legend


def test_chart_of_a_single_report_and_a_run() -> None:
    frame = pd.DataFrame({
        "akool_job": pd.Series(["tts"] * 3, dtype="string"),
        "akool_status": pd.Series(["completed", "completed", "processing"], dtype="string"),
        "akool_credits_est": pd.Series([0.5, 0.25, None], dtype="Float64"),
        "akool_credits": pd.Series([0.5, None, None], dtype="Float64"),
        "akool_error": pd.Series([None, None, "no estimate: voice unknown"], dtype="string"),
        "akool_job_id": pd.Series(["a", "b", "c"], dtype="string"),
    })
    figure = af.report(frame).chart()
    title = figure.axes[0].get_title(loc="left")
    assert "Total: 0.75 credits (0.03 USD) estimated, 0.5 credits (0.02 USD) charged; 1 row unpriced" in title
    texts = _texts(figure)
    assert "0.75 (+1 unpriced)" in texts and "0.5 (+2 not reported)" in texts


# --------------------------------------------------------------------------------------- types
def test_tables_use_the_result_columns_nullable_types() -> None:
    """Text is "string" (pd.NA for a missing value), counts Int64, money Float64: as the result columns, never
    pandas' NaN-based str or object (issue 20)."""
    frame = pd.DataFrame({"akool_job": pd.Series(["tts", "talking_photo"], dtype="string"),
                          "akool_status": pd.Series([None, None], dtype="string"),
                          "akool_credits_est": pd.Series([0.5, None], dtype="Float64"),
                          "akool_error": pd.Series([None, f"no estimate: {TP_REASON}"], dtype="string")})
    for table in (scenarios().table, scenarios().unpriced, af.report(frame, by="job").table,
                  af.report(frame, by="job").unpriced):
        kinds = {str(t) for t in table.dtypes}
        assert kinds <= {"string", "Int64", "Float64"}, table.dtypes.to_dict()
    assert str(scenarios().table["job"].dtype) == "string"
