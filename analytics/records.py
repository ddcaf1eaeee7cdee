"""Analytics' relational side: job bookkeeping, village statements (findings are written
with ``pvmon.db.findings``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.db.upsert import upsert


def done_periods(session: Session, job: str) -> dict[str, dt.datetime]:
    """Periods the job finished successfully, with when their last run started (data
    stored after that moment may be missing from it)."""
    rows = session.execute(
        select(tables.JobRun.period, tables.JobRun.started_at).where(
            tables.JobRun.job == job, tables.JobRun.status == "ok"
        )
    )
    return {period: started for period, started in rows if started is not None}


def record_run(
    session: Session,
    job: str,
    period: str,
    *,
    status: str,
    started: dt.datetime,
    finished: dt.datetime,
    detail: dict[str, Any],
) -> None:
    row = session.get(tables.JobRun, (job, period))
    if row is None:
        session.add(
            tables.JobRun(
                job=job,
                period=period,
                status=status,
                attempts=1,
                started_at=started,
                finished_at=finished,
                duration_s=(finished - started).total_seconds(),
                detail=detail,
            )
        )
        return
    row.status = status
    row.attempts += 1
    row.started_at = started
    row.finished_at = finished
    row.duration_s = (finished - started).total_seconds()
    row.detail = detail


def late_days(session: Session) -> dict[dt.date, dt.datetime]:
    """Each local day that received data after it ended, with the latest such arrival."""
    latest: dict[dt.date, dt.datetime] = {}
    for day, seen in session.execute(select(tables.LateDay.day, tables.LateDay.last_seen_at)):
        latest[day] = max(seen, latest.get(day, seen))
    return latest


def save_statements(session: Session, rows: list[dict[str, Any]]) -> None:
    columns = (
        "energy_kwh",
        "export_kwh",
        "grid_yuan",
        "subsidy_yuan",
        "costs_yuan",
        "net_yuan",
        "estimated",
        "sources",
        "computed_at",
    )
    upsert(
        session,
        tables.VillageStatement.__table__,
        rows,
        ["village_id", "period"],
        lambda _t, new: {c: getattr(new, c) for c in columns},
    )
