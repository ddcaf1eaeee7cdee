"""Targets and year-end forecasts from the rollups: the village-station segment against
21 GWh / 17 million yuan, each village's collective income against 200,000 yuan, and each
household array's against 3,000 yuan.

Analytics' public module for the API: the forecasts need only the settings, the registry
as tables, the climate table and the rollups (``ForecastSources``), not an analytics
worker's whole context; ``ForecastSources.of`` builds them from what the API holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import pandas as pd

from analytics.frames import FleetFrames, fleet_frames
from analytics.influxstore import RollupStore, townships_condition
from analytics.targets import Forecast, Totals, YearPosition, climate_table, forecast
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.localtime import day_bounds, local_day
from pvmon.money import annual_costs_on, days_in_year
from pvmon.registry.schema import CountyRow, Registry
from pvmon.settings import Settings, TargetSettings
from pvmon.shares import by_village


class Sources(Protocol):
    """What the forecasts read (an analytics worker's context has it all)."""

    settings: Settings
    tz: ZoneInfo
    rollups: RollupStore
    registry: Registry
    frames: FleetFrames
    climate: pd.Series


@dataclass(frozen=True)
class ForecastSources:
    settings: Settings
    tz: ZoneInfo
    rollups: RollupStore
    registry: Registry
    frames: FleetFrames
    climate: pd.Series

    @classmethod
    def of(cls, settings: Settings, influx: InfluxClient, registry: Registry) -> ForecastSources:
        return cls(
            settings,
            ZoneInfo(settings.timezone),
            RollupStore(influx),
            registry,
            fleet_frames(registry),
            climate_table(settings.analytics.climate_table),
        )


@dataclass(frozen=True)
class TargetReport:
    segment: Forecast
    villages: dict[str, Forecast]


def _totals(
    a: Sources,
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
COMPLETE_AVAILABILITY = 0.8
"""A day whose fleet-wide availability is below this is not over as far as the data know
(the demo replaying its afternoon, or a county-wide outage): unknown, not low."""
COMPLETE_LOOKBACK_DAYS = 7


def last_complete_day(a: Sources, as_of: dt.date) -> dt.date:
    """The latest day up to ``as_of`` whose data are complete, so that a day still being
    filled in never counts as a whole actual day (``as_of`` itself when none of the last
    week's days is computed yet: the forecast then rests on what there is)."""
    start, _ = day_bounds(as_of - dt.timedelta(days=COMPLETE_LOOKBACK_DAYS - 1), a.tz)
    _, end = day_bounds(as_of, a.tz)
    days = a.rollups.read(schema.FLEET_DAILY, start, end, None, ["availability"])
    if days.empty:
        return as_of
    complete = days[days["availability"].fillna(0) >= COMPLETE_AVAILABILITY]
    if complete.empty:
        return as_of
    return local_day(int(complete["ts"].max()), a.tz)


def targets(a: Sources, as_of: dt.date, county: str | None = None) -> TargetReport:
    """The village-station segment against its annual targets, and each village's
    collective income against 200,000 yuan, as of the last complete day up to ``as_of``:
    of the whole deployment, or of one ``county`` of a province."""
    position = YearPosition.of(a.climate, last_complete_day(a, as_of))
    where = "\"kind\" = 'village'"
    if county is None:
        f, measurement, counties = a.frames, schema.SEGMENT_DAILY, a.registry.counties
    else:
        f, measurement = fleet_frames(a.registry.of_county(county)), schema.COUNTY_DAILY
        counties = [c for c in a.registry.counties if c.id == county]
        where += f" AND \"county\" = '{county}'"
    target_kwh, target_yuan = county_targets(a.settings.targets, counties, as_of.year)
    segment = _totals(a, position, measurement, None, "energy_kwh", ["revenue_yuan"], where)
    village_kwp = float(f.stations.loc[f.stations["kind"] == "village", "capacity_kwp"].sum())
    report = forecast(
        next(iter(segment.values()), NO_DATA),
        position,
        capacity_kwp=village_kwp,
        target_yuan=target_yuan,
        target_kwh=target_kwh,
        yuan_per_kwh=_typical_price(f, "village"),
    )
    return TargetReport(report, _villages(a, f, position))


def county_targets(
    cfg: TargetSettings, counties: list[CountyRow], year: int
) -> tuple[float, float]:
    """(energy kWh, revenue yuan) the counties' village stations are to make in ``year``:
    each county's own targets, or the settings' where it has none; summed."""
    kwh, yuan = cfg.segment_targets(year)
    return (
        sum(c.village_energy_kwh or kwh for c in counties),
        sum(c.village_revenue_yuan or yuan for c in counties),
    )


def _typical_price(f: FleetFrames, kind: str) -> float:
    """Capacity-weighted yuan per inverter kWh of a kind of station, at today's tariffs."""
    stations = f.stations[f.stations["kind"] == kind]
    rates = f.tariffs.drop_duplicates("station_id", keep="last").set_index("station_id")
    price = (rates["grid_yuan_per_kwh"] + rates["subsidy_yuan_per_kwh"]).reindex(stations.index) * (
        1 - stations["grid_loss_factor"]
    )
    weights = stations["capacity_kwp"]
    return float((price * weights).sum() / weights.sum()) if weights.sum() else 0.0


def _villages(a: Sources, f: FleetFrames, position: YearPosition) -> dict[str, Forecast]:
    totals = _totals(a, position, schema.VILLAGE_DAILY, "village", "energy_kwh", ["net_yuan"])
    owned = by_village(
        pd.concat([f.stations["capacity_kwp"], annual_costs_on(f.costs, position.as_of)], axis=1),
        f.shares,
        position.as_of,
    )
    capacity, costs = owned["capacity_kwp"], owned["annual_yuan"]
    price = _typical_price(f, "village")
    target = a.settings.targets.village_income_yuan
    return {
        v: forecast(
            totals.get(v, NO_DATA),
            position,
            capacity_kwp=float(capacity.get(v, 0.0)),
            target_yuan=target,
            yuan_per_kwh=price,
            daily_cost_yuan=float(costs.get(v, 0.0)) / days_in_year(position.year),
        )
        for v in f.villages.index
    }


def household_targets(
    a: Sources, as_of: dt.date, township: str | None = None
) -> dict[str, Forecast]:
    """Each household array's income (by station id) against about 3,000 yuan a year, as
    of the last complete day up to ``as_of``: of the whole fleet, or of one township (what
    a village's page needs of a province's two hundred thousand arrays)."""
    position = YearPosition.of(a.climate, last_complete_day(a, as_of))
    stations = a.frames.stations
    homes = stations[stations["kind"] == "household"]
    if township is not None:
        homes = homes[homes["township_id"] == township]
    totals = _totals(
        a,
        position,
        schema.STATION_DAILY,
        "station",
        "energy_kwh",
        ["grid_yuan", "subsidy_yuan"],
        # A day has data when the array reported (its counter is known that day); a
        # computed day without a reading is unknown, not a day of zero income.
        '"kind" = \'household\' AND "lifetime_kwh" >= 0'
        + ("" if township is None else f" AND {townships_condition([township])}"),
    )
    price = _typical_price(a.frames, "household")
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
