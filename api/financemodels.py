"""The money's records as the API gives and takes them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from finance.records import ReceiptKind, UseCategory


class SettlementBody(BaseModel):
    """A statement's figures (its station and month are in the path)."""

    model_config = ConfigDict(extra="forbid")
    export_kwh: float
    grid_yuan: float
    subsidy_yuan: float | None = None
    number: str | None = None
    settled_on: dt.date | None = None


class SettlementOut(BaseModel):
    station_id: str
    period: str
    export_kwh: float
    grid_yuan: float
    subsidy_yuan: float
    """As stated, or by the rule (settled export at each day's subsidy rate)."""
    subsidy_stated: bool
    number: str | None
    settled_on: dt.date | None
    entered_at: dt.datetime
    entered_by: str


class Saved(BaseModel):
    outcome: Literal["added", "changed", "unchanged"]


class ReceiptOut(BaseModel):
    id: int
    station_id: str
    kind: ReceiptKind
    covers_from: str
    covers_to: str
    amount_yuan: float
    received_on: dt.date
    reference: str
    entered_at: dt.datetime
    entered_by: str


class MoneyImported(BaseModel):
    added: int
    changed: int
    unchanged: int


class ReconciledMonth(BaseModel):
    station_id: str
    period: str
    export_kwh: float
    grid_yuan: float
    subsidy_yuan: float
    subsidy_stated: bool
    est_export_kwh: float | None
    est_grid_yuan: float | None
    est_subsidy_yuan: float | None
    dev_export_kwh: float | None
    dev_grid_yuan: float | None
    dev_subsidy_yuan: float | None
    complete: bool
    """The estimate has every day of the month (only then is it judged)."""
    flagged: bool


class Reconciliation(BaseModel):
    deviation_share: float
    months: list[ReconciledMonth]
    missing: dict[str, list[str]]
    """Station → the months whose statements are overdue."""


class Aged(BaseModel):
    kind: ReceiptKind
    due_yuan: float
    received_yuan: float
    outstanding_yuan: float
    under_1y: float
    from_1y_to_2y: float
    over_2y: float


class StationAged(Aged):
    station_id: str


class VillageAged(Aged):
    village_id: str


class Receivables(BaseModel):
    as_of: dt.date
    totals: list[Aged]
    stations: list[StationAged]
    villages: list[VillageAged]


class Figures(BaseModel):
    export_kwh: float
    grid_yuan: float
    subsidy_yuan: float
    costs_yuan: float
    net_yuan: float


class AdjustmentOut(BaseModel):
    id: int
    amount_yuan: float
    reason: str
    corrects: str | None
    made_at: dt.datetime


class MonthOut(BaseModel):
    period: str
    state: Literal["estimated", "settled", "closed"]
    estimated: Figures | None
    settled: Figures | None
    adjustments: list[AdjustmentOut]
    adjustments_yuan: float
    income_yuan: float | None
    """Settled where settled, else estimated, with the month's adjustments."""
    missing: list[str]
    lines: list[dict[str, Any]]
    closed_at: dt.datetime | None
    closed_by: str | None


class UseOut(BaseModel):
    id: int
    used_on: dt.date
    category: UseCategory
    description: str
    amount_yuan: float
    person: str | None
    months: int | None
    monthly_yuan: float | None
    balance_after: float
    flags: list[str]
    """What the rules say against it (catalog keys ``use_flag.*``)."""


class VillageBooks(BaseModel):
    village_id: str
    year: int
    target_yuan: float
    months: list[MonthOut]
    settled_months: int
    settled_yuan: float
    income_yuan: float
    """The year's income: settled months as settled, the others as estimated."""
    settled_check: Literal["met", "short", "pending"]
    """The income target on settled money alone (the forecast checks the estimate)."""
    opening_balance: float
    received_yuan: float
    used_yuan: float
    closing_balance: float
    uses: list[UseOut]
    outstanding: dict[str, dict[str, float]]


class UseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    used_on: dt.date
    category: UseCategory
    description: str
    amount_yuan: float
    person: str | None = None
    months: int | None = None
    monthly_yuan: float | None = None


class AdjustmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount_yuan: float
    reason: str
    corrects: str | None = None


class DisclosureOut(BaseModel):
    id: int
    year: int
    published_at: dt.datetime
    published_by: str
    posted_from: dt.date
    posted_until: dt.date
    sha256: str
    size_bytes: int
    url: str


class AuditOut(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    channel: str
    entity: str
    key: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


class AuditPage(BaseModel):
    data: list[AuditOut]
    count: int
