"""A province's day: each county computed on its own, the totals summed from them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import Engine

from analytics.context import Analytics
from analytics.service import AnalyticsService
from api.app import create_app
from api.scope import Role
from api.state import ApiState
from api.users import DEMO_PASSWORD, NewUser, add_user
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from tests.support.browser import charts_drawn, serving, shot, sign_in
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
    with serving(ApiState(settings_for(tmp_path, influx, engine), engine, influx)) as base:
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
    settings = settings_for(tmp_path, influx, engine)
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
        for path in ("/audit", "/ingest/status", "/registry/export"):
            assert client.get(f"/api/v1{path}", headers=who["county"]).status_code == 403, path
            assert client.get(f"/api/v1{path}", headers=who["province"]).status_code == 200, path
        the_lists_narrow_to_a_county(client, who)


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
    for path in ("/rankings?county=C003", "/alerts?county=C003", "/villages?county=C003"):
        assert client.get(path, headers=who["county"]).status_code == 404, path
    assert client.get("/rankings?county=C999", headers=who["province"]).status_code == 404
