"""The jobs: what each computes and stores, for a given moment or period."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from analytics import today
from analytics.clearsky import sun_up_through
from analytics.context import Analytics
from analytics.detect import (
    LiveWindow,
    certification_findings,
    live_findings,
    target_findings,
    underperformance,
)
from analytics.records import save_statements, sync_findings
from analytics.revenue import attribute_to_villages
from analytics.targets import Forecast, Totals, YearPosition, forecast
from pvmon.certification import Compliance, compliance
from pvmon.db import tables
from pvmon.findings import Finding, FindingKind
from pvmon.influx import schema
from pvmon.localtime import day_bounds, local_day

LIVE_WINDOW_S = 30 * 60
"""The frequent job looks at the last half hour: three household reports, thirty village."""
LIVE_ELEVATION_DEG = 10.0
"""Live conditions are judged only with the sun well up: at dawn and dusk every station
makes almost nothing, and silence is normal."""
HISTORY_DAYS = 40
"""Days of station rollups the underperformance check reads (baseline and recent)."""
UNDERPERFORMANCE_FIELDS = ["peer_index", "weight", "usable"]


# --- frequent: live conditions ------------------------------------------------------------


def frequent(a: Analytics, now: dt.datetime) -> dict[str, int]:
    end = int(now.timestamp())
    start = end - LIVE_WINDOW_S
    with a.sessions() as session:
        online = pd.Series(
            {s.station_id: s.online for s in session.scalars(select(tables.LoggerStatus))},
            dtype=bool,
        )
    window = LiveWindow(
        start,
        end,
        a.reader.recent(start, end),
        a.reader.events(start, end),
        sun_up_through(a.frames.township_centres, start, end, LIVE_ELEVATION_DEG),
        online,
    )
    found, evaluated = live_findings(window, a.frames.devices, a.frames.stations)
    with a.sessions.begin() as session:
        opened, cleared = sync_findings(session, found, evaluated, now)
    return {
        "found": len(found),
        "opened": opened,
        "cleared": cleared,
        "judged_stations": len({s for _, s in evaluated}),
        "today_kwh": round(energy_today(a, now), 1),
    }


def energy_today(a: Analytics, now: dt.datetime) -> float:
    """Bring today's energy so far up to ``now`` and store it for the dashboards; the
    fleet's total [kWh]."""
    a.today = today.advance(a.today, a.reader, a.frames.devices, now, a.tz)
    frame = today.station_energy(a.today, a.frames.devices, a.frames.stations)
    today.write(a.influx, frame, a.today.day, a.tz)
    return float(frame["energy_kwh"].sum())


# --- daily evaluation: underperformance, certification, targets ------------------------


def station_history(a: Analytics, last: dt.date, days: int = HISTORY_DAYS) -> pd.DataFrame:
    start, _ = day_bounds(last - dt.timedelta(days=days - 1), a.tz)
    _, end = day_bounds(last, a.tz)
    frame = a.rollups.read(schema.STATION_DAILY, start, end, "station", UNDERPERFORMANCE_FIELDS)
    frame["date"] = [local_day(t, a.tz) for t in frame["ts"]]
    frame["usable"] = frame["usable"].fillna(0) > 0
    return frame.rename(columns={"station": "station_id"})


CERT_KINDS = (
    FindingKind.CERT_MISSING,
    FindingKind.CERT_EXPIRED,
    FindingKind.CERT_REVIEW_OVERDUE,
    FindingKind.CERT_DUE,
)


def evaluate(a: Analytics, day: dt.date, now: dt.datetime) -> dict[str, object]:
    """Findings as of the end of ``day``: underperformance, certification, targets."""
    found, evaluated = underperformance(station_history(a, day), day, a.tz)
    report = certification(a, day)
    cert, cert_evaluated = _certification_findings(a, report)
    status = targets(a, day)
    goals = target_findings(status.segment, status.villages, a.tz)
    evaluated |= cert_evaluated
    evaluated.add((str(FindingKind.TARGET_AT_RISK), "village-stations"))
    evaluated |= {(str(FindingKind.VILLAGE_INCOME_AT_RISK), v) for v in status.villages}
    with a.sessions.begin() as session:
        opened, cleared = sync_findings(session, [*found, *cert, *goals], evaluated, now)
    return {
        "underperforming": len(found),
        "certification_findings": len(cert),
        "certification_rate": round(report.rate, 4),
        "target": str(status.segment.status),
        "opened": opened,
        "cleared": cleared,
    }


def certify(a: Analytics, day: dt.date, now: dt.datetime) -> dict[str, object]:
    """Certification findings as of ``day`` alone: they need the registry, not telemetry,
    so they hold from the first start, before any day has been computed."""
    report = certification(a, day)
    cert, evaluated = _certification_findings(a, report)
    with a.sessions.begin() as session:
        opened, cleared = sync_findings(session, cert, evaluated, now)
    return {
        "certification_findings": len(cert),
        "certification_rate": round(report.rate, 4),
        "opened": opened,
        "cleared": cleared,
    }


def _certification_findings(
    a: Analytics, report: Compliance
) -> tuple[list[Finding], set[tuple[str, str]]]:
    evaluated = {(str(k), r.person_id) for r in report.requirements for k in CERT_KINDS}
    evaluated |= {(str(FindingKind.STATION_UNCOVERED), s) for s in a.frames.stations.index}
    return certification_findings(report, a.tz), evaluated


def certification(a: Analytics, day: dt.date) -> Compliance:
    return compliance(a.registry, day, a.settings.registry.required_cert)


# --- targets and forecast ---------------------------------------------------------------


@dataclass(frozen=True)
class TargetReport:
    segment: Forecast
    villages: dict[str, Forecast]


def _totals(
    a: Analytics,
    position: YearPosition,
    measurement: str,
    tag: str | None,
    energy: str,
    money: list[str],
    where: str = "",
) -> dict[str, Totals]:
    """Year-to-date and recent sums per tag value, straight from InfluxDB."""
    start, _ = day_bounds(dt.date(position.year, 1, 1), a.tz)
    recent, _ = day_bounds(position.recent_from, a.tz)
    _, end = day_bounds(position.as_of, a.tz)
    year = a.rollups.sums(measurement, start, end, tag, [energy, *money], where)
    last = a.rollups.sums(measurement, recent, end, tag, [energy], where)
    out = {}
    for key, row in year.iterrows():
        recent_row = last.loc[key] if key in last.index else None
        out[str(key)] = Totals(
            float(row[energy]),
            float(sum(row[m] for m in money)),
            int(row["days"]),
            float(recent_row[energy]) if recent_row is not None else 0.0,
            int(recent_row["days"]) if recent_row is not None else 0,
        )
    return out


NO_DATA = Totals(0.0, 0.0, 0, 0.0, 0)


def targets(a: Analytics, as_of: dt.date) -> TargetReport:
    """The village-station segment against its annual targets, and each village's
    collective income against 200,000 yuan."""
    position = YearPosition.of(a.climate, as_of)
    f = a.frames
    cfg = a.settings.targets
    target_kwh, target_yuan = cfg.segment_targets(as_of.year)
    segment = _totals(
        a,
        position,
        schema.SEGMENT_DAILY,
        None,
        "energy_kwh",
        ["revenue_yuan"],
        "\"kind\" = 'village'",
    )
    village_kwp = float(f.stations.loc[f.stations["kind"] == "village", "capacity_kwp"].sum())
    report = forecast(
        next(iter(segment.values()), NO_DATA),
        position,
        capacity_kwp=village_kwp,
        target_yuan=target_yuan,
        target_kwh=target_kwh,
        yuan_per_kwh=_typical_price(a, "village"),
    )
    return TargetReport(report, _villages(a, position))


def _typical_price(a: Analytics, kind: str) -> float:
    """Capacity-weighted yuan per inverter kWh of a kind of station, at today's tariffs."""
    f = a.frames
    stations = f.stations[f.stations["kind"] == kind]
    rates = f.tariffs.drop_duplicates("station_id", keep="last").set_index("station_id")
    price = (rates["grid_yuan_per_kwh"] + rates["subsidy_yuan_per_kwh"]).reindex(stations.index) * (
        1 - stations["grid_loss_factor"]
    )
    weights = stations["capacity_kwp"]
    return float((price * weights).sum() / weights.sum()) if weights.sum() else 0.0


def _villages(a: Analytics, position: YearPosition) -> dict[str, Forecast]:
    f = a.frames
    totals = _totals(a, position, schema.VILLAGE_DAILY, "village", "energy_kwh", ["net_yuan"])
    owned = f.shares.join(f.stations["capacity_kwp"], on="station_id")
    capacity = (owned["capacity_kwp"] * owned["share"]).groupby(owned["village_id"]).sum()
    costs = f.shares.join(f.costs["annual_yuan"], on="station_id")
    costs = (costs["annual_yuan"].fillna(0) * costs["share"]).groupby(costs["village_id"]).sum()
    price = _typical_price(a, "village")
    target = a.settings.targets.village_income_yuan
    return {
        v: forecast(
            totals.get(v, NO_DATA),
            position,
            capacity_kwp=float(capacity.get(v, 0.0)),
            target_yuan=target,
            yuan_per_kwh=price,
            daily_cost_yuan=float(costs.get(v, 0.0)) / 365,
        )
        for v in f.villages.index
    }


def household_targets(a: Analytics, as_of: dt.date) -> dict[str, Forecast]:
    """Each household array's income (by station id) against about 3,000 yuan a year."""
    position = YearPosition.of(a.climate, as_of)
    homes = a.frames.stations[a.frames.stations["kind"] == "household"]
    totals = _totals(
        a,
        position,
        schema.STATION_DAILY,
        "station",
        "energy_kwh",
        ["grid_yuan", "subsidy_yuan"],
        "\"kind\" = 'household'",
    )
    price = _typical_price(a, "household")
    target = a.settings.targets.household_income_yuan
    return {
        str(station): forecast(
            totals.get(station, NO_DATA),
            position,
            capacity_kwp=float(row.capacity_kwp),
            target_yuan=target,
            yuan_per_kwh=price,
        )
        for station, row in homes.iterrows()
    }


# --- statements -------------------------------------------------------------------------


def statements(a: Analytics, year: int, month: int | None, now: dt.datetime) -> int:
    """Each village's statement for a month (or, with ``month`` None, the year so far):
    its shares of each station's energy and money, less its shares of the costs."""
    first = dt.date(year, month or 1, 1)
    last_month = month or 12
    last = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
    start, _ = day_bounds(first, a.tz)
    _, end = day_bounds(last, a.tz)
    f = a.frames
    rows = a.rollups.read(
        schema.STATION_DAILY,
        start,
        end,
        "station",
        ["energy_kwh", "export_kwh", "grid_yuan", "subsidy_yuan"],
    )
    if rows.empty:
        return 0
    days = rows.groupby("station")["ts"].nunique()
    sums = rows.groupby("station")[["energy_kwh", "export_kwh", "grid_yuan", "subsidy_yuan"]].sum()
    costs = (f.costs["annual_yuan"] / 365 * days.reindex(f.costs.index).fillna(0)).reindex(
        f.stations.index, fill_value=0.0
    )
    collective = attribute_to_villages(sums, sums["energy_kwh"], f.shares, costs)
    lines = f.shares.join(sums, on="station_id").fillna(0.0)
    period = f"{year}-{month:02d}" if month else str(year)
    out = []
    for village, row in collective.iterrows():
        sources = [
            {
                "station_id": s.station_id,
                "share": float(s.share),
                "energy_kwh": round(float(s.energy_kwh * s.share), 3),
                "grid_yuan": round(float(s.grid_yuan * s.share), 2),
                "subsidy_yuan": round(float(s.subsidy_yuan * s.share), 2),
                "costs_yuan": round(float(costs.get(s.station_id, 0.0) * s.share), 2),
            }
            for s in lines[lines["village_id"] == village].itertuples()
        ]
        out.append(
            {
                "village_id": village,
                "period": period,
                "energy_kwh": float(row.energy_kwh),
                "export_kwh": float(row.export_kwh),
                "grid_yuan": float(row.grid_yuan),
                "subsidy_yuan": float(row.subsidy_yuan),
                "costs_yuan": float(row.cost_yuan),
                "net_yuan": float(row.net_yuan),
                "estimated": True,
                "sources": sources,
                "computed_at": now,
            }
        )
    with a.sessions.begin() as session:
        save_statements(session, out)
    return len(out)
