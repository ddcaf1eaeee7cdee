"""``pvmon simulate``: the fleet's data loggers, from the registry, over MQTT."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import time
from collections.abc import Callable, Collection
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from pvmon.brokerauth import read_credentials
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.localtime import day_start, local_day, moment_of
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry, registry_is_empty
from pvmon.settings import Settings
from pvmon.stores import open_database
from simulators.clock import demo_start
from simulators.fleet_arrays import SimFleet, build_fleet
from simulators.history import Anchors
from simulators.model import FleetModel
from simulators.report import Report
from simulators.runner import SimOptions, Simulation
from simulators.scenario import Scenario, parse_duration
from simulators.state import initial_counters, load_state, save_state


def resolve_start(text: str, fleet_centre: tuple[float, float]) -> float:
    """``auto`` (now, or a replay of the latest daylight hours), ``now``, or RFC 3339."""
    now = time.time()
    if text == "auto":
        return demo_start(now, *fleet_centre)
    if text == "now":
        return now
    return moment_of(text).timestamp()


def live_start(settings: Settings, text: str = "auto") -> float:
    """Where the live fleet starts (``resolve_start`` at the registry's centre)."""
    return resolve_start(
        text, _centre(build_fleet(_registry(settings), 0, settings.telemetry_interval_s))
    )


def resolve_until(text: str) -> float | None:
    """``auto`` (None: where the default demo starts, decided by the backfill) or RFC 3339."""
    return None if text == "auto" else resolve_start(text, (0.0, 0.0))


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


def history_anchors(
    settings: Settings, influx: InfluxClient, fleet: SimFleet, model: FleetModel, until: float
) -> Anchors:
    """Where each device's history hangs from: its first reading stored this year (the live
    data came first, or an earlier backfill got this far back), else the counter the live
    simulation continues from at ``until`` — saved as the simulator's state, so the live run
    takes over from exactly there."""
    tz = ZoneInfo(settings.timezone)
    year = local_day(until, tz).year
    stored = series_values(
        influx.query(
            f'SELECT FIRST("WH") AS "WH" FROM "{schema.TELEMETRY}" WHERE time >= '
            f'{day_start(dt.date(year, 1, 1), tz)}s GROUP BY "device"'
        )
    )
    first_seen = {r["device"]: (int(r["time"]), float(r["WH"])) for r in stored}
    state_path = settings.data_dir / "simulator" / "state.json"
    saved = load_state(state_path, settings.simulator.seed)
    moment = int(until)
    counters = initial_counters(fleet, model, saved, moment)
    ends = np.full(fleet.size, moment, dtype=np.int64)
    kept = counters.copy()
    kept_at = ends.copy()
    for i, device in enumerate(fleet.device_ids):
        if device in first_seen and first_seen[device][0] <= moment:
            ends[i], counters[i] = first_seen[device]
            kept_at[i], kept[i] = saved.get(device, first_seen[device])
    save_state(state_path, settings.simulator.seed, fleet, kept, kept_at)
    return Anchors(ends, counters)


def run_backfill(
    settings: Settings,
    *,
    first: dt.date,
    until: float | None = None,
    stations: Collection[str] | None = None,
    stop: Callable[[], bool] = lambda: False,
    on_day: Callable[[dt.date, int], None] | None = None,
) -> tuple[int, float]:
    """Write hourly history from ``first`` up to ``until`` (default: where the default demo
    starts), newest day first, straight into InfluxDB; the live simulation continues the
    counters from there (``history_anchors``). ``on_day(day, points)`` as each day is
    stored. Returns (points written, seconds)."""
    from pvmon.stores import open_influx, provision_influx
    from simulators.history import backfill
    from simulators.sky import SkyModel

    tz = ZoneInfo(settings.timezone)
    registry = _registry(settings)
    seed = settings.simulator.seed
    fleet = build_fleet(registry, seed, settings.telemetry_interval_s, stations)
    end = until if until is not None else resolve_start("auto", _centre(fleet))
    model = FleetModel(fleet, SkyModel(fleet.townships, tz, seed))
    began = time.monotonic()
    with open_influx(settings) as influx:
        provision_influx(influx, settings)
        anchors = history_anchors(settings, influx, fleet, model, end)
        points = backfill(model, influx, first, anchors, tz, on_day=on_day, stop=stop)
    return points, time.monotonic() - began


def run_replay(
    settings: Settings,
    scenario: Path,
    *,
    first: dt.date,
    until: float | None = None,
    stations: Collection[str] | None = None,
    stop: Callable[[], bool] = lambda: False,
    on_day: Callable[[dt.date, int], None] | None = None,
) -> tuple[int, float]:
    """Play ``scenario`` through the past: every reading from ``first`` up to ``until``
    (default: where the default demo starts) with the scenario's faults (their relative
    times count from ``first``'s midnight), oldest day first; the simulator's state is left
    where the replay ends, so the live run continues its counters. Refused when telemetry
    is already stored from ``first`` on: faults cannot be laid under readings already sent.
    Returns (points written, seconds)."""
    from pvmon.stores import open_influx, provision_influx
    from simulators.history import replay
    from simulators.readings import ReadingGenerator
    from simulators.scenario import resolve_faults
    from simulators.sky import SkyModel

    tz = ZoneInfo(settings.timezone)
    plan = Scenario.load(scenario)
    seed = settings.simulator.seed
    fleet = build_fleet(_registry(settings), seed, settings.telemetry_interval_s, stations)
    start = day_start(first, tz)
    end = int(until if until is not None else resolve_start("auto", _centre(fleet)))
    if end <= start:
        raise ValueError(f"the replay would end ({_local(end, tz)}) before it begins ({first})")
    model = FleetModel(fleet, SkyModel(fleet.townships, tz, seed))
    faults = resolve_faults(plan, fleet, start, seed, tz)
    state_path = settings.data_dir / "simulator" / "state.json"
    began = time.monotonic()
    with open_influx(settings) as influx:
        provision_influx(influx, settings)
        _refuse_stored(influx, start, tz)
        counters = initial_counters(fleet, model, load_state(state_path, seed), start)
        generator = ReadingGenerator(fleet, model, faults, counters, start)
        points = replay(generator, influx, first, end, tz, on_day=on_day, stop=stop)
    save_state(state_path, seed, fleet, generator.counters, generator.counted_until)
    return points, time.monotonic() - began


def _refuse_stored(influx: InfluxClient, start: int, tz: ZoneInfo) -> None:
    stored = series_values(
        influx.query(f'SELECT FIRST("W") AS "W" FROM "{schema.TELEMETRY}" WHERE time >= {start}s')
    )
    if stored:
        raise ValueError(
            f"telemetry is already stored from {_local(int(stored[0]['time']), tz)}: a scenario "
            "is replayed into a span with no readings yet (a new data directory, or --from later)"
        )


def _local(ts: int, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).isoformat(timespec="minutes")
