"""Published disclosure sheets (公示), kept unchanged.

Publishing a village's sheet keeps its PDF, byte for byte, under the archive folder
(``pvmon.datapaths.disclosures``, declared for backups), written whole or not at all,
with its SHA-256 in the store and in the audit log; the archive lists every sheet a village
has published, and a sheet read back is checked against its hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pvmon import audit
from pvmon.audit import Actor
from pvmon.datapaths import disclosures as archive_of
from pvmon.db import tables
from pvmon.durable import write_whole
from pvmon.settings import Settings


class ArchiveDamaged(RuntimeError):
    """An archived sheet is missing or no longer matches its hash."""


def publish(
    session: Session,
    settings: Settings,
    village: str,
    year: int,
    pdf: bytes,
    figures: dict[str, Any],
    posted: tuple[dt.date, dt.date],
    by: Actor,
    now: dt.datetime,
) -> tables.Disclosure:
    """Keep ``pdf`` as the village's published sheet for ``year``."""
    digest = hashlib.sha256(pdf).hexdigest()
    count = session.scalar(
        select(func.count())
        .select_from(tables.Disclosure)
        .where(tables.Disclosure.village_id == village)
    )
    name = f"{village}/{year}-{(count or 0) + 1:03d}-{digest[:12]}.pdf"
    write_whole(archive_of(settings) / name, pdf)
    row = tables.Disclosure(
        village_id=village,
        year=year,
        published_at=now,
        published_by=by.who,
        posted_from=posted[0],
        posted_until=posted[1],
        sha256=digest,
        size_bytes=len(pdf),
        file=name,
        figures=figures,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by,
        "disclosures",
        f"{village}/{row.id}",
        "publish",
        None,
        {
            "year": year,
            "sha256": digest,
            "file": name,
            "posted_from": posted[0].isoformat(),
            "posted_until": posted[1].isoformat(),
        },
        at=now,
    )
    return row


def archive(session: Session, village: str) -> list[tables.Disclosure]:
    """The village's published sheets, newest first."""
    return list(
        session.scalars(
            select(tables.Disclosure)
            .where(tables.Disclosure.village_id == village)
            .order_by(tables.Disclosure.id.desc())
        )
    )


def read_archived(settings: Settings, row: tables.Disclosure) -> bytes:
    """The sheet as it was published; ``ArchiveDamaged`` if it is gone or altered."""
    path: Path = archive_of(settings) / row.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArchiveDamaged(f"{row.file}: {exc.strerror}") from None
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise ArchiveDamaged(f"{row.file} no longer matches its SHA-256 {row.sha256}")
    return data
