"""The long view, from the daily rollups (kept for the station's life, so it holds after raw
telemetry expires): once a month each station's degradation rate over its whole life, kept
in ``station_degradation``, a station whose modules lose output faster than allowed a
finding; once a week each station's soiling over the last year and what the dust cost over
the last weeks, kept in ``station_soiling``, a station whose dust cost more than a cleaning
a finding."""

from __future__ import annotations

import datetime as dt
import zlib

import numpy as np
import pandas as pd
from sqlalchemy import Table, select

from analytics.context import Analytics
from analytics.degradation import clear_day_levels, station_rates
from analytics.soiling import deseasoned, srr
from pvmon.db import tables
from pvmon.db.findings import sync_findings
from pvmon.db.tables.maintenance import OrderKind
from pvmon.db.upsert import upsert
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.influx import schema
from pvmon.localtime import day_bounds, local_day, midnight

SINCE = dt.date(2000, 1, 1)
"""Before any station of the fleet: the rollups are read from here."""
SEED = 61724
"""The random draws' seed (with each station's id): the same rollups give the same interval."""
KEYS = ["station_id", "as_of"]
"""An estimate is a station's as of a day; estimating that day again replaces it."""
SOILING_DAYS = 365
"""The soiling estimate's period: a year, every season's dust and rain."""
SEASON_YEARS = 3
"""Years of clear days a station's clean level at each time of year is taken from."""


def run(a: Analytics, last: dt.date, now: dt.datetime) -> dict[str, object]:
    """Both estimates as of ``last`` (by hand, and after a replay of days)."""
    return {"degradation": degradation(a, last, now), "soiling": soiling(a, last, now)}


def station_history(
    a: Analytics, last: dt.date, first: dt.date = SINCE, fields: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Every station-day from ``first`` to ``last``: date, station_id, csi, usable and
    ``fields``."""
    start, _ = day_bounds(first, a.tz)
    _, end = day_bounds(last, a.tz)
    frame = a.rollups.read(schema.STATION_DAILY, start, end, "station", ["csi", "usable", *fields])
    frame["date"] = [local_day(t, a.tz) for t in frame["ts"]]
    frame["usable"] = frame["usable"].fillna(0) > 0
    return frame.rename(columns={"station": "station_id"})


def degradation(a: Analytics, last: dt.date, now: dt.datetime) -> dict[str, object]:
    """Estimate every station's rate from its rollups up to ``last``, keep it, and find the
    stations degrading faster than ``analytics.degradation_limit_pct``."""
    levels = clear_day_levels(station_history(a, last), a.frames.stations["township_id"])
    rates = station_rates(levels, SEED)
    first = levels.apply(lambda s: s.first_valid_index())
    limit = a.settings.analytics.degradation_limit_pct
    found = fast_degradation(rates, limit, first, a.tz)
    evaluated = {(str(FindingKind.DEGRADATION), str(s)) for s in rates.index}
    rows = [
        {
            "station_id": station,
            "as_of": last,
            **{c: r[c] for c in ("rate_pct", "low_pct", "high_pct")},
            "pairs": int(r["pairs"]),
            "first_day": first[station].date(),
            "computed_at": now,
        }
        for station, r in rates.iterrows()
    ]
    table: Table = tables.StationDegradation.__table__  # type: ignore[assignment]
    with a.sessions.begin() as session:
        upsert(session, table, rows, KEYS, _replace)
        opened, cleared = sync_findings(session, found, evaluated, now)
    return {
        "stations": len(rates),
        "median_rate_pct": round(float(rates["rate_pct"].median()), 3) if len(rates) else None,
        "degrading_fast": len(found),
        "opened": opened,
        "cleared": cleared,
    }


def fast_degradation(
    rates: pd.DataFrame, limit_pct: float, first: pd.Series, tz: dt.tzinfo
) -> list[Finding]:
    """Stations whose whole interval lies beyond losing ``limit_pct`` a year (since: the
    first day of their series)."""
    out = []
    for station, r in rates[rates["high_pct"] < -limit_pct].iterrows():
        since = midnight(first[station].date(), tz).astimezone(dt.UTC)
        evidence = {
            "rate_pct": round(r["rate_pct"], 2),
            "low_pct": round(r["low_pct"], 2),
            "high_pct": round(r["high_pct"], 2),
            "pairs": int(r["pairs"]),
            "limit_pct": limit_pct,
        }
        out.append(
            Finding(
                FindingKind.DEGRADATION, Subject.STATION, str(station), Severity.WARNING,
                since, evidence, str(station),
            )
        )  # fmt: skip
    return out


def soiling(a: Analytics, last: dt.date, now: dt.datetime) -> dict[str, object]:
    """Estimate every station's soiling over the year up to ``last`` (its clear days as a
    share of its clean level at that time of year, from ``SEASON_YEARS`` of them) and what
    its dust cost over the last ``analytics.soiling_window_days``, keep it, and find the
    stations whose dust cost more than a cleaning."""
    first = last - dt.timedelta(days=SOILING_DAYS - 1)
    seasons = first - dt.timedelta(days=365 * (SEASON_YEARS - 1))
    fields = ("yr_cs", "energy_kwh", "grid_yuan", "subsidy_yuan")
    history = station_history(a, last, seasons, fields)
    levels = deseasoned(clear_day_levels(history, a.frames.stations["township_id"]))
    levels = levels[levels.index >= pd.Timestamp(first)]
    history = history[history["date"] >= first]
    days = history.assign(date=pd.to_datetime(history["date"])).set_index(["date", "station_id"])
    cleaned = recorded_cleanings(a, first, last)
    window = pd.Timestamp(last - dt.timedelta(days=a.settings.analytics.soiling_window_days - 1))
    rows = [
        row
        for station in levels.columns
        if (
            row := station_soiling(
                a, str(station), levels[station], days.xs(station, level="station_id"),
                cleaned.get(station), window,
            )
        )
    ]  # fmt: skip
    for row in rows:
        row |= {"as_of": last, "computed_at": now}
    worth = [r for r in rows if r["lost_yuan"] > r["cleaning_yuan"]]
    evaluated = {(str(FindingKind.SOILING), str(r["station_id"])) for r in rows}
    table: Table = tables.StationSoiling.__table__  # type: ignore[assignment]
    with a.sessions.begin() as session:
        upsert(session, table, rows, KEYS, _replace)
        opened, cleared = sync_findings(
            session, [soiling_finding(r, window, a.tz) for r in worth], evaluated, now
        )
    ratios = [r["ratio"] for r in rows]
    return {
        "stations": len(rows),
        "median_loss_pct": round(100 * (1 - float(np.median(ratios))), 2) if rows else None,
        "worth_cleaning": len(worth),
        "opened": opened,
        "cleared": cleared,
    }


def station_soiling(
    a: Analytics,
    station: str,
    level: pd.Series,
    days: pd.DataFrame,
    cleaned: pd.Series | None,
    window: pd.Timestamp,
) -> dict | None:
    """One station's soiling from its clear days' ``level`` weighted by its clear-sky
    insolation, and the energy and revenue its dust cost since ``window`` (the revenue
    estimated from the day's own: a day's yuan go with its energy)."""
    days = days.sort_index()
    rng = np.random.RandomState([SEED, zlib.crc32(station.encode())])
    found = srr(level, days["yr_cs"], rng, cleaned)
    if found is None:
        return None
    lost = found.lost_share().reindex(days.index).fillna(0.0)[window:]
    recent = days[window:].fillna(0.0)
    settings = a.settings.analytics
    kwp = float(a.frames.stations.at[station, "capacity_kwp"])
    return {
        "station_id": station, "ratio": found.ratio, "low": found.low, "high": found.high,
        "loss_now_pct": found.loss_now_pct,
        "lost_kwh": float((lost * recent["energy_kwh"]).sum()),
        "lost_yuan": float((lost * (recent["grid_yuan"] + recent["subsidy_yuan"])).sum()),
        "window_days": settings.soiling_window_days,
        "cleaning_yuan": settings.cleaning_visit_yuan + settings.cleaning_yuan_per_kwp * kwp,
        "intervals": found.intervals, "cleanings": found.cleanings,
    }  # fmt: skip


def recorded_cleanings(a: Analytics, first: dt.date, last: dt.date) -> dict[str, pd.Series]:
    """station → date → a cleaning order was done that day (the maintainers' record)."""
    start, _ = day_bounds(first, a.tz)
    _, end = day_bounds(last, a.tz)
    order = tables.WorkOrder
    with a.sessions() as session:
        done = session.execute(
            select(order.station_id, order.done_at).where(
                order.kind == OrderKind.CLEANING,
                order.done_at >= dt.datetime.fromtimestamp(start, dt.UTC),
                order.done_at < dt.datetime.fromtimestamp(end, dt.UTC),
            )
        ).all()
    out: dict[str, set[pd.Timestamp]] = {}
    for station, at in done:
        out.setdefault(station, set()).add(pd.Timestamp(local_day(at, a.tz)))
    return {s: pd.Series(True, index=sorted(d)) for s, d in out.items()}


def _replace(table: Table, proposed: object) -> dict[str, object]:
    """A station's estimate as of a day, made again: every column but the keys replaced."""
    return {c.name: getattr(proposed, c.name) for c in table.columns if c.name not in KEYS}


def soiling_finding(row: dict, window: pd.Timestamp, tz: dt.tzinfo) -> Finding:
    """A station whose dust cost more over the window than a cleaning would."""
    evidence = {
        "lost_yuan": round(row["lost_yuan"], 2),
        "lost_kwh": round(row["lost_kwh"], 1),
        "cleaning_yuan": round(row["cleaning_yuan"], 2),
        "loss_now_pct": round(row["loss_now_pct"], 1),
        "window_days": row["window_days"],
    }
    since = midnight(window.date(), tz).astimezone(dt.UTC)
    station = str(row["station_id"])
    return Finding(
        FindingKind.SOILING, Subject.STATION, station, Severity.WARNING, since, evidence, station
    )
