"""A province's day: each county computed on its own, the totals summed from them."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from analytics.context import Analytics
from analytics.service import AnalyticsService
from api.app import create_app
from api.responses import XLSX
from api.scope import Role
from api.state import ApiState
from api.users import DEMO_PASSWORD, NewUser, add_user
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.localtime import month_add, month_of
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from tests.support.browser import charts_drawn, map_drawn, serving, shot, sign_in
from tests.support.fleetwriter import TZ, settings_for
from tests.support.province import (
    county_energy,
    day_units,
    fleet_energy,
    load_province,
    station_energy,
    write_province_day,
)
from tests.support.world import login


def test_a_province_day_is_computed_county_by_county_and_totalled_from_them(
    tmp_path: Path, influx: InfluxClient, engine: Engine, browser: WebDriver
) -> None:
    registry = load_province(engine, 3)
    day = dt.datetime.now(TZ).date() - dt.timedelta(days=1)  # the API's "yesterday"
    written = write_province_day(registry, influx, day, stations=8)
    settings = settings_for(
        tmp_path, influx, engine, analytics={"history_start": day.isoformat(), "workers": 1}
    )
    service = AnalyticsService(Analytics.open(settings, engine, influx))
    result = service.catch_up(now=dt.datetime.combine(day, dt.time(21), TZ))
    assert result.days == [day]
    units = day_units(engine, day)
    assert [(u.job, u.part, u.state, u.completions) for u in units] == [
        ("daily", "C001", "done", 1),
        ("daily", "C002", "done", 1),
        ("daily", "C003", "done", 1),
        ("daily-totals", "*", "done", 1),
    ]
    stations = station_energy(influx)
    counties = county_energy(influx)
    for county, subset in written.items():
        made = [stations[s] for s in subset]
        assert all(kwh > 0 for kwh in made), county
        own = [
            kwh
            for s, kwh in stations.items()
            if s.startswith(f"{county}-") or (county == "C001" and "-" not in s)
        ]
        assert counties[county] == pytest.approx(sum(own), rel=1e-9)
    assert len(set(counties.values())) == 3, "each county its own telemetry"
    assert fleet_energy(influx) == pytest.approx(sum(counties.values()), rel=1e-9)
    with session_factory(engine)() as session:
        run = session.get(tables.JobRun, ("daily", day.isoformat()))
    assert run is not None
    assert (run.status, run.detail["counties"]) == ("ok", 3)
    assert run.started_at == min(u.started_at for u in units if u.job == "daily")
    county_users_see_their_county(tmp_path, influx, engine, registry, counties, day)
    drawn = settings_for(tmp_path, influx, engine, api_map_stations=MAP_STATIONS)
    with serving(ApiState(drawn, engine, influx)) as base:
        the_overviews_in_a_browser(browser, base, tmp_path)


def the_overviews_in_a_browser(browser: WebDriver, base: str, tmp_path: Path) -> None:
    """The province's bureau: its counties, then their townships; a county's bureau: its
    own county's overview (not one township's), without the others."""
    sign_in(browser, base, "province")
    assert browser.current_url == f"{base}/overview"
    rows = browser.find_elements(By.CSS_SELECTOR, "#counties tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows[1:]] == [
        "永和县",
        "002号县",
        "003号县",
    ]
    towns = browser.find_elements(By.CSS_SELECTOR, "#townships tr a")
    assert len(towns) == 18
    assert [a.text for a in towns[::6]] == ["002号县芝河镇", "003号县芝河镇", "永和县芝河镇"], (
        "township names repeat across counties: each with its county's"
    )
    WebDriverWait(browser, 20).until(lambda b: charts_drawn(b, "chart-map"))
    shot(browser, "province-overview.png", tmp_path)
    WebDriverWait(browser, 20).until(lambda b: map_drawn(b, "chart-map"))
    browser.execute_script("document.getElementById('chart-map').scrollIntoView()")
    shot(browser, "province-map.png", tmp_path)
    browser.get(f"{base}/rankings?county=C002&kind=village")
    ranked = browser.find_elements(By.CSS_SELECTOR, "#ranking tr td:nth-child(3)")
    assert ranked, "the county's village stations, ranked"
    assert all(td.text.startswith("002号县") for td in ranked), "townships named with their county"
    shot(browser, "province-rankings.png", tmp_path)
    sign_in(browser, base, "county")
    assert browser.current_url == f"{base}/overview"
    assert browser.find_elements(By.ID, "counties") == []
    towns = browser.find_elements(By.CSS_SELECTOR, "#townships tr a")
    assert [a.get_attribute("href").rsplit("/", 1)[1] for a in towns] == [
        f"C002-T0{n}" for n in range(1, 7)
    ]
    WebDriverWait(browser, 20).until(lambda b: charts_drawn(b, "chart-map"))
    shot(browser, "county-bureau-overview.png", tmp_path)


def county_users_see_their_county(
    tmp_path: Path,
    influx: InfluxClient,
    engine: Engine,
    registry: Registry,
    counties: dict[str, float],
    day: dt.date,
) -> None:
    """The province's bureau sees the province; a county's bureau and a township's
    supervisor their county, its figures and its targets (the second county has its own;
    the others the settings'); nothing of the others."""
    own = registry.counties[1].model_copy(update={"village_energy_kwh": 5e6})
    registry.counties[1] = own
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
        for new in (
            NewUser("province", Role.BUREAU, "省能源局"),
            NewUser("county", Role.BUREAU, "二号县能源局", county_id="C002"),
            NewUser("supervisor", Role.SUPERVISOR, "乡镇监管员", township_id="C003-T01"),
        ):
            add_user(session, new, DEMO_PASSWORD, dt.datetime.now(dt.UTC))
        report_loggers(session, registry, away=AWAY)
    settings = settings_for(tmp_path, influx, engine, api_map_stations=MAP_STATIONS)
    with TestClient(create_app(ApiState(settings, engine, influx))) as client:
        who = {u: login(client, u) for u in ("province", "county", "supervisor")}

        def get(user: str, path: str) -> dict | list:
            r = client.get(f"/api/v1{path}", headers=who[user])
            assert r.status_code == 200, (user, path, r.text)
            return r.json()

        yesterday = {u: get(u, "/fleet/summary")["yesterday"]["energy_kwh"] for u in who}
        assert yesterday["province"] == pytest.approx(sum(counties.values()), rel=1e-6)
        assert yesterday["county"] == pytest.approx(counties["C002"], rel=1e-6)
        names = {t["id"] for t in get("county", "/fleet/summary")["townships"]}
        assert names == {f"C002-T0{n}" for n in range(1, 7)}
        listed = get("county", "/stations?limit=5000")
        assert len(listed) == 2240
        assert {s["id"][:5] for s in listed} == {"C002-"}
        assert client.get("/api/v1/stations/VS001", headers=who["county"]).status_code == 404
        targets = {u: get(u, "/targets")["target_kwh"] for u in who}
        assert targets == {"province": 2 * 21e6 + 5e6, "county": 5e6, "supervisor": 21e6}
        for path in ("/audit", "/ingest/status"):
            assert client.get(f"/api/v1{path}", headers=who["county"]).status_code == 403, path
            assert client.get(f"/api/v1{path}", headers=who["province"]).status_code == 200, path
        book = client.get("/api/v1/registry/export", headers=who["county"])
        workbook = openpyxl.load_workbook(io.BytesIO(book.content), read_only=True)
        assert [row[0] for row in workbook["counties"].iter_rows(min_row=2, values_only=True)] == [
            "C002"
        ], "a county's bureau exports its county's part"
        back = client.post(
            "/api/v1/registry/import",
            files={"file": ("c002.xlsx", book.content, XLSX)},
            headers=who["county"],
        )
        assert back.status_code == 200, back.text
        assert back.json()["sheets"]["stations"] == 2240, "and imports it back"
        the_lists_narrow_to_a_county(client, who)
        the_maps_draw_a_county_and_shade_a_province(get, registry)
        a_county_keeps_its_own_books(client, who, registry)
        each_overview_counts_its_own_money(client, who, registry)
        each_sees_its_own_orders(client, who, registry)


MAP_STATIONS = 5000
"""More than a county's 2,240 stations, fewer than three counties' 6,720."""
AWAY = "C002-T03"
"""The township whose loggers are all offline."""


def report_loggers(session: Session, registry: Registry, away: str) -> None:
    """Every station's logger online, except those of the township ``away``."""
    now = dt.datetime.now(dt.UTC)
    session.add_all(
        tables.LoggerStatus(
            station_id=s.id, online=s.township_id != away, since=now, updated_at=now
        )
        for s in registry.stations
    )


def the_maps_draw_a_county_and_shade_a_province(get: Callable, registry: Registry) -> None:
    """A county's map draws its stations; a province's (past the settings' limit) gives
    its townships' counts by state instead, the same counts the summaries give."""
    away = sum(1 for s in registry.stations if s.township_id == AWAY)
    total = len(registry.stations)
    assert get("province", "/fleet/summary")["stations_by_state"] == {
        "offline": away,
        "ok": total - away,
    }
    assert get("county", "/fleet/summary")["stations_by_state"] == {
        "offline": away,
        "ok": 2240 - away,
    }
    province = get("province", "/fleet/map")
    assert (province["stations"], province["stations_in_scope"]) == ([], total)
    areas = {t["id"]: t["states"] for t in province["townships"]}
    assert len(areas) == 18
    assert areas[AWAY] == {"offline": away}
    assert sum(sum(states.values()) for states in areas.values()) == total
    county = get("county", "/fleet/map")
    assert len(county["stations"]) == county["stations_in_scope"] == 2240
    marks = Counter((m[2].split("-")[0], m[4]) for m in county["stations"])
    assert marks == {("C002", "offline"): away, ("C002", "ok"): 2240 - away}
    township_of = {s.id: s.township_id for s in registry.stations}
    drawn = Counter((township_of[m[2]], m[4]) for m in county["stations"])
    for area in county["townships"]:
        assert area["states"] == {state: n for (t, state), n in drawn.items() if t == area["id"]}, (
            area["id"]
        )


def a_county_keeps_its_own_books(
    client: TestClient, who: dict[str, dict[str, str]], registry: Registry
) -> None:
    """A county's bureau enters statements, imports files, closes months and records uses
    for its county's stations and villages, and for no other county's: a file naming
    another county's station is refused whole."""
    last = month_add(month_of(dt.date.today()), -1)
    county_of = registry.county_of()

    def village_stations(county: str) -> list[str]:
        return [
            s.id
            for s in registry.stations
            if s.kind == "village" and county_of[s.township_id] == county
        ]

    own, foreign = village_stations("C002")[:2], village_stations("C003")[0]
    statement = {"export_kwh": 9000, "grid_yuan": 2988.0}

    def put(user: str, station: str) -> int:
        path = f"/api/v1/finance/settlements/{station}/{last}"
        return client.put(path, json=statement, headers=who[user]).status_code

    assert put("county", own[0]) == 200
    assert put("county", foreign) == 404
    assert put("supervisor", village_stations("C003")[1]) == 403, "a supervisor keeps none"

    def upload(user: str, *stations: str) -> Response:
        rows = "".join(f"{s},{last},9000,2988\n" for s in stations)
        body = f"station_id,period,export_kwh,grid_yuan\n{rows}".encode()
        return client.post(
            "/api/v1/finance/settlements/import",
            files={"file": ("s.csv", body, "text/csv")},
            headers=who[user],
        )

    mixed = upload("county", own[1], foreign)
    assert mixed.status_code == 422
    assert [e["loc"][-1] for e in mixed.json()["detail"]] == [3], "the other county's row"
    written = client.get(
        f"/api/v1/finance/settlements?station_id={own[1]}", headers=who["province"]
    ).json()
    assert written == [], "nothing of a refused file is written"
    assert upload("county", own[1]).json()["added"] == 1
    assert upload("province", foreign).json()["added"] == 1, "the province keeps every county's"

    theirs = next(v.id for v in registry.villages if county_of[v.township_id] == "C003")
    mine = next(v.id for v in registry.villages if county_of[v.township_id] == "C002")
    close = client.post(f"/api/v1/villages/{theirs}/months/{last}/close", headers=who["county"])
    assert close.status_code == 404
    use = {
        "used_on": dt.date.today().isoformat(),
        "category": "small_public_works",
        "description": "修缮村道排水沟",
        "amount_yuan": 800,
    }
    for village, status in ((mine, 201), (theirs, 404)):
        made = client.post(f"/api/v1/villages/{village}/uses", json=use, headers=who["county"])
        assert made.status_code == status, (village, made.text)


def each_overview_counts_its_own_money(
    client: TestClient, who: dict[str, dict[str, str]], registry: Registry
) -> None:
    """The province's overview counts the three station-months settled above, the county's
    its own two, whichever of them is opened first (the figures are kept a while: they
    were kept for every bureau alike, and the county saw the province's)."""

    def settled(user: str) -> str:
        page = client.get("/overview", headers=who[user])
        assert page.status_code == 200, user
        found = re.search(r'id="money-settled".*?(\d+)个电站·月', page.text, re.S)
        assert found, user
        return found.group(1)

    assert settled("province") == "3"
    assert settled("county") == "2"
    assert settled("province") == "3"
    another = [s.id for s in registry.stations if s.kind == "village" and "C003-" in s.id][2]
    path = f"/api/v1/finance/settlements/{another}/{month_add(month_of(dt.date.today()), -1)}"
    statement = {"export_kwh": 9000, "grid_yuan": 2988.0}
    assert client.put(path, json=statement, headers=who["province"]).status_code == 200
    assert settled("province") == "4", "a statement entered shows at once"
    english = client.get("/overview?lang=en", headers=who["province"]).text
    assert "<h2>Counties</h2>" in english, "the tables kept are kept per language"
    assert 'href="/townships/C003-T01"' in english


def each_sees_its_own_orders(
    client: TestClient, who: dict[str, dict[str, str]], registry: Registry
) -> None:
    """Orders opened in three counties: the province's bureau sees all three, a county's
    bureau its county's, a township's supervisor its township's — in the list and in the
    overview's count of open orders."""
    opened = {}
    for township in ("T01", "C002-T04", "C003-T01"):
        station = next(s.id for s in registry.stations if s.township_id == township)
        order = {"station_id": station, "kind": "patrol", "title": "巡检"}
        made = client.post("/api/v1/orders", json=order, headers=who["province"])
        assert made.status_code == 201, made.text
        opened[township] = made.json()["id"]

    def listed(user: str) -> set[int]:
        orders = client.get("/api/v1/orders?limit=1000", headers=who[user]).json()
        return {o["id"] for o in orders}

    assert listed("province") >= set(opened.values())
    assert listed("county") == {opened["C002-T04"]}
    assert listed("supervisor") == {opened["C003-T01"]}
    page = client.get("/townships/C003-T01", headers=who["supervisor"]).text
    assert 'href="/orders?state=open">1</a>' in page, "the supervisor's one open order"


def the_lists_narrow_to_a_county(client: TestClient, who: dict[str, dict[str, str]]) -> None:
    """A province's rankings, alerts and villages one county at a time; a county's bureau
    is offered no county filter and cannot reach another county through it."""

    def page(user: str, path: str) -> str:
        r = client.get(path, headers=who[user])
        assert r.status_code == 200, (user, path)
        return r.text

    def stations(text: str) -> set[str]:
        return set(re.findall(r'href="/stations/([^"]+)"', text))

    ranked = stations(page("province", "/rankings?county=C003&kind=village"))
    assert ranked, "the county's village stations"
    assert {s[:5] for s in ranked} == {"C003-"}
    everything = page("province", "/rankings?kind=village")
    assert '<option value="C002">002号县</option>' in everything, "the county filter"
    villages = set(
        re.findall(r'href="/villages/([^"]+)"', page("province", "/villages?county=C002"))
    )
    assert villages, "the county's villages"
    assert {v[:5] for v in villages} == {"C002-"}
    assert 'name="county"' in page("province", "/alerts?county=C001")
    assert 'name="county"' not in page("county", "/rankings"), "one county: no filter"
    headed = {u: page(u, "/rankings") for u in ("province", "county", "supervisor")}
    assert "<h1>全省光伏扶贫电站运行监测</h1>" in headed["province"]
    assert '<a href="/overview">全省总览</a>' in headed["province"]
    assert "<h1>002号县光伏扶贫电站运行监测</h1>" in headed["county"], "a county's own name"
    assert '<a href="/overview">全县总览</a>' in headed["county"]
    assert "<h1>003号县光伏扶贫电站运行监测</h1>" in headed["supervisor"], "the township's county"
    for path in ("/rankings?county=C003", "/alerts?county=C003", "/villages?county=C003"):
        assert client.get(path, headers=who["county"]).status_code == 404, path
    assert client.get("/rankings?county=C999", headers=who["province"]).status_code == 404
