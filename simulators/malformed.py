"""Malformed messages of every kind ingest must refuse, each with the reason it must give."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from pvmon.telemetry import Reason, telemetry_topic
from simulators.fleet_arrays import SimFleet

OVERSIZED_BYTES = 20_000
UNKNOWN_STATION = "ZZ999"
UNKNOWN_DEVICE = "X00NOSUCH0"


@dataclass(frozen=True)
class Injection:
    reason: Reason
    station: int | None
    """The logger that sends it; None for a rogue client that is no logger at all."""
    topic: str
    payload: bytes


def make_injection(  # noqa: PLR0912 - one branch per reason reads best
    reason: Reason,
    fleet: SimFleet,
    rng: random.Random,
    ts: int,
    wall_now: float,
    late_window_s: float,
) -> Injection:
    s = rng.randrange(len(fleet.stations))
    station = fleet.stations[s]
    device = fleet.device_ids[rng.choice(station.devices)]
    topic = telemetry_topic(station.id, device)
    good = {"ts": ts, "W": 1000.0, "St": 4}

    def body(**changes: object) -> bytes:
        return json.dumps({**good, **changes}).encode()

    match reason:
        case Reason.MALFORMED_JSON:
            payload = (
                b'{"ts": %d, "W": 12' % ts
                if rng.random() < 0.5
                else bytes(rng.randrange(256) for _ in range(40)) + b"\xff\xfe"
            )
        case Reason.MISSING_FIELD:
            payload = json.dumps({"ts": ts, "WH": 1234}).encode()
        case Reason.INVALID_FIELD:
            payload = body(W="high") if rng.random() < 0.5 else body(ts="yesterday")
        case Reason.UNKNOWN_STATION:
            return Injection(reason, None, telemetry_topic(UNKNOWN_STATION, device), body())
        case Reason.UNKNOWN_DEVICE:
            topic = telemetry_topic(station.id, UNKNOWN_DEVICE)
            payload = body()
        case Reason.DEVICE_MISMATCH:
            others = [i for i in range(fleet.size) if fleet.station_of[i] != s]
            if not others:
                raise ValueError("device_mismatch needs at least two simulated stations")
            topic = telemetry_topic(station.id, fleet.device_ids[rng.choice(others)])
            payload = body()
        case Reason.OUT_OF_RANGE:
            payload = body(Hz=500.0) if rng.random() < 0.5 else body(TmpCab=-300.0)
        case Reason.NOT_FINITE:
            payload = body(W=float("nan")) if rng.random() < 0.5 else body(DCV=float("inf"))
        case Reason.FUTURE_TIME:
            payload = body(ts=int(wall_now + 86400))
        case Reason.TOO_OLD:
            payload = body(ts=int(wall_now - late_window_s - 30 * 86400))
        case Reason.OVERSIZED:
            payload = body(note="x" * OVERSIZED_BYTES)
        case Reason.BAD_TOPIC:
            topic = f"{topic}/extra"
            payload = body()
        case _:
            raise ValueError(f"cannot inject {reason}")
    return Injection(reason, s, topic, payload)
