"""Open the stores a process needs, from the settings (I/O at the edge)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine

from pvmon.db.engine import make_engine
from pvmon.db.migrate import upgrade
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.settings import Settings


class NotReady(ValueError):
    """What a command needs is not there yet; the message says what to do."""


class StoreNotConfigured(NotReady):
    """A store the command needs is not configured; the message says what to set."""


class RegistryEmpty(NotReady):
    def __init__(self) -> None:
        super().__init__(
            "the registry is empty: `pvmon registry generate` (or `pvmon registry import`)"
        )


def open_database(settings: Settings, connections: int | None = None) -> Engine:
    """The relational store, migrated to the current schema; ``connections``: how many the
    pool may hold at once (SQLAlchemy's default, 5 + 10 overflow, when None)."""
    pool = {} if connections is None else {"pool_size": connections, "max_overflow": 0}
    engine = make_engine(settings.sqlalchemy_url, **pool)
    upgrade(engine)
    return engine


def open_influx(settings: Settings, url: str | None = None) -> InfluxClient:
    target = url or settings.influx_url
    if target is None:
        raise StoreNotConfigured(
            f"no InfluxDB: set PVMON_INFLUX_URL, or run `pvmon up` for this data directory "
            f"({settings.data_dir})"
        )
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


@dataclass(frozen=True)
class Stores:
    engine: Engine
    influx: InfluxClient | None
    """None when the process may run without InfluxDB and none is configured."""


@contextmanager
def opened_stores(
    settings: Settings,
    *,
    influx: Literal["required", "optional"] = "required",
    provisioned: bool = False,
) -> Iterator[Stores]:
    """The relational store and InfluxDB for one command or process, closed afterwards;
    ``provisioned`` also creates the database and retention policies when missing."""
    engine = open_database(settings)
    client = open_influx(settings) if influx == "required" or settings.influx_url else None
    try:
        if client is not None and provisioned:
            provision_influx(client, settings)
        yield Stores(engine, client)
    finally:
        if client is not None:
            client.close()
        engine.dispose()
