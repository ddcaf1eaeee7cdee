"""What analytics can find wrong: the vocabulary shared by analytics, alerts and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FindingKind(StrEnum):
    COMM_LOSS = "comm_loss"
    """No telemetry from a station in daylight."""
    DEVICE_SILENT = "device_silent"
    """An inverter says nothing while its station's logger reports."""
    ZERO_OUTPUT = "zero_output"
    """No output in daylight while comparable stations nearby produce."""
    FAULT_STATE = "fault_state"
    """An inverter reports its fault state or alarm events."""
    UNDERPERFORMANCE = "underperformance"
    """Output persistently below the station's usual level against its peers."""
    PROFILE_LOSS = "profile_loss"
    """Output lost in some hours of clear days against peers (shade, a string in the heat)."""
    DEGRADATION = "degradation"
    """The station's modules lose output faster than allowed, year on year."""
    SOILING = "soiling"
    """The dust on a station's modules cost more over the last weeks than a cleaning."""
    BAD_DATA = "bad_data"
    """Most of a device's readings of a day were stale, interpolated, outliers or off its
    clock's grid: the data cannot be trusted, whatever they say."""
    CLOCK_SHIFT = "clock_shift"
    """A device's output comes earlier or later against its township's than it used to:
    its logger's clock drifted or was set wrong, and its readings' times cannot be trusted."""
    CERT_MISSING = "cert_missing"
    CERT_EXPIRED = "cert_expired"
    CERT_REVIEW_OVERDUE = "cert_review_overdue"
    CERT_DUE = "cert_due"
    """A valid certificate whose expiry or review falls within 60 days."""
    STATION_UNCOVERED = "station_uncovered"
    """No validly certified responsible maintainer."""
    TARGET_AT_RISK = "target_at_risk"
    VILLAGE_INCOME_AT_RISK = "village_income_at_risk"
    ORDER_LATE = "order_late"
    """Work orders of a station past their deadline and not done."""
    SETTLEMENT_DEVIATION = "settlement_deviation"
    """A settled month differs from the telemetry estimate beyond the allowed share."""
    SETTLEMENT_MISSING = "settlement_missing"
    """A settled station's statement for a month is overdue."""


LIVE_KINDS = frozenset(
    {
        FindingKind.COMM_LOSS,
        FindingKind.DEVICE_SILENT,
        FindingKind.ZERO_OUTPUT,
        FindingKind.FAULT_STATE,
    }
)
"""Found from the last minutes of telemetry by the frequent job."""
OPERATING_RULES = frozenset(
    {
        *(str(k) for k in LIVE_KINDS),
        str(FindingKind.UNDERPERFORMANCE),
        str(FindingKind.PROFILE_LOSS),
        "device_silent_days",
    }
)
"""The alert rules about how a station's equipment runs: they make its state a fault or a
warning. A station without a certified maintainer is a staffing finding: it is listed
under certification, while the station itself may be producing normally."""


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Subject(StrEnum):
    STATION = "station"
    DEVICE = "device"
    MAINTAINER = "maintainer"
    VILLAGE = "village"
    FLEET = "fleet"


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    subject_type: Subject
    subject_id: str
    severity: Severity
    since: dt.datetime
    evidence: dict[str, Any] = field(default_factory=dict)
    station_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (str(self.kind), self.subject_id)
