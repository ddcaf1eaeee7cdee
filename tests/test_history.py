"""The demo's history: hourly readings written straight into InfluxDB, counters continued."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from analytics.context import Analytics
from analytics.rollups import compute_day
from launch.cli import app
from launch.local.mosquitto import Mosquitto
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.registry.store import load_registry
from pvmon.settings import load_settings
from pvmon.telemetry import OperatingState
from simulators.fleet_arrays import build_fleet
from simulators.main import run_backfill, run_simulation
from simulators.model import FleetModel
from simulators.sky import SkyModel
from tests.support.counts import stored_count
from tests.support.ingest import RunningIngest, make_settings
from tests.support.waiting import wait_for

TZ = ZoneInfo("Asia/Shanghai")
STATIONS = ["VS001", "HH0001"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_backfill_writes_hourly_history_that_analytics_turns_into_energy(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=loaded_engine.url.render_as_string(hide_password=False),
    )
    first = dt.date.today() - dt.timedelta(days=3)
    until = dt.datetime.combine(first + dt.timedelta(days=2), dt.time(12), TZ).timestamp()
    points, _ = run_backfill(settings, first=first, until=until, stations=STATIONS)

    rows = series_values(
        influx.query(
            'SELECT * FROM "telemetry" WHERE "station" = \'VS001\' OR "station" = \'HH0001\''
        )
    )
    assert len(rows) == points > 0
    assert {k for r in rows for k in r} == {
        "time",
        "W",
        "WH",
        "St",
        "device",
        "kind",
        "station",
        "township",
    }
    assert max(r["time"] for r in rows) < until
    hours = {dt.datetime.fromtimestamp(r["time"], TZ).hour for r in rows}
    assert hours <= set(range(5, 21)), "the sun is down at night: nothing is sent"
    by_device: dict[str, list] = {}
    for r in sorted(rows, key=lambda r: r["time"]):
        by_device.setdefault(r["device"], []).append(r["WH"])
    assert all(wh == sorted(wh) for wh in by_device.values()), "counters only rise"

    state = json.loads((tmp_path / "simulator" / "state.json").read_text())
    assert set(by_device) <= set(state["devices"])
    assert all(t <= until for t, _ in state["devices"].values()), "the state is the handover"

    a = Analytics.open(settings, loaded_engine, influx)
    day = compute_day(a, first + dt.timedelta(days=1), recompute=False)
    assert day.stations.loc["VS001", "energy_kwh"] > 0
    assert day.stations.loc["VS001", "availability"] == pytest.approx(1.0)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("later_s", [0, 12 * 60 + 31], ids=["at the hour", "minutes later"])
def test_the_live_simulation_takes_over_from_the_history_without_a_jump(
    later_s: int,
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    """History up to 12:00 yesterday, then the live loggers from there (or from a few
    minutes later, as when ``pvmon up`` starts them after a long backfill): the handover
    day's counters rise only by what the inverters made (no jump or reset flagged)."""
    settings = make_settings(
        tmp_path, broker, influx, loaded_engine.url.render_as_string(hide_password=False)
    )
    day = dt.date.today() - dt.timedelta(days=1)
    handover = dt.datetime.combine(day, dt.time(12, 0), TZ)
    run_backfill(settings, first=day, until=handover.timestamp(), stations=STATIONS)
    start_ingest(settings, loaded_engine, influx)
    live = handover + dt.timedelta(seconds=later_s)
    report = run_simulation(
        settings, start=live.isoformat(), speed=120, duration="30m", stations=STATIONS
    )
    wait_for(lambda: stored_count(influx) >= report.confirmed["telemetry"], timeout=60)
    a = Analytics.open(settings, loaded_engine, influx)
    result = compute_day(a, day, recompute=False)
    devices = series_values(
        influx.query(
            f'SELECT "jumps", "resets", "device" FROM "{ROLLUP_RP}"."{schema.DEVICE_DAILY}"'
            f" WHERE \"station\" = 'VS001' OR \"station\" = 'HH0001'"
        )
    )
    assert len(devices) >= 2
    assert [
        (d["device"], d["jumps"], d["resets"]) for d in devices if d["jumps"] or d["resets"]
    ] == []
    assert result.stations.loc["VS001", "energy_kwh"] > 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_history_written_after_a_live_run_hangs_from_its_first_readings(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    """``pvmon up`` first, ``pvmon up --history`` later on the same data: the history ends
    where the live readings begin and its counters lead into theirs (no jump, no reset)."""
    settings = make_settings(
        tmp_path, broker, influx, loaded_engine.url.render_as_string(hide_password=False)
    )
    day = dt.date.today() - dt.timedelta(days=1)
    live = dt.datetime.combine(day, dt.time(12, 11, 7), TZ)
    start_ingest(settings, loaded_engine, influx)
    report = run_simulation(
        settings, start=live.isoformat(), speed=120, duration="20m", stations=STATIONS
    )
    wait_for(lambda: stored_count(influx) >= report.confirmed["telemetry"], timeout=60)
    later = live + dt.timedelta(hours=3)  # the second start's own idea of where to hand over
    run_backfill(settings, first=day, until=later.timestamp(), stations=STATIONS)
    rows = series_values(influx.query('SELECT "WH", "device" FROM "telemetry"'))
    by_device: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        by_device.setdefault(r["device"], []).append((r["time"], r["WH"]))
    for series in by_device.values():
        counters = [wh for _, wh in sorted(series)]
        assert counters == sorted(counters), "counters only rise, history into live"
    assert min(t for series in by_device.values() for t, _ in series) < live.timestamp() - 3600
    a = Analytics.open(settings, loaded_engine, influx)
    compute_day(a, day, recompute=False)
    devices = series_values(
        influx.query(f'SELECT "jumps", "resets" FROM "{ROLLUP_RP}"."{schema.DEVICE_DAILY}"')
    )
    assert sum(d["jumps"] + d["resets"] for d in devices) == 0


REPLAY = """
[[faults]]
kind = "fault"
stations = ["VS001"]
start = "+34h"
duration = "2h"

[[faults]]
kind = "shading"
stations = ["HH0001"]
hours = "00:00-10:30"
factor = 0.5
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_scenario_replayed_through_the_past_sends_every_reading_with_its_faults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, influx: InfluxClient, loaded_engine: Engine
) -> None:
    """``pvmon backfill --scenario``: what the loggers would have sent, reading by reading
    with all its fields, the inverter trip and the morning shade in it; the simulator's
    state left where the replay ends; a second replay over stored readings refused."""
    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=loaded_engine.url.render_as_string(hide_password=False),
    )
    for name, value in (
        ("PVMON_DATA_DIR", tmp_path),
        ("PVMON_INFLUX_URL", influx.url),
        ("PVMON_INFLUX_DB", influx.database),
        ("PVMON_DATABASE_URL", settings.database_url),
    ):
        monkeypatch.setenv(name, str(value))
    scenario = tmp_path / "replay.toml"
    scenario.write_text(REPLAY)
    first = dt.date.today() - dt.timedelta(days=4)
    until = dt.datetime.combine(first + dt.timedelta(days=2), dt.time(0), TZ)
    command = ["backfill", "--scenario", str(scenario), "--from", str(first)]
    command += ["--until", until.isoformat(), "--stations", ",".join(STATIONS)]
    done = CliRunner().invoke(app, command)
    assert done.exit_code == 0, done.output
    assert f"history: {first} stored" in done.output

    rows = series_values(influx.query('SELECT * FROM "telemetry"'))
    assert {k for r in rows for k in r} >= {"W", "WH", "DCV", "DCA", "Hz", "TmpCab", "St", "Evt1"}
    assert max(r["time"] for r in rows) < until.timestamp()
    steps = {
        key: {b - a for a, b in itertools.pairwise(ts)}
        for key, ts in _times_by_device(rows).items()
    }
    assert {min(s) for (station, _), s in steps.items() if station == "VS001"} == {60}
    assert {min(s) for (station, _), s in steps.items() if station == "HH0001"} == {300}
    trip = dt.datetime.combine(first + dt.timedelta(days=1), dt.time(10), TZ).timestamp()
    tripped = {r["St"] for r in rows if r["station"] == "VS001" and trip <= r["time"] < trip + 7200}
    assert tripped == {int(OperatingState.FAULT)}
    assert all(r["St"] != OperatingState.FAULT for r in rows if not trip <= r["time"] < trip + 7200)

    with session_factory(loaded_engine)() as session:
        registry = load_registry(session)
    seed = settings.simulator.seed
    fleet = build_fleet(registry, seed, settings.telemetry_interval_s, ["HH0001"])
    model = FleetModel(fleet, SkyModel(fleet.townships, TZ, seed))
    shaded = [r for r in rows if r["station"] == "HH0001" and r["W"] > 100]
    ts = np.array([r["time"] for r in shaded])
    healthy = model.conditions(np.zeros(ts.size, dtype=int), ts, np.ones(ts.size)).output.p_ac
    ratio = np.array([r["W"] for r in shaded]) / healthy
    morning = np.array([dt.datetime.fromtimestamp(t, TZ).time() < dt.time(10, 30) for t in ts])
    assert morning.any()
    assert (~morning).any()
    np.testing.assert_allclose(ratio[morning], 0.5, atol=0.01)
    np.testing.assert_allclose(ratio[~morning], 1.0, atol=0.01)

    state = json.loads((tmp_path / "simulator" / "state.json").read_text())
    last = {}
    for r in sorted(rows, key=lambda r: r["time"]):
        last[r["device"]] = r["WH"]
    for device, wh in last.items():
        moment, counter = state["devices"][device]
        assert moment < until.timestamp()
        assert 0 <= counter - wh < 1000, "the live run continues from the last reading"

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 1
    assert "telemetry is already stored from" in again.output
    assert len(series_values(influx.query('SELECT "W" FROM "telemetry"'))) == len(rows)


def _times_by_device(rows: list[dict]) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for r in sorted(rows, key=lambda r: r["time"]):
        out.setdefault((r["station"], r["device"]), []).append(r["time"])
    return out
