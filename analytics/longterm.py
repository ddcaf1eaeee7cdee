"""The long view, once a month: each station's degradation rate from its daily rollups over
its whole life (kept for the station's life, so it holds after raw telemetry expires), kept
in ``station_degradation``; a station whose modules lose output faster than allowed is a
finding."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Table

from analytics.context import Analytics
from analytics.degradation import clear_day_levels, station_rates
from pvmon.db import tables
from pvmon.db.findings import sync_findings
from pvmon.db.upsert import upsert
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.influx import schema
from pvmon.localtime import day_bounds, local_day, midnight

SINCE = dt.date(2000, 1, 1)
"""Before any station of the fleet: the rollups are read from here."""
SEED = 61724
"""The resampling's seed (with each station's id): the same rollups give the same interval."""


def station_history(a: Analytics, last: dt.date) -> pd.DataFrame:
    """Every station-day up to ``last``: date, station_id, csi, usable."""
    start, _ = day_bounds(SINCE, a.tz)
    _, end = day_bounds(last, a.tz)
    frame = a.rollups.read(schema.STATION_DAILY, start, end, "station", ["csi", "usable"])
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
        upsert(session, table, rows, ["station_id", "as_of"], _replace)
        opened, cleared = sync_findings(session, found, evaluated, now)
    return {
        "stations": len(rates),
        "median_rate_pct": round(float(rates["rate_pct"].median()), 3) if len(rates) else None,
        "degrading_fast": len(found),
        "opened": opened,
        "cleared": cleared,
    }


def _replace(table: Table, proposed: object) -> dict[str, object]:
    names = ("rate_pct", "low_pct", "high_pct", "pairs", "first_day", "computed_at")
    return {n: getattr(proposed, n) for n in names}


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
