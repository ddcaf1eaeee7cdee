"""SunSpec inverters read over Modbus TCP: the pure mapping by tables, and a real Modbus TCP
server (pymodbus's) serving a SunSpec map the test changes while the gateway polls it."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from gateway.device import DeviceUnreachable
from gateway.sunspec import SunSpecDevice, to_reading
from pvmon.telemetry import Reading, dc_totals
from tests.support.modbus import modbus_server
from tests.support.sunspec import acc32, inverter_map, point_address, register_map

TS = 1_764_900_000


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ([(3.0, 600.0), (1.0, 400.0)], (4.0, 550.0)),
        ([(0.0, 600.0), (0.0, 580.0)], (0.0, 590.0)),
        ([(2.0, None), (2.0, 500.0)], (2.0, 500.0)),
        ([(None, None)], (None, None)),
        ([], (None, None)),
    ],
    ids=["weighted", "no-current-plain-mean", "half-reported-input-left-out", "none", "empty"],
)
def test_inputs_become_one_dc_current_and_a_weighted_voltage(
    inputs: list[tuple[float | None, float | None]], expected: tuple[float | None, float | None]
) -> None:
    assert dc_totals(inputs) == expected


@pytest.mark.parametrize(
    ("inverter", "mppt", "expected"),
    [
        (
            {"W": 1234.5, "WH": 1000, "DCA": 5.0, "DCV": 600.0, "Hz": 50.0, "St": 4, "Evt1": 0},
            [],
            {"W": 1234.5, "WH": 1000.0, "DCA": 5.0, "DCV": 600.0, "Hz": 50.0, "St": 4, "Evt1": 0},
        ),
        (
            {"W": math.nan, "WH": math.nan, "TmpCab": 41.5, "St": 2},
            [],
            {"W": 0.0, "TmpCab": 41.5, "St": 2},
        ),
        (
            {"W": 800.0, "DCA": None, "DCV": None},
            [{"DCA": 3.0, "DCV": 600.0}, {"DCA": 1.0, "DCV": 400.0}],
            {"W": 800.0, "DCA": 4.0, "DCV": 550.0},
        ),
        (
            {"W": None, "St": 7, "Evt1": 1},
            [],
            {"W": 0.0, "St": 7, "Evt1": 1},
        ),
    ],
    ids=["integer-model", "float-model-nan-unimplemented", "dc-from-mppt", "fault-no-power"],
)
def test_sunspec_values_map_onto_the_contract(
    inverter: dict[str, Any], mppt: list[dict[str, Any]], expected: dict[str, Any]
) -> None:
    reading = to_reading(TS, inverter, mppt)
    assert orjson.loads(reading.payload()) == {"ts": TS, **expected}


def test_a_sunspec_inverter_is_read_with_its_scale_factors_and_followed_as_it_changes() -> None:
    models = inverter_map()
    with modbus_server({1: (40000, register_map(models))}) as server:
        device = SunSpecDevice("127.0.0.1", server.port, 1)
        first = device.poll(TS)
        assert first == Reading(
            ts=TS,
            W=1234.5,
            WH=10_000_000.0,
            DCV=6020.0 / 10,
            DCA=20.0,
            Hz=50.02,
            TmpCab=41.2,
            St=4,
            Evt1=0,
        )
        server.set(1, point_address(models, 103, "W"), [20000])
        server.set(1, point_address(models, 103, "WH"), acc32(1_000_500))
        server.set(1, point_address(models, 103, "St"), [7])
        server.set(1, point_address(models, 103, "Evt1"), [0, 1])
        later = device.poll(TS + 60)
        assert (later.W, later.WH, later.St, later.Evt1) == (2000.0, 10_005_000.0, 7, 1)
        device.close()


def test_a_float_model_inverter_without_mppt_is_read_too() -> None:
    models = [
        (1, {"Mn": "X", "SN": "F1"}),
        (113, {"W": 2500.25, "WH": 123456.0, "DCA": 6.5, "DCV": 610.0, "Hz": 49.98, "St": 4}),
    ]
    with modbus_server({3: (40000, register_map(models))}) as server:
        reading = SunSpecDevice("127.0.0.1", server.port, 3).poll(TS)
    assert pytest.approx(2500.25) == reading.W
    assert pytest.approx(123456.0) == reading.WH
    assert (reading.DCA, reading.DCV, reading.St) == (6.5, 610.0, 4)
    assert reading.TmpCab is None, "unimplemented (NaN) is left out, not sent as a number"


def test_a_device_that_stops_answering_or_is_not_sunspec_is_reported_unreachable() -> None:
    with modbus_server({1: (40000, register_map(inverter_map()))}) as server:
        device = SunSpecDevice("127.0.0.1", server.port, 1, timeout_s=1)
        device.poll(TS)
        with pytest.raises(DeviceUnreachable, match="unit 2"):
            SunSpecDevice("127.0.0.1", server.port, 2, timeout_s=1).poll(TS)
    with pytest.raises(DeviceUnreachable, match=f"127.0.0.1:{server.port} unit 1"):
        device.poll(TS + 60)
    with modbus_server({1: (40000, [0] * 200)}) as blank, pytest.raises(DeviceUnreachable):
        SunSpecDevice("127.0.0.1", blank.port, 1, timeout_s=1).poll(TS)
