"""The alert lifecycle: open → acknowledged → resolved, kept in the relational store.

Each evaluation matches the conditions that hold against the unresolved alerts by dedup
key: a new condition opens an alert (or reopens one resolved moments ago: flapping is
suppressed), a held one is updated, a cleared one resolves itself once it has stayed clear
for a while. Unacknowledged alerts are repeated and escalated as their steps fall due.
Returns what must be told to whom; ``alerts.deliveries`` turns that into deliveries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from alerts.routing import AlertTarget, Directory
from alerts.rules import Condition
from pvmon.db import tables
from pvmon.findings import Severity
from pvmon.settings import AlertSettings

OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"


def active() -> ColumnElement[bool]:
    """An open alert: open or acknowledged, not yet resolved. The one definition, for every
    query that counts or lists open alerts."""
    return tables.Alert.state.in_((OPEN, ACKNOWLEDGED))


SYSTEM = "system"
SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True)
class Notice:
    alert: tables.Alert
    purpose: str
    """``new``, ``reopened``, ``repeat``, ``escalation`` or ``resolved``"""


def event(
    session: Session,
    alert: tables.Alert,
    action: str,
    at: dt.datetime,
    actor: str = SYSTEM,
    channel: str | None = None,
    **detail: Any,
) -> None:
    session.add(
        tables.AlertEvent(
            alert_id=alert.id, at=at, action=action, actor=actor, channel=channel, detail=detail
        )
    )


def target_of(a: tables.Alert) -> AlertTarget:
    return AlertTarget(
        a.rule, a.subject_id, a.station_id, a.village_id, a.township_id, Severity(a.severity)
    )


def apply(
    session: Session,
    conditions: Iterable[Condition],
    evaluated: set[str],
    now: dt.datetime,
    cfg: AlertSettings,
    d: Directory,
) -> list[Notice]:
    """Bring the alerts in line with the conditions of the rules in ``evaluated``."""
    unresolved = {a.dedup_key: a for a in session.scalars(select(tables.Alert).where(active()))}
    recent = _recently_resolved(session, now - dt.timedelta(hours=cfg.flap_window_h))
    notices: list[Notice] = []
    held = set()
    for c in conditions:
        if c.rule not in evaluated:
            continue
        held.add(c.dedup_key)
        alert = unresolved.get(c.dedup_key)
        if alert is not None:
            _hold(session, alert, c, now)
        elif c.dedup_key in recent:
            notices += _reopen(session, recent[c.dedup_key], c, now, cfg)
        else:
            notices.append(_open(session, c, now, d))
    for key, alert in unresolved.items():
        if key not in held and alert.rule in evaluated:
            notices += _clear(session, alert, now, cfg)
    for alert in unresolved.values():
        if alert.state == OPEN:
            notices += _remind(session, alert, now, cfg)
    return notices


def _recently_resolved(session: Session, after: dt.datetime) -> dict[str, tables.Alert]:
    rows = session.scalars(
        select(tables.Alert)
        .where(tables.Alert.state == RESOLVED, tables.Alert.resolved_at >= after)
        .order_by(tables.Alert.resolved_at)
    )
    return {a.dedup_key: a for a in rows}


def _open(session: Session, c: Condition, now: dt.datetime, d: Directory) -> Notice:
    target = AlertTarget(c.rule, c.subject_id, c.station_id, None, None, c.severity)
    station = d.stations.get(c.station_id or "")
    village = station.village_id if station else None
    if c.subject_type == "village":
        village = c.subject_id
    alert = tables.Alert(
        rule=c.rule,
        dedup_key=c.dedup_key,
        subject_type=str(c.subject_type),
        subject_id=c.subject_id,
        station_id=c.station_id,
        village_id=village,
        township_id=d.township_of(target) or _person_township(d, c),
        severity=str(c.severity),
        state=OPEN,
        evidence=c.evidence,
        since=c.since,
        opened_at=now,
        updated_at=now,
        condition_active=True,
        escalation_level=0,
        notify_count=0,
        reopen_count=0,
        flapping=False,
    )
    session.add(alert)
    session.flush()
    event(session, alert, "opened", now, severity=str(c.severity))
    return Notice(alert, "new")


def _person_township(d: Directory, c: Condition) -> str | None:
    person = d.people.get(c.subject_id) if c.subject_type == "maintainer" else None
    return person.township_id if person else None


def _hold(session: Session, alert: tables.Alert, c: Condition, now: dt.datetime) -> None:
    alert.evidence = c.evidence
    alert.updated_at = now
    alert.since = min(alert.since, c.since)
    if not alert.condition_active:
        alert.condition_active = True
        alert.cleared_since = None
        event(session, alert, "condition_returned", now)
    if SEVERITY_RANK[c.severity] != SEVERITY_RANK[Severity(alert.severity)]:
        event(session, alert, "severity_changed", now, old=alert.severity, new=str(c.severity))
        alert.severity = str(c.severity)


def _reopen(
    session: Session, alert: tables.Alert, c: Condition, now: dt.datetime, cfg: AlertSettings
) -> list[Notice]:
    """The condition came back soon after the alert resolved: the same alert again."""
    alert.state = OPEN
    alert.reopen_count += 1
    alert.resolved_at = alert.resolved_by = None
    alert.acknowledged_at = alert.acknowledged_by = None
    alert.condition_active = True
    alert.cleared_since = None
    alert.evidence = c.evidence
    alert.severity = str(c.severity)
    alert.opened_at = alert.updated_at = now
    alert.escalation_level = 0
    alert.first_notified_at = None
    event(session, alert, "reopened", now, reopen_count=alert.reopen_count)
    if alert.reopen_count >= cfg.flap_reopens:
        if not alert.flapping:
            event(session, alert, "flapping", now, reopens=alert.reopen_count)
        alert.flapping = True
        return []
    return [Notice(alert, "reopened")]


def _clear(
    session: Session, alert: tables.Alert, now: dt.datetime, cfg: AlertSettings
) -> list[Notice]:
    if alert.condition_active:
        alert.condition_active = False
        alert.cleared_since = now
        event(session, alert, "condition_cleared", now)
    wait = dt.timedelta(minutes=cfg.resolve_after_min)
    if alert.flapping:
        wait = dt.timedelta(hours=cfg.flap_window_h)  # resolves only once it is stable
    if alert.cleared_since is None or now - alert.cleared_since < wait:
        return []
    resolve(session, alert, now, SYSTEM, None, "condition cleared")
    return [Notice(alert, "resolved")] if alert.notify_count else []


def resolve(
    session: Session,
    alert: tables.Alert,
    now: dt.datetime,
    actor: str,
    channel: str | None,
    note: str | None,
) -> None:
    alert.state = RESOLVED
    alert.resolved_at = alert.updated_at = now
    alert.resolved_by = actor
    alert.flapping = False
    event(session, alert, "resolved", now, actor, channel, note=note)


def _remind(
    session: Session, alert: tables.Alert, now: dt.datetime, cfg: AlertSettings
) -> list[Notice]:
    """Escalate when the next step falls due, else repeat when the interval has passed
    (not while the condition is clear and the alert waits to resolve)."""
    if alert.flapping or not alert.condition_active:
        return []
    if Severity(alert.severity) not in cfg.escalate_severities:
        return []
    steps = sorted(cfg.escalation, key=lambda s: s.after_h)
    age = now - (alert.first_notified_at or alert.opened_at)
    level = alert.escalation_level
    while level < len(steps) and age >= dt.timedelta(hours=steps[level].after_h):
        level += 1
    if level > alert.escalation_level:
        event(
            session,
            alert,
            "escalated",
            now,
            level=level,
            to=[s.to for s in steps[alert.escalation_level : level]],
        )
        alert.escalation_level = level
        return [Notice(alert, "escalation")]
    last = alert.last_notified_at
    if last is not None and now - last >= dt.timedelta(hours=cfg.repeat_h):
        return [Notice(alert, "repeat")]
    return []


def escalation_groups(cfg: AlertSettings) -> list[str]:
    """Each escalation step's recipient group, in order."""
    return [s.to for s in sorted(cfg.escalation, key=lambda s: s.after_h)]
