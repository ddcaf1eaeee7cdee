"""The maintenance service's tick: what happens to orders without anyone asking.

- A critical alert about a station's equipment (an operating rule: silence, zero output,
  fault state, underperformance) gets its order by itself, assigned to the station's
  first validly certified responsible maintainer (left for the bureau when it has none) —
  unless the station's fault order already covers it (one fault, several rules).
- A done order is verified by the data: its alert resolved, and the station without any
  operating finding (silence, zero output, fault, underperformance) for
  ``verify_after_h`` since the work was done and the alert resolved.
- A done or verified order whose fault comes back — its alert reopened, or a new one
  under the same condition — is reopened and goes back to its maintainer.
- The recurring plans' orders (a monthly patrol, spring and autumn cleaning) are opened
  for the month, once per station, and assigned like a fault's.
- Orders past their deadline are an ``order_late`` finding of their station, which the
  alert engine sends to the township's supervisor and the bureau.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from maintenance import actions
from maintenance.plans import due_orders
from maintenance.workflow import OPEN_STATES, OrderState, Step, after
from pvmon.certification import crew_of, why_not_maintainer
from pvmon.db import tables
from pvmon.db.findings import sync_findings
from pvmon.db.tables.maintenance import OrderKind
from pvmon.domain import StationKind
from pvmon.findings import OPERATING_RULES, Finding, FindingKind, Severity, Subject
from pvmon.localtime import day_bounds, local_day, utc
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry
from pvmon.settings import Settings

log = structlog.get_logger("maintenance")
SYSTEM = "system"
RETURN_EVENTS = ("condition_returned", "reopened")
"""An alert's events (``alerts.lifecycle``) that say its condition is back."""


def tick(session: Session, settings: Settings, now: dt.datetime) -> dict[str, int]:
    counts = {
        "reopened": reopen_returning(session, now),
        "opened": open_for_critical(session, settings, now),
        "planned": open_planned(session, settings, now),
        "verified": verify_by_data(session, settings, now),
    }
    counts["late"], _ = escalate_late(session, now)
    return counts


def open_for_critical(session: Session, settings: Settings, now: dt.datetime) -> int:
    ordered = select(tables.WorkOrder.alert_id).where(tables.WorkOrder.alert_id.is_not(None))
    alerts = session.scalars(
        select(tables.Alert).where(
            tables.Alert.severity == str(Severity.CRITICAL),
            tables.Alert.rule.in_(sorted(OPERATING_RULES)),
            tables.Alert.state != "resolved",
            tables.Alert.station_id.is_not(None),
            tables.Alert.id.not_in(ordered),
        )
    ).all()
    alerts = [a for a in alerts if _covering(session, a) is None]
    if not alerts:
        return 0
    registry = load_registry(session)
    day = local_day(now, ZoneInfo(settings.timezone))
    for alert in alerts:
        order = actions.open_from_alert(session, settings, alert.id, SYSTEM, None, now)
        _assign_first_certified(session, settings, registry, order, day, now)
        log.info(
            "order_opened",
            order=order.id,
            alert=alert.id,
            station=order.station_id,
            assignee=order.assignee,
        )
    return len(alerts)


def _covering(session: Session, alert: tables.Alert) -> tables.WorkOrder | None:
    """The station's fault order this alert is part of: one still being worked, or one
    finished after the alert's condition began — the same fault seen by another rule (a
    trip is a fault state and zero output at once; the days it cost show later as
    underperformance). Its verification waits for this alert too (``_clear_since``)."""
    return session.scalars(
        select(tables.WorkOrder)
        .where(
            tables.WorkOrder.station_id == alert.station_id,
            tables.WorkOrder.alert_id.is_not(None),
            (tables.WorkOrder.state.in_([str(s) for s in OPEN_STATES]))
            | (tables.WorkOrder.done_at >= alert.since),
        )
        .order_by(tables.WorkOrder.id)
    ).first()


def _assign_first_certified(
    session: Session,
    settings: Settings,
    registry: Registry,
    order: tables.WorkOrder,
    day: dt.date,
    now: dt.datetime,
) -> None:
    """To the station's first responsible maintainer with a valid certificate (by id);
    left for the bureau when there is none."""
    station, required = order.station_id, settings.registry.required_cert
    crew = [
        p
        for p in sorted(crew_of(registry, station))
        if why_not_maintainer(registry, station, p, day, required) is None
    ]
    if crew:
        actions.assign(session, settings, order.id, crew[0], SYSTEM, None, now, registry)


def open_planned(session: Session, settings: Settings, now: dt.datetime) -> int:
    """This month's orders of the recurring plans, once per station and plan."""
    tz = ZoneInfo(settings.timezone)
    day = local_day(now, tz)
    period = f"{day.year:04d}-{day.month:02d}"
    rows = session.execute(
        select(
            tables.WorkOrder.station_id, tables.WorkOrder.plan_key, tables.WorkOrder.period
        ).where(tables.WorkOrder.period == period)
    )
    opened = {(station, key, month) for station, key, month in rows}
    kinds = session.execute(select(tables.Station.id, tables.Station.kind))
    stations = [(station, StationKind(kind)) for station, kind in kinds]
    due = due_orders(settings.maintenance.plans, stations, opened, day)
    if not due:
        return 0  # the usual minute: no need to load the registry for the assignments
    registry = load_registry(session)
    for item in due:
        order = actions.open_order(
            session,
            settings,
            station_id=item.station_id,
            kind=OrderKind(item.plan.kind),
            severity=Severity.INFO,
            title=f"{item.plan.key} {item.period}",
            actor=SYSTEM,
            channel=None,
            now=now,
            due_at=utc(day_bounds(item.due_on, tz)[1]),  # the end of the due day
            plan=(item.plan.key, item.period),
        )
        _assign_first_certified(session, settings, registry, order, day, now)
    log.info("planned_orders_opened", count=len(due), period=period)
    return len(due)


def verify_by_data(session: Session, settings: Settings, now: dt.datetime) -> int:
    done = session.scalars(
        select(tables.WorkOrder).where(tables.WorkOrder.state == str(OrderState.DONE))
    ).all()
    verified = 0
    for order in done:
        clear_since = _clear_since(session, order)
        if clear_since is None or now - clear_since < dt.timedelta(
            hours=settings.maintenance.verify_after_h
        ):
            continue
        order.state = str(after(OrderState.DONE, Step.VERIFY))
        order.verified_at = now
        actions.record(
            session, order, Step.VERIFY, SYSTEM, None, now, {"clear_since": clear_since.isoformat()}
        )
        verified += 1
    return verified


def _clear_since(session: Session, order: tables.WorkOrder) -> dt.datetime | None:
    """Since when the order's station has been clear of its fault and of any operating
    finding, counted from the work done (None: it is not clear)."""
    since = order.done_at or order.created_at
    if order.alert_id is not None:
        alert = session.get(tables.Alert, order.alert_id)
        if alert is None or alert.state != "resolved" or alert.resolved_at is None:
            return None
        since = max(since, alert.resolved_at)
    findings = session.scalars(
        select(tables.Finding).where(
            tables.Finding.station_id == order.station_id,
            tables.Finding.kind.in_(sorted(OPERATING_RULES)),
        )
    ).all()
    for f in findings:
        if f.active:
            return None
        if f.cleared_at is not None and f.cleared_at > since:
            since = f.cleared_at
    return since


def reopen_returning(session: Session, now: dt.datetime) -> int:
    """Done and verified orders whose fault is back: the same alert open again, or a new
    alert under the same condition opened after the work was done."""
    finished = session.scalars(
        select(tables.WorkOrder).where(
            tables.WorkOrder.state.in_([str(OrderState.DONE), str(OrderState.VERIFIED)]),
            tables.WorkOrder.alert_id.is_not(None),
        )
    ).all()
    reopened = 0
    for order in finished:
        back = _returned(session, order)
        if back is None:
            continue
        order.state = str(after(OrderState(order.state), Step.REOPEN))
        order.reopen_count += 1
        order.done_at = order.verified_at = None
        order.alert_id = back.id
        actions.record(session, order, Step.REOPEN, SYSTEM, None, now, {"alert_id": back.id})
        log.info("order_reopened", order=order.id, alert=back.id)
        reopened += 1
    return reopened


def _returned(session: Session, order: tables.WorkOrder) -> tables.Alert | None:
    """The order's fault back after the work was finished: its alert's condition came back
    (or the alert reopened), or a new alert under the same condition opened — not an alert
    whose condition simply still held when the work was reported done (that one waits to
    clear before the order is verified)."""
    first = session.get(tables.Alert, order.alert_id)
    if first is None or (order.done_at is None and order.verified_at is None):
        return None
    finished = order.done_at or order.verified_at or order.created_at
    came_back = session.scalar(
        select(tables.AlertEvent.id).where(
            tables.AlertEvent.alert_id == first.id,
            tables.AlertEvent.action.in_(RETURN_EVENTS),
            tables.AlertEvent.at > finished,
        )
    )
    if came_back is not None and first.state != "resolved":
        return first
    return session.scalars(
        select(tables.Alert)
        .where(
            tables.Alert.dedup_key == first.dedup_key,
            tables.Alert.state != "resolved",
            tables.Alert.id != first.id,
            tables.Alert.opened_at > finished,
        )
        .order_by(tables.Alert.id)
    ).first()


def escalate_late(session: Session, now: dt.datetime) -> tuple[int, int]:
    """The ``order_late`` findings: one per station with orders past their deadline;
    returns how many stations have late orders, and how many findings cleared."""
    orders = session.scalars(
        select(tables.WorkOrder).where(tables.WorkOrder.state.in_([str(s) for s in OPEN_STATES]))
    ).all()
    late: dict[str, list[tables.WorkOrder]] = defaultdict(list)
    for o in orders:
        if actions.late(o, now):
            late[o.station_id].append(o)
    found = [
        Finding(
            FindingKind.ORDER_LATE,
            Subject.STATION,
            station,
            Severity.WARNING,
            min(o.deadline_at for o in items),
            {
                "orders": sorted(o.id for o in items),
                "assignees": sorted({o.assignee or "" for o in items}),
            },
            station,
        )
        for station, items in sorted(late.items())
    ]
    stations = session.scalars(
        select(tables.Finding.station_id).where(
            tables.Finding.kind == str(FindingKind.ORDER_LATE), tables.Finding.active.is_(True)
        )
    ).all()
    evaluated = {(str(FindingKind.ORDER_LATE), s) for s in {*stations, *late} if s}
    _, cleared = sync_findings(session, found, evaluated, now)
    return len(found), cleared


def serve(settings: Settings) -> None:
    """Tick on a schedule until interrupted (``pvmon maintenance``)."""
    from pvmon.db.engine import session_factory
    from pvmon.localtime import utc_now
    from pvmon.stores import open_database
    from pvmon.ticking import tick_forever

    sessions = session_factory(open_database(settings))

    def run() -> None:
        with sessions.begin() as session:
            counts = tick(session, settings, utc_now())
        if any(counts.values()):
            log.info("maintenance_tick", **counts)

    tick_forever("maintenance", settings.maintenance.tick_s, settings.timezone, run)
