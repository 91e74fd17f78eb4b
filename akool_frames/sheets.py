"""Spreadsheets in: xlsx, xls, ods and csv as frames whose ids stay text.

``af.read_sheet(path)`` reads a workbook with calamine (a Rust reader; ``pip install akool-frames[sheets]``)
and a CSV with the standard library, then types each column the way a localization sheet needs: a column
is a number only if every value is a plain number that loses nothing as one, so ids like "00123",
long digit strings (card, order or phone numbers) and "+44 20 7946 0958" stay text; dates stay dates;
empty cells are null.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._errors import ValidationError

__all__ = ["WORKBOOK_SUFFIXES", "read_sheet"]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")  # no leading zeros, sign only "-", no exponent or spaces
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")
_MAX_DIGITS = 15  # a float holds 15 significant digits exactly; longer digit strings are ids, not amounts


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
        return value if value.strip() else None
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


def _rows_from_workbook(path: Path, sheet: str | int | None) -> list[list[Any]]:
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


def _rows_from_text(path: Path) -> list[list[Any]]:
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


def read_sheet(path: str | Path, sheet: str | int | None = None, *, backend: str = "pandas") -> Any:
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
        rows = _rows_from_workbook(path, sheet)
    elif suffix in TEXT_SUFFIXES:
        rows = _rows_from_text(path)
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


def _frame(typed: dict[str, tuple[str, list[Any]]], backend: str) -> Any:
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
