"""The data behind the maintenance figures: orders of a month with their times and their
faults' losses, each maintainer's assessment, and the month's lost energy by station.
The rules are ``maintenance.assessment`` and ``pvmon.losses``; this module reads the
orders, alerts and station rollups they need."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from api import queries
from api.deps import Caller
from api.state import ApiState
from maintenance.assessment import (
    EFFECT_DAYS,
    Assessment,
    FaultSpan,
    OrderFigures,
    assess,
    order_figures,
)
from pvmon.db import tables
from pvmon.domain import StationKind
from pvmon.findings import OPERATING_RULES
from pvmon.influx import schema
from pvmon.influx.client import series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_start, local_day, month_bounds, utc
from pvmon.losses import Loss, fault_span, loss_over, span_days
from pvmon.registry.lookup import FleetLookup
from pvmon.shares import parts_by_day, share_table


def month_instants(first: dt.date, last: dt.date, ctx: ApiState) -> tuple[dt.datetime, dt.datetime]:
    """The local start of ``first`` and of the day after ``last``, as UTC moments."""
    return utc(day_start(first, ctx.tz)), utc(day_start(last + dt.timedelta(days=1), ctx.tz))


DAY_FIELDS = ["shortfall_kwh", "shortfall_yuan", "peer_index", "usable"]
FEW_STATIONS = 50
"""Up to this many stations are named in the query; more read every station's days."""


def station_days(
    ctx: ApiState, first: dt.date, last: dt.date, stations: Collection[str] | None = None
) -> pd.DataFrame:
    """The stations' days (all: None) from ``first`` to ``last``: station, date,
    shortfall_kwh, shortfall_yuan, peer_index, usable."""
    empty = pd.DataFrame(columns=["time", "station", *DAY_FIELDS, "date"])
    if stations is not None and not stations:
        return empty
    fields = ", ".join(f'"{f}"' for f in DAY_FIELDS)
    only = ""
    if stations is not None and len(stations) <= FEW_STATIONS:
        only = " AND (" + " OR ".join(f"\"station\" = '{s}'" for s in sorted(stations)) + ")"
    series = ctx.influx.query(
        f'SELECT {fields} FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" '
        f"WHERE time >= {day_start(first, ctx.tz)}s "
        f"AND time < {day_start(last + dt.timedelta(days=1), ctx.tz)}s{only} "
        'GROUP BY "station"'
    )
    rows = series_values(series)
    frame = pd.DataFrame(rows, columns=["time", "station", *DAY_FIELDS])
    frame["date"] = [local_day(t, ctx.tz) for t in frame["time"]]
    return frame


def fault_of(alert: tables.Alert | None) -> FaultSpan | None:
    """A fault's start and end from its alert: ended when its condition cleared (or it was
    resolved with the condition gone). None for an alert that is not about the station's
    equipment (a certification alert costs no energy by itself)."""
    if alert is None or alert.rule not in OPERATING_RULES:
        return None
    if alert.condition_active:
        return alert.since, None
    return alert.since, alert.cleared_since or alert.resolved_at


def orders_created(
    session: Session, who: Caller, first: dt.date, last: dt.date, ctx: ApiState
) -> list[tables.WorkOrder]:
    lo, hi = month_instants(first, last, ctx)
    q = select(tables.WorkOrder).where(
        tables.WorkOrder.created_at >= lo, tables.WorkOrder.created_at < hi
    )
    where = who.scope.order_filter()
    if where is not None:
        q = q.where(where)
    return list(session.scalars(q.order_by(tables.WorkOrder.id)))


def figures_of(
    session: Session, ctx: ApiState, orders: list[tables.WorkOrder]
) -> list[OrderFigures]:
    """The orders' times and losses, reading their faults' days once."""
    faults = {
        o.id: fault_of(session.get(tables.Alert, o.alert_id) if o.alert_id else None)
        for o in orders
    }
    now = ctx.now()
    days = station_days(
        ctx, _first_day(orders, faults, ctx), ctx.today(), {o.station_id for o in orders}
    )
    by_station = dict(tuple(days.groupby("station"))) if len(days) else {}
    empty = days.iloc[0:0]
    return [
        order_figures(o, faults[o.id], by_station.get(o.station_id, empty), now, ctx.tz)
        for o in orders
    ]


def _first_day(
    orders: list[tables.WorkOrder], faults: dict[int, FaultSpan | None], ctx: ApiState
) -> dt.date:
    """The first day the orders' figures need: their faults' starts, the week before
    their cleanings."""
    week = dt.timedelta(days=EFFECT_DAYS)
    needed = [local_day(f[0], ctx.tz) for f in faults.values() if f is not None]
    needed += [local_day(o.done_at, ctx.tz) - week for o in orders if o.done_at is not None]
    return min(needed, default=ctx.today())


def assessment(session: Session, ctx: ApiState, who: Caller, month: str) -> list[Assessment]:
    """Each maintainer the caller sees: the month's orders and their certification."""
    first, last = month_bounds(month)
    figures = figures_of(session, ctx, orders_created(session, who, first, last, ctx))
    view = ctx.view()
    report = queries.certification(ctx, min(last, ctx.today()))
    states: dict[str, str | None] = {}
    for r in sorted(report.requirements, key=lambda r: r.valid, reverse=True):
        states[r.person_id] = str(r.state) if r.state else None  # an invalid one wins
    stations_of = _stations_of(view)
    visible = {
        p: s for p, s in states.items() if who.scope.sees_person(p, stations_of.get(p, frozenset()))
    }
    return assess(figures, visible)


def _stations_of(view: FleetLookup) -> dict[str, frozenset[str]]:
    """Each maintainer → the stations they are responsible for (household arrays through
    their village)."""
    out: dict[str, set[str]] = defaultdict(set)
    for station, people in view.crews.items():
        for p in people:
            out[p].add(station)
    by_village: dict[str, set[str]] = defaultdict(set)
    for s in view.stations.values():
        if StationKind(s.kind) == StationKind.HOUSEHOLD:
            by_village[s.village_id].add(s.id)
    for village, people in view.village_crews.items():
        for p in people:
            out[p] |= by_village[village]
    return {p: frozenset(s) for p, s in out.items()}


@dataclass(frozen=True)
class MonthLosses:
    stations: dict[str, Loss]
    """Each station's loss: its faults' days in the month, counted once."""
    villages: pd.DataFrame
    """kwh, yuan by village id: each fault day's shortfall at the village's share that day,
    summed and never below zero (``pvmon.shares``)."""


def month_losses(session: Session, ctx: ApiState, who: Caller, month: str) -> MonthLosses:
    """The month's losses by station and by village."""
    fault_days, days = _month_fault_days(session, ctx, who, month)
    counted = pd.DataFrame(
        [
            (s, d, kwh, yuan)
            for s, d, kwh, yuan in zip(
                days["station"],
                days["date"],
                days["shortfall_kwh"],
                days["shortfall_yuan"],
                strict=True,
            )
            if d in fault_days.get(s, ()) and pd.notna(kwh)
        ],
        columns=["station_id", "date", "kwh", "yuan"],
    )
    parts = parts_by_day(counted, share_table(ctx.view().registry.station_shares))
    return MonthLosses(
        stations={
            station: loss_over(days[days["station"] == station], dates)
            for station, dates in sorted(fault_days.items())
            if dates
        },
        villages=parts.groupby("village_id")[["kwh", "yuan"]].sum().clip(lower=0.0),
    )


def _month_fault_days(
    session: Session, ctx: ApiState, who: Caller, month: str
) -> tuple[dict[str, set[dt.date]], pd.DataFrame]:
    """The days of the month each station's faults lasted, and the stations' days."""
    first, last = month_bounds(month)
    lo, hi = month_instants(first, last, ctx)
    alerts = session.scalars(
        select(tables.Alert).where(
            tables.Alert.station_id.is_not(None),
            tables.Alert.rule.in_(sorted(OPERATING_RULES)),
            tables.Alert.since < hi,
            or_(
                tables.Alert.condition_active.is_(True),
                tables.Alert.cleared_since >= lo,
                tables.Alert.resolved_at >= lo,
            ),
        )
    ).all()
    month_days = span_days(first, last)
    fault_days: dict[str, set[dt.date]] = defaultdict(set)
    now = ctx.now()
    for alert in alerts:
        if alert.station_id is None or not who.scope.sees_station(alert.station_id):
            continue
        since, until = fault_of(alert)  # type: ignore[misc]
        fault_days[alert.station_id] |= (
            span_days(*fault_span(since, until, now, ctx.tz)) & month_days
        )
    return fault_days, station_days(ctx, first, last)
