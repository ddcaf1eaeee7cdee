"""Reports kept unchanged: each report's files under the archive folder
(``pvmon.datapaths.report_file``, declared for backups), written whole, with their sizes and
SHA-256 in the ``reports`` table; making the same report again adds a version beside the
earlier ones."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pvmon.datapaths import report_file
from pvmon.db import tables
from pvmon.durable import write_whole
from pvmon.settings import Settings


@dataclass(frozen=True)
class File:
    suffix: str
    media_type: str
    data: bytes


def keep(
    session: Session,
    settings: Settings,
    kind: str,
    period: str,
    subject: str,
    files: list[File],
    by: str,
    now: dt.datetime,
) -> tables.Report:
    """File a made report: its files first, then its row (a crash between leaves an
    unlisted file, never a listed report without its file)."""
    version = 1 + (
        session.scalar(
            select(func.max(tables.Report.version)).where(
                tables.Report.kind == kind,
                tables.Report.period == period,
                tables.Report.subject == subject,
            )
        )
        or 0
    )
    listed = []
    for f in files:
        name = f"{kind}-{period}-{subject}-v{version}.{f.suffix}"
        write_whole(report_file(settings, kind, period, name), f.data)
        listed.append(
            {
                "name": name,
                "media_type": f.media_type,
                "size_bytes": len(f.data),
                "sha256": hashlib.sha256(f.data).hexdigest(),
            }
        )
    row = tables.Report(
        kind=kind,
        period=period,
        subject=subject,
        version=version,
        made_at=now,
        made_by=by,
        files=listed,
        delivered_at=None,
        deliveries=[],
    )
    session.add(row)
    session.flush()
    return row
