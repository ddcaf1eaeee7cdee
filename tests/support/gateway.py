"""A station gateway on a real broker, for tests: anonymous, its buffer under ``folder``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gateway.buffer import MessageBuffer
from gateway.device import Device
from gateway.station import StationGateway
from launch.local.mosquitto import Mosquitto
from pvmon.settings import MqttEndpoint


def station_gateway(
    station: str, devices: Mapping[str, Device], broker: Mosquitto, folder: Path
) -> StationGateway:
    """Started (connecting in the background); the caller stops it."""
    gateway = StationGateway(
        station,
        devices,
        MqttEndpoint(host=broker.options.host, port=broker.options.port),
        None,
        MessageBuffer(folder / "gateway" / f"{station}.sqlite", 10_000_000),
    )
    gateway.start()
    return gateway
