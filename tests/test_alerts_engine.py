"""The alert engine on a real relational store (SQLite and PostgreSQL) with real receivers:
findings written by analytics become alerts that reach the right people, are repeated,
escalated and resolved, and are never duplicated."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from alerts import actions
from alerts.routing import Directory
from alerts.service import AlertService
from ingest.deadletter import DeadLetterRows
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.domain import StationKind
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from tests.support.alerting import (
    HOUR,
    MIN,
    T0,
    alerts_of,
    certified_station,
    comm_loss,
    content,
    find,
    history,
    mentions,
    settings_for,
    uncovered_station,
    wecom_ids,
)
from tests.support.receivers import HttpReceiver, closed_port_url
from tests.support.services import AS_OF

LETTERS = DeadLetterRows("w1", head_bytes=1024)
"""Dead letters as ingest keeps them."""


def test_a_failed_station_is_one_alert_repeated_escalated_then_resolved_with_a_notice(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = certified_station(directory)
    crew = directory.crews[station]
    supervisor = directory.supervisors[directory.stations[station].township_id]
    service = AlertService(settings_for(tmp_path, loaded_engine, receiver), loaded_engine, None)

    # The station fails; analytics finds it every five minutes for an hour.
    for minute in range(0, 60, 5):
        now = T0 + minute * MIN
        find(loaded_engine, now, comm_loss(station, T0 - 30 * MIN), kind=FindingKind.COMM_LOSS)
        service.tick(now)
    (alert,) = alerts_of(loaded_engine)
    (first,) = receiver.on("/wecom")
    assert mentions(first) == wecom_ids(directory, crew), "its certified maintainers, no one else"
    assert "通信中断" in content(first)
    assert f"http://pv.example/a/{alert.id}" in content(first)

    # Not acknowledged: repeated after two hours to the same people.
    find(loaded_engine, T0 + 2 * HOUR, comm_loss(station, T0), kind=FindingKind.COMM_LOSS)
    service.tick(T0 + 2 * HOUR)
    repeat = receiver.on("/wecom")[1]
    assert content(repeat).startswith("【告警未确认·再次提醒】")
    assert mentions(repeat) == wecom_ids(directory, crew)

    # Four hours: escalated to the township supervisor.
    find(loaded_engine, T0 + 4 * HOUR, comm_loss(station, T0), kind=FindingKind.COMM_LOSS)
    service.tick(T0 + 4 * HOUR)
    escalation = receiver.on("/wecom")[2]
    assert content(escalation).startswith("【告警升级】")
    assert mentions(escalation) == wecom_ids(directory, crew + supervisor)

    # The station recovers: resolved once it has stayed clear for 15 minutes.
    find(loaded_engine, T0 + 4 * HOUR + 5 * MIN, kind=FindingKind.COMM_LOSS)
    service.tick(T0 + 4 * HOUR + 5 * MIN)
    assert alerts_of(loaded_engine)[0].state == "open"
    assert len(receiver.on("/wecom")) == 3
    service.tick(T0 + 4 * HOUR + 20 * MIN)
    (resolved,) = alerts_of(loaded_engine)
    assert resolved.state == "resolved"
    assert resolved.resolved_by == "system"
    notice = receiver.on("/wecom")[3]
    assert content(notice).startswith("【告警已解除】")
    assert "自动解除" in content(notice)
    assert mentions(notice) == wecom_ids(directory, crew + supervisor)
    assert len(receiver.on("/wecom")) == 4
    assert history(loaded_engine, alert.id) == [
        "opened",
        "notified",
        "notified",
        "escalated",
        "notified",
        "condition_cleared",
        "resolved",
        "notified",
    ]


def test_an_uncovered_station_goes_to_its_maintainers_the_supervisor_and_the_bureau(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = uncovered_station(directory)
    crew = directory.crews[station]
    supervisor = directory.supervisors[directory.stations[station].township_id]
    service = AlertService(settings_for(tmp_path, loaded_engine, receiver), loaded_engine, None)
    find(loaded_engine, T0, comm_loss(station, T0), kind=FindingKind.COMM_LOSS)
    service.tick(T0)
    (sent,) = receiver.on("/wecom")
    assert mentions(sent) == wecom_ids(directory, crew + supervisor + directory.bureau)
    with session_factory(loaded_engine)() as session:
        (alert,) = actions.list_alerts(session, actions.AlertFilter(state="open"))
        (notified,) = [e for e in actions.history(session, alert.id) if e.action == "notified"]
    why = {r["person"]: r["why"] for r in notified.detail["recipients"]}
    assert {why[p] for p in crew} == {"uncovered"}
    assert {why[p] for p in supervisor} == {"supervisor"}


def test_a_household_outage_reaches_the_village_maintainer_and_the_household_by_sms(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = next(
        s
        for s in directory.stations.values()
        if s.kind == StationKind.HOUSEHOLD
        and all(
            (p, directory.required[StationKind.HOUSEHOLD]) in directory.certified
            for p in directory.village_crews[s.village_id or ""]
        )
    )
    household = directory.people[station.household_id or ""]
    crew = directory.village_crews[station.village_id or ""]
    service = AlertService(settings_for(tmp_path, loaded_engine, receiver), loaded_engine, None)
    find(loaded_engine, T0, comm_loss(station.id, T0), kind=FindingKind.COMM_LOSS)
    service.tick(T0)
    (robot,) = receiver.on("/wecom")
    assert mentions(robot) == wecom_ids(directory, crew)
    sms_to = sorted(r.json()["mobile"] for r in receiver.on("/sms"))
    staff_mobiles = [directory.people[p].mobile for p in crew]
    assert household.mobile in sms_to, "the household hears of its own array by SMS"
    assert sorted([household.mobile, *staff_mobiles]) == sms_to, "critical: staff by SMS too"


def test_certification_alerts_go_to_the_maintainer_and_the_bureau(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    person = sorted(p for p in directory.people if p.startswith("M"))[0]
    expired = Finding(
        FindingKind.CERT_EXPIRED,
        Subject.MAINTAINER,
        person,
        Severity.WARNING,
        T0 - 24 * HOUR,
        {"name": directory.people[person].name, "certificate": "C1", "expires_on": "2026-11-01"},
    )
    service = AlertService(settings_for(tmp_path, loaded_engine, receiver), loaded_engine, None)
    find(loaded_engine, T0, expired, kind=FindingKind.CERT_EXPIRED)
    service.tick(T0)
    (sent,) = receiver.on("/wecom")
    assert mentions(sent) == wecom_ids(directory, [person, *directory.bureau])
    assert "电工证已过期" in content(sent)
    assert receiver.on("/sms") == [], "a warning is not worth an SMS"


def test_acknowledged_alerts_are_not_repeated_and_a_hand_resolved_one_reopens_if_it_holds(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = certified_station(directory)
    maintainer = directory.crews[station][0]
    service = AlertService(settings_for(tmp_path, loaded_engine, receiver), loaded_engine, None)
    find(loaded_engine, T0, comm_loss(station, T0), kind=FindingKind.COMM_LOSS)
    service.tick(T0)
    (alert,) = alerts_of(loaded_engine)
    sessions = session_factory(loaded_engine)
    with sessions.begin() as session:
        actions.acknowledge(session, alert.id, maintainer, "api", T0 + MIN, note="on my way")
    service.tick(T0 + 30 * HOUR)
    assert len(receiver.on("/wecom")) == 1, "no repeat, no escalation once acknowledged"
    with sessions.begin() as session:
        actions.resolve_by_hand(session, alert.id, maintainer, "api", T0 + 31 * HOUR)
    with sessions.begin() as session, pytest.raises(actions.InvalidTransition):
        actions.acknowledge(session, alert.id, maintainer, "api", T0 + 31 * HOUR)
    service.tick(T0 + 31 * HOUR + MIN)  # the station is still silent
    (again,) = alerts_of(loaded_engine)
    assert again.state == "open"
    assert again.reopen_count == 1
    assert content(receiver.on("/wecom")[1]).startswith("【告警复发】")
    events = history(loaded_engine, alert.id)
    assert events[2:5] == ["acknowledged", "resolved", "reopened"]
    with sessions() as session:
        acked = [e for e in actions.history(session, alert.id) if e.action == "acknowledged"]
    assert (acked[0].actor, acked[0].channel, acked[0].detail["note"]) == (
        maintainer,
        "api",
        "on my way",
    )


def test_a_flapping_condition_is_kept_open_and_silent(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = certified_station(directory)
    settings = settings_for(
        tmp_path, loaded_engine, receiver, resolve_after_min=0, flap_reopens=2, flap_window_h=6
    )
    service = AlertService(settings, loaded_engine, None)
    now = T0
    for _ in range(5):  # down for ten minutes, up for ten, five times over
        find(loaded_engine, now, comm_loss(station, now), kind=FindingKind.COMM_LOSS)
        service.tick(now)
        now += 10 * MIN
        find(loaded_engine, now, kind=FindingKind.COMM_LOSS)
        service.tick(now)
        now += 10 * MIN
    (alert,) = alerts_of(loaded_engine)
    assert alert.flapping
    assert alert.state == "open", "kept open while it flaps"
    texts = [content(r).split("\n")[0] for r in receiver.on("/wecom")]
    assert texts == ["【光伏告警】", "【告警已解除】", "【告警复发】", "【告警已解除】"]
    assert "flapping" in history(loaded_engine, alert.id)
    # Stable for the flap window: resolved at last.
    service.tick(now + 6 * HOUR)
    assert alerts_of(loaded_engine)[0].state == "resolved"


def test_quiet_hours_hold_warnings_until_morning_but_not_critical_alerts(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = certified_station(directory)
    other = uncovered_station(directory)
    settings = settings_for(
        tmp_path, loaded_engine, receiver, quiet_hours=["22:00", "07:00"], sms=None
    )
    service = AlertService(settings, loaded_engine, None)
    night = dt.datetime.combine(AS_OF, dt.time(15, 0), dt.UTC)  # 23:00 in Yonghe
    under = Finding(
        FindingKind.UNDERPERFORMANCE,
        Subject.STATION,
        station,
        Severity.WARNING,
        night - 72 * HOUR,
        {"usual_peer_index": 0.98, "recent_peer_index": 0.8, "drop": 0.18},
        station,
    )
    find(loaded_engine, night, under, kind=FindingKind.UNDERPERFORMANCE)
    find(loaded_engine, night, comm_loss(other, night), kind=FindingKind.COMM_LOSS)
    service.tick(night)
    (urgent,) = receiver.on("/wecom")
    assert "通信中断" in content(urgent)
    service.tick(night + 7 * HOUR + 59 * MIN)  # 06:59: the critical one is escalated
    assert not [r for r in receiver.on("/wecom") if "发电持续偏低" in content(r)]
    before = len(receiver.on("/wecom"))
    service.tick(night + 8 * HOUR)  # 07:00
    (morning,) = receiver.on("/wecom")[before:]
    assert content(morning).startswith("【光伏告警】")
    assert "发电持续偏低" in content(morning)
    assert "对标指数0.8（平时0.98），下降18%" in content(morning)


def test_ingest_data_quality_raises_alerts_for_rejected_and_silent_devices(
    tmp_path: Path,
    loaded_engine: Engine,
    receiver: HttpReceiver,
    directory: Directory,
    influx: InfluxClient,
    default_registry: Registry,
) -> None:
    station = certified_station(directory)
    noisy, quiet, *_ = [i.id for i in default_registry.inverters if i.station_id == station] * 2
    others = [i for i in default_registry.inverters if i.id != quiet]
    settings = settings_for(tmp_path, loaded_engine, receiver, sms=None)
    recent = T0 - HOUR
    with session_factory(loaded_engine).begin() as session:
        session.add(
            tables.IngestWorker(
                worker_id="w1",
                host="h",
                pid=1,
                started_at=T0 - 10 * 24 * HOUR,
                heartbeat_at=T0,
                counters={},
            )
        )
        session.add_all(
            tables.DeviceStatus(
                device_id=i.id, station_id=i.station_id, last_ts=recent, last_received_at=recent
            )
            for i in others
        )
        session.add(
            tables.DeviceStatus(
                device_id=quiet,
                station_id=station,
                last_ts=T0 - 3 * 24 * HOUR,
                last_received_at=T0 - 3 * 24 * HOUR,
            )
        )
        reject(session, station, noisy, 30)
        session.add(  # an id nobody owns: counted by ingest, no device alert
            tables.DeadLetter(
                **LETTERS.row(T0 - HOUR, "pv/X/Y/telemetry", b"{}", "unknown_station", "")
            )
        )
    influx.write(
        [
            f"telemetry,device={noisy},kind=village,station={station},township=T01 W=1.0 "
            f"{int((T0 - n * MIN).timestamp())}"
            for n in range(5)
        ]
    )
    service = AlertService(settings, loaded_engine, influx)
    evaluation = service.evaluate(T0)
    assert evaluation.skipped_rules == []
    rules = {(a.rule, a.subject_id): a for a in alerts_of(loaded_engine)}
    assert set(rules) == {("ingest_rejects", noisy), ("device_silent_days", quiet)}
    rejects = rules[("ingest_rejects", noisy)].evidence
    assert (rejects["rejected"], rejects["stored"]) == (30, 5)
    assert rejects["reasons"] == {"far_future": 10, "out_of_range": 20}
    service.dispatch(T0)
    texts = [content(r) for r in receiver.on("/wecom")]
    assert any("数据大多被拒收" in t and "一天内30条被拒收，5条入库" in t for t in texts)
    assert any("设备多日无数据" in t for t in texts)


def test_when_influxdb_is_away_rejection_alerts_are_left_as_they_are(
    tmp_path: Path,
    loaded_engine: Engine,
    receiver: HttpReceiver,
    directory: Directory,
    influx: InfluxClient,
    default_registry: Registry,
) -> None:
    station = certified_station(directory)
    device = next(i.id for i in default_registry.inverters if i.station_id == station)
    with session_factory(loaded_engine).begin() as session:
        reject(session, station, device, 30)
    settings = settings_for(tmp_path, loaded_engine, receiver)
    AlertService(settings, loaded_engine, influx).evaluate(T0)
    (opened,) = alerts_of(loaded_engine)
    away = AlertService(settings, loaded_engine, InfluxClient(closed_port_url(), "pvmon"))
    assert "ingest_rejects" in away.evaluate(T0 + 10 * MIN).skipped_rules
    (still,) = alerts_of(loaded_engine)
    assert (still.id, still.state, still.condition_active) == (opened.id, "open", True)


def reject(session: Session, station: str, device: str, count: int) -> None:
    """Dead letters of a device over the last hour, as ingest keeps them."""
    for n in range(count):
        session.add(
            tables.DeadLetter(
                **LETTERS.row(
                    T0 - HOUR + n * MIN,
                    f"pv/{station}/{device}/telemetry",
                    b"{}",
                    "out_of_range" if n % 3 else "far_future",
                    "",
                )
            )
        )
