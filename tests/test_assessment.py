"""The bureau's measure of O&M: each order's times and whether it was on time, each
maintainer's month (orders, on time, late, repair times, what their faults cost,
certification) — on a page, in the API and as XLSX."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.users import demo_maintainer
from maintenance.assessment import assess, cleaning_effect, order_figures
from pvmon.db import tables
from tests.support.world import World, login, world_fixtures

TZ = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 3, 1, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def order(
    n: int, person: str, done_after_h: float | None, deadline_h: float = 24
) -> tables.WorkOrder:
    return tables.WorkOrder(
        id=n,
        station_id="VS001",
        assignee=person,
        state="done" if done_after_h is not None else "accepted",
        created_at=T0,
        deadline_at=T0 + deadline_h * H,
        accepted_at=T0 + 0.5 * H,
        arrived_at=T0 + 3 * H,
        done_at=None if done_after_h is None else T0 + done_after_h * H,
        verified_at=None,
    )


def test_times_on_time_and_a_faults_loss_are_the_orders_figures() -> None:
    days = pd.DataFrame(
        {
            "date": [dt.date(2026, 11, d) for d in (2, 3, 4, 5)],
            "shortfall_kwh": [-3.0, 120.0, 80.0, 5.0],
            "shortfall_yuan": [-1.0, 40.0, 26.0, 2.0],
        }
    )
    fault = (T0 - 2 * H, T0 + 30 * H)  # 2026-11-03 07:00 to 11-04 15:00 local
    on_time = order_figures(order(1, "P1", 20), fault, days, T0 + 100 * H, TZ)
    assert (on_time.hours_to_accept, on_time.hours_to_arrive, on_time.hours_to_repair) == (
        0.5,
        3.0,
        20.0,
    )
    assert on_time.on_time is True
    assert (on_time.loss.kwh, on_time.loss.yuan, on_time.loss.days) == (200.0, 66.0, 2)
    assert order_figures(order(2, "P1", 30), None, days, T0 + 100 * H, TZ).on_time is False
    open_late = order_figures(order(3, "P2", None), None, days, T0 + 25 * H, TZ)
    assert (open_late.on_time, open_late.loss, open_late.hours_to_repair) == (False, None, None)
    assert order_figures(order(4, "P2", None), None, days, T0 + 5 * H, TZ).on_time is None

    rows = {
        r.person_id: r
        for r in assess(
            [
                on_time,
                order_figures(order(2, "P1", 30), fault, days, T0 + 100 * H, TZ),
                open_late,
            ],
            {"P1": "valid", "P2": "expired", "P3": None},
        )
    }
    assert set(rows) == {"P1", "P2", "P3"}, "a maintainer without orders is assessed too"
    p1 = rows["P1"]
    assert (p1.orders, p1.done, p1.on_time, p1.late) == (2, 2, 1, 1)
    assert p1.median_hours_to_repair == 25.0
    assert (p1.lost_kwh, p1.lost_yuan) == (400.0, 132.0)
    assert (rows["P2"].late, rows["P2"].cert_state, rows["P3"].orders) == (1, "expired", 0)


def test_a_cleaning_is_measured_by_the_peer_index_the_week_before_and_after() -> None:
    done = dt.date(2026, 10, 15)
    index = [0.90, 0.89, 0.91, 0.60, 0.88, 0.90, 0.90, 0.99, 1.00, 0.98, 0.99, 1.01]
    days = pd.DataFrame(
        {
            "date": [done + dt.timedelta(days=n) for n in range(-7, 5)],
            "peer_index": index,
            "usable": [1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1],  # the 0.60 day was overcast
        }
    )
    effect = cleaning_effect(days, done)
    assert effect is not None
    assert (effect.days_before, effect.days_after) == (6, 4), (
        "the day itself counts on neither side"
    )
    assert effect.before == pytest.approx(0.897, abs=0.001)
    assert effect.after == pytest.approx(0.995, abs=0.001)
    assert effect.change == pytest.approx(0.995 / 0.8967 - 1, abs=0.001)
    assert cleaning_effect(days[days["date"] <= done + dt.timedelta(days=2)], done) is None, (
        "not yet three usable days after it"
    )


template, world = world_fixtures()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx)) as c:
        yield c


def test_the_bureau_reads_the_months_assessment_on_a_page_in_the_api_and_as_xlsx(
    client: TestClient, world: World
) -> None:
    bureau, phone = login(client, "bureau"), login(client, "maintainer")
    person = demo_maintainer(world.registry).id
    alert = next(
        a["id"]
        for a in client.get("/api/v1/alerts", headers=bureau).json()
        if a["station_id"] == world.mine
    )
    made = client.post(f"/api/v1/orders/from-alert/{alert}", headers=bureau).json()
    url = f"/api/v1/orders/{made['id']}"
    assert (
        client.post(f"{url}/assign", json={"person_id": person}, headers=bureau).status_code == 200
    )
    for step in ("accept", "arrive", "done"):
        assert client.post(f"{url}/{step}", headers=phone).status_code == 200
    detail = client.get(url, headers=bureau).json()
    assert detail["figures"]["on_time"] is True
    assert detail["figures"]["hours_to_repair"] is not None
    assert detail["figures"]["loss"]["basis"] == "estimated"

    month = world.ctx.today().strftime("%Y-%m")
    rows = client.get(f"/api/v1/maintenance/assessment?month={month}", headers=bureau).json()
    mine = next(r for r in rows if r["person_id"] == person)
    assert (mine["orders"], mine["done"], mine["on_time"], mine["late"]) == (1, 1, 1, 0)
    assert mine["cert_state"] == "valid"
    assert mine["name"] == demo_maintainer(world.registry).name
    others = [r for r in rows if r["person_id"] != person]
    assert others, "every maintainer is listed, with or without orders"
    assert all(r["orders"] == 0 for r in others)

    page = client.get(f"/assessment?month={month}", headers=bureau)
    assert page.status_code == 200
    assert f'id="assess-{person}"' in page.text
    assert "管护员月度考核" in page.text
    assert 'id="lost-by-village"' in page.text

    book = openpyxl.load_workbook(
        io.BytesIO(
            client.get(f"/api/v1/exports/assessment.xlsx?month={month}", headers=bureau).content
        )
    )
    sheet = book.active
    assert "估算" in sheet.cell(1, 1).value
    assert [c.value for c in sheet[2]][:3] == ["人员编号", "姓名", "证书状态"]
    line = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == person)
    assert (line[2].value, line[3].value, line[5].value) == ("有效", 1, 1)
    assert line[9].number_format == "0.0"


def test_the_assessment_is_the_bureaus_and_supervisors_and_a_month_must_be_a_month(
    client: TestClient, world: World
) -> None:
    month = "2026-11"
    for who, status in (("maintainer", 403), ("collective", 403), ("supervisor", 200)):
        r = client.get(f"/api/v1/maintenance/assessment?month={month}", headers=login(client, who))
        assert r.status_code == status, who
    bureau = login(client, "bureau")
    for bad in ("2026-13", "26-11", "2026-11-01", ""):
        assert (
            client.get(f"/api/v1/maintenance/assessment?month={bad}", headers=bureau).status_code
            == 422
        )
    losses = client.get(f"/api/v1/maintenance/losses?month={month}", headers=bureau).json()
    assert losses["basis"] == "estimated"
    assert losses["kwh"] == pytest.approx(
        sum(s["loss"]["kwh"] for s in losses["stations"]), abs=0.1
    )
    owned = {s.station_id for s in world.registry.station_shares}
    collectives = sum(s["loss"]["kwh"] for s in losses["stations"] if s["station_id"] in owned)
    assert sum(v["kwh"] for v in losses["villages"]) == pytest.approx(collectives, abs=0.5)
    assert client.get("/assessment?month=2026-13", headers=bureau).status_code == 400
    assert client.get("/assessment", headers=login(client, "maintainer")).status_code == 404
