"""The daily computation of one local day: telemetry in, rollups out (all levels)."""

from __future__ import annotations

import datetime as dt
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import structlog

from analytics.aggregate import totals, village_totals, with_capacity
from analytics.clearsky import day_sun
from analytics.context import Analytics
from analytics.day_figures import (
    DayInput,
    device_day,
    last_readings,
    station_day,
    station_hour_energy,
    station_hours,
)
from analytics.detect import BASELINE_DAYS, township_day_weights, usable, usual_levels
from analytics.evaluation import station_history
from analytics.influxstore import rollup_lines
from analytics.losses import FIELDS as LOSS_FIELDS
from analytics.losses import shortfall
from analytics.profiles import ENERGY_FIELDS, SHAPE_FIELDS, bright_days, day_shapes, field
from analytics.quality import CLOCK_FIELD, QUALITY_FIELDS, clock_offsets, device_labels
from analytics.revenue import attribute_to_villages, station_revenue
from pvmon.influx import schema
from pvmon.influx.client import InfluxError
from pvmon.localtime import day_bounds
from pvmon.money import daily_costs
from pvmon.registry.effective import frame_in_effect

log = structlog.get_logger(__name__)

DEVICE_FIELDS = [
    "energy_kwh",
    "readings",
    "available_hours",
    "daylight_hours",
    "fault_hours",
    "zero_hours",
    "resets",
    "jumps",
    "wraps",
    "unknown_intervals",
    "max_w",
    "wh_last",
    *QUALITY_FIELDS,
    CLOCK_FIELD,
]
STATION_FIELDS = [
    "energy_kwh",
    "capacity_kwp",
    "yf",
    "yr_cs",
    "csi",
    "availability",
    "peer_index",
    "weight",
    "usable",
    "daylight_hours",
    "comm_loss_hours",
    "zero_hours",
    "fault_hours",
    "silent_device_hours",
    "resets",
    "lifetime_kwh",
    "export_kwh",
    "grid_yuan",
    "subsidy_yuan",
    "peer_yf",
    *LOSS_FIELDS,
]
VILLAGE_FIELDS = [
    "energy_kwh",
    "export_kwh",
    "grid_yuan",
    "subsidy_yuan",
    "cost_yuan",
    "net_yuan",
    "household_kwh",
    "household_yuan",
]
TOTAL_FIELDS = [
    "energy_kwh",
    "capacity_kwp",
    "yf",
    "availability",
    "export_kwh",
    "grid_yuan",
    "subsidy_yuan",
    "revenue_yuan",
    "reporting",
]


@dataclass(frozen=True)
class DayResult:
    day: dt.date
    stations: pd.DataFrame
    villages: pd.DataFrame
    points: int
    readings: int


def compute_day(
    a: Analytics, day: dt.date, *, recompute: bool = True, readings: pd.DataFrame | None = None
) -> DayResult:
    """Compute and store every rollup of ``day`` of ``a``'s county (``Analytics.of_county``)
    or, unpartitioned, of the whole fleet with its totals; recomputing replaces the day
    exactly. ``recompute=False`` says the day was never computed (nothing to delete first);
    ``readings``, the day's telemetry when it has been read already (``compute_days``)."""
    start, end = day_bounds(day, a.tz)
    f = a.frames
    sun = day_sun(
        f.stations, f.township_centres, day, a.tz, a.settings.analytics.daylight_elevation_deg
    )
    readings = a.reader.day(start, end) if readings is None else readings
    day_input = DayInput(start, readings, _previous(a, day, start), sun.daylight)
    serving = frame_in_effect(f.devices, day)
    devices = device_day(day_input, serving, f.stations)
    devices = devices.join(device_labels(readings, serving["rated_ac_w"]).add_prefix("q_"))
    township_of = serving["station_id"].map(f.stations["township_id"])
    devices = devices.join(clock_offsets(readings, township_of))
    stations = station_day(
        devices,
        station_hours(day_input, serving, f.stations),
        f.stations,
        sun.reference_yield,
        sun.daylight,
    )
    stations["weight"] = township_day_weights(stations, f.stations)
    stations["usable"] = usable(stations).astype(float)
    stations = stations.join(station_revenue(day, stations, f.stations, f.tariffs))
    usual = usual_levels(station_history(a, day - dt.timedelta(days=1), BASELINE_DAYS), day)
    stations = stations.join(shortfall(day, stations, usual, f.stations, f.tariffs))
    stations = with_capacity(stations, f)
    collective = attribute_to_villages(
        day,
        stations,
        stations["energy_kwh"],
        f.shares,
        daily_costs(f.costs, day).reindex(f.stations.index, fill_value=0.0),
    )
    villages = village_totals(collective, stations, f)
    profile = _profile(day_input, serving, stations, sun.reference_hours, f.stations)
    township = totals(stations, ["township_id", "kind"]).reset_index()
    lines = _lines(devices, stations, villages, township, profile, start)
    if a.county is None:
        lines |= total_lines(township, a.registry.county_of(), start)
    points = a.rollups.replace_day(start, end, lines, existing=recompute)
    a.carry = (day, last_readings(readings))
    return DayResult(day, stations, villages, points, len(readings))


DayOutcome = tuple[dt.date, dict[str, object] | None, str | None]
"""(day, detail if computed, error if not)"""
BULK_ROWS = 400_000
"""Sparse days (the demo's hourly history, a quiet fleet) are read from InfluxDB together
up to about this many readings: one query for a week costs about half of seven (measured
on the demo's history), and a day of the live fleet's minute data is read alone."""


def compute_days(a: Analytics, days: Sequence[tuple[dt.date, bool]]) -> list[DayOutcome]:
    """Consecutive days (each with whether it was computed before); stops at the first
    day InfluxDB cannot serve. Sparse days are read in bulk (``BULK_ROWS``)."""
    out: list[DayOutcome] = []
    queue = deque(days)
    rows_per_day: int | None = None
    while queue:
        group = _next_group(queue, rows_per_day)
        try:
            parts = _readings_of(a, [day for day, _ in group])
        except (InfluxError, OSError) as exc:
            return [*out, _failed(group[0][0], exc)]
        for day, again in group:
            started = time.monotonic()
            try:
                result = compute_day(a, day, recompute=again, readings=parts[day])
            except (InfluxError, OSError) as exc:
                return [*out, _failed(day, exc)]
            detail = {
                "readings": result.readings,
                "points": result.points,
                "seconds": round(time.monotonic() - started, 2),
            }
            out.append((day, detail, None))
        rows_per_day = max(len(part) for part in parts.values())
    return out


def _next_group(
    queue: deque[tuple[dt.date, bool]], rows_per_day: int | None
) -> list[tuple[dt.date, bool]]:
    """The next days to read in one query: the first day alone (its size is not known
    yet), then as many consecutive days as fit ``BULK_ROWS`` at the last group's size."""
    group = [queue.popleft()]
    fits = 1 if rows_per_day is None else max(1, BULK_ROWS // max(rows_per_day, 1))
    while queue and len(group) < fits and queue[0][0] == group[-1][0] + dt.timedelta(days=1):
        group.append(queue.popleft())
    return group


def _readings_of(a: Analytics, days: Sequence[dt.date]) -> dict[dt.date, pd.DataFrame]:
    """The telemetry of consecutive days, read with one query, split by local day."""
    start, _ = day_bounds(days[0], a.tz)
    _, end = day_bounds(days[-1], a.tz)
    readings = a.reader.day(start, end)
    out = {}
    for day in days:
        lo, hi = day_bounds(day, a.tz)
        inside = (readings["ts"] >= lo) & (readings["ts"] < hi)
        out[day] = readings[inside].reset_index(drop=True)
    return out


def _failed(day: dt.date, exc: Exception) -> DayOutcome:
    log.warning("day_failed", day=day.isoformat(), error=str(exc)[:300])
    return (day, None, str(exc)[:500])


def _previous(a: Analytics, day: dt.date, start: int) -> pd.DataFrame:
    """The readings before the day: carried over when the previous day was just computed
    (catching up day after day), else read from InfluxDB."""
    if a.carry is not None and a.carry[0] == day - dt.timedelta(days=1) and len(a.carry[1]):
        return a.carry[1]
    return a.reader.previous(start)


def _profile(
    day: DayInput,
    serving: pd.DataFrame,
    stations: pd.DataFrame,
    reference_hours: pd.DataFrame,
    registry_stations: pd.DataFrame,
) -> pd.DataFrame:
    """The judged stations' hour-of-day shapes and hourly energy (``analytics.profiles``),
    one row per station with the ``s``/``e`` fields of its judged hours."""
    judged = bright_days(stations["csi"], registry_stations) & (stations["usable"] > 0)
    rated_kw = serving.groupby("station_id")["rated_ac_w"].sum() / 1000
    made = station_hour_energy(day, serving)
    shapes = day_shapes(made, reference_hours, registry_stations, rated_kw, judged)
    energy = made.reindex_like(shapes).where(shapes.notna())
    frame = pd.concat(
        [
            shapes.rename(columns=lambda h: field("s", h)),
            energy.rename(columns=lambda h: field("e", h)),
        ],
        axis=1,
    ).reindex(columns=[*SHAPE_FIELDS, *ENERGY_FIELDS])
    return frame[shapes.notna().any(axis=1)]


def day_totals(a: Analytics, day: dt.date, *, recompute: bool = True) -> int:
    """The day's segment, county and fleet totals from every township's rollup (all the
    counties' days computed), stored; the number of points."""
    start, end = day_bounds(day, a.tz)
    township = a.rollups.rows(
        schema.TOWNSHIP_DAILY, start, end, ["township", "kind"], TOTAL_FIELDS
    ).rename(columns={"township": "township_id"})
    lines = total_lines(township, a.registry.county_of(), start)
    return a.rollups.replace_day(start, end, lines, existing=recompute)


def total_lines(
    township: pd.DataFrame, county_of: Mapping[str, str], ts: int
) -> dict[str, list[str]]:
    """Segment, county and fleet totals from the township totals (``township_id``,
    ``kind`` and ``TOTAL_FIELDS``): sums, and availability weighted by capacity, as
    ``totals`` makes them from stations."""
    rows = township.assign(county=township["township_id"].map(county_of))
    return {
        schema.SEGMENT_DAILY: rollup_lines(
            schema.SEGMENT_DAILY, totals(rows, ["kind"]).reset_index(), ["kind"], TOTAL_FIELDS, ts
        ),
        schema.COUNTY_DAILY: rollup_lines(
            schema.COUNTY_DAILY,
            totals(rows, ["county", "kind"]).reset_index(),
            ["county", "kind"],
            TOTAL_FIELDS,
            ts,
        ),
        schema.FLEET_DAILY: rollup_lines(
            schema.FLEET_DAILY, totals(rows, None), [], TOTAL_FIELDS, ts
        ),
    }


def _lines(
    devices: pd.DataFrame,
    stations: pd.DataFrame,
    villages: pd.DataFrame,
    township: pd.DataFrame,
    profile: pd.DataFrame,
    ts: int,
) -> dict[str, list[str]]:
    """The rollups tagged by township: one county's, or the whole fleet's."""
    device_rows = devices.join(stations[["kind", "township_id"]], on="station_id")
    device_rows = device_rows.reset_index().rename(columns={"index": "device"})
    station_rows = stations.reset_index().rename(columns={"index": "station", "id": "station"})
    village_rows = villages.reset_index().rename(columns={"index": "village", "id": "village"})
    return {
        schema.DEVICE_DAILY: rollup_lines(
            schema.DEVICE_DAILY,
            device_rows.rename(columns={"station_id": "station", "township_id": "township"}),
            ["device", "station", "kind", "township"],
            DEVICE_FIELDS,
            ts,
        ),
        schema.STATION_DAILY: rollup_lines(
            schema.STATION_DAILY,
            station_rows.rename(columns={"township_id": "township"}),
            ["station", "kind", "township"],
            STATION_FIELDS,
            ts,
        ),
        schema.VILLAGE_DAILY: rollup_lines(
            schema.VILLAGE_DAILY,
            village_rows.rename(columns={"township_id": "township"}),
            ["village", "township"],
            VILLAGE_FIELDS,
            ts,
        ),
        schema.TOWNSHIP_DAILY: rollup_lines(
            schema.TOWNSHIP_DAILY,
            township.rename(columns={"township_id": "township"}),
            ["township", "kind"],
            TOTAL_FIELDS,
            ts,
        ),
        schema.STATION_HOURS: rollup_lines(
            schema.STATION_HOURS,
            profile.join(stations[["kind", "township_id"]])
            .rename(columns={"township_id": "township"})
            .rename_axis("station")
            .reset_index(),
            ["station", "kind", "township"],
            [*SHAPE_FIELDS, *ENERGY_FIELDS],
            ts,
        ),
    }
