"""Writing a frame's cells: xlsx (xlsxwriter), csv (UTF-8 with a BOM) and Parquet (the frame library's own writer),
with formula-looking text neutralised and Excel's limits checked first. The file is a local one: ``_files.written``
gives it (the file itself, or a draft put in a bucket once complete)."""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .._errors import ValidationError

if TYPE_CHECKING:
    from ..typing import EagerFrame

__all__ = ["EXCEL_LIMITS", "FORMULA_STARTS", "check_limits", "rows_of", "write_csv", "write_parquet", "write_xlsx"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: what a spreadsheet may execute
EXCEL_LIMITS = {"rows": 1_048_576, "columns": 16_384, "characters": 32_767}


def _plain(value: Any) -> Any:
    """A frame cell as a plain Python value for a writer: nulls (None, NaN, NaT, NA) -> None."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    kind = type(value).__name__
    if kind in ("NAType", "NaTType"):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return value.to_pydatetime()
    if type(value).__module__.partition(".")[0] == "numpy" and hasattr(value, "item"):
        return _plain(value.item())
    return value


def rows_of(frame: EagerFrame) -> tuple[list[str], list[tuple[Any, ...]]]:
    import narwhals.stable.v2 as nw

    table = nw.from_native(frame, eager_only=True)
    return [str(c) for c in table.columns], list(table.iter_rows(named=False))


def check_limits(names: list[str], rows: list[tuple[Any, ...]], name: str, xlsx: bool) -> None:
    if xlsx and len(rows) + 1 > EXCEL_LIMITS["rows"]:
        msg = (f"{len(rows):,} rows do not fit in an Excel sheet ({EXCEL_LIMITS['rows']:,} rows with the header)."
               f"\n\nHint: write {PurePosixPath(name).with_suffix('.csv').name} instead, or split the frame.")
        raise ValidationError(msg)
    if xlsx and len(names) > EXCEL_LIMITS["columns"]:
        msg = f"{len(names):,} columns do not fit in an Excel sheet ({EXCEL_LIMITS['columns']:,})."
        raise ValidationError(msg)
    limit = EXCEL_LIMITS["characters"]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, str) and len(value) > limit:
                msg = (f"Row {r} of column {names[c]!r} holds {len(value):,} characters; a spreadsheet cell holds "
                       f"{limit:,}.\n\nHint: shorten it, or keep that column out of the sheet.")
                raise ValidationError(msg)


def _risky(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def write_xlsx(path: Path, names: list[str], rows: list[tuple[Any, ...]], sheet: str) -> None:
    try:
        import xlsxwriter
    except ImportError as exc:
        msg = "Writing .xlsx needs xlsxwriter.\n\nHint: pip install 'akool-frames[sheets]', or write a .csv."
        raise ImportError(msg) from exc
    # Nothing is turned into a URL, a formula or a number behind the writer's back: cells are written as
    # what they are.
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_urls": False,
                                           "strings_to_formulas": False, "strings_to_numbers": False})
    try:
        page = book.add_worksheet(sheet)
        quoted = book.add_format({"quote_prefix": True})
        stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        day = book.add_format({"num_format": "yyyy-mm-dd"})
        for c, name in enumerate(names):
            page.write_string(0, c, name, quoted if _risky(name) else None)
        for r, row in enumerate(rows, start=1):
            for c, raw in enumerate(row):
                value = _plain(raw)
                if value is None:
                    continue
                if isinstance(value, bool):
                    page.write_boolean(r, c, value)
                elif isinstance(value, int | float) and math.isfinite(value):
                    page.write_number(r, c, value)
                elif isinstance(value, dt.datetime):
                    page.write_datetime(r, c, value.replace(tzinfo=None), stamp)
                elif isinstance(value, dt.date):
                    page.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), day)
                else:
                    text = value if isinstance(value, str) else str(value)
                    page.write_string(r, c, text, quoted if _risky(text) else None)
    finally:
        book.close()


def write_csv(path: Path, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    def cell(raw: Any) -> Any:
        value = _plain(raw)
        if value is None:
            return ""
        if isinstance(value, dt.datetime | dt.date):
            return value.isoformat()
        return f"'{value}" if _risky(value) else value

    with path.open("w", newline="", encoding="utf-8-sig") as fh:  # the BOM: Excel then reads UTF-8
        writer = csv.writer(fh)
        writer.writerow([cell(n) for n in names])
        writer.writerows([cell(v) for v in row] for row in rows)


def write_parquet(frame: EagerFrame, path: Path) -> None:
    import narwhals.stable.v2 as nw

    table = nw.from_native(frame, eager_only=True)
    if table.implementation.is_pandas_like():
        native: Any = table.to_native()
        native.to_parquet(path, index=False)  # the columns only, as in a sheet
    else:
        table.write_parquet(path)
