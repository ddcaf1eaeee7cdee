"""Notices become deliveries: one row per alert and destination, waiting in the outbox.

A group robot gets one message per alert however many of its members are recipients (they
are mentioned); e-mail and SMS go to each person; every webhook gets every notice.
Non-critical messages wait out the quiet hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from alerts.lifecycle import Notice, escalation_groups, event, target_of
from alerts.routing import Destination, Directory, destinations, recipients
from pvmon.db import tables
from pvmon.findings import Severity
from pvmon.settings import AlertSettings

PENDING, SENT, FAILED = "pending", "sent", "failed"


def quiet_until(local: dt.datetime, quiet: tuple[dt.time, dt.time] | None) -> dt.datetime | None:
    """The end of the quiet hours ``local`` falls in, or None outside them."""
    if quiet is None:
        return None
    start, end = quiet
    t = local.timetz().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, local.tzinfo)


@dataclass
class _Pending:
    recipients: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


def enqueue(
    session: Session,
    notices: list[Notice],
    d: Directory,
    cfg: AlertSettings,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> int:
    """Write the deliveries of each notice; returns how many."""
    groups = escalation_groups(cfg)
    count = 0
    for notice in notices:
        alert = notice.alert
        people = recipients(target_of(alert), alert.escalation_level, d, groups)
        planned: dict[Destination, _Pending] = {}
        for r in people:
            person = d.people.get(r.person_id)
            if person is None:
                continue
            for dest, mention in destinations(r, person, Severity(alert.severity), cfg):
                entry = planned.setdefault(dest, _Pending())
                entry.recipients.append(r.person_id)
                if mention:
                    entry.mentions.append(mention)
        for hook in cfg.webhooks:
            planned[Destination("webhook", hook.name)] = _Pending([r.person_id for r in people])
        not_before = now
        if alert.severity != Severity.CRITICAL:
            not_before = quiet_until(now.astimezone(tz), cfg.quiet_hours) or now
        for dest, entry in planned.items():
            session.add(
                tables.Delivery(
                    alert_id=alert.id,
                    purpose=notice.purpose,
                    channel=dest.channel,
                    destination=dest.address,
                    recipients=entry.recipients,
                    mentions=sorted(set(entry.mentions)),
                    status=PENDING,
                    created_at=now,
                    next_attempt_at=not_before.astimezone(dt.UTC),
                    attempts=0,
                )
            )
        count += len(planned)
        event(
            session,
            alert,
            "notified",
            now,
            purpose=notice.purpose,
            recipients=[{"person": r.person_id, "why": r.why} for r in people],
            deliveries=len(planned),
            held_until=not_before.isoformat() if not_before > now else None,
        )
        if notice.purpose != "resolved":
            alert.last_notified_at = not_before
            alert.first_notified_at = alert.first_notified_at or not_before
            alert.notify_count += 1
    return count
