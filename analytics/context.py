"""What every analytics job needs: settings, stores, and the registry as tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import cached_property
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics.frames import FleetFrames, fleet_frames
from analytics.influxstore import RollupStore, TelemetryReader, townships_condition
from analytics.targets import climate_table
from analytics.today import Today
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_county, load_registry
from pvmon.settings import Settings
from pvmon.stores import RegistryEmpty


@dataclass
class Analytics:
    settings: Settings
    tz: ZoneInfo
    sessions: sessionmaker[Session]
    influx: InfluxClient
    reader: TelemetryReader
    rollups: RollupStore
    registry: Registry
    climate: pd.Series
    carry: tuple[dt.date, pd.DataFrame] | None = None
    """The last readings of the day computed last, for the next day's first intervals."""
    today: Today | None = None
    """Today's energy so far, brought up to date by each frequent run."""
    county: str | None = None
    """The county this computes (``of_county``); None: the whole fleet."""

    @cached_property
    def frames(self) -> FleetFrames:
        """The registry as tables, made on first use (a worker process that only takes
        counties never makes its base's)."""
        return fleet_frames(self.registry)

    @classmethod
    def open(
        cls, settings: Settings, engine: Engine, influx: InfluxClient, whole: bool = True
    ) -> Analytics:
        """``whole=False``: without the registry — a worker process that takes counties
        reads each one's part as it takes it (``of_county``), never a province's whole."""
        sessions = session_factory(engine)
        registry = Registry()
        if whole:
            with sessions() as session:
                registry = load_registry(session)
            if not registry.stations:
                raise RegistryEmpty
        return cls(
            settings,
            ZoneInfo(settings.timezone),
            sessions,
            influx,
            TelemetryReader(influx),
            RollupStore(influx),
            registry,
            climate_table(settings.analytics.climate_table),
        )

    def of_county(self, county: str) -> Analytics:
        """The same stores and settings, for one county's part of the registry (read from
        the store as it stands, alone), its telemetry and its township-tagged rollups."""
        with self.sessions() as session:
            registry = load_county(session, county)
        scope = townships_condition([t.id for t in registry.townships])
        return replace(
            self,
            reader=TelemetryReader(self.influx, scope),
            rollups=RollupStore(self.influx, scope),
            registry=registry,
            carry=None,
            today=None,
            county=county,
        )

    def reload_registry(self) -> None:
        with self.sessions() as session:
            self.registry = load_registry(session)
        self.__dict__.pop("frames", None)
