"""The frequent job: live conditions (silence, zero output, faults) over the last half hour,
and today's energy so far, every few minutes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select

from analytics import today
from analytics.clearsky import sun_up_through
from analytics.context import Analytics
from analytics.detect import (
    LiveWindow,
    live_findings,
)
from pvmon.db import tables
from pvmon.db.findings import sync_findings
from pvmon.localtime import local_day
from pvmon.registry.effective import frame_carrying_on, frame_in_effect

LIVE_WINDOW_S = 30 * 60
"""The frequent job looks at the last half hour: three household reports, thirty village."""
LISTENING_HEARTBEAT_S = 120
"""An ingest worker whose heartbeat is older than this is not receiving."""
LIVE_ELEVATION_DEG = 10.0
"""Live conditions are judged only with the sun well up: at dawn and dusk every station
makes almost nothing, and silence is normal."""


def frequent(a: Analytics, now: dt.datetime) -> dict[str, int]:
    end = int(now.timestamp())
    start = end - LIVE_WINDOW_S
    with a.sessions() as session:
        status = list(session.scalars(select(tables.LoggerStatus)))
        workers = list(session.scalars(select(tables.IngestWorker)))
    online = pd.Series({s.station_id: s.online for s in status}, dtype=bool)
    since = pd.Series({s.station_id: s.since.timestamp() for s in status}, dtype=float)
    window = LiveWindow(
        start,
        end,
        a.reader.recent(start, end),
        a.reader.events(start, end),
        sun_up_through(a.frames.township_centres, start, end, LIVE_ELEVATION_DEG),
        online,
        since,
        listening_since(workers, now),
    )
    watched = frame_carrying_on(a.frames.devices, local_day(now, a.tz))
    found, evaluated = live_findings(window, watched, a.frames.stations)
    with a.sessions.begin() as session:
        opened, cleared = sync_findings(session, found, evaluated, now)
    return {
        "found": len(found),
        "opened": opened,
        "cleared": cleared,
        "judged_stations": len({s for _, s in evaluated}),
        "today_kwh": round(energy_today(a, now), 1),
    }


def listening_since(workers: list[tables.IngestWorker], now: dt.datetime) -> float | None:
    """Since when ingest has been receiving: the earliest start among the workers whose
    heartbeat is recent (None when none is)."""
    recent = now - dt.timedelta(seconds=LISTENING_HEARTBEAT_S)
    alive = [w.started_at for w in workers if w.heartbeat_at >= recent]
    return min(alive).timestamp() if alive else None


def energy_today(a: Analytics, now: dt.datetime) -> float:
    """Bring today's energy so far up to ``now`` and store it for the dashboards; the
    fleet's total [kWh]."""
    serving = frame_in_effect(a.frames.devices, local_day(now, a.tz))
    a.today = today.advance(a.today, a.reader, serving, now, a.tz)
    frame = today.station_energy(a.today, serving, a.frames.stations)
    today.write(a.influx, frame, a.today.day, a.tz)
    return float(frame["energy_kwh"].sum())
