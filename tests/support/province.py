"""A generated province in the stores: its registry, a day of telemetry from one township
of each county, and its rollups read back per county."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Engine, select

from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from simulators.demo_registry import GenerationOptions, generate_registry
from tests.support.fleetwriter import FleetWriter, township_stations
from tests.support.services import AS_OF


def load_province(engine: Engine, counties: int) -> Registry:
    registry = generate_registry(GenerationOptions(seed=2021, as_of=AS_OF, counties=counties))
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    return registry


def write_province_day(
    registry: Registry, influx: InfluxClient, day: dt.date, stations: int
) -> dict[str, list[str]]:
    """A day of telemetry from the first ``stations`` stations of each county's third
    township; county → those stations."""
    written = {}
    for county, townships in registry.county_townships().items():
        subset = township_stations(registry, townships[2])[:stations]
        FleetWriter(registry, subset, day).day(influx, day)
        written[county] = subset
    return written


def station_energy(influx: InfluxClient) -> dict[str, float]:
    rows = influx.query(
        f'SELECT "energy_kwh", "station" FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}"'
    )
    return {r["station"]: r["energy_kwh"] for r in series_values(rows)}


def county_energy(influx: InfluxClient) -> dict[str, float]:
    rows = influx.query(f'SELECT "energy_kwh", "county" FROM "{ROLLUP_RP}"."{schema.COUNTY_DAILY}"')
    out: dict[str, float] = defaultdict(float)
    for r in series_values(rows):
        out[r["county"]] += r["energy_kwh"]
    return dict(out)


def fleet_energy(influx: InfluxClient) -> float:
    rows = influx.query(f'SELECT "energy_kwh" FROM "{ROLLUP_RP}"."{schema.FLEET_DAILY}"')
    return sum(r["energy_kwh"] for r in series_values(rows))


def day_units(engine: Engine, day: dt.date) -> list[tables.WorkLease]:
    """The units of the day's rollups and totals."""
    with session_factory(engine)() as session:
        return list(
            session.scalars(
                select(tables.WorkLease)
                .where(tables.WorkLease.period == day.isoformat())
                .where(tables.WorkLease.job.in_(["daily", "daily-totals"]))
                .order_by(tables.WorkLease.job, tables.WorkLease.part)
            )
        )
