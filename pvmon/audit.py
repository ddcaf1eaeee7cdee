"""The audit log's one writer: who changed what, when, through which channel, and the row
before and after — for every change to the registry and to the money. Each entry is
written in the transaction of the change it records, so the log and the data never
disagree."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.localtime import utc_now


@dataclass(frozen=True)
class Actor:
    who: str
    """A person's id, ``user:<name>``, ``cli:<login>`` or ``system``."""
    channel: str
    """``web``, ``api``, ``cli`` or ``system``."""


SYSTEM = Actor("system", "system")


def record(
    session: Session,
    by: Actor,
    entity: str,
    key: str,
    action: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    reason: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    session.add(entry(by, entity, key, action, before, after, reason, at or utc_now()))


def record_rows(session: Session, entries: list[tables.AuditEntry]) -> None:
    """Many entries at once (a registry import changing many rows)."""
    if entries:
        session.execute(
            tables.AuditEntry.__table__.insert(),
            [{c: getattr(e, c) for c in COLUMNS} for e in entries],
        )


COLUMNS = ("at", "actor", "channel", "entity", "key", "action", "before", "after", "reason")


def entry(
    by: Actor,
    entity: str,
    key: str,
    action: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    reason: str | None,
    at: dt.datetime,
) -> tables.AuditEntry:
    return tables.AuditEntry(
        at=at,
        actor=by.who[:64],
        channel=by.channel,
        entity=entity,
        key=key[:160],
        action=action,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        reason=reason,
    )
