"""One table from a file people edit or export: a CSV (UTF-8, with or without a byte-order
mark) or the first sheet of an XLSX workbook, its header found below any title rows (the
project's own exports put one above it). Imports of telemetry history and of money read
their files here."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

HEADER_SEARCH_ROWS = 20
"""How far down a sheet its header row may be."""


class TableFileError(Exception):
    """The file cannot be read as a table at all (a bad file, not a bad row)."""


@dataclass(frozen=True)
class TableRow:
    number: int
    """As a spreadsheet numbers it (the header is a row too)."""
    values: dict[str, Any]
    """Header → cell, for the header's named columns."""


def read_table(
    path: Path, is_header: Callable[[list[str]], bool], what: str
) -> tuple[list[str], list[TableRow]]:
    """The header (the first row within ``HEADER_SEARCH_ROWS`` that ``is_header``) and the
    non-empty rows under it; ``what`` names the header looked for in the refusal."""
    raw = list(_csv_rows(path) if path.suffix.lower() == ".csv" else _xlsx_rows(path))
    for at, cells in enumerate(raw[:HEADER_SEARCH_ROWS]):
        header = [str(c).strip() if c is not None else "" for c in cells]
        if is_header(header):
            rows = [
                TableRow(at + n + 2, {h: v for h, v in zip(header, cells, strict=False) if h})
                for n, cells in enumerate(raw[at + 1 :])
                if any(c not in (None, "") for c in cells)
            ]
            return header, rows
    raise TableFileError(
        f"{path.name}: no header row {what} in its first {HEADER_SEARCH_ROWS} rows"
    )


def _csv_rows(path: Path) -> Iterator[list[Any]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            yield from csv.reader(f)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TableFileError(f"{path.name}: not a readable UTF-8 CSV file ({exc})") from None


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    if path.suffix.lower() != ".xlsx":
        raise TableFileError(f"{path.name}: not a .csv or .xlsx file")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise TableFileError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        for cells in book.worksheets[0].iter_rows(values_only=True):
            yield list(cells)
    finally:
        book.close()
