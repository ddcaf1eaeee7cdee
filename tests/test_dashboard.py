"""The dashboards, rendered for each role from a real store; exports; the disclosure sheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from alerts import actions
from alerts.service import AlertService
from api.app import create_app
from api.assessment import MonthLosses
from api.pages import FleetFigures
from api.state import ApiState
from api.users import DEMO_PASSWORD, demo_users
from ingest.late import stamp_days
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.findings import sync_findings
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.influx.client import InfluxClient
from pvmon.localtime import local_day, utc_now
from pvmon.losses import Loss
from pvmon.registry.schema import Registry
from pvmon.settings import load_settings
from tests.support.world import TOWNSHIP, World, signed_in, world_fixtures

template, world = world_fixtures()
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def app(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx)) as c:
        yield c


def test_pages_need_a_login_and_come_back_after_it(app: TestClient) -> None:
    app.cookies.clear()
    r = app.get("/a/1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/a/1"
    wrong = app.post("/login", data={"username": "bureau", "password": "nope", "next": "/a/1"})
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.text
    ok = app.post(
        "/login",
        data={"username": "maintainer", "password": DEMO_PASSWORD, "next": "/a/1"},
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/a/1"
    evil = app.post(
        "/login",
        data={"username": "maintainer", "password": DEMO_PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/my", "no open redirect"


def test_the_bureau_overview_shows_the_county_figures(app: TestClient, world: World) -> None:
    page = signed_in(app, "bureau").get("/overview")
    assert page.status_code == 200
    assert "全县总览" in page.text
    assert "/static/vendor/echarts/echarts.min.js" in page.text
    summary = app.get("/api/v1/fleet/summary").json()
    year_wan = f"{summary['year']['energy_kwh'] / 1e4:.1f} 万千瓦时"
    assert year_wan in page.text
    assert "数据不足" in page.text, "four days say nothing of the year"
    assert "依据今年4天的数据" in page.text
    assert "通信中断" in page.text, "alerts in words, not rule ids"
    assert ">comm_loss<" not in page.text
    assert app.get("/static/vendor/echarts/echarts.min.js").status_code == 200
    english = app.get("/overview?lang=en")
    assert "County overview" in english.text
    remembered = app.get("/overview").text
    assert '<h2 id="page-title">County overview</h2>' in remembered, "the choice is remembered"
    assert "全县总览" not in remembered
    app.get("/overview?lang=zh")


def test_the_overview_shows_its_alerts_as_they_are_though_its_page_is_kept(
    app: TestClient, world: World
) -> None:
    """The overview is made again only when what it shows changes; an alert acknowledged,
    or one resolved while another opens (the count the same), shows at the next request."""
    bureau = signed_in(app, "bureau")

    def shown() -> dict[int, str]:
        page = bureau.get("/overview").text
        table = page[page.index('<table id="alerts"') :]
        rows = table[: table.index("</table>")].split("<tr>")[2:]
        return {
            int(re.search(r'href="/a/(\d+)"', row)[1]): re.findall(r"<td>([^<]*)</td>", row)[-2]  # type: ignore[index]
            for row in rows
        }

    def active() -> dict[int, str]:
        with session_factory(world.engine)() as session:
            rows = session.execute(
                select(tables.Alert.id, tables.Alert.state).where(tables.Alert.state != "resolved")
            ).all()
        return {i: {"open": "待处理", "acknowledged": "已确认"}[state] for i, state in rows}

    before = shown()
    assert before == active()
    assert set(before.values()) == {"待处理"}
    assert shown() == before
    first, second = sorted(before)[:2]
    now = dt.datetime.now(dt.UTC)
    with session_factory(world.engine).begin() as session:
        actions.acknowledge(session, first, "bureau-duty", "web", now)
    assert shown()[first] == "已确认"
    with session_factory(world.engine)() as session:
        alerted = set(session.scalars(select(tables.Alert.station_id)))
    station = next(s.id for s in world.registry.stations if s.id not in alerted)
    found = Finding(
        FindingKind.ZERO_OUTPUT, Subject.STATION, station, Severity.WARNING, now, {}, station
    )
    with session_factory(world.engine).begin() as session:
        sync_findings(session, [found], set(), now)
    AlertService(world.settings, world.engine, world.influx).evaluate(now)
    with session_factory(world.engine).begin() as session:
        actions.resolve_by_hand(session, second, "bureau-duty", "web", now)
    after = shown()
    assert len(after) == len(before)
    assert after == active()
    assert second not in after


def test_an_overview_is_made_again_when_a_kept_figure_is_worked_out_again() -> None:
    """The month's losses, kept a minute, are worked out again as a new report holding a
    data frame: the page is made again (not compared as frames, which has no single
    answer); what is asked per request compares by value."""

    def losses() -> MonthLosses:
        return MonthLosses({"S1": Loss(12.0, 9.7, 1, 0)}, pd.DataFrame({"kwh": [12.0]}))

    kept = {"compliance": object(), "year_money": object(), "progress": object()}
    summary = (object(), {"ok": 3}, 1)

    def figures(month_lost: MonthLosses, orders: tuple[int, ...] = (2, 0)) -> FleetFigures:
        return FleetFigures(
            summary=summary,  # type: ignore[arg-type]
            target=None,  # type: ignore[arg-type]
            orders=orders,
            alerts_changed=(None, 0),
            month_lost=month_lost,
            villages=None,
            view=1,
            **kept,  # type: ignore[arg-type]
        )

    same = losses()
    assert figures(same) == figures(same)
    assert figures(same) != figures(losses())
    assert figures(same) != figures(same, orders=(2, 1)), "an order fell late"


def test_a_maintainer_acts_on_an_alert_from_the_phone_page(app: TestClient, world: World) -> None:
    client = signed_in(app, "maintainer")
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/my"
    page = client.get("/my")
    ids = [int(i) for i in re.findall(r'id="alert-(\d+)"', page.text)]
    with session_factory(world.engine)() as session:
        mine = session.scalars(
            select(tables.Alert.id).where(
                tables.Alert.station_id == world.mine, tables.Alert.state != "resolved"
            )
        ).all()
        theirs = session.scalars(
            select(tables.Alert.id).where(tables.Alert.station_id == world.others)
        ).one()
    assert ids == list(mine)
    alert = client.get(f"/a/{ids[0]}")
    assert f'id="ack-{ids[0]}"' in alert.text
    assert 'name="note"' in alert.text, "a note can go with the acknowledgement"
    done = client.post(
        f"/a/{ids[0]}/ack", data={"note": "已到现场，逆变器重启中"}, follow_redirects=False
    )
    assert done.status_code == 303
    history = client.get(f"/a/{ids[0]}").text
    history = history[history.index('id="history"') :]
    with session_factory(world.engine)() as session:
        person = session.scalars(
            select(tables.User.person_id).where(tables.User.username == "maintainer")
        ).one()
    name = next(p.name for p in world.registry.people if p.id == person)
    assert re.search(
        rf"<td>已确认</td><td>{name}</td><td>网页</td><td>已到现场，逆变器重启中</td>", history
    )
    assert "<td>告警产生</td><td>系统</td>" in history, "the system's steps in words too"
    assert "acknowledged" not in history
    assert "user:" not in history
    assert ">web<" not in history
    assert client.get(f"/a/{theirs}").status_code == 404
    assert client.post(f"/a/{theirs}/ack").status_code == 404
    with session_factory(world.engine)() as session:
        assert session.get(tables.Alert, theirs).state == "open"  # type: ignore[union-attr]


def test_a_collective_sees_its_income_and_prints_its_disclosure_sheet(
    app: TestClient, world: World
) -> None:
    client = signed_in(app, "collective")
    page = client.get("/")
    assert page.status_code == 200
    village = client.get("/api/v1/auth/me").json()["village_id"]
    assert page.url.path == f"/villages/{village}"
    assert "本村光伏收益" in page.text
    other = next(v.id for v in world.registry.villages if v.id != village)
    assert client.get(f"/villages/{other}").status_code == 404
    assert client.get(f"/villages/{other}/disclosure").status_code == 404
    sheet = client.get(f"/villages/{village}/disclosure")
    assert "收益公示" in sheet.text


def test_a_computed_village_sheet_adds_up(app: TestClient, world: World) -> None:
    client = signed_in(app, "bureau")
    village = next(v.id for v in world.registry.villages if v.township_id == TOWNSHIP)
    detail = client.get(f"/api/v1/villages/{village}").json()
    sheet = client.get(f"/villages/{village}/disclosure").text
    assert f"{detail['annual']['net_yuan']:,.2f}" in sheet
    for month in detail["months"]:
        assert month["period"] in sheet


def exported_rows(response: object) -> tuple[str, list[dict[str, str]]]:
    """A CSV export's first row (what, period, basis) and its table."""
    lines = response.content.decode("utf-8-sig").splitlines()  # type: ignore[attr-defined]
    return lines[0], list(csv.DictReader(lines[1:]))


def test_exports_speak_chinese_with_names_local_times_and_number_formats(
    app: TestClient, world: World
) -> None:
    client = signed_in(app, "bureau")
    village = next(v.id for v in world.registry.villages if v.township_id == TOWNSHIP)
    as_csv = client.get("/api/v1/exports/statements.csv", params={"village_id": village})
    assert as_csv.content.startswith("\ufeff".encode())
    title, rows = exported_rows(as_csv)
    year = str(dt.date.today().year)
    assert year in title
    assert "估算" in title, "the first row says the figures are estimates"
    assert title.startswith("永和县光伏扶贫电站运行监测 · "), "headed with the county's name"
    detail = client.get(f"/api/v1/villages/{village}").json()
    annual = next(r for r in rows if len(r["期间"]) == 4)
    assert float(annual["可分配收益（元）"]) == pytest.approx(
        detail["annual"]["net_yuan"], abs=0.01
    )
    assert annual["村名"] == next(v.name for v in world.registry.villages if v.id == village)
    _, english = exported_rows(
        client.get("/api/v1/exports/statements.csv", params={"village_id": village, "lang": "en"})
    )
    assert "Net income (yuan)" in english[0]

    book = openpyxl.load_workbook(io.BytesIO(client.get("/api/v1/exports/summary.xlsx").content))
    sheet = book.active
    assert "估算" in sheet.cell(1, 1).value
    assert [c.value for c in sheet[2]][:2] == ["乡镇编号", "乡镇"]
    ours = next(row for row in sheet.iter_rows(min_row=3) if row[0].value == TOWNSHIP)
    # openpyxl writes a whole float as an integer: a number either way, never text
    assert isinstance(ours[4].value, int | float), "numbers stay numbers"
    assert ours[4].value > 0
    assert ours[4].number_format == "#,##0.0"

    _, alerts = exported_rows(client.get("/api/v1/exports/alerts.csv"))
    first = alerts[0]
    assert first["告警"] == "通信中断", "rules in words"
    assert first["级别"] == "严重"
    assert first["开始时间"].endswith("+08:00"), "local time with its offset"
    station = next(s for s in world.registry.stations if s.id == first["电站编号"])
    assert first["电站"] == station.name
    collective = signed_in(app, "collective")
    assert collective.get("/api/v1/exports/alerts.csv").status_code == 403
    theirs = collective.get("/api/v1/exports/statements.csv", params={"village_id": village})
    _, none = exported_rows(theirs)
    assert none == [], "another village's books: empty"


def test_a_township_page_shows_its_figures_villages_supervisor_and_alerts(
    app: TestClient, world: World, default_registry: Registry
) -> None:
    name = next(t.name for t in default_registry.townships if t.id == TOWNSHIP)
    bureau = signed_in(app, "bureau")
    county = bureau.get("/overview").text
    assert f'<a href="/townships/{TOWNSHIP}">{name}</a>' in county, "townships link to pages"
    page = bureau.get(f"/townships/{TOWNSHIP}")
    assert page.status_code == 200
    assert name in page.text
    assert "乡镇总览" in page.text
    summary = app.get("/api/v1/fleet/summary").json()
    ours = next(r for r in summary["townships"] if r["id"] == TOWNSHIP)
    assert f"{ours['year_kwh'] / 1e4:.1f} 万千瓦时" in page.text, (
        "the township's year, not the county's"
    )
    quiet = bureau.get("/townships/T01").text
    assert f"{summary['year']['energy_kwh'] / 1e4:.1f} 万千瓦时" not in quiet, (
        "a township without telemetry in this world does not show the county's year"
    )
    share = re.search(r'id="township-share">[^<]*?([\d.]+)%', page.text)
    assert share is not None
    assert float(share.group(1)) > 0
    villages = {v.id for v in default_registry.villages if v.township_id == TOWNSHIP}
    linked = set(re.findall(r'href="/villages/([^"]+)"', page.text))
    assert linked == villages, "every village of the township, and only those"
    supervisors = [
        p.id
        for p in default_registry.people
        if p.role == "supervisor" and p.township_id == TOWNSHIP
    ]
    assert supervisors
    assert all(f'href="/people/{p}"' in page.text for p in supervisors)
    assert f"/api/v1/fleet/map?township={TOWNSHIP}" in page.text
    township_of = {s.id: s.township_id for s in default_registry.stations}
    townships = {t.id for t in default_registry.townships}
    alerted = township_of[world.mine]
    listed = bureau.get(f"/townships/{alerted}").text
    with session_factory(world.engine)() as session:
        shown = session.scalars(
            select(tables.Alert).where(
                tables.Alert.id.in_([int(i) for i in re.findall(r'href="/a/(\d+)"', listed)])
            )
        ).all()
    assert world.mine in {a.station_id for a in shown}, "the township's open alert"
    assert {a.township_id for a in shown} == {alerted}, "and no other township's"
    elsewhere = bureau.get(f"/townships/{min(townships - {alerted})}").text
    assert not {f'href="/a/{a.id}"' for a in shown} & set(
        re.findall(r'href="/a/\d+"', elsewhere)
    ), "another township's page leaves them out"
    mapped = app.get(f"/api/v1/fleet/map?township={TOWNSHIP}").json()
    assert {s[2] for s in mapped["stations"]} == {
        s.id for s in default_registry.stations if s.township_id == TOWNSHIP
    }
    assert [t["id"] for t in mapped["townships"]] == [TOWNSHIP]
    assert bureau.get("/townships/T99").status_code == 404
    assert app.get("/api/v1/fleet/map?township=T99").status_code == 404


def test_a_supervisor_lands_on_their_township_and_sees_no_other(
    app: TestClient, world: World, default_registry: Registry
) -> None:
    supervisor = signed_in(app, "supervisor")
    home = supervisor.get("/overview", follow_redirects=False)
    assert home.status_code == 303
    own = home.headers["location"].rsplit("/", 1)[-1]
    other = next(t.id for t in default_registry.townships if t.id != own)
    assert supervisor.get(home.headers["location"]).status_code == 200
    assert supervisor.get(f"/townships/{other}").status_code == 404
    assert app.get(f"/api/v1/fleet/map?township={other}").status_code == 404
    filtered = supervisor.get(f"/alerts?township={other}").text
    assert not re.findall(r'href="/a/(\d+)"', filtered), "a filter never widens the scope"
    for role in ("maintainer", "collective"):
        assert signed_in(app, role).get(f"/townships/{own}").status_code == 404


def test_a_supervisor_sees_their_townships_alerts_however_many_are_newer_elsewhere(
    world: World, default_registry: Registry
) -> None:
    w = world
    with session_factory(w.engine)() as session:
        township = session.scalars(
            select(tables.User.township_id).where(tables.User.username == "supervisor")
        ).one()
        ours = session.scalars(
            select(tables.Alert.id).where(
                tables.Alert.township_id == township, tables.Alert.state != "resolved"
            )
        ).all()
    assert ours, "the world has an open alert in the supervisor's township"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    elsewhere = [
        s.id for s in default_registry.stations if s.township_id != township and s.kind == "village"
    ][:25]
    with session_factory(w.engine).begin() as session:
        found = [
            Finding(FindingKind.ZERO_OUTPUT, Subject.STATION, s, Severity.WARNING, later, {}, s)
            for s in elsewhere
        ]
        sync_findings(session, found, set(), later)
    AlertService(w.settings, w.engine, w.influx).evaluate(later)
    with TestClient(create_app(w.ctx)) as c:
        page = signed_in(c, "supervisor").get("/overview")
    shown = {int(i) for i in re.findall(r'href="/a/(\d+)"', page.text)}
    assert set(ours) <= shown


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_empty_store_says_no_data_instead_of_zeros_and_night_leads_with_yesterday(
    tmp_path: Path, loaded_engine: Engine, influx: InfluxClient
) -> None:
    """The first minutes of a fresh ``pvmon up`` at 03:00: no card shows 0.0, no chart of
    zeros is drawn, the target is not "at risk" for lack of data, and the overview leads
    with yesterday, not with tonight's zero."""
    with session_factory(loaded_engine).begin() as session:
        demo_users(session, dt.datetime.now(dt.UTC))
        stamp_days(session, [dt.date.today() - dt.timedelta(days=3)])  # history arriving
    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=loaded_engine.url.render_as_string(hide_password=False),
    )
    night = dt.datetime.combine(dt.date.today(), dt.time(3, 8), TZ)
    with TestClient(
        create_app(ApiState(settings, loaded_engine, influx, clock=lambda: night))
    ) as c:
        page = signed_in(c, "bureau").get("/overview").text
    assert 'id="year-no-data"' in page
    assert "0.0 万千瓦时" not in page
    assert 'id="chart-segments"' not in page, "no pie of zeros"
    assert "数据不足" in page
    assert "有风险" not in page
    assert "昨日 · 发电量" in page
    assert 'id="progress-banner"' in page, "the year is filling in"
    noon = dt.datetime.combine(dt.date.today(), dt.time(12), TZ)
    at_noon = ApiState(settings, loaded_engine, influx, clock=lambda: noon)
    with TestClient(create_app(at_noon)) as c:
        assert "今日 · 发电量" in signed_in(c, "bureau").get("/overview").text


def test_the_alert_list_is_worked_from_the_most_severe_and_longest_standing_in_pages(
    world: World, default_registry: Registry
) -> None:
    w = world
    now = dt.datetime.now(dt.UTC)
    villages = [s.id for s in default_registry.stations if s.kind == "village"][30:90]
    levels = [Severity.INFO, Severity.WARNING, Severity.CRITICAL]
    with session_factory(w.engine).begin() as session:
        found = [
            Finding(
                FindingKind.ZERO_OUTPUT,
                Subject.STATION,
                s,
                levels[n % 3],
                now - dt.timedelta(minutes=n),
                {},
                s,
            )
            for n, s in enumerate(villages)
        ]
        sync_findings(session, found, set(), now)
    AlertService(w.settings, w.engine, w.influx).evaluate(now)
    with TestClient(create_app(w.ctx)) as c:
        client = signed_in(c, "bureau")
        first = client.get("/alerts").text
        rows = re.findall(r'<td class="sev-(\w+)">.*?<td>([\d-]+ [\d:]+)</td></tr>', first, re.S)
        assert len(rows) == 50, "a page of fifty"
        rank = {"critical": 0, "warning": 1, "info": 2}
        assert [(rank[s], t) for s, t in rows] == sorted((rank[s], t) for s, t in rows)
        assert 'id="next-page"' in first
        second = client.get("/alerts?page=2").text
        assert re.findall(r'<td class="sev-(\w+)">', second), "the rest on the next page"
        infos = client.get("/alerts?severity=info").text
        assert set(re.findall(r'<td class="sev-(\w+)">', infos)) == {"info"}
        names = {s.id: s.name for s in default_registry.stations}
        assert names[villages[2]] in first, "subjects by name"
        assert client.get("/alerts?severity=bogus").status_code == 400
        assert client.get("/alerts?page=0").status_code == 400


def test_households_revenue_and_forecast_are_on_the_village_page_and_the_maintainers(
    app: TestClient, world: World
) -> None:
    bureau = signed_in(app, "bureau")
    rows = {s.id: s for s in world.registry.stations}
    village_id = next(rows[s].village_id for s in world.stations if rows[s].kind == "household")
    page = bureau.get(f"/villages/{village_id}").text
    table = page[page.index('id="households"') :]
    api = bureau.get(f"/api/v1/villages/{village_id}/households").json()
    forecasts = [h["forecast"] for h in api if h["forecast"]]
    assert forecasts, "the village's households have forecasts"
    assert all(f["actual_yuan"] > 0 for f in forecasts), "four days of their income"
    shown = re.findall(r'<td class="num">([\d,]+)</td><td class="num">([\d,]+)</td>', table)
    expected = [(f"{f['actual_yuan']:,.0f}", f"{f['forecast_yuan']:,.0f}") for f in forecasts]
    assert shown == expected, "each household's revenue so far and forecast, as the API has them"
    assert "数据不足" in table, "four days of data do not call a household's year"

    collective = signed_in(app, "collective").get("/village").text
    without = collective[collective.index('id="households"') :]
    assert "暂无数据" in without, "a village without data says so, not 0 yuan"
    assert not re.search(r'<td class="num">0</td>', without)
    maintainer = signed_in(app, "maintainer").get("/my").text
    assert 'id="households"' in maintainer


def test_the_disclosure_sheet_has_households_posting_period_phone_and_signatures(
    world: World,
) -> None:
    settings = world.settings.model_copy(
        update={
            "disclosure": world.settings.disclosure.model_copy(
                update={"supervision_phone": "0357-6921234", "posting_days": 10}
            )
        }
    )
    rows = {s.id: s for s in world.registry.stations}
    village = next(rows[s].village_id for s in world.stations if rows[s].kind == "household")
    with TestClient(create_app(ApiState(settings, world.engine, world.influx))) as c:
        sheet = signed_in(c, "bureau").get(f"/villages/{village}/disclosure").text
    today = local_day(utc_now(), ZoneInfo(settings.timezone))  # the county's day, not the machine's
    until = today + dt.timedelta(days=9)
    assert f"公示期：{today.isoformat()}至{until.isoformat()}" in sheet
    assert "监督电话：0357-6921234" in sheet
    for line in ("村党支部书记（签字）", "村委会主任（签字）", "村务监督委员会（签字）"):
        assert line in sheet
    households = [
        p.name
        for p in world.registry.people
        if any(s.household_id == p.id and s.village_id == village for s in rows.values())
    ]
    table = sheet[sheet.index('id="sheet-households"') :]
    assert households
    assert all(name in table for name in households), "every household of the village"


def test_alerts_about_a_village_or_an_inverter_are_listed_with_their_subject_named(
    world: World, default_registry: Registry
) -> None:
    w = world
    now = dt.datetime.now(dt.UTC)
    village = next(v for v in default_registry.villages if v.township_id == TOWNSHIP)
    evidence = {"forecast_yuan": 150_000.0, "target_yuan": 200_000.0}
    with session_factory(w.engine).begin() as session:
        found = [
            Finding(
                FindingKind.VILLAGE_INCOME_AT_RISK,
                Subject.VILLAGE,
                village.id,
                Severity.WARNING,
                now,
                evidence,
            )
        ]
        sync_findings(session, found, set(), now)
    AlertService(w.settings, w.engine, w.influx).evaluate(now)
    with TestClient(create_app(w.ctx)) as c:
        client = signed_in(c, "bureau")
        for page in ("/overview", "/alerts"):
            shown = client.get(page)
            assert shown.status_code == 200, page
            assert f'href="/villages/{village.id}">{village.name}</a>' in shown.text, page


def test_a_station_page_shows_its_degradation_once_estimated(app: TestClient, world: World) -> None:
    signed_in(app, "bureau")
    before = app.get(f"/stations/{world.mine}")
    assert "晴天数据不足两年，尚无估计" in before.text
    with session_factory(world.engine).begin() as session:
        for as_of, rate in ((dt.date(2026, 10, 31), -0.58), (dt.date(2026, 11, 30), -0.62)):
            session.add(
                tables.StationDegradation(
                    station_id=world.mine,
                    as_of=as_of,
                    rate_pct=rate,
                    low_pct=-0.7,
                    high_pct=-0.55,
                    pairs=1204,
                    first_day=dt.date(2021, 3, 1),
                    computed_at=utc_now(),
                )
            )
    shown = app.get(f"/stations/{world.mine}")
    assert "组件衰减：每年-0.62%（-0.70%～-0.55%）" in shown.text, "the latest estimate"
    assert "2021-03-01起晴天逐年对比1204对，截至2026-11-30" in shown.text
    english = app.get(f"/stations/{world.mine}?lang=en")
    assert "Module degradation: -0.62 % a year (-0.70 % to -0.55 %)" in english.text


def test_a_station_page_shows_its_soiling_and_what_the_dust_cost(
    app: TestClient, world: World
) -> None:
    signed_in(app, "bureau")
    before = app.get(f"/stations/{world.mine}")
    assert "积灰：晴天数据不足，尚无估计" in before.text
    with session_factory(world.engine).begin() as session:
        for as_of, ratio in ((dt.date(2026, 11, 22), 0.975), (dt.date(2026, 11, 29), 0.969)):
            session.add(
                tables.StationSoiling(
                    station_id=world.mine, as_of=as_of, ratio=ratio, low=0.962, high=0.973,
                    loss_now_pct=6.4, lost_kwh=1210.0, lost_yuan=907.5, window_days=28,
                    cleaning_yuan=650.0, intervals=14, cleanings=15, computed_at=utc_now(),
                )
            )  # fmt: skip
    shown = app.get(f"/stations/{world.mine}")
    assert "积灰：近一年损失3.1%（2.7%～3.8%），目前6.4%" in shown.text, "the latest estimate"
    assert "近28天积灰损失约908元（估算），清洗一次约650元；截至2026-11-29" in shown.text
    english = app.get(f"/stations/{world.mine}?lang=en")
    assert "Soiling: 3.1 % lost over the last year (2.7 % to 3.8 %), 6.4 % now" in english.text
