"""The demo's history: hourly readings written straight into InfluxDB, counters continued."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from analytics.context import Analytics
from analytics.rollups import compute_day
from launch.local.mosquitto import Mosquitto
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.settings import load_settings
from simulators.main import run_backfill, run_simulation
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
