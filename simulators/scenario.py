"""Fault scenarios: what goes wrong, where and when, read from a TOML file.

Example::

    description = "a string fault and a logger that loses its link"

    [[faults]]
    kind = "output_loss"       # outage | fault | zero_output | output_loss | shading |
    stations = ["VS017"]       # soiling | comm_loss | backlog | counter_reset | stuck |
                               # cleaning | clock
    start = "+30m"             # after the simulation starts, or an RFC 3339 time
    duration = "2h"            # omitted: until the run ends
    factor = 0.3               # the share of output lost (output_loss, shading, soiling)

    [[faults]]
    kind = "shading"           # a tree in the morning sun: 20 % lost until 10:30 each day
    stations = ["HH0042"]
    hours = "00:00-10:30"      # local time of day
    factor = 0.2

    [[faults]]
    kind = "soiling"           # dust building up to 12 % over ten days, until washed
    stations = ["VS030"]
    build = "10d"
    factor = 0.12

    [[faults]]
    kind = "backlog"           # the logger buffers while offline and sends it all later
    random_stations = 3
    station_kind = "village"
    start = "+10m"
    duration = "45m"

    [[malformed]]
    reason = "not_finite"      # the reason ingest must give
    count = 5
    start = "+5m"

``outage``: the inverter is off and silent (its logger stays online). ``fault``: the
inverter trips: state 7 (FAULT), no output, alarm bits, and an event message.
``zero_output``: reports keep coming with no power (an open DC isolator). ``comm_loss``: the
logger's link drops (its last will says offline) and its readings are lost. ``backlog``: the
same, but the logger stores the readings and publishes them after reconnecting.
``counter_reset``: the lifetime energy counter restarts from zero at ``start``. ``stuck``:
the logger keeps sending the power it read at ``start`` (a frozen register) while the
counter goes on.
``shading``: ``factor`` of the output is lost within the local ``hours`` of every day.
``soiling``: the loss grows evenly from nothing at ``start`` to ``factor`` after ``build``
and stays until ``duration`` ends (a cleaning).
``cleaning``: the stations' modules are cleaned by hand on the local day of ``start``: the
season's dust (``simulators.soiling``) is gone and builds up again from then.
``clock``: from ``start`` the stations' loggers stamp their readings ``offset`` off the true
time (``offset = "-20m"``: their clock is 20 minutes behind), a clock set wrong or drifted.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pvmon.domain import StationKind
from pvmon.telemetry import Reason
from simulators.fleet_arrays import SimFleet

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class FaultKind(StrEnum):
    OUTAGE = "outage"
    FAULT = "fault"
    ZERO_OUTPUT = "zero_output"
    OUTPUT_LOSS = "output_loss"
    SHADING = "shading"
    SOILING = "soiling"
    COMM_LOSS = "comm_loss"
    BACKLOG = "backlog"
    COUNTER_RESET = "counter_reset"
    STUCK = "stuck"
    CLEANING = "cleaning"
    CLOCK = "clock"


LINK_FAULTS = frozenset({FaultKind.COMM_LOSS, FaultKind.BACKLOG})
PARTIAL_LOSSES = frozenset({FaultKind.OUTPUT_LOSS, FaultKind.SHADING, FaultKind.SOILING})
"""Faults that take a share (``factor``) of the output."""
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
INJECTABLE = frozenset(Reason) - {Reason.STORE_REJECTED}


def parse_duration(text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"duration must look like 90s, 30m, 2h or 1.5d, got {text!r}")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def parse_offset(text: str) -> int:
    """``-20m`` / ``+1h`` → whole seconds, not zero."""
    sign = -1 if text.strip().startswith("-") else 1
    seconds = sign * parse_duration(text.strip().lstrip("+-"))
    if seconds == 0 or seconds != int(seconds):
        raise ValueError(f"offset must be a whole number of seconds, not zero, got {text!r}")
    return int(seconds)


def parse_hours(text: str) -> tuple[int, int]:
    """``06:00-10:30`` → seconds of the local day where the window begins and ends."""
    match = _HOURS.match(text)
    if not match:
        raise ValueError(f"hours must look like 06:00-10:30, got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    begin, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if m1 > 59 or m2 > 59 or not 0 <= begin < end <= 86400:
        raise ValueError(f"hours must be a window within one day, got {text!r}")
    return begin, end


def resolve_time(text: str, start: int) -> int:
    """``+30m`` after ``start``, or an RFC 3339 time with offset."""
    if text.strip().startswith("+"):
        return start + int(parse_duration(text.strip()[1:]))
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time needs a UTC offset: {text!r}")
    return int(moment.timestamp())


class _Timed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: str = "+0s"
    duration: str | None = None

    @field_validator("start")
    @classmethod
    def _start_parses(cls, value: str) -> str:
        resolve_time(value, 0)
        return value

    @field_validator("duration")
    @classmethod
    def _duration_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value


class Fault(_Timed):
    kind: FaultKind
    stations: list[str] = Field(default_factory=list)
    devices: list[str] = Field(default_factory=list)
    random_stations: int = Field(0, ge=0)
    station_kind: StationKind | None = None
    factor: float | None = Field(None, gt=0, le=1)
    hours: str | None = None
    build: str | None = None
    offset: str | None = None

    @field_validator("offset")
    @classmethod
    def _offset_parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_offset(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours_parse(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value

    @field_validator("build")
    @classmethod
    def _build_parses(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value) <= 0:
            raise ValueError("build must be longer than nothing")
        return value

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Fault:
        if (self.kind in PARTIAL_LOSSES) != (self.factor is not None):
            raise ValueError(
                "factor (the share of output lost) is required for output_loss, shading and "
                "soiling, and only for them"
            )
        if (self.kind == FaultKind.SHADING) != (self.hours is not None):
            raise ValueError("hours (local, e.g. 06:00-10:30) is required for shading only")
        if (self.kind == FaultKind.SOILING) != (self.build is not None):
            raise ValueError("build (how long the dust takes to build up) is for soiling only")
        if (self.kind == FaultKind.CLOCK) != (self.offset is not None):
            raise ValueError("offset (e.g. -20m: the clock is behind) is for clock only")
        return self


class Malformed(_Timed):
    reason: Reason
    count: int = Field(1, ge=1, le=100_000)

    @field_validator("reason")
    @classmethod
    def _injectable(cls, value: Reason) -> Reason:
        if value not in INJECTABLE:
            raise ValueError(f"{value} cannot be injected by a logger")
        return value


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    faults: list[Fault] = Field(default_factory=list)
    malformed: list[Malformed] = Field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        try:
            return cls.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
            raise ValueError(f"scenario {path}: {exc}") from None


@dataclass(frozen=True)
class ActiveFault:
    kind: FaultKind
    stations: tuple[int, ...]
    devices: np.ndarray
    start: int
    end: int | None
    factor: float
    hours: tuple[int, int] | None = None
    """shading: the window of the local day, in seconds (with ``utc_offset``)."""
    utc_offset: int = 0
    build: int | None = None
    """soiling: seconds from nothing to ``factor``."""
    offset: int = 0
    """clock: seconds the loggers' stamps are off the true time."""

    def active(self, ts: np.ndarray) -> np.ndarray:
        on = ts >= self.start
        return on if self.end is None else on & (ts < self.end)

    def loss(self, ts: np.ndarray) -> np.ndarray:
        """The share of output this fault takes at ``ts`` (where it is active)."""
        if self.hours is not None:
            second = (ts + self.utc_offset) % 86400
            inside = (second >= self.hours[0]) & (second < self.hours[1])
            return np.where(inside, self.factor, 0.0)
        if self.build is not None:
            return self.factor * np.clip((ts - self.start) / self.build, 0.0, 1.0)
        return np.full(ts.shape, self.factor)

    def local_day(self) -> dt.date:
        """The local day it starts on."""
        return dt.datetime.fromtimestamp(self.start + self.utc_offset, dt.UTC).date()

    def covers(self, moment: int) -> bool:
        return moment >= self.start and (self.end is None or moment < self.end)


@dataclass(frozen=True)
class PlannedInjection:
    reason: Reason
    at: int


def resolve_faults(
    scenario: Scenario, fleet: SimFleet, start: int, seed: int, tz: dt.tzinfo
) -> list[ActiveFault]:
    """The scenario's faults on the fleet, in time from ``start``; local hours (shading)
    are read in ``tz`` at its offset at ``start`` (the county's zone has no daylight
    saving time)."""
    rng = random.Random(seed)
    offset = dt.datetime.fromtimestamp(start, tz).utcoffset()
    utc_offset = int(offset.total_seconds()) if offset else 0
    by_station = fleet.station_index()
    by_device = fleet.index_of()
    resolved = []
    for fault in scenario.faults:
        stations = _pick_stations(fault, fleet, by_station, rng)
        devices = {d for s in stations for d in fleet.stations[s].devices}
        for device in fault.devices:
            if device not in by_device:
                raise ValueError(f"fault {fault.kind}: device {device!r} is not simulated")
            devices.add(by_device[device])
            stations.append(int(fleet.station_of[by_device[device]]))
        if fault.kind in LINK_FAULTS and fault.devices:
            raise ValueError(f"{fault.kind} affects a logger: name stations, not devices")
        if not devices:
            raise ValueError(f"fault {fault.kind} names no station or device")
        begin = resolve_time(fault.start, start)
        end = begin + int(parse_duration(fault.duration)) if fault.duration else None
        factor = fault.factor if fault.factor is not None else 1.0
        resolved.append(
            ActiveFault(
                fault.kind,
                tuple(sorted(set(stations))),
                np.array(sorted(devices)),
                begin,
                end,
                factor,
                parse_hours(fault.hours) if fault.hours else None,
                utc_offset,
                int(parse_duration(fault.build)) if fault.build else None,
                parse_offset(fault.offset) if fault.offset else 0,
            )
        )
    return resolved


def _pick_stations(
    fault: Fault, fleet: SimFleet, by_station: dict[str, int], rng: random.Random
) -> list[int]:
    picked = []
    for sid in fault.stations:
        if sid not in by_station:
            raise ValueError(f"fault {fault.kind}: station {sid!r} is not simulated")
        picked.append(by_station[sid])
    if fault.random_stations:
        pool = [
            i
            for i, s in enumerate(fleet.stations)
            if (fault.station_kind is None or s.kind == fault.station_kind) and i not in picked
        ]
        if fault.random_stations > len(pool):
            raise ValueError(
                f"fault {fault.kind}: asks for {fault.random_stations} stations, "
                f"only {len(pool)} to choose from"
            )
        picked += rng.sample(pool, fault.random_stations)
    return picked


def plan_injections(scenario: Scenario, start: int) -> list[PlannedInjection]:
    """Each malformed message and when to send it (spread over ``duration``, default 1 min)."""
    planned = []
    for m in scenario.malformed:
        begin = resolve_time(m.start, start)
        spread = parse_duration(m.duration) if m.duration else 60.0
        planned += [
            PlannedInjection(m.reason, begin + int(spread * i / m.count)) for i in range(m.count)
        ]
    return sorted(planned, key=lambda p: p.at)
