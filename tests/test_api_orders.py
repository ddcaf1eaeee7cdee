"""Work orders through the API: the bureau opens and assigns, the maintainer works it from
their phone's calls, each role sees and does only what is theirs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.users import demo_maintainer
from pvmon.db import tables
from pvmon.db.engine import session_factory
from tests.support.orders import elsewhere
from tests.support.world import World, login, world_fixtures

template, world = world_fixtures()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx)) as c:
        yield c


@pytest.fixture
def users(client: TestClient) -> dict[str, dict[str, str]]:
    return {n: login(client, n) for n in ("bureau", "supervisor", "maintainer", "collective")}


def patrol(client: TestClient, cookie: dict[str, str], station: str) -> dict[str, object]:
    r = client.post(
        "/api/v1/orders",
        json={"station_id": station, "kind": "patrol", "title": "月度巡检"},
        headers=cookie,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_the_bureau_assigns_and_the_maintainer_works_an_order_to_done(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    person = demo_maintainer(world.registry).id
    order = patrol(client, users["bureau"], world.mine)
    url = f"/api/v1/orders/{order['id']}"
    r = client.post(f"{url}/assign", json={"person_id": person}, headers=users["bureau"])
    assert (r.status_code, r.json()["state"], r.json()["assignee"]) == (200, "assigned", person)
    mine = client.get("/api/v1/orders?mine=true", headers=users["maintainer"]).json()
    assert [o["id"] for o in mine] == [order["id"]]
    for step in ("accept", "arrive"):
        assert client.post(f"{url}/{step}", headers=users["maintainer"]).status_code == 200
    done = client.post(
        f"{url}/done",
        json={"note": "清理组件表面", "parts": [{"name": "保险丝", "quantity": 2}]},
        headers=users["maintainer"],
    ).json()
    assert (done["state"], done["parts"]) == ("done", [{"name": "保险丝", "quantity": 2}])
    assert done["arrived_at"] is not None
    detail = client.get(url, headers=users["supervisor"]).json()
    assert [(s["action"], s["actor"]) for s in detail["history"]] == [
        ("create", "user:bureau"),
        ("assign", "user:bureau"),
        ("accept", person),
        ("arrive", person),
        ("done", person),
    ]
    assert detail["history"][-1]["detail"]["note"] == "清理组件表面"


def test_each_role_sees_and_does_only_its_own(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    far = elsewhere(world.registry)
    order = patrol(client, users["bureau"], far)
    url = f"/api/v1/orders/{order['id']}"
    assert client.get(url, headers=users["supervisor"]).status_code == 404, "another township"
    assert client.get(url, headers=users["maintainer"]).status_code == 404
    assert client.get("/api/v1/orders", headers=users["collective"]).status_code == 403
    r = client.post(
        "/api/v1/orders",
        json={"station_id": far, "kind": "patrol", "title": "x"},
        headers=users["supervisor"],
    )
    assert r.status_code == 404
    mine = patrol(client, users["bureau"], world.mine)
    person = demo_maintainer(world.registry).id
    r = client.post(
        f"/api/v1/orders/{mine['id']}/assign",
        json={"person_id": person},
        headers=users["maintainer"],
    )
    assert r.status_code == 403, "maintainers do not assign"
    r = client.post(f"/api/v1/orders/{mine['id']}/accept", headers=users["maintainer"])
    assert r.status_code == 409, "not assigned yet"


def test_an_order_for_someone_not_responsible_for_the_station_is_refused_saying_why(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    order = patrol(client, users["bureau"], world.mine)
    outsider = next(
        s.person_id for s in world.registry.station_maintainers if s.station_id == world.others
    )
    r = client.post(
        f"/api/v1/orders/{order['id']}/assign",
        json={"person_id": outsider},
        headers=users["bureau"],
    )
    assert r.status_code == 422
    assert r.json()["detail"] == f"{outsider} is not a responsible maintainer of {world.mine}"
    assert client.get(f"/api/v1/orders/{order['id']}", headers=users["bureau"]).json()["state"] == (
        "created"
    )


def test_an_alert_gets_one_order(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    with session_factory(world.engine)() as session:
        alert = session.scalars(
            select(tables.Alert).where(tables.Alert.station_id == world.mine)
        ).one()
    first = client.post(f"/api/v1/orders/from-alert/{alert.id}", headers=users["maintainer"])
    again = client.post(f"/api/v1/orders/from-alert/{alert.id}", headers=users["bureau"])
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert (first.json()["kind"], first.json()["severity"]) == ("fault", "critical")
    assert (
        client.post("/api/v1/orders/from-alert/999999", headers=users["bureau"]).status_code == 404
    )
