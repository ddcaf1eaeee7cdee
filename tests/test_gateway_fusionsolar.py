"""Inverters read from FusionSolar's Northbound interface, against a local stand-in that
follows its documented shapes (unverified against the real cloud): the KPI mapping by a
table, log-in and a renewed session, batches of 100, backing off when called too often,
the 5-minute history after an outage, and through a station gateway to the broker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from gateway.device import DeviceUnreachable
from gateway.fusionsolar import CloudDevice, CloudPoller, NorthboundClient, to_reading
from launch.local.mosquitto import Mosquitto
from pvmon.telemetry import OperatingState
from tests.support.fusionsolar import CloudDev, FusionSolarStandIn
from tests.support.gateway import station_gateway
from tests.support.listener import Heard
from tests.support.waiting import wait_for

TZ = ZoneInfo("Asia/Shanghai")
TS = int(dt.datetime(2026, 11, 30, 11, 0, tzinfo=TZ).timestamp())
INTERVAL = 300


def kpis(kw: float, kwh: float, state: int = 512) -> dict[str, float]:
    return {
        "active_power": kw,
        "total_cap": kwh,
        "elec_freq": 50.01,
        "temperature": 38.5,
        "inverter_state": state,
        "pv1_u": 600.0,
        "pv1_i": 9.0,
        "pv2_u": 570.0,
        "pv2_i": 3.0,
    }


@pytest.fixture
def cloud() -> Iterator[FusionSolarStandIn]:
    stand_in = FusionSolarStandIn(page_size=2).start()
    yield stand_in
    stand_in.stop()


def poller_for(cloud: FusionSolarStandIn, system_code: str = "s3cret") -> CloudPoller:
    client = NorthboundClient(cloud.url, cloud.user, system_code, timeout_s=5)
    return CloudPoller(client, INTERVAL, TZ)


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (
            kpis(38.5, 12_345.6),
            {
                "W": 38_500.0,
                "WH": 12_345_600.0,
                "DCA": 12.0,
                "DCV": 592.5,
                "Hz": 50.01,
                "TmpCab": 38.5,
                "St": OperatingState.MPPT,
            },
        ),
        ({"active_power": 0, "inverter_state": 768}, {"W": 0.0, "St": OperatingState.FAULT}),
        ({"active_power": None, "inverter_state": 40960}, {"W": 0.0, "St": 2}),
        ({}, {"W": 0.0}),
    ],
    ids=["producing", "fault", "no-irradiation", "nothing-reported"],
)
def test_fusionsolar_kpis_map_onto_the_contract(
    items: dict[str, float], expected: dict[str, float]
) -> None:
    assert orjson.loads(to_reading(TS, items).payload()) == {"ts": TS, **expected}


def test_every_inverter_of_the_account_is_read_in_batches_of_a_hundred(
    cloud: FusionSolarStandIn,
) -> None:
    for n in range(150):
        cloud.devices[str(1000 + n)] = CloudDev(f"NE={n % 3}", values=kpis(n, 1000 + n))
    cloud.devices["9999"] = CloudDev("NE=0", dev_type=62)  # the plant's dongle
    poller = poller_for(cloud)
    assert poller.reading("1007", TS).W == 7_000.0
    assert poller.reading("1149", TS).WH == 1_149_000.0
    with pytest.raises(DeviceUnreachable, match="no inverter 9999"):
        poller.reading("9999", TS)
    assert [b["pageNo"] for b in cloud.called("stations")] == [1, 2], "every page of plants"
    sizes = [len(b["devIds"].split(",")) for b in cloud.called("getDevRealKpi")]
    assert sizes == [100, 50], "one round for every device, not one call each"
    poller.close()


def test_an_ended_session_is_renewed_by_logging_in_again(cloud: FusionSolarStandIn) -> None:
    cloud.devices["1000"] = CloudDev("NE=1", values=kpis(10, 100))
    poller = poller_for(cloud)
    poller.reading("1000", TS)
    cloud.end_sessions()
    cloud.devices["1000"].values = kpis(12, 101)
    assert poller.reading("1000", TS + INTERVAL).W == 12_000.0
    assert len(cloud.called("login")) == 2
    poller.close()


def test_wrong_account_credentials_say_so(cloud: FusionSolarStandIn) -> None:
    cloud.devices["1000"] = CloudDev("NE=1", values=kpis(10, 100))
    poller = poller_for(cloud, system_code="wrong")
    with pytest.raises(DeviceUnreachable, match="login: failCode 20001"):
        poller.reading("1000", TS)
    poller.close()


def test_called_too_often_the_poller_backs_off_and_calls_nothing_meanwhile(
    cloud: FusionSolarStandIn,
) -> None:
    cloud.devices["1000"] = CloudDev("NE=1", values=kpis(10, 100))
    cloud.real_kpi_every_s = 3600
    poller = poller_for(cloud)
    poller.reading("1000", TS)
    with pytest.raises(DeviceUnreachable, match="called too often"):
        poller.reading("1000", TS + INTERVAL)
    with pytest.raises(DeviceUnreachable, match="backing off for 300 s"):
        poller.reading("1000", TS + 2 * INTERVAL)
    assert len(cloud.called("getDevRealKpi")) == 2, "no call while backing off"
    poller.close()


def test_after_an_outage_the_missed_five_minute_history_is_handed_over(
    cloud: FusionSolarStandIn,
) -> None:
    dev = CloudDev("NE=1", values=kpis(10, 100))
    dev.history = [((TS + m * 60) * 1000, kpis(m / 10, 100 + m)) for m in range(-5, 20, 5)]
    cloud.devices["1000"] = dev
    device = CloudDevice(poller_for(cloud), "1000")
    device.poll(TS)
    cloud.down = True
    for n in (1, 2):
        with pytest.raises(DeviceUnreachable, match="HTTP 503"):
            device.poll(TS + n * INTERVAL)
    cloud.down = False
    assert device.poll(TS + 3 * INTERVAL).ts == TS + 3 * INTERVAL
    missed = device.missed()
    assert [r.ts - TS for r in missed] == [300, 600], "strictly between the good polls"
    assert [r.WH for r in missed] == [105_000.0, 110_000.0]
    assert device.missed() == [], "handed over once"
    device.poller.close()


def test_cloud_readings_and_their_history_reach_the_broker_oldest_first(
    cloud: FusionSolarStandIn, broker: Mosquitto, tmp_path: Path
) -> None:
    dev = CloudDev("NE=1", values=kpis(10, 100))
    dev.history = [((TS + 300) * 1000, kpis(5, 99))]
    cloud.devices["1000"] = dev
    heard = Heard(broker)
    gateway = station_gateway(
        "VS001", {"INV1": CloudDevice(poller_for(cloud), "1000")}, broker, tmp_path
    )
    wait_for(gateway.client.is_connected, timeout=10)
    gateway.poll(TS)
    cloud.down = True
    gateway.poll(TS + INTERVAL)
    cloud.down = False
    gateway.poll(TS + 2 * INTERVAL)
    wait_for(lambda: len(heard.on("/telemetry")) == 3, timeout=10)
    gateway.stop()
    assert [b["ts"] - TS for t, b in heard.messages if t.endswith("/telemetry")] == [0, 300, 600]
    assert [b["code"] for t, b in heard.messages if t.endswith("/event")] == [2001, 2002]
    heard.close()
