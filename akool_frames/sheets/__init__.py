"""Sheets in and out: ``read_sheet`` / ``write_sheet`` for CSV, Excel and Parquet, with the result columns kept
as the frame library's types and formula-looking text kept as text."""

from __future__ import annotations

from ._workbook import WORKBOOK_SUFFIXES, read_sheet, rows_from_text, rows_from_workbook, write_sheet

__all__ = ["WORKBOOK_SUFFIXES", "read_sheet", "rows_from_text", "rows_from_workbook", "write_sheet"]
