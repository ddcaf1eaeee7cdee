"""A batch of received messages sorted into what each part of the store needs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ingest.parse import Event, LoggerState, Parsed, Reading, Rejection
from pvmon.influx.schema import event_line, telemetry_line
from pvmon.localtime import day_start, local_day


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message as it crossed from paho's thread into ours."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: float
    session: int
    """Which broker connection delivered it; acknowledgements go only to that one."""


@dataclass(frozen=True, slots=True)
class DeviceSeen:
    station: str
    last_ts: int
    received_at: float


def reading_line(r: Reading) -> str:
    return telemetry_line(r.station, r.device, r.kind, r.township, r.ts, r.fields)


def reading_event_line(e: Event) -> str:
    return event_line(e.station, e.device, e.kind, e.township, e.ts, e.code, e.evt1, e.text)


@dataclass
class Batch:
    tz: ZoneInfo
    today_start: float
    """Epoch seconds of local midnight today: older readings land on a day already over."""
    messages: list[Inbound] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    line_owner: list[int] = field(default_factory=list)
    rejected: list[tuple[int, Rejection]] = field(default_factory=list)
    logger_states: dict[str, tuple[bool, float]] = field(default_factory=dict)
    devices_seen: dict[str, DeviceSeen] = field(default_factory=dict)
    late_days: dict[tuple[str, dt.date], float] = field(default_factory=dict)
    readings: int = 0
    events: int = 0
    ignored_fields: int = 0

    @classmethod
    def starting(cls, tz: ZoneInfo, now: float) -> Batch:
        return cls(tz=tz, today_start=day_start(local_day(now, tz), tz))

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, message: Inbound, parsed: Parsed) -> None:
        index = len(self.messages)
        self.messages.append(message)
        if isinstance(parsed, Rejection):
            self.rejected.append((index, parsed))
        elif isinstance(parsed, LoggerState):
            self.logger_states[parsed.station] = (parsed.online, message.received_at)
        elif isinstance(parsed, Reading):
            self._line(index, reading_line(parsed))
            self.readings += 1
            self.ignored_fields += len(parsed.ignored)
            self._seen(parsed, message.received_at)
        else:
            self._line(index, reading_event_line(parsed))
            self.events += 1

    def reject_line(self, line_index: int, rejection: Rejection) -> None:
        """The store refused a line for good: its message goes to the dead letter."""
        self.rejected.append((self.line_owner[line_index], rejection))

    def _line(self, index: int, line: str) -> None:
        self.lines.append(line)
        self.line_owner.append(index)

    def _seen(self, r: Reading, received_at: float) -> None:
        known = self.devices_seen.get(r.device)
        if known is None or r.ts > known.last_ts:
            self.devices_seen[r.device] = DeviceSeen(r.station, r.ts, received_at)
        if r.ts < self.today_start:
            day = local_day(r.ts, self.tz)
            self.late_days[(r.station, day)] = received_at
