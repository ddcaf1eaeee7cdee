"""The figures the API serves, read from InfluxDB (rollups, live telemetry) and the
relational store. Days, months and years are local."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pvlib
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from alerts import actions
from analytics import forecasts
from api.state import VIEW_FIGURES_TTL_S, ApiState
from pvmon.certification import Compliance, compliance
from pvmon.db import tables
from pvmon.findings import OPERATING_RULES
from pvmon.influx import schema
from pvmon.influx.client import series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_start, local_day
from pvmon.registry.lookup import FleetLookup
from pvmon.registry.schema import Registry

SEGMENTS = ("village", "household", "central")


@dataclass
class Tally:
    energy_kwh: float = 0.0
    revenue_yuan: float = 0.0
    by_segment: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SEGMENTS, 0.0))

    def add(self, kind: str, kwh: float, yuan: float = 0.0) -> None:
        self.energy_kwh += kwh
        self.revenue_yuan += yuan
        self.by_segment[kind] = self.by_segment.get(kind, 0.0) + kwh


def rollup_totals(
    ctx: ApiState, start: int, end: int
) -> dict[tuple[str, str], tuple[float, float]]:
    """(township, kind) → (energy kWh, revenue yuan) summed over the days in [start, end)."""
    series = ctx.influx.query(
        f'SELECT SUM("energy_kwh") AS e, SUM("revenue_yuan") AS y FROM '
        f'"{ROLLUP_RP}"."{schema.TOWNSHIP_DAILY}" WHERE time >= {start}s AND time < {end}s '
        f'GROUP BY "township", "kind"'
    )
    return {
        (r["township"], r["kind"]): (float(r["e"] or 0), float(r["y"] or 0))
        for r in series_values(series)
    }


def live_today(ctx: ApiState, start: int) -> dict[tuple[str, str], float]:
    """(township, kind) → today's energy so far (kWh), as analytics' frequent job last
    computed it with the counter rules of the daily rollup (``analytics/today.py``): a live
    estimate until tonight's rollup replaces it."""
    series = ctx.influx.query(
        f'SELECT SUM("energy_kwh") AS e FROM "{schema.TOWNSHIP_TODAY}" WHERE time = {start}s '
        f'GROUP BY "township", "kind"'
    )
    return {(r["township"], r["kind"]): float(r["e"] or 0) for r in series_values(series)}


def computed_days(ctx: ApiState, start: int, end: int) -> int:
    """Days in [start, end) whose rollups exist (0: the figures are no figures yet)."""
    series = ctx.influx.query(
        f'SELECT COUNT("energy_kwh") AS n FROM "{ROLLUP_RP}"."{schema.FLEET_DAILY}" '
        f"WHERE time >= {start}s AND time < {end}s"
    )
    return int(series[0]["values"][0][1]) if series else 0


DAYLIGHT_ELEVATION_DEG = 5.0
"""Above this, the county's sun is up: the overview leads with today's live figure."""


def sun_is_up(ctx: ApiState, now: dt.datetime) -> bool:
    """Whether the sun stands above the county now (at the mean position of its villages)."""
    villages = ctx.view().villages.values()
    lat = sum(v.lat for v in villages) / max(1, len(villages))
    lon = sum(v.lon for v in villages) / max(1, len(villages))
    position = pvlib.solarposition.get_solarposition(pd.DatetimeIndex([now]), lat, lon)
    return bool(position["elevation"].iloc[0] > DAYLIGHT_ELEVATION_DEG)


def summary(ctx: ApiState, townships: frozenset[str] | None) -> dict[str, Any]:
    """Today, this month and this year, by segment and township (the caller's townships)."""
    today = ctx.today()
    now = ctx.now()
    start_today = day_start(today, ctx.tz)
    start_month = day_start(today.replace(day=1), ctx.tz)
    start_year = day_start(dt.date(today.year, 1, 1), ctx.tz)
    month = rollup_totals(ctx, start_month, start_today)
    year = rollup_totals(ctx, start_year, start_today)
    yesterday = rollup_totals(ctx, day_start(today - dt.timedelta(days=1), ctx.tz), start_today)
    live = live_today(ctx, start_today)
    periods = {"today": Tally(), "month": Tally(), "year": Tally()}
    before = Tally()
    for (township, kind), (kwh, yuan) in yesterday.items():
        if townships is None or township in townships:
            before.add(kind, kwh, yuan)
    by_township: dict[str, dict[str, float]] = defaultdict(
        lambda: {"today_kwh": 0.0, "month_kwh": 0.0, "year_kwh": 0.0, "year_yuan": 0.0}
    )
    for (township, kind), kwh in live.items():
        if townships is None or township in townships:
            for name in ("today", "month", "year"):
                periods[name].add(kind, kwh)
            for key in ("today_kwh", "month_kwh", "year_kwh"):
                by_township[township][key] += kwh
    for name, totals in (("month", month), ("year", year)):
        for (township, kind), (kwh, yuan) in totals.items():
            if townships is None or township in townships:
                periods[name].add(kind, kwh, yuan)
                by_township[township][f"{name}_kwh"] += kwh
                if name == "year":
                    by_township[township]["year_yuan"] += yuan
    names = ctx.view().township_names
    townships_out = [
        {"id": t, "name": names.get(t, t), **{k: round(v, 1) for k, v in figures.items()}}
        for t, figures in sorted(by_township.items())
    ]
    return {
        "as_of": now.isoformat(),
        "today": periods["today"].__dict__,
        "yesterday": before.__dict__,
        "month": periods["month"].__dict__,
        "year": periods["year"].__dict__,
        "computed_days_month": computed_days(ctx, start_month, start_today),
        "computed_days_year": computed_days(ctx, start_year, start_today),
        "daylight": sun_is_up(ctx, now),
        "townships": townships_out,
        "counties": by_county(ctx.view().registry, by_township),
        "note": "today is a live estimate from the inverters' counters; revenue is estimated "
        "from inverter energy until settlement statements are entered",
    }


def by_county(registry: Registry, by_township: dict[str, dict[str, float]]) -> list[dict]:
    """Each county's figures: the sums of its townships' (those given)."""
    county_of = registry.county_of()
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for township, figures in by_township.items():
        for key, value in figures.items():
            sums[county_of.get(township, "")][key] += value
    names = {c.id: c.name for c in registry.counties}
    return [
        {"id": c, "name": names.get(c, c), **{k: round(v, 1) for k, v in figures.items()}}
        for c, figures in sorted(sums.items())
    ]


def last_fleet_rollup(ctx: ApiState) -> tuple[Any, ...] | None:
    """The fleet's rollup of the last day computed, whole (its time first), or None: it
    changes whenever a day is computed, or computed again with data that came late."""
    series = ctx.influx.query(
        f'SELECT * FROM "{ROLLUP_RP}"."{schema.FLEET_DAILY}" '
        f"WHERE time >= {day_start(ctx.today() - dt.timedelta(days=7), ctx.tz)}s "
        "ORDER BY time DESC LIMIT 1"
    )
    return tuple(series[0]["values"][0]) if series else None


def station_kpis_on(ctx: ApiState, last: tuple[Any, ...] | None) -> dict[str, dict[str, Any]]:
    """Each station's figures of the day of the fleet's rollup ``last``
    (``last_fleet_rollup``), as one table with the station a column: asking every
    station's series (``GROUP BY "station"``) took longer than the API waits for InfluxDB
    at a province's 224,000 stations."""
    if last is None:
        return {}
    first = int(last[0])
    series = ctx.influx.query(
        f'SELECT "station", "energy_kwh", "yf", "csi", "peer_index", "availability" FROM '
        f'"{ROLLUP_RP}"."{schema.STATION_DAILY}" WHERE time = {first}s'
    )
    day = local_day(first, ctx.tz).isoformat()
    return {
        r["station"]: {"day": day, **{k: r[k] for k in r if k not in ("station", "time")}}
        for r in series_values(series)
    }


def station_days(ctx: ApiState, station: str, days: int) -> list[dict[str, Any]]:
    start = day_start(ctx.today() - dt.timedelta(days=days), ctx.tz)
    series = ctx.influx.query(
        f'SELECT "energy_kwh", "yf", "yr_cs", "csi", "peer_index", "availability", '
        f'"grid_yuan", "subsidy_yuan", "lifetime_kwh" FROM '
        f'"{ROLLUP_RP}"."{schema.STATION_DAILY}" '
        f"WHERE time >= {start}s AND \"station\" = '{station}'"
    )
    return [
        {"day": local_day(r.pop("time"), ctx.tz).isoformat(), **r} for r in series_values(series)
    ]


SEVERITY_ORDER = ("info", "warning", "critical")
STATE_ORDER = ("fault", "warning", "offline", "ok", "unknown")


def _worst_alerts() -> Select:
    """Each station with unresolved alerts about its equipment → the index in
    ``SEVERITY_ORDER`` of the worst of them (``rank``)."""
    rank = case(
        *((tables.Alert.severity == level, n) for n, level in enumerate(SEVERITY_ORDER)),
        else_=0,
    )
    return (
        select(tables.Alert.station_id, func.max(rank).label("rank"))
        .where(
            actions.active(),
            tables.Alert.station_id.is_not(None),
            tables.Alert.rule.in_(sorted(OPERATING_RULES)),
        )
        .group_by(tables.Alert.station_id)
    )


def open_alerts_by_station(ctx: ApiState) -> dict[str, str]:
    """Each station with unresolved alerts about its equipment → the worst severity."""
    with ctx.sessions() as session:
        rows = session.execute(_worst_alerts())
        return {station: SEVERITY_ORDER[rank] for station, rank in rows}


def loggers_online(ctx: ApiState) -> dict[str, bool]:
    with ctx.sessions() as session:
        return dict(  # type: ignore[arg-type]
            session.execute(
                select(tables.LoggerStatus.station_id, tables.LoggerStatus.online)
            ).all()
        )


def state_of(severity: str | None, online: bool | None) -> str:
    """A station's state from the worst severity of its equipment's unresolved alerts and
    its logger's status: ``fault`` (a critical alert), ``warning``, ``offline`` (logger
    away), ``ok``, or ``unknown`` (never heard from)."""
    if severity == "critical":
        return "fault"
    if severity == "warning":
        return "warning"
    if online is None:
        return "unknown"
    return "ok" if online else "offline"


def station_state(station: str, alerts: dict[str, str], online: dict[str, bool]) -> str:
    """A station's state (``state_of``) from the whole fleet's alerts and loggers."""
    return state_of(alerts.get(station), online.get(station))


def one_station_state(session: Session, station: str) -> str:
    """One station's state as it stands now (``state_of``), read for that station alone."""
    worst = _worst_alerts().where(tables.Alert.station_id == station)
    rank = session.execute(worst).one_or_none()
    online = session.scalar(
        select(tables.LoggerStatus.online).where(tables.LoggerStatus.station_id == station)
    )
    return state_of(SEVERITY_ORDER[rank[1]] if rank else None, online)


def states_by_township(ctx: ApiState) -> dict[str, dict[str, int]]:
    """township → how many of its stations are in each state (``state_of``). The database
    counts the stations by township, worst alert and logger status, so no pass over a
    province's 224,000 stations runs in the API; the rule is applied to each group."""
    worst = _worst_alerts().subquery()
    station = tables.Station
    logger = tables.LoggerStatus
    groups = (
        select(station.township_id, worst.c.rank, logger.online, func.count())
        .select_from(station)
        .outerjoin(worst, worst.c.station_id == station.id)
        .outerjoin(logger, logger.station_id == station.id)
        .group_by(station.township_id, worst.c.rank, logger.online)
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    with ctx.sessions() as session:
        for township, rank, online, n in session.execute(groups):
            severity = SEVERITY_ORDER[rank] if rank is not None else None
            counts[township][state_of(severity, online)] += n
    return {t: in_state_order(c) for t, c in counts.items()}


def in_state_order(counts: Counter[str]) -> dict[str, int]:
    """The states that have stations, worst first."""
    return {state: counts[state] for state in STATE_ORDER if counts[state]}


def dead_letter_counts(ctx: ApiState, since: dt.datetime) -> dict[str, int]:
    with ctx.sessions() as session:
        rows = session.execute(
            select(tables.DeadLetter.reason, func.count())
            .where(tables.DeadLetter.received_at >= since)
            .group_by(tables.DeadLetter.reason)
        )
        return {reason: int(n) for reason, n in rows}


TARGETS_TTL_S = 600
"""Targets and forecasts change with the daily rollups; ten minutes is fresh. Renewed
aside: a province's forecast is some 6.5 s of an API process's work, which a caller waited
for every ten minutes."""


def target_report(ctx: ApiState, day: dt.date, county: str | None = None) -> forecasts.TargetReport:
    """The segment's and each village's forecast as of ``day``, of the deployment or of
    one county of a province (cached for everyone)."""
    return ctx.cached(
        ("targets", day, county),
        lambda: forecasts.targets(ctx.forecast_sources(), day, county),
        TARGETS_TTL_S,
        aside=True,
    )


def household_forecasts(
    ctx: ApiState, day: dt.date, township: str
) -> dict[str, forecasts.Forecast]:
    """The forecast of each household array (by station id) of ``township`` as of ``day``."""
    return ctx.cached(
        ("households", day, township),
        lambda: forecasts.household_targets(ctx.forecast_sources(), day, township),
        TARGETS_TTL_S,
        aside=True,
    )


@dataclass(frozen=True)
class YearProgress:
    computed: int
    """Days of the year before today whose rollups exist."""
    elapsed: int
    pending: int
    """Days whose data arrived (late, or written by the demo's history) and that analytics
    has not computed since: while there are any, the figures are still filling in."""


def year_progress(ctx: ApiState) -> YearProgress:
    """How much of the year so far the figures rest on (the banner while it fills in)."""
    today = ctx.today()
    first = dt.date(today.year, 1, 1)
    done = computed_days(ctx, day_start(first, ctx.tz), day_start(today, ctx.tz))
    arrived: dict[dt.date, dt.datetime] = {}
    with ctx.sessions() as session:
        for day, seen in session.execute(
            select(tables.LateDay.day, tables.LateDay.last_seen_at).where(
                tables.LateDay.day >= first, tables.LateDay.day < today
            )
        ):
            arrived[day] = max(seen, arrived.get(day, seen))
        computed = dict(
            session.execute(
                select(tables.JobRun.period, tables.JobRun.started_at).where(
                    tables.JobRun.job == "daily", tables.JobRun.status == "ok"
                )
            ).all()
        )
    pending = sum(
        1
        for day, seen in arrived.items()
        if (started := computed.get(day.isoformat())) is None or started <= seen
    )
    return YearProgress(done, (today - first).days, pending)


def place_names(ctx: ApiState) -> dict[str, str]:
    """Every id a page or an export may show → its name: stations, people, villages,
    townships (kept with the registry view)."""
    view = ctx.view()
    return ctx.cached(("names", view.serial), lambda: _names(view), VIEW_FIGURES_TTL_S)


def _names(view: FleetLookup) -> dict[str, str]:
    return (
        {sid: s.name for sid, s in view.stations.items()}
        | {pid: p.name for pid, p in view.people.items()}
        | {vid: v.name for vid, v in view.villages.items()}
        | view.township_names
    )


def certification(ctx: ApiState, day: dt.date) -> Compliance:
    """Every maintainer's certification and every station's cover on ``day`` (a pass over
    the whole registry: kept with the registry view)."""
    view = ctx.view()
    return ctx.cached(
        ("certification", view.serial, day),
        lambda: compliance(view.registry, day, ctx.settings.registry.required_cert),
        VIEW_FIGURES_TTL_S,
    )
