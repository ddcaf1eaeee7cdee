"""What people enter about money, as typed records (pure): a settlement statement, a
receipt, an income use, an adjustment — the same models for a form, an API call and each
row of an imported file — and the columns a file may name them by."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from pvmon.i18n import LANGS, text
from pvmon.localtime import MONTH_PATTERN
from pvmon.registry.schema import Code

MAX_YUAN = 1e10
MAX_KWH = 1e10


def _fen(value: float) -> float:
    if round(value, 2) != value:
        raise ValueError(f"at most two decimal places (got {value!r})")
    return value


Yuan = Annotated[float, Field(ge=0, le=MAX_YUAN), AfterValidator(_fen)]
"""An amount in yuan, to the fen."""
Kwh = Annotated[float, Field(ge=0, le=MAX_KWH), AfterValidator(_fen)]
Month = Annotated[str, StringConstraints(strip_whitespace=True, pattern=MONTH_PATTERN)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Words = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SettlementIn(Record):
    """A settlement statement (电费结算单): one station, one month."""

    station_id: Code
    period: Month
    export_kwh: Kwh
    """The grid meter's settled export (上网电量)."""
    grid_yuan: Yuan
    subsidy_yuan: Yuan | None = None
    """As the statement states it; empty: settled export × the month's subsidy rate."""
    number: Reference | None = None
    settled_on: dt.date | None = None


class ReceiptKind(StrEnum):
    GRID = "grid"
    """A grid payment (the coal-benchmark part)."""
    SUBSIDY = "subsidy"
    """Renewable-energy subsidy from the national fund, through the grid company."""


class ReceiptIn(Record):
    """Money received for a station, for some months, known by its voucher."""

    station_id: Code
    kind: ReceiptKind
    covers_from: Month
    covers_to: Month
    amount_yuan: Annotated[float, Field(gt=0, le=MAX_YUAN), AfterValidator(_fen)]
    received_on: dt.date
    reference: Reference

    @model_validator(mode="after")
    def _months_in_order(self) -> ReceiptIn:
        if self.covers_to < self.covers_from:
            raise ValueError(f"covers_to {self.covers_to} is before covers_from {self.covers_from}")
        return self


class UseCategory(StrEnum):
    """What a village's PV income may go to (the PV poverty-alleviation income rules), and
    what it may not."""

    PUBLIC_WELFARE_JOBS = "public_welfare_jobs"
    """公益岗位: a person, months, monthly pay."""
    SMALL_PUBLIC_WORKS = "small_public_works"
    """小型公益事业"""
    REWARDS_SUBSIDIES = "rewards_subsidies"
    """奖励补助"""
    STATION_COSTS = "station_costs"
    """The station's own running costs (rent, insurance, O&M) paid from its income."""
    HANDOUT = "handout"
    """Cash or goods simply handed out (简单发钱发物): forbidden, recorded and flagged."""
    OTHER = "other"
    """Anything else: flagged for the bureau's review."""


ALLOWED_USES = frozenset(
    {
        UseCategory.PUBLIC_WELFARE_JOBS,
        UseCategory.SMALL_PUBLIC_WORKS,
        UseCategory.REWARDS_SUBSIDIES,
        UseCategory.STATION_COSTS,
    }
)


class UseIn(Record):
    used_on: dt.date
    category: UseCategory
    description: Words
    amount_yuan: Annotated[float, Field(gt=0, le=MAX_YUAN), AfterValidator(_fen)]
    person: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None
    months: int | None = Field(None, ge=1, le=12)
    monthly_yuan: Yuan | None = None


class AdjustmentIn(Record):
    amount_yuan: Annotated[float, Field(ge=-MAX_YUAN, le=MAX_YUAN), AfterValidator(_fen)]
    reason: Words
    corrects: Month | None = None

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentIn:
        if self.amount_yuan == 0:
            raise ValueError("an adjustment of 0 yuan changes nothing")
        return self


SHEETS: dict[str, type[Record]] = {"settlements": SettlementIn, "receipts": ReceiptIn}
"""The money a file may bring in, by its kind."""
KEYS: dict[str, tuple[str, ...]] = {
    "settlements": ("station_id", "period"),
    "receipts": ("station_id", "kind", "reference"),
}
"""What one row of each kind is: a second row with the same key corrects the first."""


def column_names(sheet: str) -> dict[str, str]:
    """Header text → field: each field's own name and its column title in every language
    (a file exported from the system's pages comes back with its Chinese headers)."""
    out: dict[str, str] = {}
    for name in SHEETS[sheet].model_fields:
        out[name] = name
        for lang in LANGS:
            out[text(f"col.{name}", lang)] = name
    return out
