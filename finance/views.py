"""A village's money month by month, and the county's (pure, on ``finance.books``).

A village's month is **estimated** while any station it held that month lacks its
statement, **settled** once every one has it (the settled figures then replace the
estimate), and **closed** once the bureau closes it: its figures are then those kept at the
close, never recomputed; a later correction is an adjustment booked in the month it is
made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from finance import receivables, settled
from finance.books import Books
from finance.settled import MONEY
from finance.uses import Use, balances, flags
from pvmon.localtime import month_bounds

ESTIMATED, SETTLED, CLOSED = "estimated", "settled", "closed"


@dataclass(frozen=True)
class Figures:
    export_kwh: float
    grid_yuan: float
    subsidy_yuan: float
    costs_yuan: float

    @property
    def net_yuan(self) -> float:
        return round(self.grid_yuan + self.subsidy_yuan - self.costs_yuan, 2)

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "net_yuan": self.net_yuan}


@dataclass(frozen=True)
class Month:
    period: str
    state: str
    estimated: Figures | None
    settled: Figures | None
    adjustments: list[dict[str, Any]]
    missing: list[str]
    """Stations held in the month whose statement has not been entered."""
    lines: list[dict[str, Any]] = field(default_factory=list)
    """Each station's settled part: station_id, share and the figures."""
    closed_at: str | None = None
    closed_by: str | None = None

    @property
    def adjustments_yuan(self) -> float:
        return round(sum(a["amount_yuan"] for a in self.adjustments), 2)

    @property
    def income_yuan(self) -> float | None:
        """The month's distributable income: settled where settled, else estimated, with
        the adjustments booked in it."""
        base = self.settled or self.estimated
        return None if base is None else round(base.net_yuan + self.adjustments_yuan, 2)

    def snapshot(self) -> dict[str, Any]:
        """What a close keeps of the month."""
        assert self.settled is not None
        return {
            "settled": self.settled.as_dict(),
            "estimated": self.estimated.as_dict() if self.estimated else None,
            "adjustments": self.adjustments,
            "lines": self.lines,
        }


def held(books: Books, village: str, period: str) -> set[str]:
    """The stations the village held some share of during the month."""
    first, last = month_bounds(period)
    s = books.shares
    rows = s[
        (s["village_id"] == village)
        & (s["valid_from"] <= last)
        & s["valid_to"].map(lambda end: end is None or pd.isna(end) or end >= first)
    ]
    return set(rows["station_id"])


def settled_whole(stations: set[str], have: set[str]) -> bool:
    """A village's month is settled once every station it held in it (``stations``) has
    its statement (``have``: the stations with one)."""
    return bool(stations) and stations <= have


def state(books: Books, village: str, period: str) -> str:
    if (village, period) in books.closed:
        return CLOSED
    return (
        SETTLED
        if settled_whole(held(books, village, period), _stated(books, period))
        else ESTIMATED
    )


def _stated(books: Books, period: str) -> set[str]:
    """The stations with a statement of ``period``."""
    s = books.settlements
    return set(s.loc[s["period"] == period, "station_id"])


def month(books: Books, village: str, period: str) -> Month:
    """One month of a village: its state, estimate, settled figures and adjustments."""
    return months_of(books, [village], period)[village]


def months_of(books: Books, villages: list[str], period: str) -> dict[str, Month]:
    """The month of each of ``villages``, its statements split once for them all."""
    have = books.settled[books.settled["period"] == period]
    held_by = {v: held(books, v, period) for v in villages}
    stated = _stated(books, period)
    whole = {v for v, stations in held_by.items() if settled_whole(stations, stated)}
    rows = have[have["station_id"].isin(set().union(*(held_by[v] for v in whole)))]
    parts = settled.split(rows, MONEY, books.month_shares(rows))
    costs = settled.village_costs(books.costs, books.shares, rows)
    out = {}
    for village in villages:
        adjustments = _adjustments(books, village, period)
        estimate = _estimate(books, village, period)
        closed = books.closed.get((village, period))
        if closed is not None:
            out[village] = _kept(period, closed, estimate)
        elif village not in whole:
            missing = sorted(held_by[village] - stated)
            out[village] = Month(period, ESTIMATED, estimate, None, adjustments, missing)
        else:
            lines = _lines(
                parts[parts["village_id"] == village], costs[costs["village_id"] == village]
            )
            totals = Figures(
                *(round(sum(line[k] for line in lines), 2) for k in [*MONEY, "costs_yuan"])
            )
            out[village] = Month(period, SETTLED, estimate, totals, adjustments, [], lines)
    return out


def _kept(period: str, closed: Any, estimate: Figures | None) -> Month:
    kept = closed.figures
    return Month(
        period,
        CLOSED,
        estimate,
        Figures(**{k: v for k, v in kept["settled"].items() if k != "net_yuan"}),
        kept["adjustments"],
        [],
        kept["lines"],
        closed.closed_at.isoformat(),
        closed.closed_by,
    )


def _lines(parts: pd.DataFrame, costs: pd.DataFrame) -> list[dict[str, Any]]:
    """Each station's settled part of a village's month."""
    cost = costs.set_index("station_id")["costs_yuan"]
    return [
        {
            "station_id": p.station_id,
            "share": round(float(p.share), 6),
            **{k: round(float(getattr(p, k)), 2) for k in MONEY},
            "costs_yuan": round(float(cost.get(p.station_id, 0.0)), 2),
        }
        for p in parts.sort_values("station_id").itertuples()
    ]


def _estimate(books: Books, village: str, period: str) -> Figures | None:
    """The village's statement for the month as analytics computed it, its net rounded to
    the fen once (``Figures.net_yuan``): rounding each part first made the estimate's net
    differ by a fen from the statement's that the village's API page shows."""
    s = books.statements.get((village, period))
    if s is None:
        return None
    return Figures(s.export_kwh, s.grid_yuan, s.subsidy_yuan, s.costs_yuan)


def _adjustments(books: Books, village: str, period: str) -> list[dict[str, Any]]:
    a = books.adjustments
    rows = a[(a["village_id"] == village) & (a["period"] == period)]
    return [
        {
            "id": int(r.id),
            "amount_yuan": float(r.amount_yuan),
            "reason": r.reason,
            "corrects": r.corrects,
            "made_at": r.made_at.isoformat(),
        }
        for r in rows.itertuples()
    ]


@dataclass(frozen=True)
class UseLine:
    id: int
    used_on: dt.date
    category: str
    description: str
    amount_yuan: float
    person: str | None
    months: int | None
    monthly_yuan: float | None
    balance_after: float
    flags: list[str]


@dataclass(frozen=True)
class Year:
    village_id: str
    year: int
    months: list[Month]
    opening_balance: float
    received_yuan: float
    used_yuan: float
    uses: list[UseLine]
    outstanding: dict[str, dict[str, float]]
    """kind → age bucket → yuan still owed for the village's part (all years)."""

    @property
    def settled_months(self) -> int:
        return sum(m.state != ESTIMATED for m in self.months)

    @property
    def settled_yuan(self) -> float:
        return round(sum(m.income_yuan or 0.0 for m in self.months if m.state != ESTIMATED), 2)

    @property
    def income_yuan(self) -> float:
        """Settled months as settled, the rest as estimated."""
        return round(sum(m.income_yuan or 0.0 for m in self.months), 2)

    def settled_check(self, target_yuan: float) -> str:
        """The income target on settled money alone: ``met`` once the settled months reach
        it, ``short`` when all twelve are settled and do not, ``pending`` until then."""
        if self.settled_yuan >= target_yuan:
            return "met"
        if len(self.months) == 12 and self.settled_months == 12:
            return "short"
        return "pending"

    @property
    def closing_balance(self) -> float:
        return round(self.opening_balance + self.received_yuan - self.used_yuan, 2)


def year(books: Books, village: str, number: int) -> Year:
    """The village's year: each month up to the current one, its cash and its uses."""
    last = min(dt.date(number, 12, 31), books.as_of)
    periods = (
        [f"{number:04d}-{m:02d}" for m in range(1, last.month + 1)] if last.year == number else []
    )
    cash = books.cash(village)
    uses = books.village_uses(village)
    after = balances(cash, uses)
    flagged = flags(cash, uses)
    start = dt.date(number, 1, 1)
    rows = {u.id: u for u in books.uses}
    return Year(
        village,
        number,
        [month(books, village, p) for p in periods],
        opening_balance=round(
            sum(c.amount_yuan for c in cash if c.received_on < start)
            - sum(u.amount_yuan for u in uses if u.used_on < start),
            2,
        ),
        received_yuan=round(sum(c.amount_yuan for c in cash if c.received_on.year == number), 2),
        used_yuan=round(sum(u.amount_yuan for u in uses if u.used_on.year == number), 2),
        uses=[
            _use_line(u, rows[u.id].description, after[u.id], flagged[u.id])
            for u in uses
            if u.used_on.year == number
        ],
        outstanding=_outstanding(books, village),
    )


def _use_line(u: Use, description: str, balance: float, found: list[str]) -> UseLine:
    return UseLine(
        u.id,
        u.used_on,
        str(u.category),
        description,
        u.amount_yuan,
        u.person,
        u.months,
        u.monthly_yuan,
        balance,
        found,
    )


def _outstanding(books: Books, village: str) -> dict[str, dict[str, float]]:
    rows = books.village_ledger
    rows = rows[rows["village_id"] == village]
    out: dict[str, dict[str, float]] = {}
    for kind, part in rows.groupby("kind"):
        out[str(kind)] = {
            b: round(float(part.loc[part["bucket"] == b, "outstanding_yuan"].sum()), 2)
            for b in receivables.BUCKETS
        }
    return out


def month_states(books: Books, periods: list[str]) -> pd.DataFrame:
    """Every village's state in each of ``periods``: village_id, period, state, missing."""
    rows = [
        (v.id, p, state(books, v.id, p), len(_missing(books, v.id, p)))
        for v in books.registry.villages
        for p in periods
    ]
    return pd.DataFrame(rows, columns=["village_id", "period", "state", "missing"])


def _missing(books: Books, village: str, period: str) -> set[str]:
    return held(books, village, period) - _stated(books, period)
