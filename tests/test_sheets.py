"""Sheets in and out: ids stay text, dates stay dates, nothing written can run as a formula, Excel's
limits are checked, and what is written reads back as it was, on pandas and polars."""

from __future__ import annotations

import datetime as dt
import logging
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

import akool_frames as af
from akool_frames.sheets import _workbook as sheets

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "localization.xlsx"
RISKY = ['=HYPERLINK("http://evil.example","click")', "+1 (555) 010-9999", "-20% off", "@channel", "\tindented",
         "\rreturn"]


def _values(frame: Any, column: str) -> list[Any]:
    if isinstance(frame, pl.DataFrame):
        return frame[column].to_list()
    return [None if pd.isna(v) else v for v in frame[column].tolist()]


@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_the_sample_sheet_keeps_ids_text_and_dates_dates(backend: str) -> None:
    sheet = af.read_sheet(SAMPLE, backend=backend)
    assert _values(sheet, "script_id")[:3] == ["00101", "00102", "00103"]
    assert "新品上市" in _values(sheet, "script")[2] and "مرحبا" in _values(sheet, "script")[3]
    assert _values(sheet, "target_languages")[6] is None  # the empty cell is null
    due = _values(sheet, "due")[0]
    assert (due.date() if isinstance(due, dt.datetime) else due) == dt.date(2027, 1, 15)
    if backend == "polars":
        assert sheet.schema["script_id"] == pl.String and sheet.schema["due"] in (pl.Date, pl.Datetime)


def test_csv_columns_are_numbers_only_when_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("id,card,phone,n,x,day,mixed\n"
                    "00123,4111111111111111,+44 20 7946 0958,1,1.5,2026-01-02,7\n"
                    "00124,4111111111111112,020 7946 0958,2,,2026-01-03,A7\n", encoding="utf-8")
    got = af.read_sheet(path)
    assert got["id"].tolist() == ["00123", "00124"]
    assert got["card"].tolist() == ["4111111111111111", "4111111111111112"]  # 16 digits: an id, not a number
    assert got["phone"].tolist() == ["+44 20 7946 0958", "020 7946 0958"]
    assert str(got["n"].dtype) == "Int64" and str(got["x"].dtype) == "Float64" and pd.isna(got["x"][1])
    assert str(got["day"].dtype).startswith("datetime64") and got["mixed"].tolist() == ["7", "A7"]


@pytest.mark.parametrize("backend", ["pandas", "polars"])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_what_is_written_reads_back_as_it_was_and_never_runs(tmp_path: Path, backend: str, suffix: str) -> None:
    sheet = af.read_sheet(SAMPLE, backend=backend)
    n = len(sheet)
    extra = {"risky": (RISKY * 2)[:n], "count": list(range(n)), "score": [0.5 + i for i in range(n)]}
    if backend == "pandas":
        frame = sheet.assign(**extra)
    else:
        frame = sheet.with_columns(*(pl.Series(k, v) for k, v in extra.items()))
    path = af.write_sheet(frame, tmp_path / f"out{suffix}")
    back = af.read_sheet(path, backend=backend)
    assert list(back.columns) == list(frame.columns)
    for column in frame.columns:
        written, read = _values(frame, column), _values(back, column)
        if column == "due":  # a date cell comes back as a date (or midnight of it)
            read = [v.date() if isinstance(v, dt.datetime) else v for v in read]
            written = [v.date() if isinstance(v, dt.datetime) else v for v in written]
        assert read == written, column
    if suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            xml = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in xml and "<f " not in xml  # no formula anywhere
    else:
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the text as UTF-8
        assert "'=HYPERLINK" in raw.decode("utf-8-sig") and "\n=HYPERLINK" not in raw.decode("utf-8-sig")


def test_excel_limits_are_checked_before_writing(tmp_path: Path) -> None:
    long = pd.DataFrame({"id": ["1", "2"], "text": ["short", "x" * 40_000]})
    with pytest.raises(af.ValidationError, match=r"Row 1 of column 'text' holds 40,000 characters; .* 32,767"):
        af.write_sheet(long, tmp_path / "long.xlsx")
    assert not (tmp_path / "long.xlsx").exists()
    wide = pl.DataFrame({f"c{i}": [1] for i in range(16_385)})
    with pytest.raises(af.ValidationError, match="16,385 columns do not fit"):
        af.write_sheet(wide, tmp_path / "wide.xlsx")
    monkey = sheets.EXCEL_LIMITS.copy()
    try:
        sheets.EXCEL_LIMITS["rows"] = 3  # the row limit, checked the same way (without writing a million rows)
        with pytest.raises(af.ValidationError, match="(?s)rows do not fit in an Excel sheet.*write long.csv instead"):
            af.write_sheet(pd.DataFrame({"a": range(5)}), tmp_path / "long.xlsx")
    finally:
        sheets.EXCEL_LIMITS.update(monkey)
    with pytest.raises(af.ValidationError, match="writes .xlsx, .csv or .parquet"):
        af.write_sheet(long, tmp_path / "out.json")


def test_reading_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(af.ValidationError, match="(?s)no sheet 'Scripts'.*its sheets are"):
        af.read_sheet(SAMPLE, sheet="Scripts")
    with pytest.raises(af.ValidationError, match="No such file"):
        af.read_sheet(tmp_path / "missing.xlsx")
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(af.ValidationError, match="save the sheet as .xlsx or .csv"):
        af.read_sheet(tmp_path / "a.json")


@pytest.mark.parametrize("backend", ["pandas", "polars"])
def test_explode_messy_language_lists(backend: str, caplog: pytest.LogCaptureFixture) -> None:
    data = {"id": ["001", "002", "003", "004", "005"], "langs": ["es, fr", "es,es", " ja ", "", None]}
    frame = pd.DataFrame(data, index=[10, 11, 12, 13, 14]) if backend == "pandas" else pl.DataFrame(data)
    with caplog.at_level(logging.WARNING, logger="akool_frames"):
        long = af.explode_languages(frame, "langs", into="language")
    assert _values(long, "id") == ["001", "001", "002", "003", "004", "005"]
    assert _values(long, "language") == ["es", "fr", "es", "ja", None, None]  # trimmed, deduplicated, kept
    first = 10 if backend == "pandas" else 0
    assert _values(long, "row_key")[:2] == [f"{first}:es", f"{first}:fr"]
    if backend == "pandas":
        assert list(long.index) == [10, 10, 11, 12, 13, 14]  # the source row's label on each of its rows
    assert "2 row(s) have no language" in caplog.text
    with pytest.raises(af.ValidationError, match="(?s)did you mean 'langs'"):
        af.explode_languages(frame, "lang")
