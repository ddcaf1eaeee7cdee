"""An alert row in words and in JSON, with names from the registry."""

from __future__ import annotations

from typing import Any

from alerts.messages import AlertText, phrase
from alerts.routing import Directory
from pvmon.db import tables
from pvmon.i18n import Lang


def place(a: tables.Alert, d: Directory, lang: Lang) -> str:
    """Where the alert is, as people say it: township and station, a person, a village."""
    township = d.township_names.get(a.township_id or "", "")
    station = d.stations.get(a.station_id or "")
    if a.subject_type == "maintainer":
        person = d.people.get(a.subject_id)
        return f"{township} {person.name if person else a.subject_id}".strip()
    if a.subject_type == "village":
        return f"{township} {d.village_name(a.subject_id)}".strip()
    if a.subject_type == "fleet":
        return phrase("fleet", lang)
    name = station.name if station else (a.station_id or a.subject_id)
    if a.subject_type == "device":
        name = f"{name} {phrase('inverter', lang)}{a.subject_id}"
    return f"{township} {name}".strip()


def link(base_url: str, alert_id: int) -> str:
    """The alert's page, where a maintainer acknowledges it from a phone."""
    return f"{base_url}/a/{alert_id}"


def text_of(a: tables.Alert, d: Directory, base_url: str, lang: Lang) -> AlertText:
    return AlertText(
        id=a.id,
        rule=a.rule,
        severity=a.severity,
        place=place(a, d, lang),
        since=a.since,
        evidence=a.evidence,
        link=link(base_url, a.id),
        opened_at=a.opened_at,
        resolved_by=_name(d, a.resolved_by),
    )


def _name(d: Directory, person_id: str | None) -> str | None:
    if person_id is None or person_id == "system":
        return person_id
    person = d.people.get(person_id)
    return person.name if person else person_id


def record(a: tables.Alert, base_url: str) -> dict[str, Any]:
    """The alert as JSON for webhooks and the API."""
    return {
        "id": a.id,
        "rule": a.rule,
        "dedup_key": a.dedup_key,
        "subject_type": a.subject_type,
        "subject_id": a.subject_id,
        "station_id": a.station_id,
        "village_id": a.village_id,
        "township_id": a.township_id,
        "severity": a.severity,
        "state": a.state,
        "since": a.since.isoformat(),
        "opened_at": a.opened_at.isoformat(),
        "acknowledged_at": a.acknowledged_at.isoformat() if a.acknowledged_at else None,
        "acknowledged_by": a.acknowledged_by,
        "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None,
        "resolved_by": a.resolved_by,
        "escalation_level": a.escalation_level,
        "evidence": a.evidence,
        "link": link(base_url, a.id),
    }
