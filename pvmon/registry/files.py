"""Registry files the county edits: a folder of CSV files (one per sheet) or one XLSX workbook."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook

from pvmon.registry.schema import SHEET_MODELS, Registry, columns

RawSheets = dict[str, list[dict[str, Any]]]


class RegistryFileError(Exception):
    """The file cannot be read as a registry at all (not a bad row: a bad file).

    ``reason`` says why without naming the file's place, so that a server can show it to
    whoever uploaded the file (the message names the path, for the command line)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason.replace(str(path.parent), "").replace(str(path), path.name)


def registry_format(path: Path) -> str:
    if path.suffix.lower() == ".xlsx":
        return "xlsx"
    if path.suffix == "" or path.is_dir():
        return "csv"
    raise RegistryFileError(path, "expected a folder of CSV files or an .xlsx workbook")


def write_registry(registry: Registry, path: Path) -> None:
    rows = {
        sheet: [_cells(r.model_dump(mode="python")) for r in items]
        for sheet, items in registry.sheets().items()
    }
    if registry_format(path) == "xlsx":
        _write_xlsx(rows, path)
    else:
        _write_csv(rows, path)


def read_registry(path: Path) -> RawSheets:
    if not path.exists():
        raise RegistryFileError(path, "no such file or folder")
    return _read_xlsx(path) if registry_format(path) == "xlsx" else _read_csv(path)


def _cells(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in row.items()}


def _write_csv(rows: Mapping[str, Sequence[Mapping[str, Any]]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for sheet, items in rows.items():
        # utf-8-sig: the byte-order mark makes Excel open the Chinese text correctly.
        with (folder / f"{sheet}.csv").open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns(sheet))
            writer.writeheader()
            for item in items:
                writer.writerow({k: _csv_text(v) for k, v in item.items()})


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_csv(folder: Path) -> RawSheets:
    if not folder.is_dir():
        raise RegistryFileError(folder, "not a folder of CSV files")
    sheets: RawSheets = {}
    for file in sorted(folder.glob("*.csv")):
        try:
            with file.open(encoding="utf-8-sig", newline="") as f:
                sheets[file.stem] = [dict(r) for r in csv.DictReader(f)]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise RegistryFileError(file, f"{file.name}: not a UTF-8 CSV file ({exc})") from None
    if not sheets:
        raise RegistryFileError(folder, "holds no .csv files")
    return sheets


def _write_xlsx(rows: Mapping[str, Sequence[Mapping[str, Any]]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    for sheet in SHEET_MODELS:
        ws = book.create_sheet(sheet)
        ws.append(columns(sheet))
        for item in rows[sheet]:
            ws.append([item[c] for c in columns(sheet)])
        ws.freeze_panes = "A2"
    book.save(path)


def _read_xlsx(path: Path) -> RawSheets:
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise RegistryFileError(path, f"not a readable XLSX workbook ({exc})") from None
    sheets: RawSheets = {}
    for ws in book.worksheets:
        values = list(ws.iter_rows(values_only=True))
        if not values:
            sheets[ws.title] = []
            continue
        header = [str(h).strip() if h is not None else "" for h in values[0]]
        sheets[ws.title] = [
            {h: _xlsx_value(v) for h, v in zip(header, row, strict=False) if h}
            for row in values[1:]
            if any(v is not None and v != "" for v in row)
        ]
    book.close()
    return sheets


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value
