"""What the simulator sent, as the broker confirmed it: the figures tests compare with."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any


@dataclass(frozen=True, slots=True)
class Sent:
    """One publish waiting for the broker's acknowledgement."""

    category: str
    """telemetry | event | status | malformed:<reason>"""
    station: str
    record: dict[str, Any] | None = None


@dataclass
class Report:
    start: int = 0
    end: int = 0
    confirmed: Counter[str] = field(default_factory=Counter)
    telemetry_by_station: Counter[str] = field(default_factory=Counter)
    dropped_at_source: int = 0
    """Readings a logger lost during a communication loss without buffering."""
    backlog_published: int = 0
    unconfirmed: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)
    publish_log: IO[str] | None = None

    def confirm(self, sent: Sent) -> None:
        self.confirmed[sent.category] += 1
        if sent.category == "telemetry":
            self.telemetry_by_station[sent.station] += 1
            if self.publish_log is not None and sent.record is not None:
                self.publish_log.write(json.dumps(sent.record) + "\n")

    @property
    def malformed(self) -> dict[str, int]:
        return {
            k.split(":", 1)[1]: v for k, v in self.confirmed.items() if k.startswith("malformed:")
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "telemetry": self.confirmed["telemetry"],
            "events": self.confirmed["event"],
            "status": self.confirmed["status"],
            "malformed": self.malformed,
            "telemetry_by_station": dict(self.telemetry_by_station),
            "dropped_at_source": self.dropped_at_source,
            "backlog_published": self.backlog_published,
            "unconfirmed": self.unconfirmed,
            "faults": self.faults,
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False))
