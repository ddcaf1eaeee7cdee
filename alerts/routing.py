"""Who receives an alert, and through which channels (pure, from the registry).

A station's alerts go to its validly certified responsible maintainers. When none of them
is certified, the uncertified ones still hear of it but never alone: the township
supervisor and the bureau receive it too. A household array's outage goes to its
village's maintainers and, by SMS, to the household. Certification alerts go to the
maintainer and the bureau; fleet, target and uncovered-station alerts to the bureau.
Unacknowledged alerts add the escalation steps' recipients as the steps fall due.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from alerts.rules import DataRule
from pvmon.certification import compliance
from pvmon.domain import CertType, PersonRole, StationKind
from pvmon.findings import FindingKind, Severity
from pvmon.registry.lookup import FleetLookup
from pvmon.registry.schema import PersonRow, Registry, StationRow
from pvmon.settings import AlertSettings, RobotSettings

OUTAGE_RULES = frozenset(
    {
        str(FindingKind.COMM_LOSS),
        str(FindingKind.ZERO_OUTPUT),
        str(FindingKind.FAULT_STATE),
        str(FindingKind.DEVICE_SILENT),
        str(DataRule.DEVICE_SILENT_DAYS),
    }
)
"""What a household hears about its own array."""
CERT_RULES = frozenset(
    str(k)
    for k in (
        FindingKind.CERT_MISSING,
        FindingKind.CERT_EXPIRED,
        FindingKind.CERT_REVIEW_OVERDUE,
        FindingKind.CERT_DUE,
    )
)
BUREAU_RULES = frozenset(
    str(k)
    for k in (
        FindingKind.TARGET_AT_RISK,
        FindingKind.VILLAGE_INCOME_AT_RISK,
        FindingKind.SETTLEMENT_DEVIATION,
        FindingKind.SETTLEMENT_MISSING,
    )
)
"""The bureau's own: targets, and the money (a settlement that disagrees with the meter's
estimate, a statement that has not come)."""
SUPERVISED_RULES = frozenset({str(FindingKind.STATION_UNCOVERED), str(FindingKind.ORDER_LATE)})
"""The township's supervisor and the bureau hear of these first: a station nobody
certified looks after, work orders past their deadline."""


@dataclass(frozen=True)
class AlertTarget:
    """What routing needs to know of an alert."""

    rule: str
    subject_id: str
    station_id: str | None
    village_id: str | None
    township_id: str | None
    severity: Severity


@dataclass
class Directory(FleetLookup):
    """The registry seen from routing: the fleet's lookups, and who supervises and who is
    validly certified."""

    supervisors: dict[str, list[str]]
    bureau: list[str]
    certified: set[tuple[str, CertType]]
    required: dict[StationKind, CertType]

    @classmethod
    def build(  # type: ignore[override]
        cls, registry: Registry, on: dt.date, required: dict[StationKind, CertType]
    ) -> Directory:
        supervisors: dict[str, list[str]] = defaultdict(list)
        bureau = []
        for p in registry.people:
            if p.role == PersonRole.SUPERVISOR and p.township_id:
                supervisors[p.township_id].append(p.id)
            elif p.role == PersonRole.BUREAU:
                bureau.append(p.id)
        c = compliance(registry, on, required)
        return cls(
            **cls.lookups(registry),  # type: ignore[arg-type]
            supervisors=dict(supervisors),
            bureau=bureau,
            certified={(r.person_id, r.cert_type) for r in c.requirements if r.valid},
            required=dict(required),
        )

    def township_of(self, target: AlertTarget) -> str | None:
        if target.township_id:
            return target.township_id
        station = self.stations.get(target.station_id or "")
        if station:
            return station.township_id
        return self.township_of_village(target.village_id or "")


@dataclass(frozen=True)
class Recipient:
    person_id: str
    why: str
    """``responsible``, ``uncovered``, ``supervisor``, ``bureau``, ``subject``, ``household``"""
    sms_only: bool = False


def recipients(target: AlertTarget, stage: int, d: Directory, steps: list[str]) -> list[Recipient]:
    """Everyone an alert goes to once ``stage`` escalation steps (``steps``: each step's
    recipient group, ``supervisor`` or ``bureau``) have been taken."""
    found = _base(target, d)
    township = d.township_of(target)
    for group in steps[:stage]:
        found += _group(group, township, d)
    return _unique(found)


def _base(target: AlertTarget, d: Directory) -> list[Recipient]:
    township = d.township_of(target)
    if target.rule in CERT_RULES:
        return [Recipient(target.subject_id, "subject"), *_group("bureau", township, d)]
    if target.rule in BUREAU_RULES:
        return _group("bureau", township, d)
    if target.rule in SUPERVISED_RULES:
        return _group("supervisor", township, d) + _group("bureau", township, d)
    station = d.stations.get(target.station_id or "")
    if station is None:
        return _group("bureau", township, d)
    return _station(target, station, d)


def _station(target: AlertTarget, station: StationRow, d: Directory) -> list[Recipient]:
    kind = StationKind(station.kind)
    if kind == StationKind.HOUSEHOLD:
        crew = d.village_crews.get(station.village_id or "", [])
    else:
        crew = d.crews.get(station.id, [])
    need = d.required[kind]
    certified = [p for p in crew if (p, need) in d.certified]
    found = [Recipient(p, "responsible") for p in certified]
    if not certified:
        found = [Recipient(p, "uncovered") for p in crew]
        found += _group("supervisor", station.township_id, d)
        found += _group("bureau", station.township_id, d)
    if kind == StationKind.HOUSEHOLD and station.household_id and target.rule in OUTAGE_RULES:
        found.append(Recipient(station.household_id, "household", sms_only=True))
    return found


def _group(group: str, township: str | None, d: Directory) -> list[Recipient]:
    if group == "supervisor":
        return [Recipient(p, "supervisor") for p in d.supervisors.get(township or "", [])]
    return [Recipient(p, "bureau") for p in d.bureau]


def _unique(found: list[Recipient]) -> list[Recipient]:
    seen: dict[str, Recipient] = {}
    for r in found:
        seen.setdefault(r.person_id, r)
    return list(seen.values())


@dataclass(frozen=True)
class Destination:
    channel: str
    """``wecom``, ``dingtalk``, ``email``, ``sms`` or ``webhook``"""
    address: str
    """Robot or webhook name, e-mail address, or mobile number."""


def destinations(
    r: Recipient, person: PersonRow, severity: Severity, cfg: AlertSettings
) -> list[tuple[Destination, str | None]]:
    """Where one recipient is reached, each with the id to mention in a robot group."""
    out: list[tuple[Destination, str | None]] = []
    sms_ok = cfg.sms is not None and person.mobile
    if r.sms_only:
        return [(Destination("sms", person.mobile), None)] if sms_ok else []
    for channel, robots, user in (
        ("wecom", cfg.wecom, person.wecom_id),
        ("dingtalk", cfg.dingtalk, person.dingtalk_id),
    ):
        if user:
            out += [(Destination(channel, b.name), user) for b in _covering(robots, person)]
    if cfg.smtp and person.email:
        out.append((Destination("email", person.email), None))
    if sms_ok and cfg.sms and severity in cfg.sms.severities:
        out.append((Destination("sms", person.mobile), None))
    return out


def _covering(robots: list[RobotSettings], person: PersonRow) -> list[RobotSettings]:
    """Robots of the groups the person is in: county-wide ones, and their township's."""
    return [b for b in robots if not b.townships or person.township_id in b.townships]
