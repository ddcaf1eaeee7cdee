"""Year-to-date against the annual targets, and a year-end forecast (pure).

forecast = actual so far + the rest of the year's *typical* yield (a climatological table
of kWh/kWp per month, shipped as ``pvmon/data/climate_monthly_yield.csv`` and overridable)
× capacity × the recent performance against that table. The table is an assumption for
Yonghe (about 1,240 kWh/kWp a year, the plan's 21 GWh over ~17 MWp), not a measurement.

A forecast says what it rests on: the days of the year so far that have data. Days
without data (before the system ran, or lost) are unknown, not zero: the forecast counts
them at the typical yield × the recent performance, and while fewer than
``MIN_DATA_DAYS`` days, or less than ``MIN_COVERAGE`` of the year so far, have data, its
status is *insufficient data* — never *at risk* for lack of data.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
from dataclasses import asdict, dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path

import pandas as pd

RECENT_DAYS = 30
"""Recent performance is measured over this many days before the as-of day."""
MIN_DATA_DAYS = 14
"""Fewer days of data than this say too little about the year."""
MIN_COVERAGE = 0.5
"""A forecast resting on less than this share of the year so far says too little."""


class TargetStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    INSUFFICIENT_DATA = "insufficient_data"


def climate_table(path: Path | None = None) -> pd.Series:
    """Typical specific yield per month [kWh/kWp], index 1–12."""
    if path is None:
        text = resources.files("pvmon.data").joinpath("climate_monthly_yield.csv").read_text()
    else:
        text = path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    table = pd.Series({int(r["month"]): float(r["kwh_per_kwp"]) for r in rows})
    if sorted(table.index) != list(range(1, 13)) or (table <= 0).any():
        raise ValueError(f"climate table {path or 'shipped'} needs months 1–12 with yields > 0")
    return table.sort_index()


def typical_yield(table: pd.Series, first: dt.date, last: dt.date) -> float:
    """Typical kWh/kWp over the days first..last inclusive (0 when last < first)."""
    total = 0.0
    day = first
    while day <= last:
        month_end = dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        upto = min(month_end, last)
        total += table[day.month] * ((upto - day).days + 1) / month_end.day
        day = upto + dt.timedelta(days=1)
    return total


@dataclass(frozen=True)
class YearPosition:
    """Where ``as_of`` stands in its year, in typical kWh per kWp (the same for everyone)."""

    year: int
    as_of: dt.date
    """The last day counted as actual."""
    recent_from: dt.date
    typical_recent: float
    typical_rest: float
    days_left: int
    days_elapsed: int
    """Days of the year up to and including ``as_of``."""
    typical_elapsed: float
    """Typical kWh/kWp of those days."""

    @classmethod
    def of(cls, table: pd.Series, as_of: dt.date) -> YearPosition:
        start = dt.date(as_of.year, 1, 1)
        year_end = dt.date(as_of.year, 12, 31)
        recent_from = max(start, as_of - dt.timedelta(days=RECENT_DAYS - 1))
        return cls(
            as_of.year,
            as_of,
            recent_from,
            typical_yield(table, recent_from, as_of),
            typical_yield(table, as_of + dt.timedelta(days=1), year_end),
            (year_end - as_of).days,
            (as_of - start).days + 1,
            typical_yield(table, start, as_of),
        )


@dataclass(frozen=True)
class Totals:
    """What a forecast needs of one subject's year so far."""

    actual_kwh: float
    actual_yuan: float
    days: int
    recent_kwh: float
    recent_days: int

    @classmethod
    def of_daily(cls, daily: pd.DataFrame, position: YearPosition) -> Totals:
        """From ``daily``: date, energy_kwh, yuan (net of costs where costs apply)."""
        days = daily[
            (daily["date"] >= dt.date(position.year, 1, 1)) & (daily["date"] <= position.as_of)
        ]
        recent = days[days["date"] >= position.recent_from]
        return cls(
            float(days["energy_kwh"].sum()),
            float(days["yuan"].sum()),
            len(days),
            float(recent["energy_kwh"].sum()),
            len(recent),
        )


@dataclass(frozen=True)
class Forecast:
    year: int
    as_of: dt.date
    capacity_kwp: float
    actual_kwh: float
    actual_yuan: float
    performance: float
    """Recent output against the typical yield (1.0 = typical)."""
    forecast_kwh: float
    forecast_yuan: float
    target_kwh: float | None
    target_yuan: float
    required_performance: float | None
    """What the rest of the year must reach, against typical, to meet the target (None
    when the data say too little)."""
    status: TargetStatus
    days_with_data: int
    """Days of the year so far that the forecast rests on."""
    days_elapsed: int

    def as_dict(self) -> dict[str, object]:
        values = asdict(self)
        values["as_of"] = self.as_of.isoformat()
        values["status"] = str(self.status)
        return values


def forecast(
    totals: Totals,
    position: YearPosition,
    *,
    capacity_kwp: float,
    target_yuan: float,
    target_kwh: float | None = None,
    yuan_per_kwh: float | None = None,
    daily_cost_yuan: float = 0.0,
) -> Forecast:
    """Year-end energy and money of one subject.

    ``yuan_per_kwh`` prices the rest of the year's energy (default: the year's average so
    far); ``daily_cost_yuan`` is subtracted for each remaining day.
    """
    # The recent days with data against the typical yield of as many days of the window.
    window = (position.as_of - position.recent_from).days + 1
    typical_recent = position.typical_recent * capacity_kwp * totals.recent_days / window
    performance = totals.recent_kwh / typical_recent if typical_recent > 0 else 1.0
    rest = position.typical_rest * capacity_kwp
    missing = _typical_missing(totals, position) * capacity_kwp
    price = (
        yuan_per_kwh
        if yuan_per_kwh is not None
        else (
            (totals.actual_yuan + daily_cost_yuan * totals.days) / totals.actual_kwh
            if totals.actual_kwh > 0
            else 0.0
        )
    )
    costs_left = daily_cost_yuan * position.days_left
    estimated = (rest + missing) * performance
    forecast_kwh = totals.actual_kwh + estimated
    forecast_yuan = totals.actual_yuan + estimated * price - costs_left
    enough = totals.days >= min(MIN_DATA_DAYS, position.days_elapsed) and (
        totals.days >= MIN_COVERAGE * position.days_elapsed
    )
    required = _required(
        totals, rest, missing * performance, price, costs_left, target_yuan, target_kwh
    )
    on_track = forecast_yuan >= target_yuan and (target_kwh is None or forecast_kwh >= target_kwh)
    status = (
        TargetStatus.INSUFFICIENT_DATA
        if not enough
        else TargetStatus.ON_TRACK
        if on_track
        else TargetStatus.AT_RISK
    )
    return Forecast(
        position.year,
        position.as_of,
        capacity_kwp,
        totals.actual_kwh,
        totals.actual_yuan,
        performance,
        forecast_kwh,
        forecast_yuan,
        target_kwh,
        target_yuan,
        required if enough else None,
        status,
        totals.days,
        position.days_elapsed,
    )


def _typical_missing(totals: Totals, position: YearPosition) -> float:
    """Typical kWh/kWp of the days so far without data (their share of the elapsed
    days' typical yield)."""
    if position.days_elapsed <= 0:
        return 0.0
    missing_days = max(0, position.days_elapsed - totals.days)
    return position.typical_elapsed * missing_days / position.days_elapsed


def _required(
    totals: Totals,
    rest: float,
    missing_kwh: float,
    price: float,
    costs_left: float,
    target_yuan: float,
    target_kwh: float | None,
) -> float | None:
    """The performance against typical the rest of the year needs to meet the targets."""
    if rest <= 0:
        return None
    gaps = []
    if price > 0:
        gaps.append(
            (target_yuan - totals.actual_yuan - missing_kwh * price + costs_left) / (rest * price)
        )
    if target_kwh is not None:
        gaps.append((target_kwh - totals.actual_kwh - missing_kwh) / rest)
    return max(gaps) if gaps else None
