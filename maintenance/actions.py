"""What people do with work orders — open, assign, accept, arrive, note, finish, read —
for the API, its pages and the CLI.

Who may see or assign which order is the API's permission layer's concern. These
functions keep the order's own rules: the step must fit its state, only its maintainer
works it, and it can be assigned only to a responsible maintainer of the station with a
valid certificate of the type the station requires (``why_not_maintainer``, the rule
that routes alerts). Every step is recorded with who, when, how and what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from maintenance.workflow import (
    ASSIGNEES_STEPS,
    OPEN_STATES,
    OrderState,
    Step,
    after,
    deadline,
    is_late,
)
from pvmon.certification import Refusal, why_not_maintainer
from pvmon.db import tables
from pvmon.db.tables.maintenance import OrderKind
from pvmon.findings import Severity
from pvmon.localtime import local_day
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry
from pvmon.settings import Settings


class OrderNotFound(LookupError):
    pass


class NotTheirs(PermissionError):
    """Only the order's maintainer takes this step."""


class AssignmentRefused(ValueError):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.say("en"))
        self.refusal = refusal


@dataclass(frozen=True)
class Part:
    name: str
    quantity: float


@dataclass(frozen=True)
class OrderFilter:
    state: str | None = None
    """One state, or ``open`` (every state with work still to do)."""
    station_id: str | None = None
    assignee: str | None = None
    late_at: dt.datetime | None = None
    """Only orders past their deadline at this moment (with ``state="open"``)."""
    limit: int = 100
    offset: int = 0


def open_order(
    session: Session,
    settings: Settings,
    *,
    station_id: str,
    kind: OrderKind,
    severity: Severity,
    title: str,
    actor: str,
    channel: str | None,
    now: dt.datetime,
    alert_id: int | None = None,
    due_at: dt.datetime | None = None,
    plan: tuple[str, str] | None = None,
) -> tables.WorkOrder:
    """A new order; due by its severity's hours unless ``due_at`` says otherwise; ``plan``:
    the (plan key, month) of a recurring order."""
    order = tables.WorkOrder(
        kind=str(kind),
        station_id=station_id,
        alert_id=alert_id,
        severity=str(severity),
        title=title,
        state=str(OrderState.CREATED),
        created_at=now,
        created_by=actor,
        deadline_at=due_at or deadline(now, severity, settings.maintenance.deadline_hours),
        reopen_count=0,
        parts=[],
        plan_key=plan[0] if plan else None,
        period=plan[1] if plan else None,
    )
    session.add(order)
    session.flush()
    record(session, order, Step.CREATE, actor, channel, now, {"kind": str(kind)})
    return order


def open_from_alert(
    session: Session,
    settings: Settings,
    alert_id: int,
    actor: str,
    channel: str | None,
    now: dt.datetime,
) -> tables.WorkOrder:
    """The order for an alert about a station: the existing one if there is one."""
    alert = session.get(tables.Alert, alert_id)
    if alert is None or alert.station_id is None:
        raise OrderNotFound(f"no alert {alert_id} about a station")
    existing = for_alert(session, alert_id)
    if existing is not None:
        return existing
    return open_order(
        session,
        settings,
        station_id=alert.station_id,
        kind=OrderKind.FAULT,
        severity=Severity(alert.severity),
        title=alert.rule,
        actor=actor,
        channel=channel,
        now=now,
        alert_id=alert_id,
    )


def for_alert(session: Session, alert_id: int) -> tables.WorkOrder | None:
    """The order opened for an alert (the latest, if it was reopened under another)."""
    return session.scalars(
        select(tables.WorkOrder)
        .where(tables.WorkOrder.alert_id == alert_id)
        .order_by(tables.WorkOrder.id.desc())
    ).first()


def assign(
    session: Session,
    settings: Settings,
    order_id: int,
    person_id: str,
    actor: str,
    channel: str | None,
    now: dt.datetime,
    registry: Registry | None = None,
) -> tables.WorkOrder:
    """``registry``: the registry as loaded already (the service assigns many at once)."""
    order = get(session, order_id)
    state = after(OrderState(order.state), Step.ASSIGN)
    registry = registry or load_registry(session)
    refusal = why_not_maintainer(
        registry,
        order.station_id,
        person_id,
        local_day(now, ZoneInfo(settings.timezone)),
        settings.registry.required_cert,
    )
    if refusal is not None:
        raise AssignmentRefused(refusal)
    previous = order.assignee
    order.assignee, order.state = person_id, str(state)
    record(session, order, Step.ASSIGN, actor, channel, now, {"to": person_id, "from": previous})
    return order


def work(
    session: Session,
    order_id: int,
    step: Step,
    actor: str,
    channel: str | None,
    now: dt.datetime,
    *,
    note: str | None = None,
    parts: Sequence[Part] = (),
) -> tables.WorkOrder:
    """The maintainer's steps (accept, arrive, done) and anyone's note."""
    order = get(session, order_id)
    state = may_take(order, step, actor)
    stamps = {Step.ACCEPT: "accepted_at", Step.ARRIVE: "arrived_at", Step.DONE: "done_at"}
    if step in stamps:
        setattr(order, stamps[step], now)
    if parts:
        order.parts = [*order.parts, *({"name": p.name, "quantity": p.quantity} for p in parts)]
    order.state = str(state)
    detail: dict[str, Any] = {}
    if note:
        detail["note"] = note
    if parts:
        detail["parts"] = [{"name": p.name, "quantity": p.quantity} for p in parts]
    record(session, order, step, actor, channel, now, detail)
    return order


def may_take(order: tables.WorkOrder, step: Step, actor: str) -> OrderState:
    """The state after ``actor`` takes ``step``: ``InvalidStep`` when the order's state does
    not allow it, ``NotTheirs`` when it is its maintainer's step and ``actor`` is not."""
    state = after(OrderState(order.state), step)
    if step in ASSIGNEES_STEPS and actor != order.assignee:
        raise NotTheirs(
            f"order {order.id} is {order.assignee or 'nobody'}'s to work, not {actor}'s"
        )
    return state


def late(order: tables.WorkOrder, now: dt.datetime) -> bool:
    """Work still to do past its deadline."""
    return is_late(OrderState(order.state), order.deadline_at, now)


def get(session: Session, order_id: int) -> tables.WorkOrder:
    order = session.get(tables.WorkOrder, order_id)
    if order is None:
        raise OrderNotFound(f"no work order {order_id}")
    return order


def orders(
    session: Session, f: OrderFilter, where: ColumnElement[bool] | None = None
) -> list[tables.WorkOrder]:
    """Orders narrowed by the filter and by ``where`` (a caller's scope), newest first."""
    q = select(tables.WorkOrder).where(*_conditions(f, where))
    q = q.order_by(tables.WorkOrder.created_at.desc(), tables.WorkOrder.id.desc())
    return list(session.scalars(q.limit(f.limit).offset(f.offset)))


def count(session: Session, f: OrderFilter, where: ColumnElement[bool] | None = None) -> int:
    """How many orders ``orders`` would give without its limit and offset."""
    q = select(func.count()).select_from(tables.WorkOrder).where(*_conditions(f, where))
    return int(session.scalar(q) or 0)


def open_and_late_query(
    late_at: dt.datetime, where: ColumnElement[bool] | None = None
) -> Select[tuple[int, int]]:
    """(open orders, of those past their deadline at ``late_at``) within ``where``, as one
    row: a page asks it together with its other figures (``pvmon.db.together``)."""
    late = func.count().filter(tables.WorkOrder.deadline_at < late_at)
    return select(func.count(), late).where(*_conditions(OrderFilter(state="open"), where))


def _conditions(f: OrderFilter, where: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    o = tables.WorkOrder
    conditions = [] if where is None else [where]
    if f.state == "open":
        conditions.append(o.state.in_([str(s) for s in OPEN_STATES]))
    elif f.state:
        conditions.append(o.state == f.state)
    if f.station_id:
        conditions.append(o.station_id == f.station_id)
    if f.assignee:
        conditions.append(o.assignee == f.assignee)
    if f.late_at is not None:
        conditions.append(o.deadline_at < f.late_at)
    return conditions


def history(session: Session, order_id: int) -> list[tables.WorkOrderStep]:
    return list(
        session.scalars(
            select(tables.WorkOrderStep)
            .where(tables.WorkOrderStep.order_id == order_id)
            .order_by(tables.WorkOrderStep.id)
        )
    )


def record(
    session: Session,
    order: tables.WorkOrder,
    step: Step,
    actor: str,
    channel: str | None,
    now: dt.datetime,
    detail: dict[str, Any],
) -> None:
    session.add(
        tables.WorkOrderStep(
            order_id=order.id,
            at=now,
            action=str(step),
            actor=actor,
            channel=channel,
            state=order.state,
            detail=detail,
        )
    )
