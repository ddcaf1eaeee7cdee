"""Editing one sheet of a registry written as a folder of CSV files, as a person would."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path


def edit_csv(folder: Path, sheet: str, edit: Callable[[list[dict]], list[dict]]) -> None:
    """Rewrite ``sheet`` with ``edit`` applied to its rows (the columns: the first row's)."""
    file = folder / f"{sheet}.csv"
    with file.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    rows = edit(rows)
    fields = list(rows[0])
    with file.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
