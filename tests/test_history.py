"""The demo's history: hourly readings written straight into InfluxDB, counters continued."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from analytics.context import Analytics
from analytics.rollups import compute_day
from pvmon.influx.client import InfluxClient, series_values
from pvmon.settings import load_settings
from simulators.main import run_backfill

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
    assert all(t < until for t, _ in state["devices"].values())

    a = Analytics.open(settings, loaded_engine, influx)
    day = compute_day(a, first + dt.timedelta(days=1), recompute=False)
    assert day.stations.loc["VS001", "energy_kwh"] > 0
    assert day.stations.loc["VS001", "availability"] == pytest.approx(1.0)
