"""A Huawei SUN2000 register map a test controls, encoded with huawei-solar's own register
definitions (the ones the gateway decodes with), for a pymodbus server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from huawei_solar import register_names as rn
from huawei_solar.register_values import DEVICE_STATUS_DEFINITIONS
from huawei_solar.registers import REGISTERS

from tests.support.modbus import ModbusServer

BASE = 30000
SIZE = 2200
"""Registers 30000–32199: identification, strings, alarms, measurements, the yield."""
ON_GRID = next(c for c, t in DEVICE_STATUS_DEFINITIONS.items() if t == "On-grid")
FAULT = next(c for c, t in DEVICE_STATUS_DEFINITIONS.items() if t == "Shutdown: fault")


def encode(name: str, value: Any) -> tuple[int, list[int]]:
    """(address, registers) of a named register holding ``value`` in its own unit."""
    reg = REGISTERS[name]
    return reg.register, list(reg.encode(value))


def sun2000(
    w: int = 40_000, yield_kwh: float = 10_000.0, strings: tuple[tuple[float, float], ...] = ()
) -> dict[str, Any]:
    """A producing inverter's values; ``strings``: each PV string's (volts, amps)."""
    values: dict[str, Any] = {
        rn.ACTIVE_POWER: w,
        rn.GRID_FREQUENCY: 50.02,
        rn.INTERNAL_TEMPERATURE: 41.2,
        rn.DEVICE_STATUS: ON_GRID,
        rn.ACCUMULATED_YIELD_ENERGY: yield_kwh,
        rn.ALARM_1: 0,
        rn.ALARM_2: 0,
        rn.ALARM_3: 0,
        rn.NB_PV_STRINGS: len(strings),
    }
    for n, (volts, amps) in enumerate(strings, start=1):
        values[f"pv_{n:02d}_voltage"] = volts
        values[f"pv_{n:02d}_current"] = amps
    return values


def huawei_map(values: Mapping[str, Any]) -> tuple[int, list[int]]:
    """(base, registers) for ``ModbusServer``."""
    regs = [0] * SIZE
    for name, value in values.items():
        at, words = encode(name, value)
        regs[at - BASE : at - BASE + len(words)] = words
    return BASE, regs


def set_value(server: ModbusServer, unit: int, name: str, value: Any) -> None:
    server.set(unit, *encode(name, value))
