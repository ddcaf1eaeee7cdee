"""Work orders on the pages people work from: the maintainer's phone steps (accept, arrive,
photos, parts, done), the bureau's assignment with the reason a person may not take an
order, photos checked for type and size, and each role seeing only its own."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from api.app import create_app
from api.users import demo_maintainer
from pvmon.datapaths import order_photos
from pvmon.db import tables
from pvmon.db.engine import session_factory
from tests.support.orders import crew, elsewhere, photo
from tests.support.world import World, signed_in, world_fixtures

template, world = world_fixtures()


@pytest.fixture
def app(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx), follow_redirects=False) as c:
        yield c


def new_order(app: TestClient, station: str, assignee: str | None = None) -> int:
    bureau = signed_in(app, "bureau")
    r = bureau.post(
        "/api/v1/orders", json={"station_id": station, "kind": "repair", "title": "汇流箱检查"}
    )
    assert r.status_code == 201, r.text
    order = r.json()["id"]
    if assignee:
        r = bureau.post(f"/orders/{order}/assign", data={"person_id": assignee})
        assert r.status_code == 303, r.text
    return order


def steps(world: World, order: int) -> list[str]:
    with session_factory(world.engine)() as session:
        return list(
            session.scalars(
                select(tables.WorkOrderStep.action)
                .where(tables.WorkOrderStep.order_id == order)
                .order_by(tables.WorkOrderStep.id)
            )
        )


def test_a_maintainer_works_an_order_from_the_phone_pages(app: TestClient, world: World) -> None:
    person = demo_maintainer(world.registry).id
    order = new_order(app, world.mine, person)
    phone = signed_in(app, "maintainer")
    assert f'href="/orders/{order}"' in phone.get("/my").text, "on the maintainer's own page"
    assert f'href="/orders/{order}"' in phone.get("/orders").text
    page = phone.get(f"/orders/{order}").text
    assert 'id="step-accept"' in page
    assert 'id="step-arrive"' not in page
    for step in ("accept", "accept", "arrive"):  # a second tap changes nothing
        assert phone.post(f"/orders/{order}/{step}").status_code == 303
    sent = phone.post(
        f"/orders/{order}/photos", files={"photo": ("IMG_0001.jpg", photo(), "image/jpeg")}
    )
    assert sent.status_code == 303
    again = phone.post(
        f"/orders/{order}/photos", files={"photo": ("IMG_0001.jpg", photo(), "image/jpeg")}
    )
    assert again.status_code == 303, "a retry on a weak connection"
    r = phone.post(
        f"/orders/{order}/done",
        data={"note": "更换熔断器", "part_name": ["熔断器 15A", "", ""], "part_qty": ["2", "", ""]},
    )
    assert r.status_code == 303
    page = phone.get(f"/orders/{order}").text
    assert "已完成" in page
    assert "熔断器 15A" in page
    assert "更换熔断器" in page
    assert steps(world, order) == ["create", "assign", "accept", "arrive", "photo", "done"]
    detail = phone.get(f"/api/v1/orders/{order}").json()
    assert [p["name"] for p in detail["photos"]] == ["IMG_0001.jpg"]
    shot = detail["photos"][0]["id"]
    assert f'src="/orders/{order}/photos/{shot}?thumb=true"' in page
    thumb = phone.get(f"/orders/{order}/photos/{shot}?thumb=true")
    assert thumb.headers["content-type"] == "image/jpeg"
    assert (
        max(Image.open(io.BytesIO(thumb.content)).size) == world.settings.maintenance.thumbnail_px
    )
    assert phone.get(f"/orders/{order}/photos/{shot}").content == photo(), "the original, unchanged"


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("IMG_0002.jpg", b"this is not a picture", 415, "文件不是图片"),
        ("anim.gif", photo((64, 64), "GIF"), 415, "不接受GIF格式"),
        ("huge.jpg", b"\xff\xd8\xff" + bytes(8_000_000), 413, "超过8MB的上限"),
        ("empty.jpg", b"", 415, "没有收到照片"),
    ],
    ids=["not an image", "wrong type", "too large", "empty"],
)
def test_a_bad_upload_is_refused_with_a_clear_message_and_nothing_kept(
    app: TestClient, world: World, name: str, data: bytes, status: int, words: str
) -> None:
    person = demo_maintainer(world.registry).id
    order = new_order(app, world.mine, person)
    phone = signed_in(app, "maintainer")
    phone.post(f"/orders/{order}/accept")
    r = phone.post(f"/orders/{order}/photos", files={"photo": (name, data, "image/jpeg")})
    assert r.status_code == status
    assert words in r.text, "the page says why, in Chinese"
    api = phone.post(f"/api/v1/orders/{order}/photos", files={"photo": (name, data, "image/jpeg")})
    assert api.status_code == status
    assert api.json()["detail"]
    assert "photo" not in steps(world, order)
    kept = order_photos(world.settings) / str(order)
    assert not kept.exists() or not any(kept.iterdir())


def test_the_bureau_cannot_assign_to_an_uncertified_maintainer_and_sees_why(
    app: TestClient, world: World
) -> None:
    station, uncertified = crew(world.registry, world.settings, False, world.ctx.today())
    order = new_order(app, station)
    bureau = signed_in(app, "bureau")
    page = bureau.get(f"/orders/{order}").text
    assert f'<option value="{uncertified}"' in page, "offered, with the reason beside the name"
    r = bureau.post(f"/orders/{order}/assign", data={"person_id": uncertified})
    assert r.status_code == 422
    assert 'id="problem"' in r.text
    assert "证书" in r.text
    assert steps(world, order) == ["create"]


def test_each_role_sees_only_its_own_orders(app: TestClient, world: World) -> None:
    person = demo_maintainer(world.registry).id
    theirs = new_order(app, elsewhere(world.registry))
    mine = new_order(app, world.mine, person)
    phone = signed_in(app, "maintainer")
    assert phone.get(f"/orders/{theirs}").status_code == 404
    r = phone.post(f"/orders/{mine}/assign", data={"person_id": person})
    assert r.status_code == 403, "maintainers do not assign"
    collective = signed_in(app, "collective")
    assert collective.get("/orders").status_code == 404
    assert collective.get(f"/orders/{mine}").status_code == 404
    supervisor = signed_in(app, "supervisor")
    assert supervisor.post(f"/orders/{theirs}/accept").status_code == 404
    r = supervisor.post(f"/orders/{mine}/accept")
    assert r.status_code == 403
    assert "不是派给您的" in r.text


def test_an_alert_becomes_a_work_order_with_one_action(app: TestClient, world: World) -> None:
    with session_factory(world.engine)() as session:
        alert = session.scalars(
            select(tables.Alert).where(
                tables.Alert.station_id == world.mine, tables.Alert.state != "resolved"
            )
        ).first()
    assert alert is not None, "the world has an open alert on the maintainer's station"
    bureau = signed_in(app, "bureau")
    assert 'id="open-order"' in bureau.get(f"/a/{alert.id}").text
    r = bureau.post(f"/a/{alert.id}/order", follow_redirects=False)
    assert r.status_code == 303
    again = bureau.post(f"/a/{alert.id}/order", follow_redirects=False)
    assert again.headers["location"] == r.headers["location"], "one order per alert"
    page = bureau.get(r.headers["location"]).text
    assert f'href="/a/{alert.id}"' in page
    assert 'id="alert-order"' in bureau.get(f"/a/{alert.id}").text


def test_the_station_page_lists_its_orders_and_the_overview_counts_open_and_late(
    app: TestClient, world: World
) -> None:
    order = new_order(app, world.mine)
    bureau = signed_in(app, "bureau")
    station = bureau.get(f"/stations/{world.mine}").text
    assert f'href="/orders/{order}"' in station
    overview = bureau.get("/overview").text
    assert 'id="orders-count"' in overview
    assert '<a href="/orders?state=open">1</a>' in overview
    assert '<a href="/orders?state=late" class="">0</a>' in overview
    assert 'id="month-lost"' in overview
    with session_factory(world.engine).begin() as session:
        late = session.get(tables.WorkOrder, order)
        late.deadline_at = late.created_at - dt.timedelta(hours=1)
    overview = bureau.get("/overview").text
    assert '<a href="/orders?state=late" class="sev-critical">1</a>' in overview
    assert f'href="/orders/{order}"' in bureau.get("/orders?state=late").text


def on_site(app: TestClient, world: World) -> int:
    """An order at the demo maintainer's station, which the maintainer has reached."""
    order = new_order(app, world.mine, demo_maintainer(world.registry).id)
    phone = signed_in(app, "maintainer")
    for step in ("accept", "arrive"):
        assert phone.post(f"/orders/{order}/{step}").status_code == 303
    return order


def inverters_of(world: World, station: str) -> dict[str, tables.Inverter]:
    with session_factory(world.engine)() as session:
        rows = session.scalars(select(tables.Inverter).where(tables.Inverter.station_id == station))
        return {r.id: r for r in rows}


def test_a_maintainer_records_an_inverter_replaced_on_site_and_the_registry_keeps_both(
    app: TestClient, world: World
) -> None:
    order = on_site(app, world)
    phone = signed_in(app, "maintainer")
    page = phone.get(f"/orders/{order}").text
    old = sorted(inverters_of(world, world.mine))[0]
    assert 'id="replace-form"' in page
    assert f'value="{old}"' in page
    today = world.ctx.today()
    at = page.split('id="replace-at" value="')[1].split('"')[0]
    assert at.startswith(today.isoformat()), "the form offers now, in the county's time"
    r = phone.post(
        f"/orders/{order}/replacement", data={"old": old, "new": "HW2611NEW0001", "at": at}
    )
    assert r.status_code == 303, r.text
    rows = inverters_of(world, world.mine)
    assert rows[old].valid_to == today, "the old serial retires on the day of the change"
    assert rows["HW2611NEW0001"].valid_from == today
    assert rows["HW2611NEW0001"].rated_ac_w == rows[old].rated_ac_w, "as the old one"
    assert rows["HW2611NEW0001"].model == rows[old].model
    assert steps(world, order)[-1] == "replace"
    assert f"{old} → HW2611NEW0001" in phone.get(f"/orders/{order}").text

    station = phone.get(f"/stations/{world.mine}").text
    current = station.split('id="inverters"')[1].split("</table>")[0]
    assert "HW2611NEW0001" in current
    assert old not in current
    assert old in station.split('id="replaced"')[1].split("</table>")[0]
    device = phone.get(f"/devices/{old}").text
    assert f"– {today.isoformat()}" in device, "the old inverter's page says when it went"
    api = signed_in(app, "bureau").get(f"/api/v1/stations/{world.mine}").json()
    assert "HW2611NEW0001" in api["inverters"]
    assert old not in api["inverters"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"old": "NOSUCH0001", "new": "HW2611NEW0002"}, "不属于电站"),
        ({"new": "bad serial!"}, "新逆变器信息有误"),
        ({"new": "SAME"}, "已在台账中"),
        ({"new": "HW2611NEW0003", "at": "2999-01-01T10:00"}, "晚于现在"),
        ({"new": "HW2611NEW0004", "at": "2020-01-01T10:00"}, "早于工单创建时间"),
        ({"new": "HW2611NEW0005", "at": "noon"}, "时间格式不对"),
        ({"new": "HW2611NEW0006", "rated_kw": "-3"}, "额定功率应为正数"),
    ],
)
def test_a_replacement_that_cannot_be_recorded_says_why_and_changes_nothing(
    app: TestClient, world: World, change: dict[str, str], says: str
) -> None:
    order = on_site(app, world)
    before = inverters_of(world, world.mine)
    old, other = sorted(before)[:2] if len(before) > 1 else (sorted(before)[0],) * 2
    now = world.ctx.now().astimezone(world.ctx.tz).strftime("%Y-%m-%dT%H:%M")
    data = {"old": old, "at": now} | change
    if data["new"] == "SAME":
        data["new"] = other
    r = signed_in(app, "maintainer").post(f"/orders/{order}/replacement", data=data)
    assert r.status_code == 422
    assert says in r.text
    after = inverters_of(world, world.mine)
    assert {k: (v.valid_from, v.valid_to) for k, v in after.items()} == {
        k: (v.valid_from, v.valid_to) for k, v in before.items()
    }
    assert "replace" not in steps(world, order)


def test_only_the_orders_maintainer_on_site_replaces_an_inverter_through_the_api(
    app: TestClient, world: World
) -> None:
    person = demo_maintainer(world.registry).id
    order = new_order(app, world.mine, person)
    old = sorted(inverters_of(world, world.mine))[0]
    body = {"old": old, "new": "HW2611NEW0009"}
    phone = signed_in(app, "maintainer")
    assert phone.post(f"/api/v1/orders/{order}/accept").status_code == 200
    r = phone.post(f"/api/v1/orders/{order}/replacement", json=body)
    assert r.status_code == 409, "not on site yet"
    assert phone.post(f"/api/v1/orders/{order}/arrive").status_code == 200
    r = signed_in(app, "bureau").post(f"/api/v1/orders/{order}/replacement", json=body)
    assert r.status_code == 403, "the maintainer's step"
    r = signed_in(app, "maintainer").post(
        f"/api/v1/orders/{order}/replacement", json=body | {"at": "2026-12-01T10:00:00"}
    )
    assert r.status_code == 422, "a time without its offset"
    r = signed_in(app, "maintainer").post(f"/api/v1/orders/{order}/replacement", json=body)
    assert r.status_code == 200, r.text
    assert "HW2611NEW0009" in inverters_of(world, world.mine)
    r = signed_in(app, "maintainer").post(
        f"/api/v1/orders/{order}/replacement", json={"old": old, "new": "HW2611NEW0010"}
    )
    assert r.status_code == 422
    assert "not in service" in r.json()["detail"], "a retired inverter is not replaced twice"
