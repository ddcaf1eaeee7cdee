"""A station gateway between a real Modbus TCP server (a SunSpec inverter) and a real
Mosquitto: readings with their own times, the broker away and back (held on disk, lost 0),
a device that stops answering (an event)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.station import StationGateway, new_alarms
from gateway.sunspec import SunSpecDevice
from launch.local.mosquitto import Mosquitto
from pvmon.telemetry import ALARM_CODE_BASE, GatewayEvent
from tests.support.gateway import station_gateway
from tests.support.listener import Heard
from tests.support.modbus import ModbusServer, modbus_server
from tests.support.sunspec import acc32, inverter_map, point_address, register_map
from tests.support.waiting import wait_for

TS = 1_764_900_000
STATION, SERIAL = "VS001", "INV0001"


@pytest.mark.parametrize(
    ("before", "after", "fresh"),
    [(None, 0, []), (None, 0b101, [0, 2]), (0b001, 0b011, [1]), (0b011, 0b001, []), (4, None, [])],
)
def test_an_alarm_is_sent_when_its_bit_comes_up(
    before: int | None, after: int | None, fresh: list[int]
) -> None:
    assert new_alarms(before, after) == fresh


@pytest.fixture
def inverter() -> Iterator[ModbusServer]:
    with modbus_server({1: (40000, register_map(inverter_map()))}) as server:
        yield server


@pytest.fixture
def gateway_for(
    tmp_path: Path, inverter: ModbusServer
) -> Iterator[Callable[[Mosquitto], StationGateway]]:
    made: list[StationGateway] = []

    def make(broker: Mosquitto) -> StationGateway:
        device = SunSpecDevice("127.0.0.1", inverter.port, 1, timeout_s=1)
        gateway = station_gateway(STATION, {SERIAL: device}, broker, tmp_path)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.stop()


def test_readings_reach_the_broker_and_wait_on_disk_while_it_is_away(
    broker: Mosquitto, inverter: ModbusServer, gateway_for: Callable[[Mosquitto], StationGateway]
) -> None:
    heard = Heard(broker)
    gateway = gateway_for(broker)
    wait_for(gateway.client.is_connected, timeout=10)
    models = inverter_map()
    wh_at = point_address(models, 103, "WH")
    for n in range(3):
        wh = 1_000_000 + n * 10
        inverter.set(1, wh_at, acc32(wh))
        gateway.poll(TS + 60 * n)
    wait_for(lambda: len(heard.on("/telemetry")) == 3, timeout=10)
    broker.stop()
    for n in range(3, 8):
        wh = 1_000_000 + n * 10
        inverter.set(1, wh_at, acc32(wh))
        gateway.poll(TS + 60 * n)
    assert gateway.held == 5, "kept on disk while the broker is away"
    broker.start()
    heard.client.reconnect()
    wait_for(lambda: gateway.held == 0, timeout=30)
    wait_for(lambda: len({r["ts"] for r in heard.on("/telemetry")}) == 8, timeout=10)
    readings = {r["ts"]: r for r in heard.on("/telemetry")}
    assert sorted(readings) == [TS + 60 * n for n in range(8)], "their own times, lost 0"
    assert [readings[TS + 60 * n]["WH"] for n in range(8)] == [
        (1_000_000 + n * 10) * 10.0 for n in range(8)
    ]
    heard.close()


def test_an_alarm_and_a_device_that_stops_answering_are_events(
    broker: Mosquitto, inverter: ModbusServer, gateway_for: Callable[[Mosquitto], StationGateway]
) -> None:
    heard = Heard(broker)
    gateway = gateway_for(broker)
    wait_for(gateway.client.is_connected, timeout=10)
    gateway.poll(TS)
    inverter.set(1, point_address(inverter_map(), 103, "Evt1"), [0, 1 << 7])
    gateway.poll(TS + 60)
    inverter.stop()
    gateway.poll(TS + 120)
    gateway.poll(TS + 180)
    wait_for(lambda: len(heard.on("/event")) == 2, timeout=10)
    alarm, silent = heard.on("/event")
    assert alarm == {"ts": TS + 60, "code": ALARM_CODE_BASE + 7, "Evt1": 1 << 7}
    assert silent["code"] == GatewayEvent.NO_RESPONSE
    assert silent["ts"] == TS + 120, "said once, when it stopped"
    assert len(heard.on("/telemetry")) == 2
    heard.close()
