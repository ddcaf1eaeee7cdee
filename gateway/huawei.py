"""Huawei SUN2000 inverters over Modbus TCP, read with huawei-solar (its register map and
decoding), directly or through a SmartLogger that forwards each unit id to one inverter.

Huawei's device status and alarm registers are mapped onto the contract's SunSpec ``St``
and ``Evt1`` (``operating_state``, ``event_bits``); an alarm with no SunSpec counterpart is
logged by the gateway with Huawei's own id and name when it appears. The PV strings give
``DCA`` and ``DCV`` (``dc_totals``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import structlog
from huawei_solar import AsyncHuaweiSolar, DecodeError, HuaweiSolarException
from huawei_solar import register_names as rn
from huawei_solar.modbus import AsyncHuaweiSolarModbusTcpClient
from huawei_solar.register_values import DEVICE_STATUS_DEFINITIONS, Alarm
from pymodbus.exceptions import ModbusException

from gateway.aio import LoopThread
from gateway.device import DeviceUnreachable, number
from pvmon.telemetry import EventBit, OperatingState, Reading, dc_totals

log = structlog.get_logger("gateway")

MEASURES = [
    rn.ACTIVE_POWER,
    rn.GRID_FREQUENCY,
    rn.INTERNAL_TEMPERATURE,
    rn.ACCUMULATED_YIELD_ENERGY,
]
"""Read in one request (32080–32107)."""
ALARMS = [rn.ALARM_1, rn.ALARM_2, rn.ALARM_3]

STATUS_CODES = {text: code for code, text in DEVICE_STATUS_DEFINITIONS.items()}
"""huawei-solar decodes the status register to its text; the mapping below is by code."""
STATE_OF_GROUP = {
    0x00: OperatingState.STANDBY,
    0x01: OperatingState.STARTING,
    0x02: OperatingState.MPPT,
    0x03: OperatingState.OFF,
    0x04: OperatingState.MPPT,  # on grid, following the grid company's dispatch curve
    0x05: OperatingState.STANDBY,
    0x06: OperatingState.STANDBY,
    0x07: OperatingState.STANDBY,
    0x08: OperatingState.STANDBY,
    0x09: OperatingState.STANDBY,
    0x0A: OperatingState.MPPT,
}
"""Huawei's status groups by their high byte: standby, starting, on grid, shutdown, grid
scheduling, spot check, inspecting, AFCI self check, I-V scan, DC input detection,
off-grid."""
STATE_OF_CODE = {
    0x0201: OperatingState.THROTTLED,  # power limited
    0x0202: OperatingState.THROTTLED,  # self-derating
    0x0300: OperatingState.FAULT,
    0xA000: OperatingState.SLEEPING,  # no irradiation
}
EVENT_OF_ALARM = {
    2001: EventBit.DC_OVER_VOLT,  # high string input voltage
    2032: EventBit.GRID_DISCONNECT,  # grid loss
    2033: EventBit.AC_UNDER_VOLT,
    2034: EventBit.AC_OVER_VOLT,
    2036: EventBit.OVER_FREQUENCY,
    2037: EventBit.UNDER_FREQUENCY,
    2051: EventBit.GROUND_FAULT,  # abnormal residual current
    2061: EventBit.GROUND_FAULT,  # abnormal grounding
    2062: EventBit.GROUND_FAULT,  # low insulation resistance
    2063: EventBit.OVER_TEMP,
    2064: EventBit.HW_TEST_FAILURE,  # device fault
}
"""Huawei alarm id (its documentation's, as huawei-solar decodes it) → SunSpec Evt1 bit."""


def operating_state(status: str | None) -> int | None:
    """The SunSpec state of a decoded Huawei device status (None: unknown)."""
    code = STATUS_CODES.get(status) if status is not None else None
    return state_of_code(code) if code is not None else None


def state_of_code(code: int) -> int | None:
    """The SunSpec state of a Huawei status code (the register's, and FusionSolar's
    ``inverter_state``); None: unknown."""
    state = STATE_OF_CODE.get(code) or STATE_OF_GROUP.get(code >> 8)
    return int(state) if state is not None else None


def event_bits(alarms: Iterable[Alarm]) -> int:
    """``Evt1`` with the bit of every active alarm that has a SunSpec counterpart."""
    out = 0
    for alarm in alarms:
        if alarm.id in EVENT_OF_ALARM:
            out |= 1 << EVENT_OF_ALARM[alarm.id]
    return out


def unmapped(alarms: Iterable[Alarm]) -> list[Alarm]:
    return [a for a in alarms if a.id not in EVENT_OF_ALARM]


def to_reading(
    ts: int,
    values: Mapping[str, Any],
    alarms: Sequence[Alarm],
    strings: Sequence[tuple[float | None, float | None]],
) -> Reading:
    """Decoded registers (huawei-solar's names and units: W, kWh, Hz, °C, the status text),
    the active alarms and each PV string's (current, voltage) → a reading."""
    dca, dcv = dc_totals(strings)
    yield_kwh = number(values.get(rn.ACCUMULATED_YIELD_ENERGY))
    return Reading(
        ts=ts,
        W=number(values.get(rn.ACTIVE_POWER)) or 0.0,
        WH=yield_kwh * 1000 if yield_kwh is not None else None,
        DCV=dcv,
        DCA=dca,
        Hz=number(values.get(rn.GRID_FREQUENCY)),
        TmpCab=number(values.get(rn.INTERNAL_TEMPERATURE)),
        St=operating_state(values.get(rn.DEVICE_STATUS)),
        Evt1=event_bits(alarms),
    )


def string_registers(count: int) -> list[str]:
    return [n for i in range(1, count + 1) for n in (f"pv_{i:02d}_voltage", f"pv_{i:02d}_current")]


class HuaweiLink:
    """One Modbus TCP connection to an inverter or a SmartLogger, shared by the units
    behind it (Huawei's devices take one connection at a time). Opened on the first poll
    and again after a failure."""

    def __init__(self, loop: LoopThread, host: str, port: int, timeout_s: float) -> None:
        self.loop, self.host, self.port, self.timeout_s = loop, host, port, timeout_s
        self._client: AsyncHuaweiSolar | None = None
        self._strings: dict[int, int] = {}
        """unit id → its number of PV strings (read once per connection)."""

    def read(self, unit: int, ts: int) -> tuple[Reading, list[Alarm]]:
        try:
            return self.loop.run(self._read(unit, ts), self.timeout_s * 3)
        except (HuaweiSolarException, ModbusException, OSError, TimeoutError) as exc:
            self.close()
            where = f"{self.host}:{self.port} unit {unit}"
            raise DeviceUnreachable(f"{where}: {exc or type(exc).__name__}") from exc

    async def _read(self, unit: int, ts: int) -> tuple[Reading, list[Alarm]]:
        client = self._client or await self._connect()
        measures = await client.get_multiple(MEASURES, unit)
        values: dict[str, Any] = {n: r.value for n, r in zip(MEASURES, measures, strict=True)}
        values[rn.DEVICE_STATUS] = await self._status(client, unit)
        alarms = [a for r in await client.get_multiple(ALARMS, unit) for a in r.value]
        if unit not in self._strings:
            self._strings[unit] = int((await client.get(rn.NB_PV_STRINGS, unit)).value or 0)
        names = string_registers(self._strings[unit])
        raw = [r.value for r in await client.get_multiple(names, unit)] if names else []
        strings = [(number(raw[i + 1]), number(raw[i])) for i in range(0, len(raw), 2)]
        return to_reading(ts, values, alarms, strings), alarms

    async def _status(self, client: AsyncHuaweiSolar, unit: int) -> str | None:
        try:
            return str((await client.get(rn.DEVICE_STATUS, unit)).value)
        except DecodeError:
            log.warning("huawei_status_unknown", host=self.host, unit=unit)
            return None

    async def _connect(self) -> AsyncHuaweiSolar:
        modbus = AsyncHuaweiSolarModbusTcpClient(self.host, self.port, int(self.timeout_s))
        # huawei-solar 2.5 keeps `connected_event` on the client *class*, shared by every
        # connection in the process: one link going down would stall all the others. Each
        # link gets its own, which is why the client is built here rather than by `create`.
        modbus.connected_event = asyncio.Event()
        if not await modbus.connect():
            modbus.close()
            raise ConnectionError(f"no connection to {self.host}:{self.port}")
        self._client = AsyncHuaweiSolar(modbus, timeout=int(self.timeout_s))
        self._strings.clear()
        return self._client

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self.loop.run(client.stop(), self.timeout_s)


class HuaweiDevice:
    """One SUN2000 at a unit id of a link."""

    def __init__(self, link: HuaweiLink, unit: int) -> None:
        self.link, self.unit = link, unit
        self._reported: set[int] = set()

    def poll(self, ts: int) -> Reading:
        reading, alarms = self.link.read(self.unit, ts)
        other = {a.id: a for a in unmapped(alarms)}
        for alarm_id in other.keys() - self._reported:
            log.warning(
                "huawei_alarm_unmapped",
                host=self.link.host,
                unit=self.unit,
                alarm_id=alarm_id,
                alarm=other[alarm_id].name,
                level=other[alarm_id].level,
            )
        self._reported = set(other)
        return reading

    def close(self) -> None:
        self.link.close()
