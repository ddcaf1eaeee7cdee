"""The telemetry contract between data loggers and ingest (DESIGN §3).

Topics::

    pv/<station_id>/<device_id>/telemetry   JSON reading, QoS 1
    pv/<station_id>/<device_id>/event       JSON inverter alarm, QoS 1
    pv/<station_id>/status                  "online" / "offline" (the logger's last will)

A reading carries SunSpec-style fields: ``ts`` (RFC 3339 with offset, or epoch seconds),
``W`` (AC power, W), ``WH`` (lifetime AC energy counter, Wh), ``DCV``, ``DCA``, ``Hz``,
``TmpCab`` (°C), ``St`` (operating state), ``Evt1`` (alarm bits) and an optional ``seq``.
Only ``ts`` and ``W`` are required.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import IntEnum, StrEnum

import orjson

TOPIC_ROOT = "pv"

FLOAT_FIELDS = ("W", "WH", "DCV", "DCA", "Hz", "TmpCab")
INT_FIELDS = ("St", "Evt1", "seq")
REQUIRED_FIELDS = ("ts", "W")
KNOWN_FIELDS = frozenset(("ts", *FLOAT_FIELDS, *INT_FIELDS))

FIELD_RANGES: dict[str, tuple[float, float]] = {
    "W": (-50_000.0, 5_000_000.0),
    "WH": (0.0, 1e15),
    "DCV": (0.0, 2_000.0),
    "DCA": (0.0, 10_000.0),
    "Hz": (40.0, 70.0),
    "TmpCab": (-60.0, 150.0),
    "St": (0, 65_535),
    "Evt1": (0, 2**32 - 1),
    "seq": (0, 2**63 - 1),
}
"""Physically possible values; anything outside is out of range."""

POWER_HEADROOM = 1.5
"""A reading above 1.5 × the inverter's rating (plus 100 W) is out of range."""

EARLIEST_TS = 946_684_800  # 2000-01-01: no logger of this fleet predates it


class OperatingState(IntEnum):
    """SunSpec inverter model ``St``."""

    OFF = 1
    SLEEPING = 2
    STARTING = 3
    MPPT = 4
    THROTTLED = 5
    SHUTTING_DOWN = 6
    FAULT = 7
    STANDBY = 8


class EventBit(IntEnum):
    """SunSpec ``Evt1`` alarm bits (the ones the fleet's inverters report)."""

    GROUND_FAULT = 0
    DC_OVER_VOLT = 1
    AC_DISCONNECT = 2
    DC_DISCONNECT = 3
    GRID_DISCONNECT = 4
    OVER_TEMP = 7
    OVER_FREQUENCY = 8
    UNDER_FREQUENCY = 9
    AC_OVER_VOLT = 10
    AC_UNDER_VOLT = 11
    BLOWN_STRING_FUSE = 12
    HW_TEST_FAILURE = 15


ALARM_CODE_BASE = 1000
"""An alarm event's ``code``: 1000 + its ``Evt1`` bit."""


class GatewayEvent(IntEnum):
    """Event codes a gateway sends about a device it polls (not the device's own alarms)."""

    NO_RESPONSE = 2001
    ANSWERS_AGAIN = 2002


class Reason(StrEnum):
    """Why ingest refused a message; every refused message is kept with one of these."""

    MALFORMED_JSON = "malformed_json"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    UNKNOWN_STATION = "unknown_station"
    UNKNOWN_DEVICE = "unknown_device"
    DEVICE_MISMATCH = "device_mismatch"
    OUT_OF_RANGE = "out_of_range"
    NOT_FINITE = "not_finite"
    FUTURE_TIME = "future_time"
    TOO_OLD = "too_old"
    OVERSIZED = "oversized"
    BAD_TOPIC = "bad_topic"
    STORE_REJECTED = "store_rejected"


class MessageKind(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading as a logger or a gateway sends it (the fields of the contract; None:
    the device does not report it)."""

    ts: int
    """Epoch seconds."""
    W: float
    WH: float | None = None
    DCV: float | None = None
    DCA: float | None = None
    Hz: float | None = None
    TmpCab: float | None = None
    St: int | None = None
    Evt1: int | None = None

    def payload(self) -> bytes:
        """The JSON message, without the fields the device does not report."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return orjson.dumps({k: v for k, v in values.items() if v is not None})


def dc_totals(
    inputs: Iterable[tuple[float | None, float | None]],
) -> tuple[float | None, float | None]:
    """(current, voltage) of each input → ``DCA`` the sum of the currents and ``DCV`` their
    current-weighted mean voltage (the plain mean when no current flows). Inputs that report
    neither are left out; (None, None) when none reports anything."""
    pairs = [(a, v) for a, v in inputs if a is not None and v is not None]
    if not pairs:
        return None, None
    current = sum(a for a, _ in pairs)
    if current > 0:
        return current, sum(a * v for a, v in pairs) / current
    return current, sum(v for _, v in pairs) / len(pairs)


def telemetry_topic(station: str, device: str) -> str:
    return f"{TOPIC_ROOT}/{station}/{device}/telemetry"


def event_topic(station: str, device: str) -> str:
    return f"{TOPIC_ROOT}/{station}/{device}/event"


def status_topic(station: str) -> str:
    return f"{TOPIC_ROOT}/{station}/status"


@dataclass(frozen=True, slots=True)
class Topic:
    kind: MessageKind
    station: str
    device: str | None = None


class TopicError(ValueError):
    pass


def parse_topic(topic: str) -> Topic:
    """Split a topic of the contract; anything else raises ``TopicError``."""
    parts = topic.split("/")
    if parts[0] != TOPIC_ROOT or any(not p for p in parts):
        raise TopicError(f"not a pv/… topic of the contract: {topic!r}")
    if len(parts) == 3 and parts[2] == MessageKind.STATUS:
        return Topic(MessageKind.STATUS, parts[1])
    if len(parts) == 4 and parts[3] in (MessageKind.TELEMETRY, MessageKind.EVENT):
        return Topic(MessageKind(parts[3]), parts[1], parts[2])
    raise TopicError(f"unexpected topic layout: {topic!r}")
