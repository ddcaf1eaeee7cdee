"""The county's money books, read once for a view: the registry's dated shares, costs and
tariffs, the statements, receipts, closed months, adjustments and uses, the estimated
statements — and, only for the rare station-month whose ownership changes within it, the
telemetry estimate's daily export that spreads its money over the days. The views built
on them (``finance.views``) are pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from finance import receivables, settled
from finance.records import ReceiptKind
from finance.uses import Cash, Use
from pvmon.db import tables
from pvmon.localtime import month_bounds
from pvmon.money import cost_table, tariff_table
from pvmon.registry.schema import Registry
from pvmon.shares import share_table

EstimateReader = Callable[[dt.date, dt.date, Collection[str]], pd.DataFrame]
"""(first day, last day, stations) → station_id, date, export_kwh, … (``finance.estimates``)"""

SETTLEMENT_COLUMNS = ["station_id", "period", "export_kwh", "grid_yuan", "subsidy_yuan"]
RECEIPT_COLUMNS = [
    "id",
    "station_id",
    "kind",
    "covers_from",
    "covers_to",
    "amount_yuan",
    "received_on",
    "reference",
]
ADJUSTMENT_COLUMNS = ["id", "village_id", "period", "amount_yuan", "reason", "corrects", "made_at"]


def table_of(rows: list, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([[getattr(r, c) for c in columns] for r in rows], columns=columns)


@dataclass
class Books:
    registry: Registry
    as_of: dt.date
    settlements: pd.DataFrame
    receipts: pd.DataFrame
    closed: dict[tuple[str, str], tables.VillageMonth]
    adjustments: pd.DataFrame
    uses: list[tables.IncomeUse]
    statements: dict[tuple[str, str], tables.VillageStatement]
    estimate: EstimateReader | None = None
    shares: pd.DataFrame = field(init=False)
    costs: pd.DataFrame = field(init=False)
    tariffs: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.shares = share_table(self.registry.station_shares)
        self.costs = cost_table(self.registry.station_costs)
        self.tariffs = tariff_table(self.registry.tariffs)

    @cached_property
    def settled(self) -> pd.DataFrame:
        """Each statement with its subsidy due (``finance.settled.settled_money``)."""
        return settled.settled_money(self.settlements, self.tariffs)

    def weights(self, months: pd.DataFrame) -> pd.DataFrame | None:
        """The estimate's daily export of the station-months whose shares change within
        the month (station_id, date, weight), read only for those."""
        changing = settled.changing_months(months, self.shares)
        if changing.empty or self.estimate is None:
            return None
        first = min(month_bounds(p)[0] for p in changing["period"])
        last = max(month_bounds(p)[1] for p in changing["period"])
        days = self.estimate(first, last, set(changing["station_id"]))
        return days.rename(columns={"export_kwh": "weight"})[["station_id", "date", "weight"]]

    def month_shares(self, months: pd.DataFrame) -> pd.DataFrame:
        return settled.month_shares(months, self.shares, self.weights(months))

    @cached_property
    def dues(self) -> pd.DataFrame:
        """What each settled month makes due: station_id, kind, period, due_yuan."""
        s = self.settled
        grid = s.assign(kind=str(ReceiptKind.GRID), due_yuan=s["grid_yuan"])
        subsidy = s.assign(kind=str(ReceiptKind.SUBSIDY), due_yuan=s["subsidy_yuan"])
        return pd.concat([grid, subsidy])[receivables.DUE_COLUMNS].reset_index(drop=True)

    @cached_property
    def allocations(self) -> pd.DataFrame:
        return receivables.allocate(self.dues, self.receipts)

    @cached_property
    def station_ledger(self) -> pd.DataFrame:
        return receivables.ledger(self.dues, self.allocations, self.as_of)

    @cached_property
    def village_ledger(self) -> pd.DataFrame:
        """The station ledger's rows as each village's part of them."""
        rows = self.station_ledger
        figures = ["due_yuan", "received_yuan", "outstanding_yuan"]
        return settled.split(rows, figures, self.month_shares(rows))

    def cash(self, village: str) -> list[Cash]:
        """The village's part of each receipt, on the day it was received."""
        paid = self.allocations
        if paid.empty:
            return []
        parts = settled.split(paid, ["amount_yuan"], self.month_shares(paid))
        parts = parts[parts["village_id"] == village]
        received = dict(zip(self.receipts["id"], self.receipts["received_on"], strict=True))
        by_receipt = parts.groupby("receipt_id")["amount_yuan"].sum()
        return [Cash(received[int(r)], round(float(a), 2)) for r, a in by_receipt.items()]

    def village_uses(self, village: str) -> list[Use]:
        return [
            Use(
                u.id,
                u.used_on,
                u.category,  # type: ignore[arg-type]
                float(u.amount_yuan),
                u.person,
                u.months,
                None if u.monthly_yuan is None else float(u.monthly_yuan),
            )
            for u in self.uses
            if u.village_id == village
        ]


def read_books(
    session: Session,
    registry: Registry,
    as_of: dt.date,
    estimate: EstimateReader | None = None,
    villages: Collection[str] | None = None,
) -> Books:
    """Everything the money views need, from the relational store. With ``villages``, the
    books of those villages alone: ``registry`` is then their part of it
    (``FleetLookup.books_registry``) and only its stations' statements and receipts and
    those villages' months, adjustments, uses and statements are read."""
    stations = {s.id for s in registry.stations}

    def read(query: Select, column: InstrumentedAttribute, keys: Collection[str]) -> list:
        return list(session.scalars(query if villages is None else query.where(column.in_(keys))))

    t = tables
    settlements = read(select(t.Settlement), t.Settlement.station_id, stations)
    receipts = read(select(t.Receipt), t.Receipt.station_id, stations)
    months = read(select(t.VillageMonth), t.VillageMonth.village_id, villages or ())
    adjustments = read(
        select(t.Adjustment).order_by(t.Adjustment.id), t.Adjustment.village_id, villages or ()
    )
    uses = read(
        select(t.IncomeUse).order_by(t.IncomeUse.used_on, t.IncomeUse.id),
        t.IncomeUse.village_id,
        villages or (),
    )
    statements = read(
        select(t.VillageStatement).where(t.VillageStatement.period.like("%-%")),
        t.VillageStatement.village_id,
        villages or (),
    )
    return Books(
        registry,
        as_of,
        table_of(settlements, SETTLEMENT_COLUMNS),
        table_of(receipts, RECEIPT_COLUMNS),
        {(m.village_id, m.period): m for m in months},
        table_of(adjustments, ADJUSTMENT_COLUMNS),
        uses,
        {(s.village_id, s.period): s for s in statements},
        estimate,
    )
