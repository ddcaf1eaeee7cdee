"""How far ``pvmon up`` has got: the live fleet's traffic, the history written behind it,
and the days analytics has computed — read from the stores, for the status line and the
milestone lines."""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from alerts.actions import AlertFilter, count_alerts
from analytics.records import done_periods, late_days
from analytics.service import DAILY
from ingest.late import HISTORY
from ingest.status import read_status
from pvmon.db import tables
from pvmon.db.engine import session_factory

RATE_WINDOW_S = 10.0
"""The message rate is measured over this window: workers report every few seconds."""
RECENT_DAYS = 30


@dataclass(frozen=True)
class Snapshot:
    received: int
    stored: int
    rejected: int
    loggers_online: int
    open_alerts: int
    spooled: int
    history_days: int
    """Days of the year the history has written."""
    computed_days: int
    """Days of the year computed since their data were last stored."""
    recent_computed: int
    """Of the last ``RECENT_DAYS`` days."""
    elapsed_days: int
    """Days of the year before today (from the history's first day when one is set)."""


def snapshot(engine: Engine, today: dt.date, first: dt.date | None = None) -> Snapshot:
    """Days are counted from ``first`` (the history's first day when one is set), else
    from the first of January."""
    status = read_status(engine)
    first = max(first or dt.date(today.year, 1, 1), dt.date(today.year, 1, 1))
    recent_from = today - dt.timedelta(days=RECENT_DAYS)
    with session_factory(engine)() as session:
        alerts = count_alerts(session, AlertFilter(state="active"))
        done = done_periods(session, DAILY)
        late = late_days(session)
        written = session.scalars(
            select(tables.LateDay.day).where(
                tables.LateDay.station_id == HISTORY,
                tables.LateDay.day >= first,
                tables.LateDay.day < today,  # today's part hangs from the live fleet
            )
        ).all()
    computed = [
        day
        for period, started in done.items()
        if first <= (day := dt.date.fromisoformat(period)) < today
        and (day not in late or started >= late[day])
    ]
    return Snapshot(
        status.received,
        status.stored,
        status.rejected,
        status.loggers_online,
        alerts,
        status.spool_points,
        len(set(written)),
        len(computed),
        sum(1 for day in computed if day >= recent_from),
        (today - first).days,
    )


@dataclass
class Rate:
    """Messages a second over the last ``RATE_WINDOW_S`` of counter samples."""

    samples: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, received: int, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self.samples.append((now, received))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_WINDOW_S:
            self.samples.popleft()
        (t0, r0), (t1, r1) = self.samples[0], self.samples[-1]
        return (r1 - r0) / (t1 - t0) if t1 > t0 else 0.0


def status_line(s: Snapshot, rate: float, history: bool) -> str:
    parts = [
        f"live {rate:,.0f} msg/s received (last {RATE_WINDOW_S:.0f} s)",
        f"{s.stored:,} readings stored",
        f"{s.rejected:,} rejected",
        f"loggers online {s.loggers_online:,}",
        f"open alerts {s.open_alerts:,}",
    ]
    if s.spooled:
        parts.append(f"{s.spooled:,} spooled")
    if history:
        parts.append(f"history {s.history_days}/{s.elapsed_days} days written")
    parts.append(f"analytics {s.computed_days}/{s.elapsed_days} days computed")
    return " | ".join(parts)


def milestones(s: Snapshot, history: bool) -> list[str]:
    """The milestones this snapshot has reached (each is reported once)."""
    recent = RECENT_DAYS
    reached = []
    if s.elapsed_days > recent:  # otherwise "the year so far" says it
        if history and s.history_days >= recent:
            reached.append(f"history: the last {recent} days written")
        if s.recent_computed >= recent:
            reached.append(f"analytics: the last {recent} days computed — on the dashboards")
    if history and s.history_days >= s.elapsed_days:
        reached.append("history: the year so far written")
    if s.computed_days >= s.elapsed_days:
        reached.append("analytics: the year so far computed")
    return reached
