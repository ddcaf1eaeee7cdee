"""Huawei SUN2000 inverters read over Modbus TCP with huawei-solar: the pure mapping by
tables, and a real Modbus TCP server (pymodbus's) serving a SUN2000 register map the test
changes — counter, fault, alarms, two inverters behind one SmartLogger, a device gone."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from huawei_solar import register_names as rn
from huawei_solar.register_values import ALARM_CODES_1, ALARM_CODES_2, Alarm

from gateway.aio import LoopThread
from gateway.device import DeviceUnreachable
from gateway.huawei import HuaweiDevice, HuaweiLink, event_bits, operating_state, to_reading
from pvmon.telemetry import EventBit, OperatingState
from tests.support.huawei import FAULT, huawei_map, set_value, sun2000
from tests.support.modbus import modbus_server

TS = 1_764_900_000
GRID_LOSS = ALARM_CODES_1[0b1000_0000]
OVERTEMPERATURE = ALARM_CODES_2[0b1000]
ARC_FAULT = ALARM_CODES_1[0b10]
"""No SunSpec bit means a DC arc: logged, not mapped."""


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("On-grid", OperatingState.MPPT),
        ("Grid Connection: power limited", OperatingState.THROTTLED),
        ("Shutdown: fault", OperatingState.FAULT),
        ("Shutdown: command", OperatingState.OFF),
        ("Standby: no irradiation", OperatingState.SLEEPING),
        ("Standby: detecting irradiation", OperatingState.STANDBY),
        ("Starting", OperatingState.STARTING),
        ("Grid scheduling: Q-U curve", OperatingState.MPPT),
        ("I-V scanning", OperatingState.STANDBY),
        ("not a status", None),
        (None, None),
    ],
)
def test_huawei_device_status_maps_onto_the_sunspec_state(
    status: str | None, state: OperatingState | None
) -> None:
    assert operating_state(status) == state


@pytest.mark.parametrize(
    ("alarms", "bits"),
    [
        ([], 0),
        ([GRID_LOSS], 1 << EventBit.GRID_DISCONNECT),
        ([GRID_LOSS, OVERTEMPERATURE], 1 << EventBit.GRID_DISCONNECT | 1 << EventBit.OVER_TEMP),
        ([ARC_FAULT], 0),
    ],
    ids=["none", "grid-loss", "two", "no-sunspec-counterpart"],
)
def test_huawei_alarms_map_onto_evt1_bits(alarms: list[Alarm], bits: int) -> None:
    assert event_bits(alarms) == bits


def test_huawei_values_become_a_reading_with_strings_as_dc_totals() -> None:
    values = {
        rn.ACTIVE_POWER: 38_500,
        rn.ACCUMULATED_YIELD_ENERGY: 12_345.67,
        rn.GRID_FREQUENCY: 50.01,
        rn.INTERNAL_TEMPERATURE: 44.1,
        rn.DEVICE_STATUS: "On-grid",
    }
    reading = to_reading(TS, values, [], [(10.0, 600.0), (5.0, 570.0)])
    assert orjson.loads(reading.payload()) == {
        "ts": TS,
        "W": 38_500.0,
        "WH": pytest.approx(12_345_670.0),
        "DCA": 15.0,
        "DCV": 590.0,
        "Hz": 50.01,
        "TmpCab": 44.1,
        "St": OperatingState.MPPT,
        "Evt1": 0,
    }


def test_a_sun2000_is_read_and_followed_through_counter_fault_and_alarms(
    loop: LoopThread,
) -> None:
    values = sun2000(strings=((610.0, 9.5), (590.0, 8.5)))
    with modbus_server({1: huawei_map(values)}) as server:
        device = HuaweiDevice(HuaweiLink(loop, "127.0.0.1", server.port, 5), 1)
        first = device.poll(TS)
        assert (first.W, first.WH, first.St, first.Evt1) == (40_000, 10_000_000, 4, 0)
        assert pytest.approx(18.0) == first.DCA
        assert pytest.approx((610 * 9.5 + 590 * 8.5) / 18) == first.DCV
        assert (first.Hz, first.TmpCab) == (pytest.approx(50.02), pytest.approx(41.2))
        set_value(server, 1, rn.ACCUMULATED_YIELD_ENERGY, 10_000.4)
        set_value(server, 1, rn.DEVICE_STATUS, FAULT)
        set_value(server, 1, rn.ACTIVE_POWER, 0)
        set_value(server, 1, rn.ALARM_1, 0b1000_0010)  # grid loss and a DC arc
        later = device.poll(TS + 60)
        assert pytest.approx(10_000_400) == later.WH
        assert (later.W, later.St, later.Evt1) == (0, OperatingState.FAULT, 1 << 4)
        device.close()


def test_two_inverters_behind_one_smartlogger_are_read_by_unit_id(loop: LoopThread) -> None:
    maps = {1: huawei_map(sun2000(w=30_000)), 2: huawei_map(sun2000(w=20_000))}
    with modbus_server(maps) as server:
        link = HuaweiLink(loop, "127.0.0.1", server.port, 5)
        assert [HuaweiDevice(link, unit).poll(TS).W for unit in (1, 2)] == [30_000, 20_000]
        link.close()


def test_a_sun2000_that_stops_answering_is_reported_unreachable(
    loop: LoopThread,
) -> None:
    with modbus_server({1: huawei_map(sun2000())}) as server:
        device = HuaweiDevice(HuaweiLink(loop, "127.0.0.1", server.port, 2), 1)
        device.poll(TS)
        server.stop()
        with pytest.raises(DeviceUnreachable, match=f"127.0.0.1:{server.port} unit 1"):
            device.poll(TS + 60)
    with pytest.raises(DeviceUnreachable, match="no connection"):
        device.poll(TS + 120)
