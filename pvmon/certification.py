"""Certification compliance (持证上岗), from the registry and a day (pure).

Each maintainer needs a valid certificate of the type their stations require (low-voltage
for village and household arrays, high-voltage for the centralized station's MV side;
configurable per station kind). A certificate is invalid once expired or once its
three-year review is overdue. A station whose responsible maintainers hold no valid
certificate of the required type is uncovered: its alerts go to the bureau.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from pvmon.domain import CertificateTerms, CertState, CertType, PersonRole, StationKind
from pvmon.domain import certificate_state as state_of
from pvmon.i18n import Lang, text
from pvmon.registry.schema import CertificateRow, Registry

DUE_WINDOW_DAYS = 60


@dataclass(frozen=True)
class Requirement:
    person_id: str
    name: str
    cert_type: CertType
    state: CertState | None
    """None: no certificate of this type at all."""
    certificate_id: str | None
    expires_on: dt.date | None
    review_due_on: dt.date | None
    due: str | None = None
    """'expiry' or 'review' when one falls within the window; None otherwise."""
    due_on: dt.date | None = None

    @property
    def valid(self) -> bool:
        return self.state == CertState.VALID


@dataclass(frozen=True)
class Compliance:
    on: dt.date
    requirements: list[Requirement]
    uncovered_stations: dict[str, list[str]] = field(default_factory=dict)
    """station → its responsible maintainers, none validly certified"""
    uncovered_villages: dict[str, list[str]] = field(default_factory=dict)
    """village → maintainers of its household arrays, none validly certified"""

    @property
    def maintainers(self) -> int:
        return len({r.person_id for r in self.requirements})

    @property
    def certified(self) -> int:
        invalid = {r.person_id for r in self.requirements if not r.valid}
        return self.maintainers - len(invalid)

    @property
    def rate(self) -> float:
        return self.certified / self.maintainers if self.maintainers else 1.0

    def invalid(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.valid]

    def due_soon(self) -> list[Requirement]:
        return [r for r in self.requirements if r.valid and r.due]


def _best(certs: list[CertificateRow], on: dt.date) -> CertificateRow | None:
    """The certificate that matters: a valid one if any, else the most recent."""
    valid = [c for c in certs if state_of(_terms(c), on) == CertState.VALID]
    pool = valid or certs
    return max(pool, key=lambda c: c.expires_on) if pool else None


def _terms(c: CertificateRow) -> CertificateTerms:
    return CertificateTerms(c.issued_on, c.expires_on, c.review_due_on, c.reviewed_on)


def _due(cert: CertificateRow, on: dt.date, window: int) -> tuple[str | None, dt.date | None]:
    horizon = on + dt.timedelta(days=window)
    if cert.reviewed_on is None and on <= cert.review_due_on <= horizon:
        return "review", cert.review_due_on
    if on <= cert.expires_on <= horizon:
        return "expiry", cert.expires_on
    return None, None


def compliance(
    registry: Registry,
    on: dt.date,
    required: Mapping[StationKind, CertType],
    window_days: int = DUE_WINDOW_DAYS,
) -> Compliance:
    kinds = {s.id: StationKind(s.kind) for s in registry.stations}
    people = {p.id: p for p in registry.people}
    needs: dict[str, set[CertType]] = defaultdict(set)
    for link in registry.station_maintainers:
        needs[link.person_id].add(required[kinds[link.station_id]])
    for link in registry.village_maintainers:
        needs[link.person_id].add(required[StationKind.HOUSEHOLD])
    for p in registry.people:
        if p.role == PersonRole.MAINTAINER and not needs[p.id]:
            needs[p.id].add(required[StationKind.VILLAGE])
    held: dict[tuple[str, CertType], list[CertificateRow]] = defaultdict(list)
    for c in registry.certificates:
        held[(c.person_id, CertType(c.cert_type))].append(c)
    requirements = []
    for person_id in sorted(needs):
        for cert_type in sorted(needs[person_id]):
            cert = _best(held[(person_id, cert_type)], on)
            due, due_on = _due(cert, on, window_days) if cert else (None, None)
            requirements.append(
                Requirement(
                    person_id,
                    people[person_id].name,
                    cert_type,
                    state_of(_terms(cert), on) if cert else None,
                    cert.id if cert else None,
                    cert.expires_on if cert else None,
                    cert.review_due_on if cert else None,
                    due,
                    due_on,
                )
            )
    valid = {(r.person_id, r.cert_type) for r in requirements if r.valid}
    return Compliance(on, requirements, *_uncovered(registry, kinds, required, valid))


def _uncovered(
    registry: Registry,
    kinds: dict[str, StationKind],
    required: Mapping[StationKind, CertType],
    valid: set[tuple[str, CertType]],
) -> tuple[dict, dict]:
    crews = defaultdict(list, registry.crews())
    stations = {}
    for s in registry.stations:
        if kinds[s.id] == StationKind.HOUSEHOLD:
            continue
        need = required[kinds[s.id]]
        if not any((p, need) in valid for p in crews[s.id]):
            stations[s.id] = crews[s.id]
    village_crews = defaultdict(list, registry.village_crews())
    need = required[StationKind.HOUSEHOLD]
    with_households = {
        s.village_id for s in registry.stations if kinds[s.id] == StationKind.HOUSEHOLD
    }
    villages = {
        v: village_crews[v]
        for v in sorted(with_households)
        if not any((p, need) in valid for p in village_crews[v])
    }
    return stations, villages


def crew_of(registry: Registry, station_id: str) -> list[str]:
    """The people responsible for a station: its maintainers, or for a household array
    its village's."""
    station = next(s for s in registry.stations if s.id == station_id)
    if StationKind(station.kind) == StationKind.HOUSEHOLD:
        return registry.village_crews().get(station.village_id, [])
    return registry.crews().get(station_id, [])


@dataclass(frozen=True)
class Refusal:
    """Why something may not be done, as words of the catalog (``key``, ``values``)."""

    key: str
    values: dict[str, str] = field(default_factory=dict)

    def say(self, lang: Lang = "en") -> str:
        words = dict(self.values)
        for name, prefix in (("cert", "cert."), ("state", "cert_state.")):
            if name in words:
                words[name] = text(prefix + words[name], lang)
        return text(self.key, lang, **words)


def why_not_maintainer(
    registry: Registry,
    station_id: str,
    person_id: str,
    on: dt.date,
    required: Mapping[StationKind, CertType],
) -> Refusal | None:
    """Why ``person_id`` may not work on the station on ``on`` (None: they may): the same
    rule that routes its alerts — a responsible maintainer of it holding a valid
    certificate of the type its kind requires."""
    kind = next(StationKind(s.kind) for s in registry.stations if s.id == station_id)
    who = {"person": person_id, "station": station_id}
    if person_id not in crew_of(registry, station_id):
        return Refusal("refused.not_crew", who)
    need = required[kind]
    held = [c for c in registry.certificates if c.person_id == person_id and c.cert_type == need]
    cert = _best(held, on)
    if cert is None:
        return Refusal("refused.no_cert", {**who, "cert": str(need)})
    state = state_of(_terms(cert), on)
    if state != CertState.VALID:
        values = {**who, "cert": str(need), "id": cert.id, "state": str(state), "on": str(on)}
        return Refusal("refused.cert_invalid", values)
    return None
