"""af.report and Report: lines and totals, unpriced rows, charges, USD, chart and HTML, on pandas and polars.

The frames are built by hand in the shape estimate/run produce (a tts group and a talking_photo group whose
rows have no price, in one frame under two prefixes); every expected number is computed here from the same
lists, row by row, so the test says what the sums mean rather than what they came to.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import polars as pl
import pytest
from matplotlib.figure import Figure

import akool_frames as af
from akool_frames import _client
from akool_frames._errors import ValidationError

INDEX = [100, 101, 102, 103, 104, 105, 106, 107]  # pandas row labels: the unpriced listing must name rows by them
LANGUAGE = ["en", "fr", "de", "en", "fr", "de", "en", None]
TP_REASON = "the docs give no price for talking photos <script>alert(1)</script>"
TTS_REASON = "voice length unknown"
TTS = {  # one group: invalid row 2, unpriced row 7, the rest priced
    "job": "tts", "prefix": "tts_",
    "status_est": [None, None, "invalid", None, None, None, None, None],
    "status_run": ["completed", "completed", "invalid", "failed", "completed", "completed", "processing", "skipped"],
    "credits_est": [0.5148, 0.0484, None, 1.1, 0.3, 0.2, 0.0132, None],
    "credits": [0.5148, 0.0484, None, None, 0.3, 0.2, None, None],  # failed and processing rows report nothing
    "error": [None, None, "row 2: input_text is required", None, None, None, None, f"no estimate: {TTS_REASON}"],
}
TALKING_PHOTO = {  # the docs give no price, and the API reports no credits
    "job": "talking_photo", "prefix": "video_",
    "status_est": [None] * 8,
    "status_run": ["completed"] * 7 + ["failed"],
    "credits_est": [None] * 8,
    "credits": [None] * 8,
    "error": [f"no estimate: {TP_REASON}"] * 8,
}
SENT = {"queued", "processing", "completed", "failed", "unknown"}


# ------------------------------------------------------------------------------------- frames
@pytest.fixture(params=["pandas", "polars"])
def lib(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def build(lib: str, columns: Mapping[str, Sequence[Any]], floats: set[str]) -> Any:
    """A frame with the result columns' types: nullable Float64 for numbers, nullable text for the rest."""
    if lib == "pandas":
        index = INDEX if all(len(v) == len(INDEX) for v in columns.values()) else None
        return pd.DataFrame({c: pd.Series(v, dtype="Float64" if c in floats else "string", index=index)
                             for c, v in columns.items()})
    return pl.DataFrame(dict(columns), schema={c: pl.Float64 if c in floats else pl.String for c in columns})


def result_frame(lib: str, groups: Sequence[Mapping[str, Any]], *, run: bool) -> Any:
    columns: dict[str, Sequence[Any]] = {"script": [f"line {i}" for i in range(8)], "language": LANGUAGE}
    floats = set()
    for g in groups:
        p = g["prefix"]
        columns |= {f"{p}job": [g["job"]] * 8, f"{p}status": g["status_run" if run else "status_est"],
                    f"{p}credits_est": g["credits_est"], f"{p}error": g["error"],
                    f"{p}price_basis": [None if c is None else "characters x rate" for c in g["credits_est"]]}
        floats.add(f"{p}credits_est")
        if run:
            columns |= {f"{p}credits": g["credits"], f"{p}job_id": [f"{g['job']}-{i}" for i in range(8)],
                        f"{p}url": [None] * 8}
            floats.add(f"{p}credits")
    return build(lib, columns, floats)


def records(native: Any) -> list[dict[str, Any]]:
    """Rows of a pandas or polars frame as dicts, nulls as None."""
    if isinstance(native, pl.DataFrame):
        return native.to_dicts()
    return [{c: None if pd.isna(v) else v for c, v in row.items()} for row in native.to_dict("records")]


def oracle(groups: Sequence[Mapping[str, Any]], keys: Sequence[str], *, run: bool) -> dict[tuple[Any, ...], dict]:
    """The expected lines, counted row by row from the lists the frame was built from."""
    lines: dict[tuple[Any, ...], dict[str, Any]] = {}
    for g in groups:
        for i in range(8):
            key = tuple(g["job"] if k == "job" else LANGUAGE[i] for k in keys)
            line = lines.setdefault(key, {"rows": 0, "invalid_rows": 0, "priced_rows": 0, "unpriced_rows": 0,
                                          "est": [], "charged": [], "unreported_rows": 0})
            status = g["status_run" if run else "status_est"][i]
            line["rows"] += 1
            if status == "invalid":
                line["invalid_rows"] += 1
            elif g["credits_est"][i] is None:
                line["unpriced_rows"] += 1
            else:
                line["priced_rows"] += 1
                line["est"].append(g["credits_est"][i])
            if run and g["credits"][i] is not None:
                line["charged"].append(g["credits"][i])
            elif run and status in SENT:
                line["unreported_rows"] += 1
    return lines


def check_line(got: Mapping[str, Any], want: Mapping[str, Any], usd: float, *, run: bool) -> None:
    for count in ("rows", "invalid_rows", "priced_rows", "unpriced_rows"):
        assert got[count] == want[count], count
    assert got["rows"] == got["invalid_rows"] + got["priced_rows"] + got["unpriced_rows"]
    if want["priced_rows"] == 0 and want["unpriced_rows"] > 0:
        assert got["credits_est"] is None and got["usd_est"] is None  # never a 0 that reads as a price
    else:
        assert got["credits_est"] == pytest.approx(sum(want["est"]))
        assert got["usd_est"] == pytest.approx(sum(want["est"]) * usd)
    if run:
        assert got["charged_rows"] == len(want["charged"])
        assert got["unreported_rows"] == want["unreported_rows"]
        if want["charged"]:
            assert got["credits_charged"] == pytest.approx(sum(want["charged"]))
            assert got["usd_charged"] == pytest.approx(sum(want["charged"]) * usd)
        else:
            assert got["credits_charged"] is None and got["usd_charged"] is None
    else:
        assert "credits_charged" not in got


def check_table(rep: af.Report, groups: Sequence[Mapping[str, Any]], keys: Sequence[str], *, run: bool) -> None:
    rows = records(rep.table)
    *lines, total = rows
    want = oracle(groups, keys, run=run)
    got = {tuple(r[k] for k in keys): r for r in lines}
    assert set(got) == set(want)
    for key, line in want.items():
        check_line(got[key], line, rep.usd_per_credit, run=run)
    assert total[keys[0]] == "total" and all(total[k] is None for k in keys[1:])
    summed = {"rows": 0, "invalid_rows": 0, "priced_rows": 0, "unpriced_rows": 0, "est": [], "charged": [],
              "unreported_rows": 0}
    for line in want.values():
        for name, value in line.items():
            summed[name] = summed[name] + value
    check_line(total, summed, rep.usd_per_credit, run=run)


# -------------------------------------------------------------------------------------- tests
def test_estimate_one_line_per_job_and_a_total(lib: str) -> None:
    groups = [TTS, TALKING_PHOTO]
    rep = af.report(result_frame(lib, groups, run=False))
    assert isinstance(rep.table, pd.DataFrame if lib == "pandas" else pl.DataFrame)
    assert list(rep.table.columns) == ["job", "rows", "invalid_rows", "priced_rows", "unpriced_rows", "credits_est",
                                       "usd_est"]
    check_table(rep, groups, ["job"], run=False)
    priced = [c for c in TTS["credits_est"] if c is not None]
    assert rep.total_est == pytest.approx(sum(priced))
    assert rep.total_charged is None
    assert rep.unpriced_rows == TTS["credits_est"].count(None) - 1 + 8  # tts: one invalid, one unpriced
    assert rep.kind == "estimate"


def test_unpriced_rows_are_listed_with_reasons_and_never_summed_as_zero(lib: str) -> None:
    rep = af.report(result_frame(lib, [TTS, TALKING_PHOTO], run=False))
    unpriced = records(rep.unpriced)
    assert isinstance(rep.unpriced, pd.DataFrame if lib == "pandas" else pl.DataFrame)
    assert list(unpriced[0]) == ["row", "job", "reason"]
    labels = INDEX if lib == "pandas" else list(range(8))
    want = sorted([(labels[7], "tts", TTS_REASON)] + [(labels[i], "talking_photo", TP_REASON) for i in range(8)],
                  key=lambda r: (r[0], r[1] != "tts"))
    assert [(r["row"], r["job"], r["reason"]) for r in unpriced] == want
    talking_photo = next(r for r in records(rep.table) if r["job"] == "talking_photo")
    assert talking_photo["credits_est"] is None and talking_photo["unpriced_rows"] == 8
    text = rep.summary()
    assert f"{rep.unpriced_rows} rows have no price and are not included" in text
    assert "talking_photo: the docs give no price" in text and f"tts: {TTS_REASON}" in text
    assert "1 row is invalid" in text


def test_summary_names_each_jobs_most_frequent_reason(lib: str) -> None:
    errors = ["no estimate: no duration"] * 3 + ["no estimate: unknown model"] * 2
    frame = build(lib, {"akool_job": ["image_to_video"] * 5, "akool_status": [None] * 5,
                        "akool_credits_est": [None] * 5, "akool_error": errors}, {"akool_credits_est"})
    assert "(image_to_video: no duration (+1 other reason))" in af.report(frame).summary()


def test_by_job_and_language(lib: str) -> None:
    groups = [TTS, TALKING_PHOTO]
    rep = af.report(result_frame(lib, groups, run=False), by=["job", "language"])
    assert list(rep.table.columns)[:3] == ["job", "language", "rows"]
    check_table(rep, groups, ["job", "language"], run=False)
    assert list(records(rep.unpriced)[0]) == ["row", "job", "language", "reason"]


def test_by_a_column_alone_merges_the_jobs(lib: str) -> None:
    groups = [TTS, TALKING_PHOTO]
    rep = af.report(result_frame(lib, groups, run=True), by="language")
    check_table(rep, groups, ["language"], run=True)


def test_run_reports_what_was_charged_and_what_was_not_reported(lib: str) -> None:
    groups = [TTS, TALKING_PHOTO]
    rep = af.report(result_frame(lib, groups, run=True))
    assert rep.kind == "run"
    assert list(rep.table.columns)[-4:] == ["charged_rows", "unreported_rows", "credits_charged", "usd_charged"]
    check_table(rep, groups, ["job"], run=True)
    charged = [c for c in TTS["credits"] if c is not None]
    assert rep.total_charged == pytest.approx(sum(charged))
    text = rep.summary()
    assert "not reported by the API" in text
    unreported = oracle(groups, ["job"], run=True)
    assert rep.unreported_jobs == {job: line["unreported_rows"] for (job,), line in sorted(unreported.items())}
    assert f"not reported by the API for {sum(rep.unreported_jobs.values())} rows (talking_photo, tts)" in text
    total = sum(charged)
    credits = f"{total:,.4f}".rstrip("0").rstrip(".")
    assert f"charged {credits} credits ({total * 0.04:.2f} USD) on {len(charged)} rows;" in text


def test_a_single_default_prefix_group(lib: str) -> None:
    frame = build(lib, {"akool_job": ["tts"] * 3, "akool_status": [None, None, None],
                        "akool_credits_est": [0.1, 0.2, 0.0484], "akool_error": [None] * 3}, {"akool_credits_est"})
    rep = af.report(frame)
    assert rep.total_est == pytest.approx(0.1 + 0.2 + 0.0484)
    assert rep.unpriced_rows == 0
    # Printed without float noise: credits to at most 4 decimals, dollars to the cent.
    assert rep.summary() == "0.3484 credits (0.01 USD) estimated for 3 rows."
    assert "0.30000000000000004" not in rep._repr_html_()


def test_all_unpriced_gives_no_total_rather_than_zero(lib: str) -> None:
    rep = af.report(result_frame(lib, [TALKING_PHOTO], run=False))
    assert rep.total_est is None
    assert rep.unpriced_rows == 8
    assert rep.summary().startswith("No credits estimated; 8 rows have no price")


def test_usd_per_credit_argument_client_and_default(lib: str, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = result_frame(lib, [TTS], run=False)
    monkeypatch.setattr(_client, "_default", None)
    assert af.report(frame).usd_per_credit == 0.04
    assert af.report(frame, usd_per_credit=0.05).usd_per_credit == 0.05
    assert af.report(frame, client=types.SimpleNamespace(usd_per_credit=0.03)).usd_per_credit == 0.03
    assert af.report(frame, client=types.SimpleNamespace()).usd_per_credit == 0.04
    monkeypatch.setattr(_client, "_default", types.SimpleNamespace(usd_per_credit=0.02))
    rep = af.report(frame)
    assert rep.usd_per_credit == 0.02
    check_table(rep, [TTS], ["job"], run=False)  # usd_est follows the rate


def test_html_is_one_self_contained_escaped_file(lib: str, tmp_path: Any) -> None:
    rep = af.report(result_frame(lib, [TTS, TALKING_PHOTO], run=True), by=["job", "language"])
    path = tmp_path / "cost.html"
    assert rep.to_html(path) == path
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "not reported by the API" in page
    assert "+ ? (" in page  # sums that leave rows out are marked as such


def test_unpriced_rows_in_html_are_grouped_by_reason(lib: str) -> None:
    """250 rows with one reason are one line with a count (not 250 lines), each reason whole."""
    long = ("the docs give no price for talking_photo; pass rates={'talking_photo': ...} (credits per minute "
            "of output video, as long as its audio) or calibrate from the ledger")
    n = 250
    errors = ["no estimate: no rule"] * n + [f"no estimate: {long}"] * 3
    frame = build(lib, {"akool_job": ["talking_photo"] * (n + 3), "akool_status": [None] * (n + 3),
                        "akool_credits_est": [None] * (n + 3), "akool_error": errors}, {"akool_credits_est"})
    rep = af.report(frame)
    html = rep._repr_html_()
    assert "Rows without a price (253), by reason" in html
    assert html.count("no rule</td>") == 1  # one line per reason, not per row
    assert '<td class="num">250</td><td>0, 1, 2, 3, 4, …</td>' in html  # the count and the first rows
    assert '<td class="num">3</td><td>250, 251, 252</td>' in html
    escaped = long.replace("'", "&#x27;")
    assert html.count(escaped) == 2  # whole, in the headline and in the listing
    assert "250 rows</span> · <b>talking_photo</b>: no rule" in html
    assert rep.summary().endswith("(talking_photo: no rule (+1 other reason)).")
    assert len(rep.unpriced) == n + 3  # the frame still lists every row


def test_chart_and_jupyter_views(lib: str) -> None:
    for run in (False, True):
        rep = af.report(result_frame(lib, [TTS, TALKING_PHOTO], run=run), by=["job", "language"])
        figure = rep.chart()
        assert isinstance(figure, Figure)
        assert figure.axes and figure._repr_png_().startswith(b"\x89PNG")
        html = rep._repr_html_()
        assert "<html" not in html and "<table>" in html and "data:image/png;base64," in html
        assert repr(rep).startswith("<Report ") and "\n" not in repr(rep)


def test_report_from_precomputed_pieces_with_scenarios(lib: str, tmp_path: Any) -> None:
    lines = {"scenario": ["A", "A", "B", "B"], "job": ["tts", "talking_photo", "tts", "talking_photo"],
             "count": [2000, 500, 3000, 500], "characters": [120.0, None, 120.0, None],
             "duration_s": [None, 30.0, None, 20.0], "resolution": [None, "720", None, "1080"],
             "rows": [2000, 500, 3000, 500], "invalid_rows": [0, 0, 0, 0], "priced_rows": [2000, 0, 3000, 500],
             "unpriced_rows": [0, 500, 0, 0], "credits_est": [1056.0, None, 1584.0, 3000.0],
             "usd_est": [42.24, None, 63.36, 120.0]}
    unpriced = {"row": [1], "scenario": ["A"], "job": ["talking_photo"], "reason": ["the docs give no price"]}
    make = pd.DataFrame if lib == "pandas" else (lambda d: pl.DataFrame(d, strict=False))
    rep = af.Report(make(lines), make(unpriced), title="Campaign <forecast>", usd_per_credit=0.04, kind="forecast")
    assert rep.keys == ["scenario", "job"]
    table = records(rep.table)
    assert list(rep.table.columns) == list(lines)  # extra descriptive columns kept, in place
    assert [(r["scenario"], r["job"]) for r in table] == [("A", "tts"), ("A", "talking_photo"), ("A", "total"),
                                                          ("B", "tts"), ("B", "talking_photo"), ("B", "total")]
    totals = rep.scenario_totals
    assert totals["A"]["credits_est"] == pytest.approx(1056.0) and totals["A"]["unpriced_rows"] == 500
    assert totals["B"]["credits_est"] == pytest.approx(1584.0 + 3000.0)
    assert totals["B"]["usd_est"] == pytest.approx((1584.0 + 3000.0) * 0.04)
    text = rep.summary()
    assert text.startswith("Scenario A: 1,056 credits (42.24 USD) estimated for 2,000 of 2,500 units; 500 units")
    assert "Scenario B: 4,584 credits (183.36 USD) estimated for 3,500 units." in text
    assert isinstance(rep.chart(), Figure)
    page = rep.to_html(tmp_path / "forecast.html").read_text(encoding="utf-8")
    assert "Campaign &lt;forecast&gt;" in page and "<th>resolution</th>" in page and "<td>1080</td>" in page
    again = af.Report(rep.table, rep.unpriced, kind="forecast")  # totals already there: found, not doubled
    assert len(again.table) == 6


def test_precomputed_table_with_its_total_line(lib: str) -> None:
    lines = {"job": ["tts", "total"], "rows": [3, 3], "priced_rows": [3, 3], "unpriced_rows": [0, 0],
             "credits_est": [1.5, 1.5], "usd_est": [0.06, 0.06]}
    native = pd.DataFrame(lines) if lib == "pandas" else pl.DataFrame(lines)
    rep = af.Report(native, kind="estimate")
    assert len(rep.table) == 2 and rep.total_est == 1.5 and rep.unpriced_rows == 0
    assert len(records(rep.unpriced)) == 0


@pytest.mark.parametrize("by", ["nope", ["job", "job"], "rows"])
def test_bad_keys_are_refused(lib: str, by: Any) -> None:
    with pytest.raises(ValidationError, match="by="):
        af.report(result_frame(lib, [TTS], run=False), by=by)


def test_a_frame_without_result_columns_is_refused(lib: str) -> None:
    with pytest.raises(ValidationError, match="no result columns"):
        af.report(build(lib, {"script": ["a"]}, set()))


def test_empty_result_frame(lib: str) -> None:
    frame = build(lib, {"akool_job": [], "akool_status": [], "akool_credits_est": [], "akool_error": []},
                  {"akool_credits_est"})
    rep = af.report(frame)
    assert records(rep.table) == [{"job": "total", "rows": 0, "invalid_rows": 0, "priced_rows": 0,
                                   "unpriced_rows": 0, "credits_est": 0.0, "usd_est": 0.0}]
    assert rep.summary() == "0 credits (0.00 USD) estimated for 0 rows."



def test_a_report_keyed_by_scenario_alone_renders_with_its_totals_marked() -> None:
    """A forecast keyed by scenario alone has no line label to find its total lines by ("total" in the first key
    after scenario): the page marks them by where they come from, one after each scenario's line."""
    import re

    table = pd.DataFrame({"scenario": ["a", "b"], "rows": [3, 4], "priced_rows": [3, 4], "unpriced_rows": [0, 0],
                          "credits_est": [1.0, 2.0], "usd_est": [0.04, 0.08]})
    page = af.Report(table, None, kind="forecast", keys=["scenario"])._repr_html_()
    lines = re.findall(r"<tbody>(.*?)</tbody>", page)[1]  # (the first table is the headline's totals)
    assert re.findall(r"<tr[^>]*>", lines) == ["<tr>", '<tr class="af-total">', "<tr>", '<tr class="af-total">']
