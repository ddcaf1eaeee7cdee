"""The audit log for the bureau: every change to the registry and to the money — who,
when, how, the record before and after."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from api.deps import Caller, Context, Db, Who, checked_day, forbidden
from api.financemodels import AuditOut, AuditPage
from api.responses import problems
from api.state import ApiState
from pvmon.db import tables
from pvmon.localtime import day_start, utc

router = APIRouter(tags=["audit"])
Text = Annotated[str | None, Query(max_length=64)]


@dataclass(frozen=True)
class AuditFilter:
    entity: str | None = None
    key: str | None = None
    """Records whose key starts with this (``VS001`` finds every row of the station)."""
    actor: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def conditions(f: AuditFilter, ctx: ApiState) -> list[ColumnElement[bool]]:
    a = tables.AuditEntry
    out = []
    if f.entity:
        out.append(a.entity == f.entity)
    if f.key:
        out.append(a.key.startswith(f.key, autoescape=True))
    if f.actor:
        out.append(a.actor == f.actor)
    if f.since:
        out.append(a.at >= utc(day_start(f.since, ctx.tz)))
    if f.until:
        out.append(a.at < utc(day_start(f.until + dt.timedelta(days=1), ctx.tz)))
    return out


def entries(
    session: Session, ctx: ApiState, f: AuditFilter, limit: int, offset: int
) -> tuple[list[tables.AuditEntry], int]:
    """The entries the filter finds, newest first, and how many there are."""
    where = conditions(f, ctx)
    total = session.scalar(select(func.count()).select_from(tables.AuditEntry).where(*where))
    rows = session.scalars(
        select(tables.AuditEntry)
        .where(*where)
        .order_by(tables.AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total or 0


def auditor(who: Caller) -> None:
    if not who.scope.reads_audit:
        raise forbidden("the audit log is the bureau's")


@router.get("/audit", response_model=AuditPage, summary="The audit log", responses=problems(400))
def audit_log(
    who: Who,
    ctx: Context,
    session: Db,
    entity: Text = None,
    key: Text = None,
    actor: Text = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """Changes to the registry and the money, newest first, by what changed (a sheet or a
    money record, and a key's beginning), who changed it and the days (local)."""
    auditor(who)
    since, until = (checked_day(d, ctx) if d else None for d in (since, until))
    rows, total = entries(
        session, ctx, AuditFilter(entity, key, actor, since, until), limit, offset
    )
    return AuditPage(
        data=[AuditOut.model_validate(r, from_attributes=True) for r in rows], count=total
    )
