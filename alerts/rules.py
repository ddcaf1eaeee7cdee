"""What raises an alert: every analytics finding, and ingest's data quality (pure).

A rule turns its inputs into conditions; a condition that holds keeps its alert open, and
one that no longer holds lets it resolve. Conditions carry a dedup key, so a station that
stays down is one alert however many times the analytics run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pvmon.findings import FindingKind, Severity, Subject


class DataRule(StrEnum):
    INGEST_REJECTS = "ingest_rejects"
    """Most of a device's messages in the last day were rejected."""
    DEVICE_SILENT_DAYS = "device_silent_days"
    """A device has sent nothing for days."""


FINDING_RULES = frozenset(str(k) for k in FindingKind)
DATA_RULES = frozenset(str(r) for r in DataRule)
ALL_RULES = FINDING_RULES | DATA_RULES


@dataclass(frozen=True)
class Condition:
    rule: str
    subject_type: Subject
    subject_id: str
    severity: Severity
    since: dt.datetime
    evidence: dict[str, Any] = field(default_factory=dict)
    station_id: str | None = None

    @property
    def dedup_key(self) -> str:
        return f"{self.rule}:{self.subject_id}"


@dataclass(frozen=True)
class ActiveFinding:
    """The part of an active finding row an alert needs."""

    kind: str
    subject_type: str
    subject_id: str
    station_id: str | None
    severity: str
    since: dt.datetime
    evidence: dict[str, Any]


def from_findings(findings: Iterable[ActiveFinding]) -> list[Condition]:
    return [
        Condition(
            f.kind,
            Subject(f.subject_type),
            f.subject_id,
            Severity(f.severity),
            f.since,
            dict(f.evidence),
            f.station_id,
        )
        for f in findings
        if f.kind in FINDING_RULES
    ]


@dataclass(frozen=True)
class DeviceTraffic:
    station_id: str
    rejected: int
    stored: int
    first_rejected: dt.datetime
    reasons: dict[str, int]


def mostly_rejected(
    traffic: Mapping[str, DeviceTraffic], share: float, minimum: int
) -> list[Condition]:
    """Devices whose messages over the window were mostly refused: a misconfigured logger,
    wrong firmware or a clock gone wrong, which no telemetry-based rule can see."""
    out = []
    for device, t in sorted(traffic.items()):
        total = t.rejected + t.stored
        if t.rejected < minimum or t.rejected / total <= share:
            continue
        out.append(
            Condition(
                DataRule.INGEST_REJECTS,
                Subject.DEVICE,
                device,
                Severity.WARNING,
                t.first_rejected,
                {
                    "rejected": t.rejected,
                    "stored": t.stored,
                    "share": round(t.rejected / total, 3),
                    "reasons": dict(sorted(t.reasons.items())),
                },
                t.station_id,
            )
        )
    return out


def silent_for_days(
    last_seen: Mapping[str, tuple[str, dt.datetime | None]],
    watching_since: dt.datetime,
    now: dt.datetime,
    days: float,
) -> list[Condition]:
    """Devices with nothing received for ``days`` (never seen counts from when ingest began
    watching, so a fresh installation does not flag the whole fleet)."""
    limit = dt.timedelta(days=days)
    out = []
    for device, (station, seen) in sorted(last_seen.items()):
        since = seen or watching_since
        if now - since < limit:
            continue
        out.append(
            Condition(
                DataRule.DEVICE_SILENT_DAYS,
                Subject.DEVICE,
                device,
                Severity.WARNING,
                since,
                {
                    "last_received_at": seen.isoformat() if seen else None,
                    "silent_days": round((now - since).total_seconds() / 86400, 1),
                },
                station,
            )
        )
    return out
