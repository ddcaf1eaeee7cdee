"""From an MQTT message to a typed record, or a rejection with its reason (pure)."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

import orjson

from ingest.fleetindex import FleetIndex, StationInfo
from pvmon.settings import IngestSettings
from pvmon.telemetry import (
    EARLIEST_TS,
    FIELD_RANGES,
    FLOAT_FIELDS,
    INT_FIELDS,
    KNOWN_FIELDS,
    POWER_HEADROOM,
    MessageKind,
    Reason,
    TopicError,
    parse_topic,
)

EVENT_TEXT_MAX = 256


@dataclass(frozen=True, slots=True)
class Limits:
    late_window_s: float
    future_skew_s: float
    max_payload_bytes: int

    @classmethod
    def of(cls, cfg: IngestSettings) -> Limits:
        return cls(cfg.late_window_days * 86400, cfg.max_future_skew_s, cfg.max_payload_bytes)


@dataclass(frozen=True, slots=True)
class Reading:
    station: str
    device: str
    kind: str
    township: str
    ts: int
    fields: dict[str, float | int]
    ignored: tuple[str, ...] = ()
    """Fields outside the contract, counted but not stored."""


@dataclass(frozen=True, slots=True)
class Event:
    station: str
    device: str
    kind: str
    township: str
    ts: int
    code: int
    evt1: int | None
    text: str | None


@dataclass(frozen=True, slots=True)
class LoggerState:
    station: str
    online: bool


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str
    station: str | None = None
    device: str | None = None


Parsed = Reading | Event | LoggerState | Rejection


class _Refused(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def parse_message(
    topic: str, payload: bytes, index: FleetIndex, now: float, limits: Limits
) -> Parsed:
    station = device = None
    try:
        try:
            where = parse_topic(topic)
        except TopicError as exc:
            where, topic_error = None, str(exc)
        else:
            station, device = where.station, where.device
        if len(payload) > limits.max_payload_bytes:
            raise _Refused(
                Reason.OVERSIZED,
                f"payload of {len(payload)} bytes exceeds {limits.max_payload_bytes}",
            )
        if where is None:
            raise _Refused(Reason.BAD_TOPIC, topic_error)
        info = index.stations.get(station)
        if info is None:
            raise _Refused(Reason.UNKNOWN_STATION, f"station {station!r} is not in the registry")
        if where.kind == MessageKind.STATUS:
            return LoggerState(station, _status(payload))
        assert device is not None
        _check_device(index, station, device)
        body = _json_object(payload)
        ts = _timestamp(body, now, limits)
        if where.kind == MessageKind.EVENT:
            return _event(body, station, device, info, ts)
        return _reading(body, station, device, info, ts, index.devices[device].rated_w)
    except _Refused as refused:
        return Rejection(refused.reason, refused.detail, station, device)


def _status(payload: bytes) -> bool:
    text = payload.decode("utf-8", "replace").strip().lower()
    if text not in ("online", "offline"):
        raise _Refused(
            Reason.INVALID_FIELD, f"status must be 'online' or 'offline', got {text!r:.60}"
        )
    return text == "online"


def _check_device(index: FleetIndex, station: str, device: str) -> None:
    known = index.devices.get(device)
    if known is None:
        raise _Refused(Reason.UNKNOWN_DEVICE, f"device {device!r} is not in the registry")
    if known.station != station:
        raise _Refused(
            Reason.DEVICE_MISMATCH,
            f"device {device!r} belongs to {known.station!r}, not {station!r}",
        )


def _json_object(payload: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        # The standard library also reads NaN, Infinity and integers beyond 64 bits, which
        # orjson refuses; those get their own, more useful reasons below.
        try:
            body = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise _Refused(Reason.MALFORMED_JSON, f"not valid JSON: {exc}"[:300]) from None
    if not isinstance(body, dict):
        raise _Refused(
            Reason.INVALID_FIELD, f"payload must be a JSON object, got {type(body).__name__}"
        )
    return body


def _timestamp(body: dict[str, Any], now: float, limits: Limits) -> int:
    if "ts" not in body:
        raise _Refused(Reason.MISSING_FIELD, "missing field 'ts'")
    raw = body["ts"]
    if isinstance(raw, bool):
        raise _Refused(Reason.INVALID_FIELD, f"ts must be RFC 3339 or epoch seconds, got {raw!r}")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise _Refused(Reason.NOT_FINITE, f"ts is {raw}")
        ts = math.floor(raw)
    elif isinstance(raw, str):
        ts = _rfc3339(raw)
    else:
        raise _Refused(
            Reason.INVALID_FIELD, f"ts must be RFC 3339 or epoch seconds, got {raw!r:.60}"
        )
    if ts > now + limits.future_skew_s:
        raise _Refused(Reason.FUTURE_TIME, f"ts {ts} is {ts - now:.0f} s in the future")
    if ts < max(EARLIEST_TS, now - limits.late_window_s):
        raise _Refused(
            Reason.TOO_OLD,
            f"ts {ts} is older than the late-data window ({limits.late_window_s / 86400:g} days)",
        )
    return ts


def _rfc3339(text: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _Refused(Reason.INVALID_FIELD, f"ts is not RFC 3339: {text!r:.60}") from None
    if moment.tzinfo is None:
        raise _Refused(Reason.INVALID_FIELD, f"ts has no UTC offset: {text!r:.60}")
    return math.floor(moment.timestamp())


def _number(name: str, raw: Any) -> float | int:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _Refused(Reason.INVALID_FIELD, f"{name} must be a number, got {raw!r:.60}")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise _Refused(Reason.NOT_FINITE, f"{name} is {raw}")
    low, high = FIELD_RANGES[name]
    if not low <= raw <= high:
        raise _Refused(Reason.OUT_OF_RANGE, f"{name}={raw!r:.40} is outside [{low:g}, {high:g}]")
    return raw


def _reading(
    body: dict[str, Any], station: str, device: str, info: StationInfo, ts: int, rated_w: float
) -> Reading:
    if body.get("W") is None:
        raise _Refused(Reason.MISSING_FIELD, "missing field 'W' (absent or null)")
    fields: dict[str, float | int] = {}
    for name in FLOAT_FIELDS:
        if name in body and body[name] is not None:
            fields[name] = float(_number(name, body[name]))
    for name in INT_FIELDS:
        if name in body and body[name] is not None:
            value = _number(name, body[name])
            if value != int(value):
                raise _Refused(Reason.INVALID_FIELD, f"{name} must be an integer, got {value!r}")
            fields[name] = int(value)
    if fields["W"] > POWER_HEADROOM * rated_w + 100:
        raise _Refused(
            Reason.OUT_OF_RANGE,
            f"W={fields['W']:.6g} exceeds {POWER_HEADROOM} × the rating {rated_w:g} W",
        )
    ignored = tuple(k for k in body if k not in KNOWN_FIELDS)
    return Reading(station, device, info.kind, info.township, ts, fields, ignored)


def _event(body: dict[str, Any], station: str, device: str, info: StationInfo, ts: int) -> Event:
    if "code" not in body:
        raise _Refused(Reason.MISSING_FIELD, "missing field 'code'")
    code = body["code"]
    if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code < 2**31:
        raise _Refused(
            Reason.INVALID_FIELD, f"code must be a non-negative integer, got {code!r:.60}"
        )
    evt1 = body.get("Evt1")
    if evt1 is not None:
        evt1 = _number("Evt1", evt1)
        if evt1 != int(evt1):
            raise _Refused(Reason.INVALID_FIELD, f"Evt1 must be an integer, got {evt1!r}")
        evt1 = int(evt1)
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        raise _Refused(Reason.INVALID_FIELD, f"text must be a string, got {text!r:.60}")
    return Event(
        station,
        device,
        info.kind,
        info.township,
        ts,
        code,
        evt1,
        text[:EVENT_TEXT_MAX] if text else None,
    )
