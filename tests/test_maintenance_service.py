"""Orders that happen by themselves, with the real alert engine and real receivers: a
critical alert opens its order for a certified maintainer; the done order is verified
once the data have stayed clear; the fault coming back reopens it; an order left past its
deadline reaches the township's supervisor and the bureau."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select

from alerts.routing import Directory
from alerts.service import AlertService
from maintenance import actions, service
from maintenance.workflow import OrderState, Step
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.tables.maintenance import OrderKind
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.settings import Settings
from tests.support.alerting import (
    HOUR,
    MIN,
    T0,
    alerts_of,
    certified_station,
    comm_loss,
    content,
    find,
    mentions,
    settings_for,
    uncovered_station,
    wecom_ids,
)
from tests.support.receivers import HttpReceiver


def tick(engine: Engine, settings: Settings, now: object) -> dict[str, int]:
    with session_factory(engine).begin() as session:
        return service.tick(session, settings, now)  # type: ignore[arg-type]


def the_order(engine: Engine) -> tables.WorkOrder:
    """The one order opened for an alert (the month's planned patrols aside)."""
    with session_factory(engine)() as session:
        (order,) = session.scalars(
            select(tables.WorkOrder).where(tables.WorkOrder.plan_key.is_(None))
        )
        return order


def steps(engine: Engine, order_id: int) -> list[tuple[str, str]]:
    with session_factory(engine)() as session:
        return [(s.action, s.actor) for s in actions.history(session, order_id)]


def work_it(engine: Engine, order_id: int, person: str, at: object) -> None:
    with session_factory(engine).begin() as session:
        for n, step in enumerate((Step.ACCEPT, Step.ARRIVE, Step.DONE)):
            actions.work(session, order_id, step, person, "phone", at + n * MIN)  # type: ignore[operator]


def test_a_fault_is_ordered_worked_verified_by_the_data_and_reopened_when_it_returns(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = certified_station(directory)
    crew = sorted(directory.crews[station])
    settings = settings_for(tmp_path, loaded_engine, receiver)
    alerts = AlertService(settings, loaded_engine, None)
    find(loaded_engine, T0, comm_loss(station, T0 - 30 * MIN), kind=FindingKind.COMM_LOSS)
    alerts.tick(T0)
    assert tick(loaded_engine, settings, T0 + MIN)["opened"] == 1
    order = the_order(loaded_engine)
    assert (order.kind, order.severity, order.state, order.assignee) == (
        "fault",
        "critical",
        OrderState.ASSIGNED,
        crew[0],
    )
    assert tick(loaded_engine, settings, T0 + 2 * MIN)["opened"] == 0, "one order per alert"

    work_it(loaded_engine, order.id, crew[0], T0 + HOUR)
    find(loaded_engine, T0 + 2 * HOUR, kind=FindingKind.COMM_LOSS)  # the data say it is back
    for minutes in (0, 20):
        alerts.tick(T0 + 2 * HOUR + minutes * MIN)
    assert alerts_of(loaded_engine)[0].state == "resolved"
    tick(loaded_engine, settings, T0 + 20 * HOUR)
    assert the_order(loaded_engine).state == OrderState.DONE, "not yet clear for a day"
    tick(loaded_engine, settings, T0 + 27 * HOUR)
    assert the_order(loaded_engine).state == OrderState.VERIFIED

    back = T0 + 30 * HOUR
    find(loaded_engine, back, comm_loss(station, back), kind=FindingKind.COMM_LOSS)
    alerts.tick(back)
    assert tick(loaded_engine, settings, back + MIN)["reopened"] == 1
    reopened = the_order(loaded_engine)
    assert (reopened.state, reopened.assignee, reopened.reopen_count) == (
        OrderState.ASSIGNED,
        crew[0],
        1,
    )
    assert [a for a, _ in steps(loaded_engine, order.id)] == [
        "create",
        "assign",
        "accept",
        "arrive",
        "done",
        "verify",
        "reopen",
    ]
    assert tick(loaded_engine, settings, back + 2 * MIN)["opened"] == 0, "the same order, reopened"


def test_a_late_order_reaches_the_supervisor_and_the_bureau_through_the_alert_engine(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    station = certified_station(directory)
    settings = settings_for(tmp_path, loaded_engine, receiver)
    with session_factory(loaded_engine).begin() as session:
        order = actions.open_order(
            session,
            settings,
            station_id=station,
            kind=OrderKind.CLEANING,
            severity=Severity.WARNING,
            title="组件清洗",
            actor="bureau",
            channel="api",
            now=T0,
        )
        order_id = order.id
    alerts = AlertService(settings, loaded_engine, None)
    assert tick(loaded_engine, settings, T0 + 71 * HOUR)["late"] == 0
    assert tick(loaded_engine, settings, T0 + 73 * HOUR)["late"] == 1
    alerts.tick(T0 + 73 * HOUR)
    (alert,) = alerts_of(loaded_engine)
    assert (alert.rule, alert.station_id) == ("order_late", station)
    (told,) = receiver.on("/wecom")
    supervisor = directory.supervisors[directory.stations[station].township_id]
    assert set(wecom_ids(directory, supervisor)) <= set(mentions(told))
    assert "工单超期未完成" in content(told)
    assert f"#{order_id}" in content(told)

    with session_factory(loaded_engine).begin() as session:
        person = sorted(directory.crews[station])[0]
        actions.assign(session, settings, order_id, person, "bureau", "api", T0 + 74 * HOUR)
        for n, step in enumerate((Step.ACCEPT, Step.ARRIVE, Step.DONE)):
            actions.work(session, order_id, step, person, "phone", T0 + 75 * HOUR + n * MIN)
    tick(loaded_engine, settings, T0 + 76 * HOUR)
    with session_factory(loaded_engine)() as session:
        late = session.scalars(
            select(tables.Finding).where(tables.Finding.kind == "order_late")
        ).one()
        assert late.active is False, "done: no longer late"


def test_a_critical_alert_not_about_the_equipment_gets_no_order_by_itself(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    """A station without a certified maintainer is the bureau's to fix, not a repair job."""
    station = uncovered_station(directory)
    settings = settings_for(tmp_path, loaded_engine, receiver)
    uncovered = Finding(
        FindingKind.STATION_UNCOVERED,
        Subject.STATION,
        station,
        Severity.CRITICAL,
        T0,
        {"maintainers": sorted(directory.crews[station])},
        station,
    )
    find(loaded_engine, T0, uncovered, kind=FindingKind.STATION_UNCOVERED)
    AlertService(settings, loaded_engine, None).tick(T0)
    assert [(a.rule, a.severity) for a in alerts_of(loaded_engine)] == [
        ("station_uncovered", "critical")
    ]
    assert tick(loaded_engine, settings, T0 + MIN)["opened"] == 0


def test_one_fault_seen_by_a_second_rule_stays_one_order_which_waits_for_both(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    """A trip is silence and, once the day is computed, underperformance too: the later,
    critical underperformance alert about the same days joins the order already worked."""
    station = certified_station(directory)
    person = sorted(directory.crews[station])[0]
    settings = settings_for(tmp_path, loaded_engine, receiver)
    alerts = AlertService(settings, loaded_engine, None)
    find(loaded_engine, T0, comm_loss(station, T0 - 30 * MIN), kind=FindingKind.COMM_LOSS)
    alerts.tick(T0)
    tick(loaded_engine, settings, T0 + MIN)
    order = the_order(loaded_engine)
    work_it(loaded_engine, order.id, person, T0 + HOUR)
    find(loaded_engine, T0 + 2 * HOUR, kind=FindingKind.COMM_LOSS)
    low = Finding(
        FindingKind.UNDERPERFORMANCE,
        Subject.STATION,
        station,
        Severity.CRITICAL,
        T0 - 10 * HOUR,  # the days the trip cost, found when they are computed
        {"usual_peer_index": 1.0, "recent_peer_index": 0.4, "drop": 0.6},
        station,
    )
    find(loaded_engine, T0 + 12 * HOUR, low, kind=FindingKind.UNDERPERFORMANCE)
    for minutes in (0, 20):
        alerts.tick(T0 + 12 * HOUR + minutes * MIN)
    assert tick(loaded_engine, settings, T0 + 13 * HOUR)["opened"] == 0, "the same fault"
    assert the_order(loaded_engine).id == order.id
    tick(loaded_engine, settings, T0 + 30 * HOUR)
    assert the_order(loaded_engine).state == OrderState.DONE, "waits for the second alert"
    find(loaded_engine, T0 + 36 * HOUR, kind=FindingKind.UNDERPERFORMANCE)
    for minutes in (0, 30):
        alerts.tick(T0 + 36 * HOUR + minutes * MIN)
    tick(loaded_engine, settings, T0 + 61 * HOUR)
    assert the_order(loaded_engine).state == OrderState.VERIFIED

    later = T0 + 80 * HOUR
    find(loaded_engine, later, comm_loss(station, later), kind=FindingKind.COMM_LOSS)
    alerts.tick(later)
    assert tick(loaded_engine, settings, later + MIN)["reopened"] == 1, "a new fault after it"
