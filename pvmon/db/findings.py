"""The findings table, written by whoever finds something wrong (analytics, the
maintenance service): one row per episode, opened, updated while it holds, cleared once it
was looked for and not found again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from pvmon.db import tables
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
