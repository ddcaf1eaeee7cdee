"""A world to test the API and the pages against: four days of one township's simulated
telemetry in a real influxd, computed by analytics, alerts from the engine, and a user of
every role."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from alerts.service import AlertService
from analytics import statements
from analytics.context import Analytics
from analytics.rollups import compute_day
from api.scope import Role
from api.state import ApiState
from api.users import DEMO_PASSWORD, demo_users
from launch.local.influxd import Influxd
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.findings import sync_findings
from pvmon.db.migrate import upgrade
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from pvmon.settings import Settings, load_settings
from tests.support.fleetwriter import FleetWriter, township_stations

TOWNSHIP = "T03"


@dataclass
class World:
    settings: Settings
    engine: Engine
    influx: InfluxClient
    registry: Registry
    ctx: ApiState
    stations: list[str]
    mine: str
    """A station of the demo maintainer."""
    others: str
    """A station of another maintainer, in another township."""


def build_world(tmp: Path, influxd: Influxd, registry: Registry, township: str = TOWNSHIP) -> World:
    engine = make_engine(f"sqlite:///{tmp / 'pvmon.db'}")
    upgrade(engine)
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    influx = InfluxClient(influxd.url, f"api_{uuid.uuid4().hex[:10]}")
    settings = load_settings(
        data_dir=tmp,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=str(engine.url),
    )
    provision(influx, raw_days=400, generation="1")
    stations = township_stations(registry, township)
    first = dt.date.today() - dt.timedelta(days=4)
    writer = FleetWriter(registry, stations, first)
    a = Analytics.open(settings, engine, influx)
    for n in range(4):
        writer.day(influx, first + dt.timedelta(days=n))
        compute_day(a, first + dt.timedelta(days=n), recompute=False)
    now = dt.datetime.now(dt.UTC)
    for year, month in sorted({(d.year, d.month) for d in writer.frames}):
        statements.statements(a, year, month, now)
        statements.statements(a, year, None, now)
    with session_factory(engine).begin() as session:
        demo = demo_users(session, now)
        maintainer = next(u for u in demo if u.role == Role.MAINTAINER).person_id
        crews = {s.station_id: s.person_id for s in registry.station_maintainers}
        mine = next(s for s, p in sorted(crews.items()) if p == maintainer)
        others = next(
            s
            for s, p in sorted(crews.items())
            if p != maintainer
            and not s.startswith("CS")
            and next(x for x in registry.stations if x.id == s).township_id != township
        )
        found = [
            Finding(FindingKind.COMM_LOSS, Subject.STATION, s, Severity.CRITICAL, now, {}, s)
            for s in (mine, others)
        ]
        sync_findings(session, found, set(), now)
    AlertService(settings, engine, influx).evaluate(now)
    ctx = ApiState(settings, engine, influx)
    return World(settings, engine, influx, registry, ctx, stations, mine, others)


def copy_world(template: World, tmp: Path) -> World:
    """``template`` with a private copy of its relational store and a fresh API state, for
    one test to change as it likes; the InfluxDB data is shared, and no test writes it."""
    source = template.engine.url.database
    assert source, "worlds keep their relational store in an SQLite file"
    copy = tmp / "world.db"
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    engine = make_engine(f"sqlite:///{copy}")
    settings = template.settings.model_copy(
        update={"data_dir": tmp, "database_url": f"sqlite:///{copy}"}
    )
    return replace(
        template, settings=settings, engine=engine, ctx=ApiState(settings, engine, template.influx)
    )


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """A signed-in user's cookie, as the dashboard gets it."""
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Cookie": f"pvmon_session={r.cookies['pvmon_session']}"}


def signed_in(app: TestClient, username: str, password: str = DEMO_PASSWORD) -> TestClient:
    """The client signed in through the login page (the cookie a browser keeps)."""
    app.cookies.clear()
    r = app.post(
        "/login",
        data={"username": username, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    app.cookies.set("pvmon_session", r.cookies["pvmon_session"])
    return app


class Worlds:
    """The worlds of a test session, one per township, each built the first time a module
    asks for it (they are read-only: every test works on a ``copy_world``)."""

    def __init__(self, tmp: pytest.TempPathFactory, influxd: Influxd, registry: Registry) -> None:
        self.tmp, self.influxd, self.registry = tmp, influxd, registry
        self.built: dict[str, World] = {}

    def of(self, township: str) -> World:
        if township not in self.built:
            folder = self.tmp.mktemp(f"world-{township}")
            self.built[township] = build_world(folder, self.influxd, self.registry, township)
        return self.built[township]

    def close(self) -> None:
        for w in self.built.values():
            w.influx.close()
            w.engine.dispose()


def world_fixtures(township: str = TOWNSHIP) -> tuple[Any, Any]:
    """A module's ``template`` (the session's world of ``township``, ``conftest.worlds``)
    and ``world`` (a copy per test) fixtures: ``template, world = world_fixtures()``."""

    @pytest.fixture(scope="module")
    def template(worlds: Worlds) -> World:
        return worlds.of(township)

    @pytest.fixture
    def world(template: World, tmp_path: Path) -> Iterator[World]:
        w = copy_world(template, tmp_path)
        yield w
        w.engine.dispose()

    return template, world
