"""The money's pages as people use them: the bureau enters a statement and a receipt by
hand and a file of statements, sees each month's villages by state and closes the settled
ones, and reads what is owed; a wrong value comes back with the reason in Chinese; a
supervisor reads their township's; collectives and maintainers are kept out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from pvmon.localtime import month_add, month_of
from tests.support.world import World, signed_in, world_fixtures

template, world = world_fixtures()
LAST = month_add(month_of(dt.date.today()), -1)


@pytest.fixture
def app(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx)) as c:
        yield c


def our_village(app: TestClient) -> tuple[str, list[str]]:
    client = signed_in(app, "collective")
    village = client.get("/api/v1/auth/me").json()["village_id"]
    return village, sorted(client.get(f"/api/v1/villages/{village}").json()["stations"])


def test_the_bureau_enters_statements_by_hand_and_by_file_and_closes_the_settled_villages(
    app: TestClient,
) -> None:
    village, stations = our_village(app)
    bureau = signed_in(app, "bureau")
    page = bureau.get("/finance")
    assert page.status_code == 200
    assert "电费结算与收益" in page.text
    assert f'id="state-{LAST}"' in page.text

    typo = {"station_id": stations[0], "period": LAST, "export_kwh": "一万", "grid_yuan": "3320"}
    wrong = bureau.post("/finance/settlements", data=typo)
    assert wrong.status_code == 422
    assert "上网电量（千瓦时）：不是数字（一万）" in wrong.text
    household = {**typo, "station_id": "HH0001", "export_kwh": "400"}
    refused = bureau.post("/finance/settlements", data=household)
    assert refused.status_code == 422
    assert "户用电站收益归农户" in refused.text
    saved = bureau.post(
        "/finance/settlements", data={**typo, "export_kwh": "10000"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/finance?done=settlement"

    lines = [f"{s},{LAST},10000,3320" for s in stations[1:]]
    bad = "电站编号,期间,上网电量（千瓦时）,电网电费（元）\n" + "\n".join(
        [*lines, "VS999,2020-13,1,1"]
    )
    refused_file = bureau.post(
        "/finance/import",
        data={"kind": "settlements"},
        files={"file": ("statements.csv", bad.encode("utf-8-sig"), "text/csv")},
    )
    assert refused_file.status_code == 422
    assert f"statements.csv row {len(lines) + 2}" in refused_file.text
    assert (
        bureau.get(f"/api/v1/finance/settlements?month={LAST}").json()[0]["station_id"]
        == (stations[0])
    ), "nothing of the refused file was written"
    good = "电站编号,期间,上网电量（千瓦时）,电网电费（元）\n" + "\n".join(lines)
    imported = bureau.post(
        "/finance/import",
        data={"kind": "settlements"},
        files={"file": ("statements.csv", good.encode("utf-8-sig"), "text/csv")},
        follow_redirects=False,
    )
    assert imported.status_code == 303
    assert imported.headers["location"] == f"/finance?done=import-{len(lines)}-0"

    month = bureau.get(f"/finance/settlements?month={LAST}")
    assert all(f'id="settled-{s}"' in month.text for s in stations)
    closed = bureau.post("/finance/close", data={"month": LAST}, follow_redirects=False)
    assert closed.status_code == 303
    books = bureau.get(f"/api/v1/villages/{village}/books?year={LAST[:4]}").json()
    assert next(m for m in books["months"] if m["period"] == LAST)["state"] == "closed"
    again = bureau.post("/finance/settlements", data={**typo, "export_kwh": "9000"})
    assert again.status_code == 409
    assert f"{LAST}已关账" in again.text


def test_receivables_and_the_village_page_show_what_is_owed_and_uses_come_back_with_reasons(
    app: TestClient,
) -> None:
    village, stations = our_village(app)
    bureau = signed_in(app, "bureau")
    for s in stations:
        bureau.put(
            f"/api/v1/finance/settlements/{s}/{LAST}", json={"export_kwh": 1000, "grid_yuan": 332}
        )
    receipt = {
        "station_id": stations[0],
        "kind": "subsidy",
        "covers_from": LAST,
        "amount_yuan": "100",
        "received_on": dt.date.today().isoformat(),
        "reference": "BT-1",
    }
    assert bureau.post("/finance/receipts", data=receipt, follow_redirects=False).status_code == 303
    owed = bureau.get("/finance/receivables")
    assert owed.status_code == 200
    assert 'id="total-subsidy"' in owed.text
    assert bureau.get("/finance/receivables?township=T01").status_code == 200

    collective = signed_in(app, "collective")
    assert collective.get("/finance").status_code == 403
    assert collective.get("/finance/receivables").status_code == 403
    assert collective.get("/audit").status_code == 403
    page = collective.get(f"/villages/{village}")
    assert 'id="owed"' in page.text
    use = {
        "used_on": dt.date.today().isoformat(),
        "category": "public_welfare_jobs",
        "description": "护林员公益岗",
        "amount_yuan": "1500",
        "person": "李建国",
        "months": "3",
        "monthly_yuan": "600",
    }
    assert (
        collective.post(f"/villages/{village}/uses", data=use, follow_redirects=False).status_code
        == 303
    )
    page = collective.get(f"/villages/{village}")
    assert "金额与月数×月工资不符" in page.text
    use_id = collective.get(f"/api/v1/villages/{village}/books").json()["uses"][0]["id"]
    no_reason = collective.post(f"/villages/{village}/uses/{use_id}/remove", data={"reason": ""})
    assert no_reason.status_code == 422
    assert "请写明原因" in no_reason.text
    removed = collective.post(
        f"/villages/{village}/uses/{use_id}/remove",
        data={"reason": "金额录错"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert collective.get(f"/api/v1/villages/{village}/books").json()["uses"] == []
    not_theirs = collective.post(
        f"/villages/{village}/adjustments", data={"amount_yuan": "1", "reason": "试试"}
    )
    assert not_theirs.status_code == 403

    signed_in(app, "maintainer")
    assert app.get("/finance").status_code == 403
    assert app.get(f"/villages/{village}/disclosure").status_code == 403
    supervisor = signed_in(app, "supervisor")
    assert supervisor.get("/finance").status_code == 200
    assert supervisor.post("/finance/settlements", data=receipt).status_code == 403
