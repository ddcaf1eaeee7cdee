"""Work orders kept by their own rules: worked through their steps by their maintainer,
each step recorded; assigned only to a responsible maintainer of the station holding a
valid certificate of the type it requires; steps out of order refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from maintenance import actions
from maintenance.actions import AssignmentRefused, NotTheirs, Part
from maintenance.workflow import InvalidStep, OrderState, Step
from pvmon.certification import crew_of
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.tables.maintenance import OrderKind
from pvmon.findings import Severity
from pvmon.registry.schema import Registry
from pvmon.settings import Settings, load_settings
from tests.support.orders import crew
from tests.support.services import AS_OF

pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
NOW = dt.datetime.combine(AS_OF, dt.time(2, 0), dt.UTC)
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def settings() -> Settings:
    return load_settings()


def patrol(session: object, settings: Settings, station: str) -> tables.WorkOrder:
    return actions.open_order(
        session,  # type: ignore[arg-type]
        settings,
        station_id=station,
        kind=OrderKind.PATROL,
        severity=Severity.WARNING,
        title="月度巡检",
        actor="P-BUREAU",
        channel="api",
        now=NOW,
    )


def test_an_order_is_worked_through_its_steps_by_its_maintainer_each_recorded(
    loaded_engine: Engine, default_registry: Registry, settings: Settings
) -> None:
    station, person = crew(default_registry, settings, certified=True, on=AS_OF)
    with session_factory(loaded_engine).begin() as session:
        order = patrol(session, settings, station)
        assert order.deadline_at == NOW + 72 * HOUR, "a warning's deadline"
        actions.assign(session, settings, order.id, person, "P-BUREAU", "api", NOW + HOUR)
        actions.work(session, order.id, Step.ACCEPT, person, "phone", NOW + 2 * HOUR)
        actions.work(session, order.id, Step.ARRIVE, person, "phone", NOW + 3 * HOUR)
        actions.work(session, order.id, Step.NOTE, person, "phone", NOW + 4 * HOUR, note="组件积灰")
        parts = [Part("MC4 connector", 2)]
        actions.work(session, order.id, Step.DONE, person, "phone", NOW + 5 * HOUR, parts=parts)
        order_id = order.id
    with session_factory(loaded_engine)() as session:
        order = actions.get(session, order_id)
        assert (order.state, order.assignee) == (OrderState.DONE, person)
        assert (order.accepted_at, order.arrived_at, order.done_at) == (
            NOW + 2 * HOUR,
            NOW + 3 * HOUR,
            NOW + 5 * HOUR,
        )
        assert order.parts == [{"name": "MC4 connector", "quantity": 2}]
        steps = [
            (s.action, s.actor, s.state, s.at - NOW) for s in actions.history(session, order_id)
        ]
        assert steps == [
            ("create", "P-BUREAU", "created", 0 * HOUR),
            ("assign", "P-BUREAU", "assigned", HOUR),
            ("accept", person, "accepted", 2 * HOUR),
            ("arrive", person, "on_site", 3 * HOUR),
            ("note", person, "on_site", 4 * HOUR),
            ("done", person, "done", 5 * HOUR),
        ]
        assert actions.history(session, order_id)[4].detail == {"note": "组件积灰"}
        assert [o.id for o in actions.orders(session, actions.OrderFilter(state="open"))] == []


def test_an_order_cannot_go_to_someone_without_a_valid_certificate_or_not_of_the_station(
    loaded_engine: Engine, default_registry: Registry, settings: Settings
) -> None:
    station, uncertified = crew(default_registry, settings, certified=False, on=AS_OF)
    _, outsider = crew(default_registry, settings, certified=True, on=AS_OF)
    assert outsider not in crew_of(default_registry, station), "a maintainer of elsewhere"
    with session_factory(loaded_engine).begin() as session:
        order = patrol(session, settings, station)
        with pytest.raises(AssignmentRefused, match=f"{uncertified}('s| holds no)"):
            actions.assign(session, settings, order.id, uncertified, "P-BUREAU", "api", NOW)
        with pytest.raises(AssignmentRefused) as caught:
            actions.assign(session, settings, order.id, outsider, "P-BUREAU", "api", NOW)
        assert caught.value.refusal.say("zh") == f"{outsider}不是电站{station}的管护责任人"
        assert (order.state, order.assignee) == (OrderState.CREATED, None)
        assert [s.action for s in actions.history(session, order.id)] == ["create"]


def test_steps_out_of_order_or_by_someone_else_are_refused(
    loaded_engine: Engine, default_registry: Registry, settings: Settings
) -> None:
    station, person = crew(default_registry, settings, certified=True, on=AS_OF)
    with session_factory(loaded_engine).begin() as session:
        order = patrol(session, settings, station)
        with pytest.raises(InvalidStep, match="created cannot be given the step accept"):
            actions.work(session, order.id, Step.ACCEPT, person, "phone", NOW)
        actions.assign(session, settings, order.id, person, "P-BUREAU", "api", NOW)
        with pytest.raises(NotTheirs, match=f"{person}'s to work, not P-OTHER's"):
            actions.work(session, order.id, Step.ACCEPT, "P-OTHER", "phone", NOW)
        actions.work(session, order.id, Step.ACCEPT, person, "phone", NOW)
        with pytest.raises(InvalidStep, match="accepted cannot be given the step done"):
            actions.work(session, order.id, Step.DONE, person, "phone", NOW)
        assert order.state == OrderState.ACCEPTED


def test_an_alert_opens_one_order_however_often_it_is_asked(
    loaded_engine: Engine, default_registry: Registry, settings: Settings
) -> None:
    station, _ = crew(default_registry, settings, certified=True, on=AS_OF)
    with session_factory(loaded_engine).begin() as session:
        alert = tables.Alert(
            rule="zero_output",
            dedup_key=f"zero_output:{station}",
            subject_type="station",
            subject_id=station,
            station_id=station,
            severity="critical",
            state="open",
            evidence={},
            since=NOW,
            opened_at=NOW,
            updated_at=NOW,
            condition_active=True,
        )
        session.add(alert)
        session.flush()
        first = actions.open_from_alert(session, settings, alert.id, "system", None, NOW)
        again = actions.open_from_alert(session, settings, alert.id, "P-BUREAU", "api", NOW + HOUR)
        assert first.id == again.id
        assert (first.kind, first.severity, first.deadline_at) == (
            "fault",
            "critical",
            NOW + 24 * HOUR,
        )
        count = session.scalars(
            select(tables.WorkOrder).where(tables.WorkOrder.station_id == station)
        )
        assert len(list(count)) == 1
