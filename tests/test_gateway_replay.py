"""Real measured data end to end: NREL's SERF East AC power (15-minute and 1-minute
series from pvanalytics) served by a SunSpec Modbus TCP server, polled by the gateway,
through Mosquitto, ingest and influxd to ``station_daily`` — each day's energy against the
trapezoid of the series. Two variants: the server keeps its own ``WH`` counter from the
real power (polling, scale factors, rounding, buffering), or serves ``W`` only (the
project's integration of power)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from analytics.context import Analytics
from analytics.rollups import compute_day
from gateway.sunspec import SunSpecDevice
from launch.local.mosquitto import Mosquitto
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_bounds
from pvmon.registry.schema import Registry
from tests.support.gateway import station_gateway
from tests.support.ingest import RunningIngest, make_settings
from tests.support.modbus import modbus_server
from tests.support.replay import Sample, daily_kwh, moved, nrel_power, produced_wh
from tests.support.sunspec import acc32, encode_point, inverter_map, point_address, register_map
from tests.support.waiting import wait_for

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
STATION = "HH0001"
"""A household with one 5 kW inverter: SERF East peaks at 5.4 kW."""
COUNTER_START_WH = 5_000_000


@pytest.mark.parametrize(
    ("series", "days", "counter", "aim"),
    [
        ("serf_east_15min_ac_power.csv", 12, True, 0.005),
        ("serf_east_15min_ac_power.csv", 12, False, 0.02),
        ("serf_east_1min_ac_power.csv", 2, True, 0.005),
        ("serf_east_1min_ac_power.csv", 2, False, 0.02),
    ],
    ids=["15min-counter", "15min-power", "1min-counter", "1min-power"],
)
def test_real_measured_power_through_the_gateway_gives_each_days_energy(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
    series: str,
    days: int,
    counter: bool,
    aim: float,
) -> None:
    settings = make_settings(tmp_path, broker, influx, str(loaded_engine.url))
    tz = ZoneInfo(settings.timezone)
    start_ingest(settings, loaded_engine, influx)
    (serial,) = [i.id for i in default_registry.inverters if i.station_id == STATION]
    samples = moved(nrel_power(series), days, dt.date.today() - dt.timedelta(days=1), tz)
    replay(samples, counter, serial, broker, tmp_path)
    wait_for(lambda: stored(influx, samples) == len(samples), timeout=120)
    a = Analytics.open(settings, loaded_engine, influx)
    expected = daily_kwh(samples)
    for day in expected:
        compute_day(a, day, recompute=True)
    got = station_daily(influx, expected, tz)
    differences = {d: got[d] / expected[d] - 1 for d in expected}
    worst = max(differences, key=lambda d: abs(differences[d]))
    print(  # the figures the closing note reports (pytest -s)
        f"\n{series} {'counter' if counter else 'power only'}: {len(expected)} days compared, "
        f"{sum(expected.values()):.3f} kWh expected, {sum(got.values()):.3f} stored, "
        f"largest daily difference {differences[worst]:+.4%} on {worst}"
    )
    assert set(got) == set(expected)
    assert all(abs(x) <= aim for x in differences.values()), differences


def replay(
    samples: list[Sample], counter: bool, serial: str, broker: Mosquitto, folder: Path
) -> None:
    """The server's registers follow the series; the gateway polls at each sample's time."""
    models = inverter_map(w=0, wh=COUNTER_START_WH if counter else None)
    models[1][1].update({"W_SF": 0, "WH_SF": 0})
    w_at, wh_at = point_address(models, 103, "W"), point_address(models, 103, "WH")
    wh = float(COUNTER_START_WH)
    with modbus_server({1: (40000, register_map(models))}) as server:
        gateway = station_gateway(
            STATION, {serial: SunSpecDevice("127.0.0.1", server.port, 1)}, broker, folder
        )
        wait_for(gateway.client.is_connected, timeout=10)
        for before, sample in zip([None, *samples], samples, strict=False):
            server.set(1, w_at, encode_point("int16", 1, round(sample.w)))
            if counter and before is not None:
                wh += produced_wh(before.w, sample.w, sample.ts - before.ts)
                server.set(1, wh_at, acc32(round(wh)))
            gateway.poll(sample.ts)
        wait_for(lambda: gateway.held == 0, timeout=60)
        gateway.stop()


def stored(influx: InfluxClient, samples: list[Sample]) -> int:
    rows = series_values(
        influx.query(
            f"SELECT count(W) FROM telemetry WHERE station = '{STATION}' "
            f"AND time >= {samples[0].ts}s AND time <= {samples[-1].ts}s"
        )
    )
    return int(rows[0]["count"]) if rows else 0


def station_daily(
    influx: InfluxClient, days: dict[dt.date, float], tz: dt.tzinfo
) -> dict[dt.date, float]:
    first, last = min(days), max(days)
    rows = series_values(
        influx.query(
            f'SELECT energy_kwh FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" '
            f"WHERE station = '{STATION}' AND time >= {day_bounds(first, tz)[0]}s "
            f"AND time < {day_bounds(last, tz)[1]}s"
        )
    )
    return {dt.datetime.fromtimestamp(r["time"], tz).date(): float(r["energy_kwh"]) for r in rows}
