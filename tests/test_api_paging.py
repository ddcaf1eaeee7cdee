"""Every list the API gives is paged: ``limit`` and ``offset``, and the whole count in
``X-Total-Count`` (a province's lists run to hundreds of thousands)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.support.world import World, login, world_fixtures

template, world = world_fixtures()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx)) as c:
        yield c


def test_every_list_endpoint_takes_a_limit_and_an_offset(client: TestClient) -> None:
    """As the API's published schema says: each GET whose answer is an array."""
    schema = client.get("/openapi.json").json()
    lists, unpaged = [], []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        answer = (get or {}).get("responses", {}).get("200", {})
        body = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if body.get("type") != "array":
            continue
        lists.append(path)
        if not {"limit", "offset"} <= {p["name"] for p in get.get("parameters", [])}:
            unpaged.append(path)
    assert len(lists) >= 12, lists
    assert unpaged == []


@pytest.mark.parametrize(
    ("path", "total_at_least"),
    [
        ("/api/v1/stations", 2240),
        ("/api/v1/villages", 65),
        ("/api/v1/maintainers", 50),
        ("/api/v1/villages/V0301/households", 10),
    ],
)
def test_a_page_is_a_slice_of_the_whole_list_and_says_how_long_it_is(
    client: TestClient, path: str, total_at_least: int
) -> None:
    who = login(client, "bureau")
    whole = client.get(path, params={"limit": 5000}, headers=who)
    assert whole.status_code == 200, whole.text
    total = int(whole.headers["X-Total-Count"])
    assert total == len(whole.json()) >= total_at_least
    page = client.get(path, params={"limit": 7, "offset": 3}, headers=who)
    assert page.json() == whole.json()[3:10]
    assert int(page.headers["X-Total-Count"]) == total
    past = client.get(path, params={"offset": total}, headers=who)
    assert past.json() == []
    assert client.get(path, params={"limit": 0}, headers=who).status_code == 422
    assert client.get(path, params={"limit": 5001}, headers=who).status_code == 422
