"""Per-field topics as OpenDTU publishes them, bridged by the gateway onto the contract:
the mapping by a table, and a DTU's topics on a real Mosquitto read by the gateway and
published as the station's telemetry; an inverter the DTU no longer reaches, or has not
heard from for too long, is not answering."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest

from gateway.device import DeviceUnreachable
from gateway.opendtu import DtuBroker, OpenDtuDevice, to_reading
from launch.local.mosquitto import Mosquitto
from pvmon.telemetry import OperatingState
from tests.support.gateway import station_gateway
from tests.support.listener import Heard
from tests.support.waiting import wait_for

TS = 1_764_900_000
BASE = "solar/116180000001"


def dtu_fields(power: str = "312.5", yieldtotal: str = "1234.567") -> dict[str, str]:
    return {
        "0/power": power,
        "0/yieldtotal": yieldtotal,
        "0/frequency": "50.01",
        "0/temperature": "31.2",
        "1/voltage": "34.0",
        "1/current": "6.0",
        "2/voltage": "32.0",
        "2/current": "3.0",
        "status/producing": "1",
        "status/reachable": "1",
        "status/last_update": str(TS),
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            dtu_fields(),
            {
                "W": 312.5,
                "WH": 1_234_567.0,
                "DCA": 9.0,
                "DCV": pytest.approx(100 / 3),
                "Hz": 50.01,
                "TmpCab": 31.2,
                "St": OperatingState.MPPT,
            },
        ),
        ({"0/power": "0", "status/producing": "0"}, {"W": 0.0, "St": OperatingState.SLEEPING}),
        ({"0/power": "n/a", "0/yieldtotal": ""}, {"W": 0.0}),
    ],
    ids=["producing", "night", "not-numbers-left-out"],
)
def test_dtu_fields_map_onto_the_contract(
    fields: dict[str, str], expected: dict[str, object]
) -> None:
    assert orjson.loads(to_reading(TS, fields).payload()) == {"ts": TS, **expected}


@pytest.fixture
def dtu(broker: Mosquitto) -> Iterator[mqtt.Client]:
    """The DTU: publishes each value on its own topic, as OpenDTU does."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="opendtu")
    client.connect(broker.options.host, broker.options.port)
    client.loop_start()
    yield client
    client.loop_stop()
    client.disconnect()


def publish(client: mqtt.Client, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        client.publish(f"{BASE}/{name}", value, qos=1).wait_for_publish(5)


def test_a_dtus_inverter_is_published_as_the_stations_telemetry(
    broker: Mosquitto, dtu: mqtt.Client, tmp_path: Path
) -> None:
    source = DtuBroker(broker.options.host, broker.options.port)
    device = OpenDtuDevice(source, BASE, stale_s=300)
    wait_for(lambda: source.connected, timeout=10)
    heard = Heard(broker)
    gateway = station_gateway("HH0001", {"INV1": device}, broker, tmp_path)
    wait_for(gateway.client.is_connected, timeout=10)
    publish(dtu, dtu_fields())
    wait_for(lambda: source.fields(BASE).get("status/last_update") == str(TS), timeout=10)
    gateway.poll(TS + 20)
    wait_for(lambda: len(heard.on("/telemetry")) == 1, timeout=10)
    (reading,) = heard.on("/telemetry")
    assert (reading["ts"], reading["W"], reading["WH"]) == (TS, 312.5, 1_234_567.0)
    gateway.stop()
    heard.close()
    source.close()


@pytest.mark.parametrize(
    ("change", "poll_at", "message"),
    [
        ({"status/reachable": "0"}, TS + 20, "does not reach the inverter"),
        ({}, TS + 301, "last update 301 s before the poll"),
    ],
    ids=["unreachable", "stale"],
)
def test_an_inverter_the_dtu_does_not_hear_is_not_answering(
    broker: Mosquitto, dtu: mqtt.Client, change: dict[str, str], poll_at: int, message: str
) -> None:
    source = DtuBroker(broker.options.host, broker.options.port)
    device = OpenDtuDevice(source, BASE, stale_s=300)
    wait_for(lambda: source.connected, timeout=10)
    with pytest.raises(DeviceUnreachable, match="nothing published yet"):
        device.poll(TS)
    fields = dtu_fields() | change
    publish(dtu, fields)
    wait_for(lambda: source.fields(BASE) == fields, timeout=10)
    with pytest.raises(DeviceUnreachable, match=message):
        device.poll(poll_at)
    source.close()
