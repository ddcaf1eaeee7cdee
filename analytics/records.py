"""Analytics' relational side: findings, job bookkeeping, village statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.db.upsert import upsert
from pvmon.findings import Finding


def sync_findings(
    session: Session, found: Iterable[Finding], evaluated: set[tuple[str, str]], now: dt.datetime
) -> tuple[int, int]:
    """Open or update a row per finding; clear active rows that were evaluated and not
    found again. Returns (opened, cleared)."""
    found = list(found)
    kinds = {k for k, _ in evaluated} | {str(f.kind) for f in found}
    active = {
        (r.kind, r.subject_id): r
        for r in session.scalars(
            select(tables.Finding).where(
                tables.Finding.active.is_(True), tables.Finding.kind.in_(kinds)
            )
        )
    }
    opened = 0
    for f in found:
        row = active.pop(f.key, None)
        if row is None:
            session.add(
                tables.Finding(
                    kind=str(f.kind),
                    subject_type=str(f.subject_type),
                    subject_id=f.subject_id,
                    station_id=f.station_id,
                    severity=str(f.severity),
                    active=True,
                    since=f.since,
                    detected_at=now,
                    updated_at=now,
                    cleared_at=None,
                    evidence=f.evidence,
                )
            )
            opened += 1
        else:
            row.severity = str(f.severity)
            row.evidence = f.evidence
            row.updated_at = now
            row.since = min(row.since, f.since)
    cleared = 0
    for key, row in active.items():
        if key in evaluated:
            row.active = False
            row.cleared_at = now
            row.updated_at = now
            cleared += 1
    return opened, cleared


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
