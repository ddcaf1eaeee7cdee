"""From Modbus TCP servers (two SunSpec inverters, one Huawei SUN2000) through the gateway,
a real Mosquitto stopped for 30 s meanwhile, ingest and influxd, to the station's daily
rollup and the frequent job: the day's energy is the servers' counter difference (across
the SUN2000's counter reset), nothing is lost, and the SUN2000 that stops answering is an
event and a ``device_silent`` finding."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from huawei_solar import register_names as rn
from sqlalchemy import Engine, select

from analytics import live
from analytics.context import Analytics
from analytics.rollups import compute_day
from gateway.aio import LoopThread
from gateway.huawei import HuaweiDevice, HuaweiLink
from gateway.sunspec import SunSpecDevice
from launch.local.mosquitto import Mosquitto
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_bounds
from pvmon.registry.schema import Registry
from pvmon.telemetry import GatewayEvent
from tests.support.fleetwriter import loggers_connected, only_stations
from tests.support.gateway import station_gateway
from tests.support.huawei import huawei_map, set_value, sun2000
from tests.support.ingest import RunningIngest, make_settings
from tests.support.modbus import modbus_server
from tests.support.sunspec import acc32, inverter_map, point_address, register_map
from tests.support.waiting import wait_for

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
STATION = "VS001"
POLLS = 120
"""Two hours of one-minute polls from 11:00."""
WH_STEP = 40
"""Counter units (×10 Wh: WH_SF = 1) each SunSpec inverter adds per minute: 400 Wh."""
KWH_STEP = 0.4
"""What the SUN2000's yield register (0.01 kWh) adds per minute, at 24 kW."""
RESET_AT = 90
"""The SUN2000's counter starts again from 0 (a replaced control board)."""
GONE_AT = 100
"""The SUN2000 stops answering."""


def test_a_station_from_its_modbus_devices_to_station_daily_and_its_findings(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    settings = make_settings(tmp_path, broker, influx, str(loaded_engine.url))
    start_ingest(settings, loaded_engine, influx)
    *sunspec, huawei = [i.id for i in default_registry.inverters if i.station_id == STATION]
    models = inverter_map()
    wh_at = point_address(models, 103, "WH")
    maps = {n + 1: (40000, register_map(models)) for n in range(len(sunspec))}
    day = dt.date.today() - dt.timedelta(days=2)
    eleven = day_bounds(day, ZoneInfo(settings.timezone))[0] + 11 * 3600
    loop = LoopThread()
    with modbus_server(maps) as server, modbus_server({1: huawei_map(sun2000(w=24_000))}) as sun:
        devices = {s: SunSpecDevice("127.0.0.1", server.port, n + 1) for n, s in enumerate(sunspec)}
        devices[huawei] = HuaweiDevice(HuaweiLink(loop, "127.0.0.1", sun.port, 2), 1)
        gateway = station_gateway(STATION, devices, broker, tmp_path)
        wait_for(gateway.client.is_connected, timeout=10)
        counters = {n + 1: 1_000_000 + 1000 * n for n in range(len(sunspec))}
        yield_kwh = 10_000.0
        for minute in range(POLLS):
            for unit, wh in counters.items():
                server.set(unit, wh_at, acc32(wh))
                counters[unit] = wh + WH_STEP
            yield_kwh = 0.0 if minute == RESET_AT else yield_kwh + KWH_STEP * (minute > 0)
            set_value(sun, 1, rn.ACCUMULATED_YIELD_ENERGY, round(yield_kwh, 2))
            if minute == 40:
                broker.stop()
                away = time.monotonic()
            if minute == GONE_AT:
                sun.stop()
            gateway.poll(eleven + 60 * minute)
            if minute == 70:
                time.sleep(max(0.0, 30 - (time.monotonic() - away)))
                broker.start()
        wait_for(lambda: gateway.held == 0, timeout=60)
        gateway.stop()
    loop.close()

    def stored() -> int:
        rows = series_values(
            influx.query(
                f"SELECT count(W) FROM telemetry WHERE station = '{STATION}' "
                f"AND time >= {eleven}s AND time < {eleven + 60 * POLLS}s"
            )
        )
        return int(rows[0]["count"]) if rows else 0

    wait_for(lambda: stored() == POLLS * len(sunspec) + GONE_AT, timeout=60)
    events = series_values(
        influx.query(f"SELECT code, device FROM events WHERE station = '{STATION}'")
    )
    assert [(e["device"], e["code"]) for e in events] == [(huawei, GatewayEvent.NO_RESPONSE)]
    a = Analytics.open(settings, loaded_engine, influx)
    compute_day(a, day, recompute=True)
    daily = series_values(
        influx.query(
            f'SELECT energy_kwh FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" '
            f"WHERE station = '{STATION}'"
        )
    )
    sunspec_kwh = len(sunspec) * (POLLS - 1) * WH_STEP * 10 / 1000
    huawei_kwh = (GONE_AT - 1) * KWH_STEP  # across the reset, its power stands in
    assert [r["energy_kwh"] for r in daily] == [pytest.approx(sunspec_kwh + huawei_kwh)]

    wait_for(lambda: logger_online(loaded_engine) is False, timeout=10)
    loggers_connected(loaded_engine, [STATION], dt.datetime.fromtimestamp(eleven, dt.UTC))
    only_stations(a, [STATION])
    live.frequent(a, dt.datetime.fromtimestamp(eleven + 60 * (GONE_AT + 30), dt.UTC))
    with session_factory(loaded_engine)() as session:
        found = list(session.scalars(select(tables.Finding).where(tables.Finding.active)))
    assert [(f.kind, f.station_id, f.evidence["silent_devices"]) for f in found] == [
        ("device_silent", STATION, [huawei])
    ]


def logger_online(engine: Engine) -> bool | None:
    """What ingest last recorded of the station's logger (None: nothing yet)."""
    with session_factory(engine)() as session:
        row = session.get(tables.LoggerStatus, STATION)
        return None if row is None else row.online
