"""SunSpec inverters over Modbus TCP, read with pysunspec2 (its model definitions, scale
factors and scan of the map at 40000, 0 or 50000).

The inverter model is the first of 103/102/101 (integers with scale factors; ``WH`` an
acc32) or 113/112/111 (floats) that the device has; model 160 (multiple MPPT) gives the
DC side when the inverter model does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sunspec2.modbus.client import SunSpecModbusClientDeviceTCP, SunSpecModbusClientError
from sunspec2.modbus.modbus import ModbusClientError

from gateway.device import DeviceUnreachable, number
from pvmon.telemetry import Reading, dc_totals

INVERTER_MODELS = (103, 102, 101, 113, 112, 111)
MPPT_MODEL = 160
POINTS = ("W", "WH", "DCV", "DCA", "Hz", "TmpCab", "St", "Evt1")


def to_reading(
    ts: int, inverter: Mapping[str, Any], mppt: Sequence[Mapping[str, Any]] = ()
) -> Reading:
    """An inverter model's computed values (scale factors applied) and its MPPT modules'
    → a reading. ``W`` is 0 when the device leaves it unimplemented (a sleeping inverter
    of some makes)."""
    dca, dcv = number(inverter.get("DCA")), number(inverter.get("DCV"))
    if dca is None and dcv is None and mppt:
        dca, dcv = dc_totals((number(m.get("DCA")), number(m.get("DCV"))) for m in mppt)
    state, events = inverter.get("St"), inverter.get("Evt1")
    return Reading(
        ts=ts,
        W=number(inverter.get("W")) or 0.0,
        WH=number(inverter.get("WH")),
        DCV=dcv,
        DCA=dca,
        Hz=number(inverter.get("Hz")),
        TmpCab=number(inverter.get("TmpCab")),
        St=int(state) if state is not None else None,
        Evt1=int(events) if events is not None else None,
    )


class SunSpecDevice:
    """One inverter at (host, port, unit id). The map is scanned on the first poll and again
    after a failure; later polls re-read only the models used."""

    def __init__(self, host: str, port: int, unit: int, timeout_s: float = 5.0) -> None:
        self.host, self.port, self.unit, self.timeout_s = host, port, unit, timeout_s
        self._device: SunSpecModbusClientDeviceTCP | None = None

    def poll(self, ts: int) -> Reading:
        try:
            device = self._device or self._scan()
            inverter = next(device.models[m][0] for m in INVERTER_MODELS if m in device.models)
            inverter.read()
            values = {p: _value(inverter, p) for p in POINTS}
            modules: list[dict[str, Any]] = []
            if MPPT_MODEL in device.models:
                mppt = device.models[MPPT_MODEL][0]
                mppt.read()
                modules = [{p: _value(m, p) for p in ("DCA", "DCV")} for m in mppt.module]
        except (ModbusClientError, SunSpecModbusClientError, OSError, StopIteration) as exc:
            self.close()
            raise DeviceUnreachable(f"{self.host}:{self.port} unit {self.unit}: {exc}") from exc
        return to_reading(ts, values, modules)

    def _scan(self) -> SunSpecModbusClientDeviceTCP:
        device = SunSpecModbusClientDeviceTCP(
            slave_id=self.unit, ipaddr=self.host, ipport=self.port, timeout=self.timeout_s
        )
        try:
            device.scan()
        except Exception:
            device.close()
            raise
        if not any(m in device.models for m in INVERTER_MODELS):
            device.close()
            raise SunSpecModbusClientError("no inverter model (101-103, 111-113) in the map")
        self._device = device
        return device

    def close(self) -> None:
        if self._device is not None:
            self._device.close()
            self._device = None


def _value(group: Any, name: str) -> Any:
    point = getattr(group, name, None)
    if point is None:
        return None
    return point.cvalue if point.sf is not None else point.value
