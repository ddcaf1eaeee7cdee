"""Days that received data after they ended: analytics recomputes such a day once the data
are stored (DESIGN §3: store-and-forward backlogs, the demo's history). Ingest's public
module for whoever writes telemetry behind ingest's back (the history backfill)."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.db.upsert import greatest, upsert
from pvmon.localtime import utc

HISTORY = "history"
"""The ``station_id`` under which the history backfill marks a whole day of the fleet."""


def stamp_late(session: Session, days: list[tuple[str, dt.date, float]]) -> None:
    """Record days that received data after they ended. Called once the points are in
    InfluxDB, so ``last_seen_at`` is now: a day computation that started before this moment
    may have missed them, one that started after cannot have."""
    stored_at = utc(time.time())
    rows = [
        {"station_id": station, "day": day, "first_seen_at": utc(at), "last_seen_at": stored_at}
        for station, day, at in days
    ]
    upsert(
        session,
        tables.LateDay.__table__,
        rows,
        ["station_id", "day"],
        lambda t, new: {"last_seen_at": greatest(session, t.c.last_seen_at, new.last_seen_at)},
    )


def stamp_days(session: Session, days: list[dt.date], source: str = HISTORY) -> None:
    """Whole days of the fleet written straight into InfluxDB (the history backfill), for
    analytics to compute as it would a day that received late data."""
    now = time.time()
    stamp_late(session, [(source, day, now) for day in days])
