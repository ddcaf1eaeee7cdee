"""The daily rollups as units of work: each county's day is a unit (``analytics.leases``)
that any analytics process may take; a day's totals follow once all its counties are in.

Why the county: a station's income goes to villages of its own county (the centralized
station's beneficiaries span every township), peers are compared within a township and
a county's bureau reads its own county, so a county's day is computed from its own
telemetry alone. One county is one unit — Yonghe's day is computed as it always was —
and a province's day is as many units as it has counties.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from analytics import leases
from analytics.context import Analytics
from analytics.records import record_run
from analytics.rollups import compute_days, day_totals
from pvmon.influx.client import InfluxError
from pvmon.localtime import utc_now

log = structlog.get_logger(__name__)

DAILY = "daily"
TOTALS = "daily-totals"
RUN_DAYS = 7
"""Catching up on many days, a process takes up to this many days of one county at once:
consecutive days are read together and each starts from the day before's last readings.
With few days due, it takes one at a time, newest first: the days people look at first
are ready first."""


@dataclass(frozen=True)
class PartOutcome:
    day: dt.date
    county: str
    detail: dict[str, Any] | None
    error: str | None = None


def holder_name() -> str:
    """Who holds a lease: this host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_length(a: Analytics) -> dt.timedelta:
    return dt.timedelta(seconds=a.settings.analytics.lease_s)


def plan_days(a: Analytics, due: Sequence[dt.date], late: Mapping[dt.date, dt.datetime]) -> None:
    """Make every county's day of ``due`` a unit; a computed one is redone where data for
    its day arrived after it began."""
    counties = list(a.registry.county_townships())
    with a.sessions.begin() as session:
        leases.plan(
            session,
            DAILY,
            [(day.isoformat(), county) for day in due for county in counties],
            {day.isoformat(): late[day] for day in due if day in late},
        )


def work(a: Analytics, holder: str, due: Sequence[dt.date], most: int = 1) -> list[PartOutcome]:
    """Take and compute county-days of ``due`` (``most`` days of a county at a time)
    until none is left to take, or one fails (InfluxDB is away: the rest waits for the
    next wake-up)."""
    lease = lease_length(a)
    periods = [day.isoformat() for day in due]
    counties: dict[str, Analytics] = {}
    out: list[PartOutcome] = []
    beat = leases.Heartbeat(a.sessions, lease)
    with beat.running():
        while True:
            with a.sessions.begin() as session:
                taken = leases.take(session, DAILY, holder, lease, periods=periods, most=most)
            if not taken:
                return out
            beat.held = taken
            county = taken[0].part
            if county not in counties:  # one county's part held at a time
                counties = {county: a.of_county(county)}
            outcomes = _compute_run(counties[county], sorted(taken, key=lambda t: t.period))
            beat.held = []
            out += outcomes
            if any(o.detail is None for o in outcomes):
                return out


def _compute_run(part: Analytics, taken: list[leases.Lease]) -> list[PartOutcome]:
    """Days of one county, in date order; each completed as it is stored, the rest given
    back when one fails."""
    county = taken[0].part
    days = [(dt.date.fromisoformat(t.period), t.again) for t in taken]
    computed = (
        compute_days(part, days)
        if part.registry.stations
        else [(day, {"readings": 0, "points": 0, "seconds": 0.0}, None) for day, _ in days]
    )
    out = []
    with part.sessions.begin() as session:
        for lease, (day, detail, error) in zip(taken, computed, strict=False):
            if detail is None:
                leases.release(session, lease, {"error": error})
            elif not leases.complete(session, lease, detail):
                continue
            out.append(PartOutcome(day, county, detail, error))
        for lease in taken[len(computed) :]:
            leases.release(session, lease, {"error": "not reached"})
    return out


def total_days(a: Analytics, holder: str, due: Sequence[dt.date]) -> list[PartOutcome]:
    """The totals of each day of ``due`` whose every county is computed and whose totals
    are not, recorded as the day's ``daily`` run."""
    periods = [day.isoformat() for day in due]
    with a.sessions() as session:
        by_period = leases.units(session, DAILY, periods)
    out = []
    for day in due:
        parts = by_period[day.isoformat()]
        if not parts or any(p.state != leases.DONE for p in parts):
            continue
        outcome = _total(a, holder, day, parts)
        if outcome is not None:
            out.append(outcome)
            if outcome.detail is None:
                break
    return out


def _total(a: Analytics, holder: str, day: dt.date, parts: list[Any]) -> PartOutcome | None:
    period = day.isoformat()
    last = max(p.finished_at for p in parts)
    with a.sessions.begin() as session:
        leases.plan(session, TOTALS, [(period, leases.WHOLE)], {period: last})
        taken = leases.take(session, TOTALS, holder, lease_length(a), periods=[period])
    if not taken:
        return None
    started = time.monotonic()
    try:
        points = day_totals(a, day, recompute=taken[0].again)
    except (InfluxError, OSError) as exc:
        with a.sessions.begin() as session:
            leases.release(session, taken[0], {"error": str(exc)[:500]})
        return PartOutcome(day, leases.WHOLE, None, str(exc)[:500])
    detail = {
        "counties": len(parts),
        "readings": _summed(parts, "readings"),
        "points": points + _summed(parts, "points"),
        "seconds": round(_summed(parts, "seconds") + time.monotonic() - started, 2),
    }
    with a.sessions.begin() as session:
        if not leases.complete(session, taken[0], detail):
            return None
        record_run(
            session,
            DAILY,
            period,
            status="ok",
            started=min(p.started_at for p in parts),
            finished=utc_now(),
            detail=detail,
        )
    return PartOutcome(day, leases.WHOLE, detail)


def _summed(parts: list[Any], key: str) -> float:
    """A figure of the counties' units' details, summed over the day."""
    return sum((p.detail or {}).get(key, 0) for p in parts)
