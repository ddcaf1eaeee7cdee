"""Patrol and cleaning plans: each month they name, every station they cover gets one
order by itself, due on the plan's day; one not done by then escalates like any other."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from alerts.routing import Directory
from maintenance import service
from maintenance.plans import due_orders
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.domain import StationKind
from pvmon.findings import FindingKind
from pvmon.settings import PlanSettings, SettingsError, load_settings
from tests.support.alerting import settings_for
from tests.support.receivers import HttpReceiver

V, H, C = StationKind.VILLAGE, StationKind.HOUSEHOLD, StationKind.CENTRAL
STATIONS = [("VS001", V), ("VS002", V), ("HH0001", H), ("CS01", C)]
PLANS = [
    PlanSettings(key="patrol", kind="patrol", station_kinds=[V, C], due_day=28),
    PlanSettings(
        key="clean",
        kind="cleaning",
        months=[4, 10],
        station_kinds=[V],
        stations=["HH0001"],
        due_day=31,
    ),
]


def due(
    today: dt.date, opened: set[tuple[str, str, str]] = frozenset()
) -> list[tuple[str, str, dt.date]]:  # type: ignore[assignment]
    return [
        (d.station_id, d.plan.key, d.due_on) for d in due_orders(PLANS, STATIONS, opened, today)
    ]


def test_a_plan_opens_its_months_orders_two_weeks_before_they_are_due() -> None:
    assert due(dt.date(2026, 3, 13)) == [], "the patrol opens on the 14th for the 28th"
    march = due(dt.date(2026, 3, 14))
    assert march == [(s, "patrol", dt.date(2026, 3, 28)) for s in ("VS001", "VS002", "CS01")]
    april = due(dt.date(2026, 4, 20))
    assert ("HH0001", "clean", dt.date(2026, 4, 30)) in april, (
        "named stations; the 31st is the 30th"
    )
    assert ("VS001", "clean", dt.date(2026, 4, 30)) in april
    assert not any(s == "HH0001" and k == "patrol" for s, k, _ in april), (
        "households are not patrolled"
    )
    assert (
        due(dt.date(2026, 4, 20), {("VS001", "patrol", "2026-04")}).count(
            ("VS001", "patrol", dt.date(2026, 4, 28))
        )
        == 0
    )
    assert due(dt.date(2026, 4, 29))[0][0] == "VS001", "a late start still opens the month's orders"


@pytest.mark.parametrize(
    ("plans", "why"),
    [
        ([{"key": "p", "kind": "patrol", "station_kinds": ["village"]}] * 2, "unique"),
        ([{"key": "p", "kind": "patrol"}], "covers"),
        ([{"key": "p", "kind": "patrol", "station_kinds": ["village"], "months": [13]}], "1 to 12"),
        ([{"key": "P Q", "kind": "patrol", "station_kinds": ["village"]}], "pattern"),
    ],
)
def test_a_bad_plan_is_refused_at_start_saying_why(plans: list[dict], why: str) -> None:
    with pytest.raises(SettingsError, match=why):
        load_settings(maintenance={"plans": plans})


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_service_opens_each_planned_order_once_and_a_late_one_escalates(
    tmp_path: Path, loaded_engine: Engine, receiver: HttpReceiver, directory: Directory
) -> None:
    settings = settings_for(tmp_path, loaded_engine, receiver)
    villages = sorted(s for s, row in directory.stations.items() if row.kind == StationKind.VILLAGE)
    opened_at = dt.datetime(2026, 4, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Yonghe
    with session_factory(loaded_engine).begin() as session:
        counts = service.tick(session, settings, opened_at)
    assert counts["planned"] == 2 * (len(villages) + 1), "patrol and cleaning, villages and central"
    with session_factory(loaded_engine).begin() as session:
        assert service.tick(session, settings, opened_at + dt.timedelta(hours=1))["planned"] == 0
        orders = session.scalars(select(tables.WorkOrder)).all()
        assert {(o.plan_key, o.period) for o in orders} == {
            ("patrol", "2026-04"),
            ("cleaning", "2026-04"),
        }
        assert {o.station_id for o in orders if o.plan_key == "patrol"} >= set(villages)
        assert all(o.deadline_at == dt.datetime(2026, 4, 28, 16, 0, tzinfo=dt.UTC) for o in orders)
        assigned = [o for o in orders if o.assignee]
        assert assigned, "to a certified maintainer where the station has one"
        late = service.tick(session, settings, dt.datetime(2026, 4, 28, 16, 1, tzinfo=dt.UTC))[
            "late"
        ]
        assert late == len({o.station_id for o in orders})
        found = session.scalars(
            select(tables.Finding).where(tables.Finding.kind == str(FindingKind.ORDER_LATE))
        ).all()
        assert len(found) == late
