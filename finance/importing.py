"""Statements and receipts from a file (CSV, or an XLSX's first sheet), as the bureau
receives them or exports them from these pages: every row checked as a form would check
it, every bad row named, and then all rows written in one transaction — or, with any bad
row, none.

Columns by name, in any order, with the system's own headers in Chinese or English (a file
exported from the pages comes back as it went out) or the field names themselves; a title
row above the header is skipped. A row whose key (a statement's station and month, a
receipt's station, kind and voucher) is already stored corrects it; the same row again
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from finance import actions
from finance.records import KEYS, SHEETS, ReceiptIn, ReceiptKind, Record, SettlementIn, column_names
from pvmon.audit import Actor
from pvmon.domain import StationKind
from pvmon.i18n import LANGS, text
from pvmon.registry.schema import Registry
from pvmon.registry.validate import RowError, messages
from pvmon.tablefile import TableFileError, TableRow, read_table


class MoneyInvalid(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:200])
        more = f"\n  … and {len(errors) - 200} more" if len(errors) > 200 else ""
        super().__init__(
            f"the file has {len(errors)} problem(s); nothing was imported:\n{shown}{more}"
        )


@dataclass(frozen=True)
class Imported:
    added: int
    changed: int
    unchanged: int


KIND_WORDS = {text(f"receipt_kind.{k}", lang): str(k) for k in ReceiptKind for lang in LANGS} | {
    str(k): str(k) for k in ReceiptKind
}


def import_money(
    session: Session,
    registry: Registry,
    sheet: str,
    path: Path,
    name: str,
    kinds: Iterable[StationKind],
    by: Actor,
    now: dt.datetime,
    today: dt.date,
) -> Imported:
    """Check every row of a ``settlements`` or ``receipts`` file, then write them all in
    the caller's transaction; ``MoneyInvalid`` names every bad row and nothing is written."""
    records, errors = parse_rows(sheet, path, name)
    checked = []
    kinds = list(kinds)
    for number, record in records:
        try:
            if isinstance(record, SettlementIn):
                actions.check_settlement(session, registry, record, kinds, today)
            elif isinstance(record, ReceiptIn):
                actions.check_receipt(session, registry, record, kinds, today)
        except actions.MoneyRefused as refusal:
            errors.append(RowError(name, number, str(refusal), _key(sheet, record)))
            continue
        checked.append(record)
    if errors:
        raise MoneyInvalid(sorted(errors, key=lambda e: e.row or 0))
    save = actions.save_settlement if sheet == "settlements" else actions.save_receipt
    outcomes = [save(session, r, by, now) for r in checked]  # type: ignore[arg-type]
    return Imported(*(outcomes.count(o) for o in ("added", "changed", "unchanged")))


def parse_rows(
    sheet: str, path: Path, name: str
) -> tuple[list[tuple[int, Record]], list[RowError]]:
    """Typed records of the file's rows, and a ``RowError`` for each row that is not one
    (or that repeats an earlier row's key)."""
    names = column_names(sheet)
    model = SHEETS[sheet]
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    try:
        _, rows = read_table(
            path,
            lambda header: required <= {names.get(h) for h in header},
            f"with the columns {', '.join(sorted(required))}",
        )
    except TableFileError as exc:
        raise MoneyInvalid([RowError(name, None, str(exc).replace(str(path.name), name))]) from None
    if not rows:
        raise MoneyInvalid([RowError(name, None, "the file has no rows under its header")])
    out: list[tuple[int, Record]] = []
    errors: list[RowError] = []
    first_at: dict[tuple[Any, ...], int] = {}
    for row in rows:
        try:
            record = model.model_validate(_values(row, names))
        except ValidationError as exc:
            errors += [RowError(name, row.number, m) for m in messages(exc)]
            continue
        key = tuple(getattr(record, k) for k in KEYS[sheet])
        if key in first_at:
            errors.append(
                RowError(name, row.number, f"the same as row {first_at[key]}", _key(sheet, record))
            )
            continue
        first_at[key] = row.number
        out.append((row.number, record))
    return out, errors


def _values(row: TableRow, names: dict[str, str]) -> dict[str, Any]:
    values = {}
    for header, cell in row.values.items():
        field = names.get(header)
        if field is None or cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        values[field] = _cell(field, cell)
    return values


def _cell(field: str, cell: Any) -> Any:
    """A spreadsheet's cell as the record takes it: a date without its midnight, a month
    typed as a date as ``YYYY-MM``, a receipt's kind in words as its code."""
    if isinstance(cell, dt.datetime) and cell.time() == dt.time(0):
        cell = cell.date()
    if field in ("period", "covers_from", "covers_to") and isinstance(cell, dt.date):
        return f"{cell.year:04d}-{cell.month:02d}"
    if isinstance(cell, str):
        cell = cell.strip()
        return KIND_WORDS.get(cell, cell) if field == "kind" else cell
    return cell


def _key(sheet: str, record: Record) -> str:
    return "/".join(str(getattr(record, k)) for k in KEYS[sheet])
