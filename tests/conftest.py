"""Fixtures that start real services on free ports: Mosquitto, influxd, and databases.

Under ``CI=true`` a service a test needs must be there: the test fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import Engine

from alerts.routing import Directory
from ingest.service import IngestService
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.mosquitto import Mosquitto, MosquittoOptions
from launch.local.process import free_port
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import upgrade
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from pvmon.settings import Settings, load_settings
from simulators.demo_registry import GenerationOptions, generate_registry
from tests.support.ingest import RunningIngest
from tests.support.receivers import HttpReceiver
from tests.support.services import AS_OF, missing_service
from tests.support.world import Worlds

PG_ADMIN_URL = os.environ.get("PVMON_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's pvmon.toml or PVMON_* variables."""
    for name in list(os.environ):
        if name.startswith("PVMON_") and name != "PVMON_TEST_PG_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("PVMON_CONFIG", str(tmp_path / "absent.toml"))


# --- brokers and InfluxDB ----------------------------------------------------------------


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    started: list[Mosquitto] = []

    def start(**options: object) -> Mosquitto:
        directory = tmp_path / f"mosquitto-{len(started)}"
        broker = Mosquitto(MosquittoOptions(port=free_port(), directory=directory, **options))
        broker.start()
        started.append(broker)
        return broker

    yield start
    for broker in started:
        broker.stop()


@pytest.fixture
def broker(broker_factory: Callable[..., Mosquitto]) -> Mosquitto:
    return broker_factory()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    """One influxd for the session; each test gets a database of its own."""
    server = Influxd(
        InfluxdOptions(
            http_port=free_port(),
            rpc_port=free_port(),
            directory=tmp_path_factory.mktemp("influxd"),
        )
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def influxd_factory(tmp_path: Path) -> Iterator[Callable[[], Influxd]]:
    """influxd processes of a test's own, for tests that stop and restart them."""
    started: list[Influxd] = []

    def start() -> Influxd:
        server = Influxd(
            InfluxdOptions(
                http_port=free_port(),
                rpc_port=free_port(),
                directory=tmp_path / f"influxd-{len(started)}",
            )
        )
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def influx(influxd: Influxd) -> Iterator[InfluxClient]:
    client = InfluxClient(influxd.url, f"t_{uuid.uuid4().hex[:12]}")
    provision(client, raw_days=400, generation="1")
    yield client
    client.close()


# --- relational stores -------------------------------------------------------------------


def _postgres_database() -> Iterator[str]:
    name = f"pvmon_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        missing_service(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield "postgresql+psycopg" + url.removeprefix("postgresql")
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pvmon.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'pvmon.db'}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def default_registry() -> Registry:
    return generate_registry(GenerationOptions(seed=2021, as_of=AS_OF))


@pytest.fixture
def loaded_engine(engine: Engine, default_registry: Registry) -> Engine:
    with session_factory(engine).begin() as session:
        replace_registry(session, default_registry)
    return engine


@pytest.fixture(scope="session")
def worlds(
    tmp_path_factory: pytest.TempPathFactory, influxd: Influxd, default_registry: Registry
) -> Iterator[Worlds]:
    """The session's API worlds (``tests.support.world``), one per township."""
    built = Worlds(tmp_path_factory, influxd, default_registry)
    yield built
    built.close()


# --- a browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        missing_service("chromium and chromedriver (Debian: chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary  # type: ignore[assignment]
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,1400")
    b = webdriver.Chrome(service=Service(driver), options=options)
    yield b
    b.quit()


# --- alert receivers -----------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """A real HTTP server standing in for the robots, webhooks and the SMS gateway."""
    r = HttpReceiver()
    yield r
    r.close()


@pytest.fixture
def directory(default_registry: Registry) -> Directory:
    return Directory.build(default_registry, AS_OF, load_settings().registry.required_cert)


# --- a running ingest worker -------------------------------------------------------------


@pytest.fixture
def start_ingest() -> Iterator[Callable[[Settings, Engine, InfluxClient], RunningIngest]]:
    running: list[RunningIngest] = []

    def start(settings: Settings, engine: Engine, influx: InfluxClient) -> RunningIngest:
        assert settings.mqtt is not None
        worker = RunningIngest(IngestService(settings, engine, influx, settings.mqtt))
        running.append(worker)
        return worker

    yield start
    for worker in running:
        worker.stop()
