"""What every adapter is to the station gateway: a device polled for one reading, one
that may also hand over readings it missed (a cloud's history after an outage), the
failure they raise, and the one conversion of a device's value to the contract's number."""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

from pvmon.telemetry import Reading


class DeviceUnreachable(Exception):
    """The device (or the cloud that reads it) did not answer, or answered with nothing
    that can be read."""


class Device(Protocol):
    def poll(self, ts: int) -> Reading: ...

    def close(self) -> None: ...


@runtime_checkable
class CatchingUp(Device, Protocol):
    def missed(self) -> list[Reading]:
        """Readings from before the last poll that the device could not give at the time
        (oldest first), handed over once."""
        ...


def number(value: Any) -> float | None:
    """A value as the contract wants it: None for unimplemented or not a number."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None
