"""Spreadsheets in and out: xlsx, xls, ods, csv and Parquet as frames whose ids stay text, and back; on this
machine or in a bucket (``s3://``, ``gs://``, ``az://`` ... through fsspec: ``_files``).

``af.read_sheet(path)`` reads a workbook with calamine (a Rust reader; ``pip install akool-frames[sheets]``)
and a CSV with the standard library, then types each column the way a localization sheet needs: a column
is a number only if every value is a plain number that loses nothing as one, so ids like "00123",
long digit strings (card, order or phone numbers) and "+44 20 7946 0958" stay text; dates stay dates;
empty cells are null.

A Parquet file keeps its own types (pandas: the nullable dtypes).

``af.write_sheet(frame, path)`` writes xlsx (xlsxwriter), csv (UTF-8 with a BOM, so Excel shows
non-ASCII text) or Parquet (the frame library's own writer). A text cell a spreadsheet would run as a
formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is neutralised the OWASP
way (``_writers``): in xlsx it is a text cell with Excel's quote prefix (it reads the same and stays text
when edited), in csv it gets a leading ``'``, which ``read_sheet`` removes again. Excel's limits
(1,048,576 rows, 16,384 columns, 32,767 characters a cell) are checked before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, Literal, overload

from .._errors import ValidationError
from ._files import Place, missing, place, read_bytes, written
from ._writers import EXCEL_LIMITS, FORMULA_STARTS, check_limits, rows_of, write_csv, write_parquet, write_xlsx

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from ..typing import Backend, EagerFrame

__all__ = [
    "EXCEL_LIMITS", "FORMULA_STARTS", "PARQUET_SUFFIXES", "WORKBOOK_SUFFIXES", "raw_rows", "read_sheet",
    "rows_from_text", "rows_from_workbook", "write_sheet",
]

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
PARQUET_SUFFIXES = (".parquet", ".pq")
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
        if value[:1] == "'" and value[1:2] and value[1] in "".join(FORMULA_STARTS):
            value = value[1:]  # neutralised by write_sheet (csv): the text as it was
        return value if value.strip() else None
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


def rows_from_workbook(path: Path | IO[bytes], sheet: str | int | None, name: str | None = None) -> list[list[Any]]:
    """A workbook's cells, row by row: from a file, or from its bytes (``name``: the file's name, for messages)."""
    called = path.name if isinstance(path, Path) else name or "the workbook"
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:
        msg = (f"Reading {PurePosixPath(called).suffix} files needs python-calamine.\n\n"
               "Hint: pip install 'akool-frames[sheets]'.")
        raise ImportError(msg) from exc
    book = CalamineWorkbook.from_path(str(path)) if isinstance(path, Path) else CalamineWorkbook.from_filelike(path)
    names = book.sheet_names
    if sheet is None:
        name = names[0]
    elif isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            msg = f"{called} has {len(names)} sheet(s); sheet={sheet} is not one of them.\n\nHint: sheets: {names}."
            raise ValidationError(msg)
        name = names[sheet]
    elif sheet in names:
        name = sheet
    else:
        msg = f"{called} has no sheet {sheet!r}.\n\nHint: its sheets are {names}."
        raise ValidationError(msg)
    return [[_cell(v) for v in row] for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False)]


def rows_from_text(path: Path | IO[bytes], suffix: str | None = None) -> list[list[Any]]:
    """A CSV's (or TSV's) cells, row by row: from a file, or from its bytes (``suffix``: its kind, ".csv")."""
    delimiter = TEXT_SUFFIXES.get(path.suffix.lower() if isinstance(path, Path) else (suffix or ".txt"))
    opened = (path.open(newline="", encoding="utf-8-sig") if isinstance(path, Path)  # -sig: the BOM Excel writes
              else io.TextIOWrapper(path, newline="", encoding="utf-8-sig"))     # is not a header
    with opened as fh:
        if delimiter is None:
            delimiter = csv.Sniffer().sniff(fh.read(64 * 1024)).delimiter
            fh.seek(0)
        return [[_cell(v) for v in row] for row in csv.reader(fh, delimiter=delimiter)]


def _unread(where: Place) -> ValidationError:
    msg = (f"{where.name}: read_sheet reads {', '.join(WORKBOOK_SUFFIXES)}, .csv/.tsv and .parquet files, not "
           f"{where.suffix!r}.\n\nHint: save the sheet as .xlsx or .csv.")
    return ValidationError(msg)


def _source(where: Place) -> Path | IO[bytes]:
    """The local file, or the object's bytes (read once, whole: the readers want all of it)."""
    if where.local is None:
        return io.BytesIO(read_bytes(where))
    if not where.local.exists():
        raise missing(where)
    return where.local


def raw_rows(path: str | os.PathLike[str], sheet: str | int | None = None, *,
             storage_options: Mapping[str, Any] | None = None) -> list[list[Any]]:
    """A sheet's cells as read, row by row (the header first, blank lines kept), from a file or a URI."""
    return _cells(place(path, storage_options), sheet)


def _cells(where: Place, sheet: str | int | None) -> list[list[Any]]:
    if where.local is None and where.suffix not in (*WORKBOOK_SUFFIXES, *TEXT_SUFFIXES):
        raise _unread(where)  # (before fetching it)
    source = _source(where)
    if where.suffix in WORKBOOK_SUFFIXES:
        return rows_from_workbook(source, sheet, where.name)
    if where.suffix in TEXT_SUFFIXES:
        return rows_from_text(source, where.suffix)
    raise _unread(where)


def _header(rows: Sequence[Sequence[Any]], path: Place) -> list[str]:
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
def read_sheet(path: str | os.PathLike[str], sheet: str | int | None = ..., *, backend: Literal["pandas"] = ...,
               storage_options: Mapping[str, Any] | None = ...) -> pd.DataFrame: ...
@overload
def read_sheet(path: str | os.PathLike[str], sheet: str | int | None = ..., *, backend: Literal["polars"],
               storage_options: Mapping[str, Any] | None = ...) -> pl.DataFrame: ...
def read_sheet(path: str | os.PathLike[str], sheet: str | int | None = None, *, backend: Backend = "pandas",
               storage_options: Mapping[str, Any] | None = None) -> EagerFrame:
    """Read a spreadsheet (xlsx, xlsm, xls, ods, csv, tsv, parquet) into a frame whose ids stay text.

    Args:
        path: The file, or an object store's URI: ``"s3://bucket/lines.xlsx"``, ``gs://``, ``az://`` ... (the
            ``storage`` extra: fsspec and s3fs; gcsfs or adlfs for GCS or Azure).
        sheet: A workbook's sheet, by name or position; default: the first.
        backend: "pandas" (nullable dtypes: string, Int64, Float64, boolean, dates) or "polars".
        storage_options: For a URI: options of its filesystem (fsspec's, e.g. ``{"profile": "work"}``); the
            credentials otherwise come from the store's usual places (environment, profiles).

    Returns:
        A frame with one column per header cell. A column is numeric only when every value is a plain
        number that loses nothing as one ("00123", "4111111111111111" and "+44 20 7946 0958" stay text);
        ISO dates and workbook dates are dates; empty cells are null.

    Example:
        >>> sheet = af.read_sheet("scripts.xlsx")  # doctest: +SKIP
        >>> sheet["script_id"].tolist()[:2]  # doctest: +SKIP
        ['00123', '00124']
    """
    where = place(path, storage_options)
    if where.suffix in PARQUET_SUFFIXES:
        return _read_parquet(where, backend)
    rows = _cells(where, sheet)
    names = _header(rows, where)
    body = [row for row in rows[1:] if any(v is not None for v in row)]  # blank lines are not rows
    columns = {name: [row[i] if i < len(row) else None for row in body] for i, name in enumerate(names)}
    typed = {name: _typed(values) for name, values in columns.items()}
    return _frame(typed, backend)


def _read_parquet(where: Place, backend: Backend) -> EagerFrame:
    source = _source(where)
    if backend == "pandas":
        import pandas as pd

        return pd.read_parquet(source, dtype_backend="numpy_nullable")
    if backend == "polars":
        import polars as pl

        return pl.read_parquet(source)
    msg = f"backend must be 'pandas' or 'polars', got {backend!r}."
    raise ValidationError(msg)


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
def write_sheet(frame: EagerFrame, path: str | os.PathLike[str], *, sheet: str = "Sheet1",
                storage_options: Mapping[str, Any] | None = None) -> Path | str:
    """Write a frame to ``.xlsx``, ``.csv`` or ``.parquet`` so that it reads back as it was, and nothing in it runs.

    Args:
        frame: A pandas or polars DataFrame (e.g. what ``run`` returned).
        path: The file to write: ``.xlsx`` (the ``sheets`` extra), ``.csv`` (UTF-8 with a BOM) or ``.parquet``;
            or an object store's URI (``"s3://bucket/done.xlsx"``, the ``storage`` extra), put there in one
            piece once written in full (an error leaves no partial object).
        sheet: The worksheet's name (xlsx).
        storage_options: For a URI: options of its filesystem (fsspec's); the credentials otherwise come from
            the store's usual places (environment, profiles).

    Returns:
        The path written (a URI as given).

    Example:
        >>> af.write_sheet(out, "results.xlsx")  # doctest: +SKIP
    """
    where = place(path, storage_options)
    suffix = where.suffix
    if suffix not in (".xlsx", ".csv", *PARQUET_SUFFIXES):
        msg = (f"write_sheet writes .xlsx, .csv or .parquet, not {suffix or 'a file without a suffix'} "
               f"({where.name}).")
        raise ValidationError(msg)
    if suffix in PARQUET_SUFFIXES:
        with written(where) as file:
            write_parquet(frame, file)
        return where.local if where.local is not None else where.text
    names, rows = rows_of(frame)
    check_limits(names, rows, where.name, suffix == ".xlsx")  # before anything is written
    with written(where) as file:
        if suffix == ".xlsx":
            write_xlsx(file, names, rows, sheet)
        else:
            write_csv(file, names, rows)
    return where.local if where.local is not None else where.text
