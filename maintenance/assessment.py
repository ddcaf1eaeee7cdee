"""How well the work was done (pure): each order's times — to accept, to arrive, to repair,
from its creation — whether it was done by its deadline, and the energy and money its
fault cost; and the bureau's monthly assessment (考核) of each maintainer over the orders
created in the month, with their certification; and what a cleaning did (the peer index
the week before and the week after).

The loss of an order is its fault's (``pvmon.losses``): the days from its alert's start
to the fault's end (still going: today). Orders without an alert (patrols, cleaning) have
no loss of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median

import pandas as pd

from maintenance.workflow import OrderState
from pvmon.db import tables
from pvmon.db.tables.maintenance import OrderKind
from pvmon.localtime import local_day
from pvmon.losses import Loss, fault_loss, fault_span

FaultSpan = tuple[dt.datetime, dt.datetime | None]
"""A fault's start and end (None: still going)."""


EFFECT_DAYS = 7
EFFECT_MIN_DAYS = 3
"""Usable days needed on each side of a cleaning to say what it did."""


@dataclass(frozen=True)
class Effect:
    """A cleaning's effect: the station's mean peer index over its usable days in the week
    before and the week after the day it was done."""

    before: float
    after: float
    change: float
    """after / before − 1."""
    days_before: int
    days_after: int


def cleaning_effect(days: pd.DataFrame, done_on: dt.date) -> Effect | None:
    """``days``: the station's date, peer_index, usable. None with fewer than
    ``EFFECT_MIN_DAYS`` usable days on a side (the week after is not over yet, or was
    overcast or down)."""
    good = days[days["usable"].fillna(0) > 0]
    week = dt.timedelta(days=EFFECT_DAYS)
    before = good[(good["date"] >= done_on - week) & (good["date"] < done_on)]["peer_index"]
    after = good[(good["date"] > done_on) & (good["date"] <= done_on + week)]["peer_index"]
    if len(before) < EFFECT_MIN_DAYS or len(after) < EFFECT_MIN_DAYS:
        return None
    b, a = float(before.mean()), float(after.mean())
    return Effect(round(b, 3), round(a, 3), round(a / b - 1, 3), len(before), len(after))


@dataclass(frozen=True)
class OrderFigures:
    order_id: int
    station_id: str
    assignee: str | None
    state: str
    hours_to_accept: float | None
    hours_to_arrive: float | None
    hours_to_repair: float | None
    on_time: bool | None
    """Done by its deadline; None while it is open and not yet late."""
    loss: Loss | None
    cleaning: Effect | None
    """For a cleaning order that is done: what it did to the peer index."""


def _hours(start: dt.datetime, end: dt.datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 3600, 2)


def order_figures(
    order: tables.WorkOrder,
    fault: FaultSpan | None,
    days: pd.DataFrame,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> OrderFigures:
    """``days``: the station's rollups (date, shortfall_kwh, shortfall_yuan, peer_index,
    usable)."""
    finished = order.done_at or order.verified_at
    if finished is not None:
        on_time: bool | None = finished <= order.deadline_at
    else:
        on_time = False if now > order.deadline_at else None
    loss = None
    if fault is not None:
        loss = fault_loss(days, *fault_span(fault[0], fault[1], now, tz))
    return OrderFigures(
        order.id,
        order.station_id,
        order.assignee,
        order.state,
        _hours(order.created_at, order.accepted_at),
        _hours(order.created_at, order.arrived_at),
        _hours(order.created_at, finished),
        on_time,
        loss,
        cleaning_effect(days, local_day(finished, tz))
        if order.kind == OrderKind.CLEANING and finished is not None
        else None,
    )


@dataclass(frozen=True)
class Assessment:
    person_id: str
    orders: int
    done: int
    on_time: int
    late: int
    """Done after the deadline, or open past it."""
    median_hours_to_accept: float | None
    median_hours_to_arrive: float | None
    median_hours_to_repair: float | None
    lost_kwh: float
    lost_yuan: float
    cert_state: str | None
    """valid, expired, review_overdue, not_yet_valid; None: no certificate."""


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(median(known), 2) if known else None


def assess(
    figures: Sequence[OrderFigures], cert_states: Mapping[str, str | None]
) -> list[Assessment]:
    """One row per maintainer with a certificate requirement or an order, by id."""
    people = sorted({*cert_states, *(f.assignee for f in figures if f.assignee)})
    rows = []
    for person in people:
        theirs = [f for f in figures if f.assignee == person]
        done = [f for f in theirs if f.state in (OrderState.DONE, OrderState.VERIFIED)]
        rows.append(
            Assessment(
                person_id=person,
                orders=len(theirs),
                done=len(done),
                on_time=sum(f.on_time is True for f in theirs),
                late=sum(f.on_time is False for f in theirs),
                median_hours_to_accept=_median(f.hours_to_accept for f in theirs),
                median_hours_to_arrive=_median(f.hours_to_arrive for f in theirs),
                median_hours_to_repair=_median(f.hours_to_repair for f in done),
                lost_kwh=round(sum(f.loss.kwh for f in theirs if f.loss), 1),
                lost_yuan=round(sum(f.loss.yuan for f in theirs if f.loss), 2),
                cert_state=cert_states.get(person),
            )
        )
    return rows
