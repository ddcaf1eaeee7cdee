"""``pvmon simulate``: the fleet's data loggers, from the registry, over MQTT."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections.abc import Callable, Collection
from pathlib import Path
from zoneinfo import ZoneInfo

from pvmon.brokerauth import read_credentials
from pvmon.db.engine import session_factory
from pvmon.localtime import day_start
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry, registry_is_empty
from pvmon.settings import Settings
from pvmon.stores import open_database
from simulators.clock import demo_start
from simulators.fleet_arrays import SimFleet, build_fleet
from simulators.report import Report
from simulators.runner import SimOptions, Simulation
from simulators.scenario import Scenario, parse_duration


def resolve_start(text: str, fleet_centre: tuple[float, float]) -> float:
    """``auto`` (now, or a replay of the latest daylight hours), ``now``, or RFC 3339."""
    now = time.time()
    if text == "auto":
        return demo_start(now, *fleet_centre)
    if text == "now":
        return now
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"--start needs a UTC offset, e.g. 2026-06-01T08:00:00+08:00: {text!r}")
    return moment.timestamp()


def run_simulation(
    settings: Settings,
    *,
    start: str = "auto",
    speed: float | None = None,
    duration: str | None = None,
    scenario: Path | None = None,
    stations: Collection[str] | None = None,
    report: Path | None = None,
    publish_log: Path | None = None,
    keep_state: bool = True,
) -> Report:
    endpoint = settings.mqtt
    if endpoint is None:
        raise ValueError("no broker configured: set PVMON_MQTT_URL (pvmon up starts one)")
    registry = _registry(settings)
    seed = settings.simulator.seed
    fleet = build_fleet(registry, seed, settings.telemetry_interval_s, stations)
    options = SimOptions(
        mqtt=endpoint,
        start=resolve_start(start, _centre(fleet)),
        speed=speed or settings.simulator.speed,
        seed=seed,
        duration_s=parse_duration(duration) if duration else None,
        scenario=Scenario.load(scenario) if scenario else None,
        late_window_s=settings.ingest.late_window_days * 86400,
        tz=ZoneInfo(settings.timezone),
        state_path=settings.data_dir / "simulator" / "state.json" if keep_state else None,
        report_path=report,
        publish_log_path=publish_log,
        passwords=read_credentials(settings.simulator.credentials)
        if settings.simulator.credentials
        else {},
    )
    return asyncio.run(_run(Simulation(fleet, options)))


def _registry(settings: Settings) -> Registry:
    engine = open_database(settings)
    try:
        with session_factory(engine)() as session:
            if registry_is_empty(session):
                raise ValueError("the registry is empty: run 'pvmon registry generate' first")
            return load_registry(session)
    finally:
        engine.dispose()


def _centre(fleet: SimFleet) -> tuple[float, float]:
    return (
        float(sum(t.lat for t in fleet.townships) / len(fleet.townships)),
        float(sum(t.lon for t in fleet.townships) / len(fleet.townships)),
    )


async def _run(simulation: Simulation) -> Report:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await simulation.run(stop)


HISTORY_ENERGY_STEP_S = 900
"""Hourly history integrates output in 15-minute steps: the daily energy is what matters."""


def run_backfill(
    settings: Settings,
    *,
    first: dt.date,
    until: float | None = None,
    stations: Collection[str] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[int, float]:
    """Write hourly history from local midnight of ``first`` up to ``until`` (default: where
    the default demo starts) straight into InfluxDB; the live simulation continues the
    counters from there. Returns (points written, seconds)."""
    from rich.progress import Progress

    from pvmon.stores import open_influx, provision_influx
    from simulators.history import backfill
    from simulators.model import FleetModel
    from simulators.readings import ReadingGenerator
    from simulators.sky import SkyModel
    from simulators.state import initial_counters, load_state, save_state

    tz = ZoneInfo(settings.timezone)
    registry = _registry(settings)
    seed = settings.simulator.seed
    fleet = build_fleet(registry, seed, settings.telemetry_interval_s, stations)
    start = day_start(first, tz)
    end = int(until if until is not None else resolve_start("auto", _centre(fleet)))
    end -= (end - start) % 3600
    model = FleetModel(fleet, SkyModel(fleet.townships, tz, seed))
    state_path = settings.data_dir / "simulator" / "state.json"
    counters = initial_counters(fleet, model, load_state(state_path, seed), start)
    generator = ReadingGenerator(
        fleet, model, [], counters, start, energy_step_s=HISTORY_ENERGY_STEP_S
    )
    began = time.monotonic()
    with open_influx(settings) as influx, Progress() as progress:
        provision_influx(influx, settings)
        task = progress.add_task("history (hourly readings)", total=(end - start) // 3600)
        points = backfill(
            generator, influx, start, end, progress=lambda n: progress.advance(task, n), stop=stop
        )
    save_state(state_path, seed, fleet, generator.counters, generator.counted_until)
    return points, time.monotonic() - began
