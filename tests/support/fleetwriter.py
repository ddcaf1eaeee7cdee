"""Simulated telemetry of some stations, written day by day into a real influxd."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from analytics.context import Analytics
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.domain import StationKind
from pvmon.influx.client import InfluxClient
from pvmon.localtime import day_bounds
from pvmon.registry.schema import Registry
from pvmon.settings import Settings, load_settings
from simulators.fleet_arrays import SimFleet, build_fleet
from simulators.history import batch_lines, device_prefixes, write_lines
from simulators.model import FleetModel
from simulators.readings import ReadingGenerator
from simulators.scenario import Scenario, resolve_faults
from simulators.sky import SkyModel
from simulators.state import initial_counters

TZ = ZoneInfo("Asia/Shanghai")
INTERVALS = {StationKind.VILLAGE: 60, StationKind.HOUSEHOLD: 300, StationKind.CENTRAL: 60}
"""The telemetry intervals of the fleet's loggers [s]."""


def township_stations(registry: Registry, township: str = "T03") -> list[str]:
    return [s.id for s in registry.stations if s.township_id == township]


class FleetWriter:
    """Simulated telemetry of some stations written day by day into the store."""

    def __init__(
        self,
        registry: Registry,
        stations: list[str],
        first: dt.date,
        faults: list[dict] | None = None,
    ) -> None:
        self.fleet: SimFleet = build_fleet(registry, 5, INTERVALS, stations)
        model = FleetModel(self.fleet, SkyModel(self.fleet.townships, TZ, 5))
        start, _ = day_bounds(first, TZ)
        active = resolve_faults(
            Scenario.model_validate({"faults": faults or []}), self.fleet, start, 5, TZ
        )
        self.generator = ReadingGenerator(
            self.fleet, model, active, initial_counters(self.fleet, model, {}, start), start
        )
        self.prefixes = device_prefixes(self.fleet)
        self.frames: dict[dt.date, pd.DataFrame] = {}

    def day(self, influx: InfluxClient, day: dt.date) -> int:
        _, end = day_bounds(day, TZ)
        batch = self.generator.span(end - 1)
        rows = batch.rows()
        self.frames[day] = pd.DataFrame(
            {
                "device": np.asarray(self.fleet.device_ids)[batch.idx[rows]],
                "ts": batch.ts[rows],
                "WH": batch.fields["WH"][rows],
            }
        )
        return write_lines(influx, batch_lines(self.fleet, self.prefixes, batch))

    def made_kwh(self, station: str, day: dt.date, healthy: bool = False) -> float:
        """What the station's inverters made on ``day`` — the simulator's truth, with the
        scenario's faults (or as if there were none)."""
        fleet, generator = self.fleet, self.generator
        idx = np.array(fleet.stations[fleet.station_index()[station]].devices)
        lo, hi = day_bounds(day, TZ)
        factor = None if healthy else (lambda i, t: generator.fault_state(i, t).factor)
        return float(generator.model.energy_wh(idx, lo, hi, factor=factor).sum()) / 1000

    def lost_kwh(self, station: str, first: dt.date, last: dt.date) -> float:
        """What the station's faults cost from ``first`` to ``last``, day by day (the model
        integrates spans of a few days exactly)."""
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        return sum(self.made_kwh(station, d, True) - self.made_kwh(station, d) for d in days)


def settings_for(tmp_path: Path, influx: InfluxClient, engine: Engine, **extra: object) -> Settings:
    return load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=engine.url.render_as_string(hide_password=False),
        **extra,
    )


def silent_station_day(
    registry: Registry, influx: InfluxClient, engine: Engine, day: dt.date
) -> tuple[list[str], str]:
    """A day of twelve stations of one township in which the first falls silent from 11:00
    to 13:00 (a lost link: its logger stays connected); returns the stations and the
    silent one."""
    subset = township_stations(registry)[:12]
    quiet = subset[0]
    writer = FleetWriter(
        registry,
        subset,
        day,
        faults=[{"kind": "comm_loss", "stations": [quiet], "start": "+11h", "duration": "2h"}],
    )
    writer.day(influx, day)
    loggers_connected(engine, subset, dt.datetime.combine(day, dt.time(0), TZ))
    return subset, quiet


def loggers_connected(
    engine: Engine, stations: list[str], since: dt.datetime, days: float = 3
) -> None:
    """The stations' loggers said 'online' at ``since`` and have held it, and an ingest
    worker has been receiving since then, for ``days`` (what ingest records from their
    status messages and its own heartbeat)."""
    with session_factory(engine).begin() as session:
        for station in stations:
            session.merge(
                tables.LoggerStatus(station_id=station, online=True, since=since, updated_at=since)
            )
        session.merge(
            tables.IngestWorker(
                worker_id="ingest-1",
                host="test",
                pid=1,
                started_at=since,
                heartbeat_at=since + dt.timedelta(days=days),
                counters={},
            )
        )


def only_stations(a: Analytics, subset: list[str]) -> None:
    """Narrow an analytics context's fleet to ``subset`` (the rest have no telemetry)."""
    f = a.frames
    a.frames = replace(
        f,
        stations=f.stations.loc[subset],
        devices=f.devices[f.devices["station_id"].isin(subset)],
    )


def devices_heard(engine: Engine, frame: pd.DataFrame, stations: dict[str, str]) -> None:
    """What ingest records of each device as its readings arrive: the newest reading
    (``frame``: device, ts — a day from ``FleetWriter.frames``; ``stations``: device →
    station)."""
    last = frame.groupby("device")["ts"].max()
    with session_factory(engine).begin() as session:
        for device, ts in last.items():
            at = dt.datetime.fromtimestamp(int(ts), dt.UTC)
            session.merge(
                tables.DeviceStatus(
                    device_id=device,
                    station_id=stations[device],
                    last_ts=at,
                    last_received_at=at,
                )
            )


def narrowed(registry: Registry, stations: list[str]) -> Registry:
    """The registry of only ``stations`` (with every village, person and certificate), for
    a world in which nothing else is expected to report."""
    keep = set(stations)
    return replace(
        registry,
        stations=[s for s in registry.stations if s.id in keep],
        station_shares=[r for r in registry.station_shares if r.station_id in keep],
        inverters=[r for r in registry.inverters if r.station_id in keep],
        device_addresses=[],
        station_maintainers=[r for r in registry.station_maintainers if r.station_id in keep],
        tariffs=[r for r in registry.tariffs if r.station_id in keep],
        station_costs=[r for r in registry.station_costs if r.station_id in keep],
    )
