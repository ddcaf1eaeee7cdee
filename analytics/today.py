"""Today's energy so far, per station: the live figure the dashboards show until tonight's
rollup replaces it.

Computed with the daily rollup's own counter rules (``rollup.energy_by_device``: resets,
wraps and impossible jumps), each device's first interval starting from its last reading
before midnight, and kept up to date by the frequent job a few minutes at a time: each run
reads only the readings since the last run, carrying each device's last reading over. The
stations' sums are written to InfluxDB (``station_today``, one point per station at local
midnight, overwritten by each run) and so are their townships' (``township_today``, per
kind of station), so the API reads a rollup, never raw telemetry, and a summary reads a
few points per township, not one per station of a province (DESIGN §5). A reading that
arrives later than ``SETTLE_S`` after its time is missed here and counted by tonight's
rollup.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analytics.day_figures import energy_by_device, interval_rows, last_readings
from analytics.influxstore import TelemetryReader, rollup_lines
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.localtime import day_bounds, local_day

SETTLE_S = 120
"""Readings younger than this are left for the next run: ingest may still be writing them."""


@dataclass(frozen=True)
class Today:
    day: dt.date
    upto: int
    """Readings before this time (epoch seconds) are counted."""
    carry: pd.DataFrame
    """device, ts, W, WH: each device's last reading counted so far."""
    energy_wh: pd.Series
    """device → energy so far today [Wh]."""


def advance(
    state: Today | None,
    reader: TelemetryReader,
    devices: pd.DataFrame,
    now: dt.datetime,
    tz: dt.tzinfo,
) -> Today:
    """``state`` brought up to ``now`` (a new local day starts afresh from midnight)."""
    day = local_day(now, tz)
    start, _ = day_bounds(day, tz)
    if state is None or state.day != day:
        state = Today(day, start, reader.previous(start), pd.Series(dtype=float))
    upto = max(state.upto, int(now.timestamp()) - SETTLE_S)
    if upto <= state.upto:
        return state
    new = reader.day(state.upto, upto)
    if new.empty:
        return Today(day, upto, state.carry, state.energy_wh)
    rows = interval_rows(state.carry, new, devices)
    energy = state.energy_wh.add(energy_by_device(rows)["energy_wh"], fill_value=0.0)
    carry = last_readings(pd.concat([state.carry, new[["device", "ts", "W", "WH"]]]))
    return Today(day, upto, carry, energy)


def station_energy(state: Today, devices: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """Per station: energy_kwh so far today, with its kind and township."""
    owner = devices["station_id"].reindex(state.energy_wh.index)
    by_station = (state.energy_wh / 1000).groupby(owner).sum()
    frame = stations[["kind", "township_id"]].copy()
    frame["energy_kwh"] = by_station.reindex(frame.index).fillna(0.0)
    frame["upto"] = state.upto
    return frame


def write(influx: InfluxClient, frame: pd.DataFrame, day: dt.date, tz: dt.tzinfo) -> int:
    """Today's figures as ``station_today`` and ``township_today`` points at local
    midnight (each run overwrites)."""
    start, _ = day_bounds(day, tz)
    rows = frame.reset_index().rename(
        columns={"index": "station", "id": "station", "township_id": "township"}
    )
    towns = rows.groupby(["township", "kind"], as_index=False).agg(
        energy_kwh=("energy_kwh", "sum"), upto=("upto", "max")
    )
    lines = rollup_lines(
        schema.STATION_TODAY, rows, ["station", "kind", "township"], ["energy_kwh", "upto"], start
    )
    lines += rollup_lines(
        schema.TOWNSHIP_TODAY, towns, ["township", "kind"], ["energy_kwh", "upto"], start
    )
    influx.write(lines)
    return len(lines)
