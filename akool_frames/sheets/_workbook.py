"""Spreadsheets in and out: xlsx, xls, ods and csv as frames whose ids stay text, and back.

``af.read_sheet(path)`` reads a workbook with calamine (a Rust reader; ``pip install akool-frames[sheets]``)
and a CSV with the standard library, then types each column the way a localization sheet needs: a column
is a number only if every value is a plain number that loses nothing as one, so ids like "00123",
long digit strings (card, order or phone numbers) and "+44 20 7946 0958" stay text; dates stay dates;
empty cells are null.

``af.write_sheet(frame, path)`` writes xlsx (xlsxwriter) or csv (UTF-8 with a BOM, so Excel shows
non-ASCII text). A text cell a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is neutralised the OWASP way: in xlsx it is a text cell with Excel's
quote prefix (it reads the same and stays text when edited), in csv it gets a leading ``'``, which
``read_sheet`` removes again. Excel's limits (1,048,576 rows, 16,384 columns, 32,767 characters a cell)
are checked before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from .._errors import ValidationError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from ..typing import Backend, EagerFrame

__all__ = [
    "EXCEL_LIMITS", "FORMULA_STARTS", "WORKBOOK_SUFFIXES", "read_sheet", "rows_from_text", "rows_from_workbook",
    "write_sheet",
]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")  # no leading zeros, sign only "-", no exponent or spaces
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_MAX_DIGITS = 15  # a float holds 15 significant digits exactly; longer digit strings are ids, not amounts
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: what a spreadsheet may execute
EXCEL_LIMITS = {"rows": 1_048_576, "columns": 16_384, "characters": 32_767}


def _is_number_text(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text)) and len(text.replace("-", "").replace(".", "")) <= _MAX_DIGITS


def _number(value: float) -> str:
    """A number from a workbook cell as the text it shows: 123.0 -> "123"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _typed(values: list[Any]) -> tuple[str, list[Any]]:
    """One column's type and values: int, float, bool, date, datetime, or text (the safe default)."""
    given = [v for v in values if v is not None]
    kinds = {type(v) for v in given}
    if not given:
        return "text", values
    if kinds <= {int, float} and all(not isinstance(v, float) or v == v for v in given):
        if all(float(v).is_integer() and abs(v) < 2 ** 53 for v in given):
            return "int", [None if v is None else int(v) for v in values]
        return "float", [None if v is None else float(v) for v in values]
    if kinds == {bool}:
        return "bool", values
    if kinds <= {dt.datetime, dt.date} and dt.date in kinds and dt.datetime not in kinds:
        return "date", values
    if kinds <= {dt.datetime, dt.date}:
        return "datetime", [v if isinstance(v, dt.datetime) or v is None else dt.datetime(v.year, v.month, v.day)
                            for v in values]
    if kinds == {str}:
        return _typed_text(values)
    # Mixed cells (numbers typed in a column of ids...): all as the text they show.
    return "text", [None if v is None else _number(v) if isinstance(v, int | float) and not isinstance(v, bool)
                    else str(v) for v in values]


def _typed_text(values: list[Any]) -> tuple[str, list[Any]]:
    """A column read as text (CSV): numbers and ISO dates only when every value is one, losslessly."""
    given = [v for v in values if v is not None]
    if all(_is_number_text(v) for v in given):
        if all("." not in v for v in given):
            return "int", [None if v is None else int(v) for v in values]
        return "float", [None if v is None else float(v) for v in values]
    if all(_DATE.fullmatch(v) for v in given):
        try:
            return "date", [None if v is None else dt.date.fromisoformat(v) for v in values]
        except ValueError:
            return "text", values
    if all(_DATETIME.fullmatch(v) for v in given):
        try:
            return "datetime", [None if v is None else dt.datetime.fromisoformat(v) for v in values]
        except ValueError:
            return "text", values
    return "text", values


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        if value[:1] == "'" and value[1:2] and value[1] in "".join(FORMULA_STARTS):
            value = value[1:]  # neutralised by write_sheet (csv): the text as it was
        return value if value.strip() else None
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


def rows_from_workbook(path: Path, sheet: str | int | None) -> list[list[Any]]:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:
        msg = f"Reading {path.suffix} files needs python-calamine.\n\nHint: pip install 'akool-frames[sheets]'."
        raise ImportError(msg) from exc
    book = CalamineWorkbook.from_path(str(path))
    names = book.sheet_names
    if sheet is None:
        name = names[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            msg = f"{path.name} has {len(names)} sheet(s); sheet={sheet} is not one of them.\n\nHint: sheets: {names}."
            raise ValidationError(msg)
        name = names[sheet]
    elif sheet in names:
        name = sheet
    else:
        msg = f"{path.name} has no sheet {sheet!r}.\n\nHint: its sheets are {names}."
        raise ValidationError(msg)
    return [[_cell(v) for v in row] for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]


def rows_from_text(path: Path) -> list[list[Any]]:
    delimiter = TEXT_SUFFIXES.get(path.suffix.lower())
    with path.open(newline="", encoding="utf-8-sig") as fh:  # -sig: the BOM Excel writes is not a header
        if delimiter is None:
            delimiter = csv.Sniffer().sniff(fh.read(64 * 1024)).delimiter
            fh.seek(0)
        return [[_cell(v) for v in row] for row in csv.reader(fh, delimiter=delimiter)]


def _header(rows: Sequence[Sequence[Any]], path: Path) -> list[str]:
    if not rows:
        msg = f"{path} is empty: a sheet needs a header row.\n\nHint: put the column names in the first row."
        raise ValidationError(msg)
    names, seen = [], set()
    for i, cell in enumerate(rows[0]):
        name = (_number(cell) if isinstance(cell, float) else str(cell)).strip() if cell is not None else ""
        name = name or f"column_{i + 1}"
        base, n = name, 2
        while name in seen:  # duplicate headers get a suffix rather than overwriting a column
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append(name)
    return names


@overload
def read_sheet(path: str | Path, sheet: str | int | None = ..., *, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
@overload
def read_sheet(path: str | Path, sheet: str | int | None = ..., *, backend: Literal["polars"]) -> pl.DataFrame: ...
def read_sheet(path: str | Path, sheet: str | int | None = None, *, backend: Backend = "pandas") -> EagerFrame:
    """Read a spreadsheet (xlsx, xlsm, xls, ods, csv, tsv) into a frame whose ids stay text.

    Args:
        path: The file.
        sheet: A workbook's sheet, by name or position; default: the first.
        backend: "pandas" (nullable dtypes: string, Int64, Float64, boolean, dates) or "polars".

    Returns:
        A frame with one column per header cell. A column is numeric only when every value is a plain
        number that loses nothing as one ("00123", "4111111111111111" and "+44 20 7946 0958" stay text);
        ISO dates and workbook dates are dates; empty cells are null.

    Example:
        >>> sheet = af.read_sheet("scripts.xlsx")  # doctest: +SKIP
        >>> sheet["script_id"].tolist()[:2]  # doctest: +SKIP
        ['00123', '00124']
    """
    path = Path(path)
    if not path.exists():
        msg = f"No such file: {path}."
        raise ValidationError(msg)
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        rows = rows_from_workbook(path, sheet)
    elif suffix in TEXT_SUFFIXES:
        rows = rows_from_text(path)
    else:
        msg = (f"{path.name}: read_sheet reads {', '.join(WORKBOOK_SUFFIXES)} and .csv/.tsv files, not {suffix!r}.\n\n"
               "Hint: save the sheet as .xlsx or .csv.")
        raise ValidationError(msg)
    names = _header(rows, path)
    body = [row for row in rows[1:] if any(v is not None for v in row)]  # blank lines are not rows
    columns = {name: [row[i] if i < len(row) else None for row in body] for i, name in enumerate(names)}
    typed = {name: _typed(values) for name, values in columns.items()}
    return _frame(typed, backend)


_PANDAS = {"text": "string", "int": "Int64", "float": "Float64", "bool": "boolean"}


def _frame(typed: dict[str, tuple[str, list[Any]]], backend: Backend) -> EagerFrame:
    if backend == "pandas":
        import pandas as pd

        data = {}
        for name, (kind, values) in typed.items():
            if kind in ("date", "datetime"):
                data[name] = pd.Series(pd.to_datetime(values), name=name)  # NaT for empty cells
            else:
                data[name] = pd.Series(values, dtype=_PANDAS[kind], name=name)
        return pd.DataFrame(data)
    if backend == "polars":
        import polars as pl

        kinds = {"text": pl.String, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "date": pl.Date,
                 "datetime": pl.Datetime}
        return pl.DataFrame({name: pl.Series(name, values, dtype=kinds[kind]) for name, (kind, values) in typed.items()})
    msg = f"backend must be 'pandas' or 'polars', got {backend!r}."
    raise ValidationError(msg)


# --------------------------------------------------------------------------------------------- writing
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


def _rows(frame: EagerFrame) -> tuple[list[str], list[tuple[Any, ...]]]:
    import narwhals.stable.v2 as nw

    table = nw.from_native(frame, eager_only=True)
    return [str(c) for c in table.columns], list(table.iter_rows(named=False))


def _check_limits(names: list[str], rows: list[tuple[Any, ...]], path: Path, xlsx: bool) -> None:
    if xlsx and len(rows) + 1 > EXCEL_LIMITS["rows"]:
        msg = (f"{len(rows):,} rows do not fit in an Excel sheet ({EXCEL_LIMITS['rows']:,} rows with the header)."
               f"\n\nHint: write {path.with_suffix('.csv').name} instead, or split the frame.")
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


def _write_xlsx(path: Path, names: list[str], rows: list[tuple[Any, ...]], sheet: str) -> None:
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


def _write_csv(path: Path, names: list[str], rows: list[tuple[Any, ...]]) -> None:
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


def write_sheet(frame: EagerFrame, path: str | Path, *, sheet: str = "Sheet1") -> Path:
    """Write a frame to ``.xlsx`` or ``.csv`` so that it reads back as it was, and nothing in it runs.

    Args:
        frame: A pandas or polars DataFrame (e.g. what ``run`` returned).
        path: The file to write: ``.xlsx`` (the ``sheets`` extra) or ``.csv`` (UTF-8 with a BOM).
        sheet: The worksheet's name (xlsx).

    Returns:
        The path written.

    Example:
        >>> af.write_sheet(out, "results.xlsx")  # doctest: +SKIP
    """
    path = Path(path)
    names, rows = _rows(frame)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        msg = f"write_sheet writes .xlsx or .csv, not {suffix or 'a file without a suffix'} ({path.name})."
        raise ValidationError(msg)
    _check_limits(names, rows, path, suffix == ".xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".xlsx":
        _write_xlsx(path, names, rows, sheet)
    else:
        _write_csv(path, names, rows)
    return path
