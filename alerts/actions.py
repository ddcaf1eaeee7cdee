"""What people do with alerts — list, read, acknowledge, resolve — for the CLI and the API.

Who may act on which alert is the API's permission layer's concern; these functions check
only that the action makes sense (a resolved alert cannot be acknowledged) and record who
did it, when, and through which channel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from alerts.lifecycle import ACKNOWLEDGED, RESOLVED, active, event, resolve
from alerts.rules import ALL_RULES
from pvmon.db import tables

T = TypeVar("T", bound=tuple)  # type: ignore[type-arg]


class AlertNotFound(LookupError):
    pass


class InvalidTransition(ValueError):
    pass


@dataclass(frozen=True)
class AlertFilter:
    state: str | None = None
    """``open``, ``acknowledged``, ``resolved``, or ``active`` (open or acknowledged)."""
    rule: str | None = None
    station_id: str | None = None
    township_id: str | None = None
    village_id: str | None = None
    severity: str | None = None
    limit: int = 100
    offset: int = 0
    order: str = "newest"
    """``newest`` first, or by ``severity`` (critical first), the longest-standing first
    within a severity: the order people work through them."""


SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}
RULES: tuple[str, ...] = tuple(sorted(ALL_RULES))
"""Every rule an alert can have (what a list of alerts can be filtered by)."""


def _narrowed(q: Select[T], f: AlertFilter, where: ColumnElement[bool] | None) -> Select[T]:
    """``q`` narrowed by the filter and by ``where`` (a caller's scope, in SQL)."""
    if where is not None:
        q = q.where(where)
    if f.state == "active":
        q = q.where(active())
    elif f.state:
        q = q.where(tables.Alert.state == f.state)
    for column, value in (
        (tables.Alert.rule, f.rule),
        (tables.Alert.station_id, f.station_id),
        (tables.Alert.township_id, f.township_id),
        (tables.Alert.village_id, f.village_id),
        (tables.Alert.severity, f.severity),
    ):
        if value:
            q = q.where(column == value)
    return q


def list_alerts(
    session: Session, f: AlertFilter, where: ColumnElement[bool] | None = None
) -> list[tables.Alert]:
    """The alerts matching ``f`` within ``where``, in ``f.order``, one page of them: the scope
    applies in SQL before the page is cut, so a page is never short of what a caller may see."""
    q = _narrowed(select(tables.Alert), f, where)
    if f.order == "severity":
        rank = case(SEVERITY_RANK, value=tables.Alert.severity, else_=len(SEVERITY_RANK))
        q = q.order_by(rank, tables.Alert.since, tables.Alert.id)
    else:
        q = q.order_by(tables.Alert.opened_at.desc(), tables.Alert.id.desc())
    return list(session.scalars(q.limit(f.limit).offset(f.offset)))


def concerning(person_id: str, stations: Iterable[str]) -> ColumnElement[bool]:
    """Alerts about a person: their own (a certificate) and their stations'."""
    a = tables.Alert
    own = and_(a.subject_type == "maintainer", a.subject_id == person_id)
    return or_(own, a.station_id.in_(sorted(stations)))


def count_alerts(session: Session, f: AlertFilter, where: ColumnElement[bool] | None = None) -> int:
    return int(session.scalar(count_query(f, where)) or 0)


def count_query(f: AlertFilter, where: ColumnElement[bool] | None = None) -> Select[tuple[int]]:
    """How many alerts match ``f`` within ``where``: one row, one column (for a page that
    asks it together with other figures)."""
    return _narrowed(select(func.count()).select_from(tables.Alert), f, where)


def changes_query(
    f: AlertFilter, where: ColumnElement[bool] | None = None
) -> Select[tuple[int, dt.datetime | None, int]]:
    """How many alerts match ``f`` within ``where``, when the last of them changed and the
    sum of their ids: one row that differs whenever a list of them would (an alert that
    comes, goes or changes its state or severity sets ``updated_at``; the ids tell a set
    from another of the same size). A page keeps its list while this row stays."""
    a = tables.Alert
    asked = select(func.count(), func.max(a.updated_at), func.coalesce(func.sum(a.id), 0))
    return _narrowed(asked.select_from(a), f, where)


def get_alert(session: Session, alert_id: int) -> tables.Alert:
    alert = session.get(tables.Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return alert


def history(session: Session, alert_id: int) -> list[tables.AlertEvent]:
    return list(
        session.scalars(
            select(tables.AlertEvent)
            .where(tables.AlertEvent.alert_id == alert_id)
            .order_by(tables.AlertEvent.at, tables.AlertEvent.id)
        )
    )


def deliveries(
    session: Session, alert_id: int | None = None, status: str | None = None, limit: int = 100
) -> list[tables.Delivery]:
    q = select(tables.Delivery)
    if alert_id is not None:
        q = q.where(tables.Delivery.alert_id == alert_id)
    if status:
        q = q.where(tables.Delivery.status == status)
    return list(session.scalars(q.order_by(tables.Delivery.id.desc()).limit(limit)))


def acknowledge(
    session: Session,
    alert_id: int,
    person_id: str,
    channel: str,
    now: dt.datetime,
    note: str | None = None,
) -> tables.Alert:
    """Someone is on it: no more repeats or escalation. Acknowledging twice is harmless."""
    alert = get_alert(session, alert_id)
    if alert.state == RESOLVED:
        raise InvalidTransition(f"alert {alert_id} is already resolved")
    if alert.state == ACKNOWLEDGED:
        return alert
    alert.state = ACKNOWLEDGED
    alert.acknowledged_at = alert.updated_at = now
    alert.acknowledged_by = person_id
    event(session, alert, "acknowledged", now, person_id, channel, note=note)
    return alert


def resolve_by_hand(
    session: Session,
    alert_id: int,
    person_id: str,
    channel: str,
    now: dt.datetime,
    note: str | None = None,
) -> tables.Alert:
    """The problem is fixed. If the condition still holds at the next evaluation, the
    alert reopens (and is told again)."""
    alert = get_alert(session, alert_id)
    if alert.state == RESOLVED:
        raise InvalidTransition(f"alert {alert_id} is already resolved")
    resolve(session, alert, now, person_id, channel, note)
    return alert
