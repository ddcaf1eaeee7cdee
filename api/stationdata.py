"""What a station's and an inverter's pages show, read from InfluxDB and the relational
store: a day's power curve beside the clear-sky curve and the township peers' median
scaled to the station, the year's months, each inverter's last reading and alarms, and the
data-quality labels of its readings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.clearsky import plane_irradiance
from analytics.quality import CLOCK_FIELD, LABELS, QUALITY_FIELDS
from api.state import ApiState
from pvmon.db import tables
from pvmon.domain import peer_kinds
from pvmon.influx import schema
from pvmon.influx.client import series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_bounds, local_day, utc
from pvmon.registry.schema import InverterRow, StationRow

CURVE_STEP = "5m"
CURVE_STEP_S = 300
CLEAR_SKY_TTL_S = 3600.0
"""A plane's clear-sky day is the same all day (pvlib takes tens of milliseconds for it)."""
EVENT_DAYS = 30


@dataclass(frozen=True)
class DayCurve:
    """A day's power at 5-minute steps [kW]: epoch seconds → value (None: no reading)."""

    station: list[tuple[int, float | None]]
    peers: list[tuple[int, float | None]]
    """The median per kWp of the station's peers (its peer group, same township) × its kWp."""
    clear_sky: list[tuple[int, float | None]]
    """In-plane clear-sky irradiance [kW/m²] × kWp: what a clean array could reach."""
    peer_count: int


def _township_power(ctx: ApiState, s: StationRow, start: int, end: int) -> pd.DataFrame:
    """station × 5-minute step → AC power [W] of ``s``'s peers in its township, itself
    included (each station the sum of its inverters' means)."""
    kinds = " OR ".join(f"\"kind\" = '{k}'" for k in peer_kinds(s.kind))
    where = f"time >= {start}s AND time < {end}s AND \"township\" = '{s.township_id}' AND ({kinds})"
    inner = (
        f'SELECT MEAN("W") AS w FROM "{schema.TELEMETRY}" WHERE {where} '
        f'GROUP BY time({CURVE_STEP}), "device", "station" fill(none)'
    )
    q = (
        f'SELECT SUM("w") AS w FROM ({inner}) WHERE time >= {start}s AND time < {end}s '
        f'GROUP BY time({CURVE_STEP}), "station" fill(none)'
    )
    rows = series_values(list(ctx.influx.stream(q)))
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    return frame.pivot_table(index="time", columns="station", values="w", aggfunc="sum")


def day_curve(ctx: ApiState, s: StationRow, day: dt.date) -> DayCurve:
    start, end = day_bounds(day, ctx.tz)
    steps = pd.Index(range(start, end, CURVE_STEP_S), name="time")
    power = _township_power(ctx, s, start, end).reindex(steps)
    stations = ctx.view().stations  # the query chose the township's peers
    capacity = {c: stations[c].capacity_kwp for c in power.columns if c in stations}
    peers = [c for c in power.columns if c != s.id and capacity.get(c)]
    per_kwp = power[peers].div(pd.Series({c: capacity[c] for c in peers})) if peers else None
    median = per_kwp.median(axis=1) * s.capacity_kwp / 1000 if per_kwp is not None else None
    own = power[s.id] / 1000 if s.id in power.columns else pd.Series(index=steps, dtype=float)
    centre = ctx.view().township_centres[s.township_id]
    poa = ctx.cached(
        ("clear sky", s.township_id, s.tilt_deg, s.azimuth_deg, day),
        lambda: plane_irradiance(
            centre.lat, centre.lon, centre.altitude_m, s.tilt_deg, s.azimuth_deg, steps, ctx.tz
        ),
        CLEAR_SKY_TTL_S,
    )
    return DayCurve(
        _points(own),
        _points(median) if median is not None else [],
        _points(poa / 1000 * s.capacity_kwp),
        len(peers),
    )


def _points(series: pd.Series) -> list[tuple[int, float | None]]:
    return [(int(t), None if pd.isna(v) else round(float(v), 3)) for t, v in series.items()]


def year_months(ctx: ApiState, station_id: str, year: int) -> dict[int, float]:
    """Month (1–12) → energy [kWh] from the daily rollups, local months."""
    start, _ = day_bounds(dt.date(year, 1, 1), ctx.tz)
    _, end = day_bounds(dt.date(year, 12, 31), ctx.tz)
    rows = series_values(
        ctx.influx.query(
            f'SELECT "energy_kwh" FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" WHERE time >= '
            f"{start}s AND time < {end}s AND \"station\" = '{station_id}'"
        )
    )
    months: dict[int, float] = {}
    for r in rows:
        month = local_day(r["time"], ctx.tz).month
        months[month] = months.get(month, 0.0) + float(r["energy_kwh"] or 0.0)
    return months


@dataclass(frozen=True)
class InverterNow:
    id: str
    model: str
    rated_ac_w: float
    last_ts: dt.datetime | None
    w: float | None
    state: int | None
    alarms: int
    """Alarm events in the last ``EVENT_DAYS`` days."""


def inverters_now(
    ctx: ApiState, station_id: str, devices: list[InverterRow] | None = None
) -> list[InverterNow]:
    """The station's inverters in service today (or ``devices``) as they are now."""
    if devices is None:
        devices = ctx.view().station_inverters(station_id, ctx.today())
    since = int((ctx.now() - dt.timedelta(days=EVENT_DAYS)).timestamp())
    last = {
        r["device"]: r
        for r in series_values(
            ctx.influx.query(
                f'SELECT LAST("W") AS w, "St" FROM "{schema.TELEMETRY}" WHERE time >= '
                f'{since}s AND "station" = \'{station_id}\' GROUP BY "device"'
            )
        )
    }
    alarms = {
        r["device"]: int(r["n"])
        for r in series_values(
            ctx.influx.query(
                f'SELECT COUNT("code") AS n FROM "{schema.EVENTS}" WHERE time >= {since}s '
                f'AND "station" = \'{station_id}\' GROUP BY "device"'
            )
        )
    }
    return [
        InverterNow(
            d.id,
            d.model,
            d.rated_ac_w,
            utc(last[d.id]["time"]) if d.id in last else None,
            last.get(d.id, {}).get("w"),
            last.get(d.id, {}).get("St"),
            alarms.get(d.id, 0),
        )
        for d in devices
    ]


@dataclass(frozen=True)
class DeviceEvent:
    at: dt.datetime
    code: int
    text: str | None


def device_events(ctx: ApiState, device_id: str) -> list[DeviceEvent]:
    """The inverter's alarms of the last ``EVENT_DAYS`` days, newest first."""
    since = int((ctx.now() - dt.timedelta(days=EVENT_DAYS)).timestamp())
    rows = series_values(
        ctx.influx.query(
            f'SELECT "code", "text" FROM "{schema.EVENTS}" WHERE time >= {since}s AND '
            f"\"device\" = '{device_id}' ORDER BY time DESC LIMIT 200"
        )
    )
    return [DeviceEvent(utc(r["time"]), int(r["code"]), r.get("text")) for r in rows]


def device_curve(ctx: ApiState, device_id: str, day: dt.date) -> list[tuple[int, float | None]]:
    """The inverter's AC power [kW] at 5-minute steps on ``day``."""
    start, end = day_bounds(day, ctx.tz)
    rows = series_values(
        ctx.influx.query(
            f'SELECT MEAN("W") AS w FROM "{schema.TELEMETRY}" WHERE time >= {start}s AND '
            f"time < {end}s AND \"device\" = '{device_id}' GROUP BY time({CURVE_STEP}) fill(none)"
        )
    )
    power = pd.Series({r["time"]: r["w"] for r in rows}, dtype=float)
    return _points(power.reindex(range(start, end, CURVE_STEP_S)) / 1000)


QUALITY_DAYS = 7


@dataclass(frozen=True)
class DeviceQuality:
    """An inverter's data-quality labels (``analytics.quality``) over the last days."""

    device: str
    labelled: int
    """Readings labelled (sub-hourly days only)."""
    shares: dict[str, float]
    """label → share of the labelled readings carrying it."""
    bad: float
    """Share of the labelled readings with any bad label."""
    clock_min: float | None
    """The median of its days' output timing against its township's [min]
    (``analytics.quality.clock_offsets``): steady for a healthy logger."""


def data_quality(ctx: ApiState, station_id: str, days: int = QUALITY_DAYS) -> list[DeviceQuality]:
    """The station's inverters' data-quality labels over the ``days`` computed days up to
    yesterday, from their daily rollups."""
    yesterday = ctx.today() - dt.timedelta(days=1)
    start, _ = day_bounds(yesterday - dt.timedelta(days=days - 1), ctx.tz)
    _, end = day_bounds(yesterday, ctx.tz)
    fields = ", ".join(f'"{f}"' for f in [*QUALITY_FIELDS, CLOCK_FIELD])
    rows = series_values(
        ctx.influx.query(
            f'SELECT "device", {fields} FROM "{ROLLUP_RP}"."{schema.DEVICE_DAILY}" WHERE '
            f"time >= {start}s AND time < {end}s AND \"station\" = '{station_id}'"
        )
    )
    frame = pd.DataFrame(rows, columns=["device", *QUALITY_FIELDS, CLOCK_FIELD])
    totals = frame.groupby("device")[QUALITY_FIELDS].sum()
    totals = totals[totals["q_labelled"] > 0]
    clock = frame.groupby("device")[CLOCK_FIELD].median()
    return [
        DeviceQuality(
            str(device),
            int(t["q_labelled"]),
            {label: t[f"q_{label}"] / t["q_labelled"] for label in LABELS},
            t["q_bad"] / t["q_labelled"],
            None if pd.isna(clock.get(device)) else float(clock[device]),
        )
        for device, t in totals.iterrows()
    ]


Estimate = tables.StationDegradation | tables.StationSoiling


def latest_estimate(session: Session, table: type[Estimate], station_id: str) -> Estimate | None:
    """The station's latest degradation or soiling estimate (``analytics.longterm``), if
    any."""
    return session.scalars(
        select(table).where(table.station_id == station_id).order_by(table.as_of.desc()).limit(1)
    ).first()
