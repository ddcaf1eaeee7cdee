"""A village's quarterly statement: its income month by month (settled or estimated), the
adjustments, how it used the income and what came in and went out in the quarter, the
balance and what is still owed to it — what the collective keeps and posts each quarter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api import money
from api.state import ApiState
from finance import views
from pvmon.localtime import month_bounds, month_of

QUARTER_PATTERN = r"^20\d\d[Qq][1-4]$"


def quarter_months(quarter: str) -> list[str]:
    """``2026Q3`` → its three months."""
    year, number = int(quarter[:4]), int(quarter[5])
    return [f"{year:04d}-{m:02d}" for m in range(3 * number - 2, 3 * number + 1)]


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


@dataclass
class VillageQuarter:
    village_id: str
    name: str
    township: str
    quarter: str
    first: dt.date
    last: dt.date
    months: list[views.Month]
    uses: list[views.UseLine]
    received_yuan: float
    used_yuan: float
    opening_balance: float
    closing_balance: float
    outstanding: dict[str, dict[str, float]]
    made_at: dt.datetime

    @property
    def income_yuan(self) -> float:
        return round(sum(m.income_yuan or 0.0 for m in self.months), 2)

    @property
    def settled_yuan(self) -> float:
        return round(sum(m.income_yuan or 0.0 for m in self.months if m.state != "estimated"), 2)

    def figures(self) -> dict[str, Any]:
        return {
            "income_yuan": self.income_yuan,
            "settled_yuan": self.settled_yuan,
            "received_yuan": self.received_yuan,
            "used_yuan": self.used_yuan,
            "closing_balance": self.closing_balance,
        }


def quarterly(ctx: ApiState, session: Session, village: str, quarter: str) -> VillageQuarter:
    """The statement of ``village`` for ``quarter`` (``2026Q3``), as the books stand."""
    periods = quarter_months(quarter)
    first, last = month_bounds(periods[0])[0], month_bounds(periods[-1])[1]
    books = money.books(ctx, session, [village])
    year = views.year(books, village, first.year)
    cash = books.cash(village)
    spent = books.village_uses(village)
    before = sum(c.amount_yuan for c in cash if c.received_on < first) - sum(
        u.amount_yuan for u in spent if u.used_on < first
    )
    received = sum(c.amount_yuan for c in cash if first <= c.received_on <= last)
    used = sum(u.amount_yuan for u in spent if first <= u.used_on <= last)
    view = ctx.view()
    row = view.villages[village]
    return VillageQuarter(
        village_id=village,
        name=row.name,
        township=view.township_names.get(row.township_id, row.township_id),
        quarter=quarter,
        first=first,
        last=last,
        months=[views.month(books, village, p) for p in periods if p <= month_of(books.as_of)],
        uses=[u for u in year.uses if first <= u.used_on <= last],
        received_yuan=round(received, 2),
        used_yuan=round(used, 2),
        opening_balance=round(before, 2),
        closing_balance=round(before + received - used, 2),
        outstanding=year.outstanding,
        made_at=ctx.now(),
    )
