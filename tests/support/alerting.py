"""Helpers of the alert tests: settings with real receivers, findings as analytics writes
them, and stations picked from the default registry by how their crews are certified."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from alerts import actions
from alerts.routing import Directory
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.findings import sync_findings
from pvmon.domain import StationKind
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.settings import Settings, load_settings
from tests.support.receivers import HttpReceiver, Received
from tests.support.services import AS_OF

T0 = dt.datetime.combine(AS_OF, dt.time(6, 0), dt.UTC)  # 14:00 in Yonghe
MIN = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def settings_for(tmp_path: Path, engine: Engine, receiver: HttpReceiver, **alerts: Any) -> Settings:
    config: dict[str, Any] = {
        "wecom": [{"name": "county", "url": receiver.url("/wecom")}],
        "sms": {"url": receiver.url("/sms")},
        "quiet_hours": None,
        "repeat_h": 2,
        "escalation": [{"after_h": 4, "to": "supervisor"}, {"after_h": 24, "to": "bureau"}],
        "resolve_after_min": 15,
        "base_url": "http://pv.example",
    }
    config.update(alerts)
    return load_settings(
        data_dir=tmp_path,
        database_url=engine.url.render_as_string(hide_password=False),
        alerts=config,
    )


def find(engine: Engine, now: dt.datetime, *found: Finding, kind: FindingKind) -> None:
    """What analytics does after each run: the findings of ``kind`` that hold now."""
    with session_factory(engine).begin() as session:
        evaluated = {(str(kind), s) for s in _all_subjects(session, kind)}
        evaluated |= {f.key for f in found}
        sync_findings(session, found, evaluated, now)


def _all_subjects(session: Any, kind: FindingKind) -> set[str]:
    rows = session.scalars(
        select(tables.Finding.subject_id).where(tables.Finding.kind == str(kind))
    )
    return set(rows)


def comm_loss(station: str, since: dt.datetime) -> Finding:
    return Finding(
        FindingKind.COMM_LOSS,
        Subject.STATION,
        station,
        Severity.CRITICAL,
        since,
        {"minutes_without_data": 30, "logger_online": False},
        station,
    )


def certified_station(d: Directory) -> str:
    for sid, crew in sorted(d.crews.items()):
        s = d.stations[sid]
        need = d.required[StationKind(s.kind)]
        if s.kind == StationKind.VILLAGE and crew and all((p, need) in d.certified for p in crew):
            return sid
    raise AssertionError("the default registry has certified village stations")


def uncovered_station(d: Directory) -> str:
    for sid, crew in sorted(d.crews.items()):
        s = d.stations[sid]
        need = d.required[StationKind(s.kind)]
        if s.kind == StationKind.VILLAGE and not any((p, need) in d.certified for p in crew):
            return sid
    raise AssertionError("the default registry has uncovered stations")


def wecom_ids(d: Directory, people: list[str]) -> list[str]:
    return sorted(d.people[p].wecom_id for p in people)  # type: ignore[misc]


def mentions(r: Received) -> list[str]:
    return sorted(r.json()["text"]["mentioned_list"])


def content(r: Received) -> str:
    return r.json()["text"]["content"]


def history(engine: Engine, alert_id: int) -> list[str]:
    with session_factory(engine)() as session:
        return [e.action for e in actions.history(session, alert_id)]


def alerts_of(engine: Engine) -> list[tables.Alert]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(tables.Alert).order_by(tables.Alert.id)))
