"""``pvmon simulate``: the fleet's data loggers, from the registry, over MQTT."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections.abc import Collection
from pathlib import Path
from zoneinfo import ZoneInfo

from pvmon.db.engine import session_factory
from pvmon.registry.store import load_registry, registry_is_empty
from pvmon.runtime import open_database
from pvmon.settings import Settings
from simulators.clock import demo_start
from simulators.fleet import build_fleet
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
    engine = open_database(settings)
    with session_factory(engine)() as session:
        if registry_is_empty(session):
            raise ValueError("the registry is empty: run 'pvmon registry generate' first")
        registry = load_registry(session)
    engine.dispose()
    seed = settings.simulator.seed
    fleet = build_fleet(registry, seed, settings.telemetry_interval_s, stations)
    centre = (
        float(sum(t.lat for t in fleet.townships) / len(fleet.townships)),
        float(sum(t.lon for t in fleet.townships) / len(fleet.townships)),
    )
    options = SimOptions(
        mqtt=endpoint,
        start=resolve_start(start, centre),
        speed=speed or settings.simulator.speed,
        seed=seed,
        duration_s=parse_duration(duration) if duration else None,
        scenario=Scenario.load(scenario) if scenario else None,
        late_window_s=settings.ingest.late_window_days * 86400,
        tz=ZoneInfo(settings.timezone),
        state_path=settings.data_dir / "simulator" / "state.json" if keep_state else None,
        report_path=report,
        publish_log_path=publish_log,
    )
    return asyncio.run(_run(Simulation(fleet, options)))


async def _run(simulation: Simulation) -> Report:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return await simulation.run(stop)
