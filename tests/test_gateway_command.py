"""``pvmon gateway`` as it runs in production: a process reading a station's inverters
(their addresses in the registry) from a real Modbus TCP server and publishing them to a
real Mosquitto as that station's logger; and what it says when it cannot start."""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from launch.cli import app as cli
from launch.local.mosquitto import Mosquitto
from launch.local.process import ManagedProcess
from pvmon.datapaths import declared
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import upgrade
from pvmon.registry.schema import DeviceAddressRow, Registry
from pvmon.registry.store import replace_registry
from pvmon.settings import load_settings
from tests.support.fusionsolar import CloudDev, FusionSolarStandIn
from tests.support.huawei import huawei_map, sun2000
from tests.support.listener import Heard
from tests.support.modbus import modbus_server
from tests.support.sunspec import inverter_map, register_map
from tests.support.waiting import wait_for

STATION = "VS001"


def store_with(tmp_path: Path, registry: Registry, addresses: list[DeviceAddressRow]) -> str:
    url = f"sqlite:///{tmp_path / 'pvmon.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        replace_registry(session, replace(registry, device_addresses=addresses))
    engine.dispose()
    return url


def modbus_addresses(registry: Registry, port: int) -> list[DeviceAddressRow]:
    serials = [i.id for i in registry.inverters if i.station_id == STATION]
    return [
        DeviceAddressRow(
            inverter_id=s, protocol="sunspec", host="127.0.0.1", port=port, unit_id=n + 1
        )
        for n, s in enumerate(serials)
    ]


def test_the_gateway_publishes_each_inverter_of_its_station(
    tmp_path: Path, broker: Mosquitto, default_registry: Registry
) -> None:
    """A SunSpec inverter, a SUN2000 (huawei-solar) and one read from FusionSolar's cloud."""
    serials = [i.id for i in default_registry.inverters if i.station_id == STATION]
    _, huawei, cloudy = serials
    cloud = FusionSolarStandIn().start()
    cloud.devices["1000"] = CloudDev("NE=7", values={"active_power": 0.3})
    maps = {1: (40000, register_map(inverter_map(w=1000)))}
    with modbus_server(maps) as server, modbus_server({1: huawei_map(sun2000(w=200))}) as sun:
        rows = [
            *modbus_addresses(default_registry, server.port)[:1],
            DeviceAddressRow(
                inverter_id=huawei, protocol="huawei", host="127.0.0.1", port=sun.port, unit_id=1
            ),
            DeviceAddressRow(inverter_id=cloudy, protocol="fusionsolar", cloud_id="1000"),
        ]
        url = store_with(tmp_path, default_registry, rows)
        heard = Heard(broker)
        process = ManagedProcess(
            "gateway",
            [sys.executable, "-m", "launch", "gateway", "--stations", STATION],
            tmp_path / "gateway.log",
            {
                **os.environ,
                "PVMON_DATA_DIR": str(tmp_path),
                "PVMON_DATABASE_URL": url,
                "PVMON_MQTT_URL": broker.url,
                "PVMON_GATEWAY__FUSIONSOLAR__BASE_URL": cloud.url,
                "PVMON_GATEWAY__FUSIONSOLAR__USER": cloud.user,
                "PVMON_GATEWAY__FUSIONSOLAR__SYSTEM_CODE": cloud.system_code,
            },
        )
        process.start()
        try:
            wait_for(lambda: len(heard.on("/telemetry")) >= len(serials), timeout=30)
            by_device = {
                t.split("/")[2]: body for t, body in heard.messages if t.endswith("/telemetry")
            }
            assert set(by_device) == set(serials), "every inverter, under its own serial"
            assert [by_device[s]["W"] for s in serials] == [100.0, 200.0, 300.0]
            assert ("pv/VS001/status", "online") in heard.messages
        finally:
            assert process.process is not None
            process.process.send_signal(signal.SIGTERM)
            process.process.wait(20)
        wait_for(lambda: ("pv/VS001/status", "offline") in heard.messages, timeout=10)
        heard.close()
    cloud.stop()
    buffers = next(
        p.path for p in declared(load_settings(data_dir=tmp_path)) if p.writer == "gateway"
    )
    assert (buffers / f"{STATION}.sqlite").exists(), "its buffer, where backups look for it"


@pytest.mark.parametrize(
    ("addresses", "stations", "message"),
    [
        ("none", "VS001", "no device addresses in the registry for VS001"),
        (
            "cloud",
            "VS001",
            "VS001: inverters read from FusionSolar need its account",
        ),
    ],
    ids=["no-addresses", "cloud-without-account"],
)
def test_a_gateway_that_cannot_start_says_why(
    tmp_path: Path,
    default_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    addresses: object,
    stations: str,
    message: str,
) -> None:
    rows = modbus_addresses(default_registry, 1502)
    if addresses == "cloud":
        rows = [
            DeviceAddressRow(inverter_id=r.inverter_id, protocol="fusionsolar", cloud_id=f"NE={n}")
            for n, r in enumerate(rows)
        ]
    else:
        rows = []
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PVMON_DATABASE_URL", store_with(tmp_path, default_registry, rows))
    monkeypatch.setenv("PVMON_MQTT_URL", "mqtt://127.0.0.1:1883")
    result = CliRunner().invoke(cli, ["gateway", "--stations", stations])
    assert result.exit_code == 1
    assert message in result.output
