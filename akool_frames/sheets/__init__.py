"""Sheets in and out: ``read_sheet`` / ``write_sheet`` for CSV, Excel and Parquet, with the result columns kept
as the frame library's types and formula-looking text kept as text; local files or an object store's URIs
(``s3://``, ``gs://``, ``az://`` ... through fsspec)."""

from __future__ import annotations

from ._files import STORAGE_HINT, is_uri, place, written
from ._workbook import PARQUET_SUFFIXES, WORKBOOK_SUFFIXES, raw_rows, read_sheet, rows_from_text, rows_from_workbook, write_sheet

__all__ = [
    "PARQUET_SUFFIXES", "STORAGE_HINT", "WORKBOOK_SUFFIXES", "is_uri", "place", "raw_rows", "read_sheet",
    "rows_from_text", "rows_from_workbook", "write_sheet", "written",
]
