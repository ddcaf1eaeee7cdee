"""Open the stores a process needs, from the settings (I/O at the edge)."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import Engine

from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import upgrade
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.registry.generate import GenerationOptions, generate_registry
from pvmon.registry.store import registry_is_empty, replace_registry
from pvmon.settings import Settings

log = structlog.get_logger(__name__)


def open_database(settings: Settings) -> Engine:
    """The relational store, migrated to the current schema."""
    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    return engine


def ensure_registry(engine: Engine, settings: Settings, as_of: dt.date | None = None) -> bool:
    """Load the generated default registry if the store has none; True if it did."""
    sessions = session_factory(engine)
    with sessions() as session:
        if not registry_is_empty(session):
            return False
    registry = generate_registry(
        GenerationOptions(
            seed=settings.registry.seed, as_of=as_of, central_kwp=settings.registry.central_kwp
        )
    )
    with sessions.begin() as session:
        replace_registry(session, registry)
    log.info(
        "registry_generated",
        stations=len(registry.stations),
        inverters=len(registry.inverters),
        seed=settings.registry.seed,
    )
    return True


def open_influx(settings: Settings, url: str | None = None) -> InfluxClient:
    target = url or settings.influx_url
    if target is None:
        raise ValueError("no InfluxDB configured: set PVMON_INFLUX_URL (pvmon up starts one)")
    return InfluxClient(
        target,
        settings.influx_db,
        token=settings.influx_token,
        timeout=settings.ingest.write_timeout_s,
        bearer=settings.influx_generation == "3",
    )


def provision_influx(client: InfluxClient, settings: Settings) -> str:
    return provision(
        client,
        raw_days=settings.raw_retention_days,
        generation=settings.influx_generation,
        token=settings.influx_token,
        org=settings.influx_org,
    )
