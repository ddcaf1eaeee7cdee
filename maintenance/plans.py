"""Recurring orders from the plans in the settings (pure): which station owes which
planned order this month, and when it is due.

An order of a plan is opened ``open_days_before`` its due day, once per station and
month (the order keeps its plan's key and month), and it is due at the end of the due day;
a plan's order not done by then is late and escalates like any other. A service that was
down opens the month's orders when it comes back; months gone by are not made up."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from pvmon.domain import StationKind
from pvmon.settings import PlanSettings


@dataclass(frozen=True)
class Due:
    station_id: str
    plan: PlanSettings
    period: str
    """The month, YYYY-MM."""
    due_on: dt.date


def due_day(plan: PlanSettings, year: int, month: int) -> dt.date:
    return dt.date(year, month, min(plan.due_day, calendar.monthrange(year, month)[1]))


def covers(plan: PlanSettings, station_id: str, kind: StationKind) -> bool:
    return kind in plan.station_kinds or station_id in plan.stations


def due_orders(
    plans: Iterable[PlanSettings],
    stations: Iterable[tuple[str, StationKind]],
    opened: Collection[tuple[str, str, str]],
    today: dt.date,
) -> list[Due]:
    """The planned orders to open on ``today``: (station, plan key, period) not in
    ``opened``, for the plans whose month it is and whose opening day has come."""
    listed = list(stations)
    out = []
    for plan in plans:
        if today.month not in plan.months:
            continue
        due = due_day(plan, today.year, today.month)
        if today < due - dt.timedelta(days=plan.open_days_before):
            continue
        period = f"{today.year:04d}-{today.month:02d}"
        out.extend(
            Due(station, plan, period, due)
            for station, kind in listed
            if covers(plan, station, kind) and (station, plan.key, period) not in opened
        )
    return out
