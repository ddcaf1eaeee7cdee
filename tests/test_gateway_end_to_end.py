"""From a Modbus TCP server (a SunSpec inverter per unit id) through the gateway, a real
Mosquitto stopped for 30 s meanwhile, ingest and influxd, to the station's daily rollup:
the day's energy is the servers' counter difference, and nothing is lost."""

from __future__ import annotations

import datetime as dt
import time
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
from tests.support.sunspec import acc32, inverter_map, point_address, register_map
from tests.support.waiting import wait_for

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
STATION = "VS001"
POLLS = 120
"""Two hours of one-minute polls around noon."""
WH_STEP = 40
"""Counter units (×10 Wh: WH_SF = 1) each inverter adds per minute: 400 Wh a minute."""


def test_a_day_from_the_modbus_servers_to_station_daily_with_the_broker_away(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    settings = make_settings(tmp_path, broker, influx, str(loaded_engine.url))
    start_ingest(settings, loaded_engine, influx)
    serials = [i.id for i in default_registry.inverters if i.station_id == STATION]
    models = inverter_map()
    wh_at = point_address(models, 103, "WH")
    maps = {n + 1: (40000, register_map(models)) for n in range(len(serials))}
    day = dt.date.today() - dt.timedelta(days=2)
    noon = day_bounds(day, ZoneInfo(settings.timezone))[0] + 11 * 3600
    with modbus_server(maps) as server:
        devices = {s: SunSpecDevice("127.0.0.1", server.port, n + 1) for n, s in enumerate(serials)}
        gateway = station_gateway(STATION, devices, broker, tmp_path)
        wait_for(gateway.client.is_connected, timeout=10)
        counters = {n + 1: 1_000_000 + 1000 * n for n in range(len(serials))}
        for minute in range(POLLS):
            for unit, wh in counters.items():
                server.set(unit, wh_at, acc32(wh))
                counters[unit] = wh + WH_STEP
            if minute == 40:
                broker.stop()
                away = time.monotonic()
            gateway.poll(noon + 60 * minute)
            if minute == 70:
                time.sleep(max(0.0, 30 - (time.monotonic() - away)))
                broker.start()
        wait_for(lambda: gateway.held == 0, timeout=60)
        gateway.stop()
    a = Analytics.open(settings, loaded_engine, influx)

    def stored() -> int:
        rows = series_values(
            influx.query(
                f"SELECT count(W) FROM telemetry WHERE station = '{STATION}' "
                f"AND time >= {noon}s AND time < {noon + 60 * POLLS}s"
            )
        )
        return int(rows[0]["count"]) if rows else 0

    wait_for(lambda: stored() == POLLS * len(serials), timeout=60)
    compute_day(a, day, recompute=True)
    daily = series_values(
        influx.query(
            f'SELECT energy_kwh FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" '
            f"WHERE station = '{STATION}'"
        )
    )
    expected_kwh = len(serials) * (POLLS - 1) * WH_STEP * 10 / 1000
    assert [r["energy_kwh"] for r in daily] == [pytest.approx(expected_kwh)]
