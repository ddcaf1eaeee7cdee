"""A real browser (Debian's headless Chromium, driven by Selenium) signs in as each role
against a real server over a simulated fleet and sees its page with real figures.
Screenshots of the bureau overview and a collective's page are saved; with
``DOCS_SCREENSHOTS=<dir>`` also there (that is how ``docs/`` gets them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from api.users import demo_maintainer
from maintenance import actions
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.tables.maintenance import OrderKind
from pvmon.findings import Severity
from tests.support.browser import (
    at_phone_width,
    charts_drawn,
    serving,
    shot,
    sign_in,
    submit,
    text_of,
)
from tests.support.orders import photo
from tests.support.world import World, world_fixtures

DEMO_TOWNSHIP = "T01"
"""The demo users' township (the first maintainer's village): its days are computed."""


template, world = world_fixtures(DEMO_TOWNSHIP)


@pytest.fixture
def site(world: World) -> Iterator[tuple[str, World]]:
    with serving(world.ctx) as base:
        yield base, world


def test_the_bureau_sees_the_county_with_charts(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, _ = site
    sign_in(browser, base, "bureau")
    assert browser.current_url == f"{base}/overview"
    energy = browser.find_element(By.CSS_SELECTOR, "#year-energy .big").text
    assert energy.endswith("万千瓦时")
    assert float(energy.split()[0]) > 0
    # the world holds four days of this year: too few to call the year at risk or on track
    assert browser.find_element(By.CSS_SELECTOR, "#target .big").text == "数据不足"
    assert browser.find_element(By.ID, "target-basis").text.startswith("依据今年4天的数据")
    assert "%" in browser.find_element(By.CSS_SELECTOR, "#compliance .big").text
    WebDriverWait(browser, 20).until(lambda b: charts_drawn(b, "chart-map"))
    assert charts_drawn(browser, "chart-target")
    shot(browser, "bureau-overview.png", tmp_path)


def test_a_supervisor_sees_their_township(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, world = site
    sign_in(browser, base, "supervisor")
    assert browser.current_url == f"{base}/townships/{DEMO_TOWNSHIP}"
    name = next(t.name for t in world.registry.townships if t.id == DEMO_TOWNSHIP)
    assert browser.find_element(By.ID, "page-title").text == f"{name} 乡镇总览"
    energy = browser.find_element(By.CSS_SELECTOR, "#year-energy .big").text
    assert float(energy.split()[0]) > 0, "the township's real figures"
    assert browser.find_element(By.CSS_SELECTOR, "#target h2").text.startswith("全县")
    assert "%" in browser.find_element(By.ID, "township-share").text
    rows = browser.find_elements(By.CSS_SELECTOR, "#township-villages tr")[1:]
    assert len(rows) == sum(1 for v in world.registry.villages if v.township_id == DEMO_TOWNSHIP)
    incomes = [float(r.find_elements(By.CSS_SELECTOR, "td")[2].text.replace(",", "")) for r in rows]
    assert any(i > 0 for i in incomes), "villages' income this year"
    WebDriverWait(browser, 20).until(lambda b: charts_drawn(b, "chart-map"))
    assert charts_drawn(browser, "chart-villages")
    shot(browser, "township.png", tmp_path)
    rows[0].find_element(By.TAG_NAME, "a").click()
    WebDriverWait(browser, 20).until(lambda b: "/villages/" in b.current_url)


def test_a_maintainer_acknowledges_an_alert_on_a_phone(
    site: tuple[str, World], browser: WebDriver
) -> None:
    base, world = site
    with at_phone_width(browser):
        sign_in(browser, base, "maintainer")
        assert browser.current_url == f"{base}/my"
        stations = browser.find_elements(By.CSS_SELECTOR, "#stations tr")
        assert len(stations) > 1, "a header and their stations"
        card = browser.find_element(By.CSS_SELECTOR, "[id^=alert-]")
        alert_id = card.get_attribute("id").removeprefix("alert-")
        browser.get(f"{base}/a/{alert_id}")
        browser.find_element(By.NAME, "note").send_keys("已到现场")
        submit(browser, f"ack-{alert_id}")  # waits for the page it leads to
        assert "已确认" in browser.find_element(By.CSS_SELECTOR, "#alert h2").text
        assert alert_id in {str(i) for i in world_alerts(world)}


def test_a_maintainer_works_an_order_on_a_phone_with_a_photo(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, world = site
    order = assigned_order(world)
    picture = tmp_path / "IMG_0001.jpg"
    picture.write_bytes(photo())
    navigating = (StaleElementReferenceException, NoSuchElementException)
    wait = WebDriverWait(browser, 10, ignored_exceptions=navigating)
    with at_phone_width(browser):
        sign_in(browser, base, "maintainer")
        browser.find_element(By.CSS_SELECTOR, f'#my-orders a[href="/orders/{order}"]').click()
        for step, state in (("accept", "已接单"), ("arrive", "已到场")):
            browser.find_element(By.ID, f"step-{step}").click()
            wait.until(lambda b, s=state: text_of(b, "order-state") == s)
        browser.find_element(By.ID, "photo-input").send_keys(str(picture))
        browser.find_element(By.ID, "send-photo").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "img.thumb"))
        thumb = browser.find_element(By.CSS_SELECTOR, "img.thumb")
        wait.until(lambda b: b.execute_script("return arguments[0].naturalWidth", thumb) > 0)
        browser.find_element(By.NAME, "part_name").send_keys("熔断器 15A")
        browser.find_element(By.NAME, "part_qty").send_keys("2")
        browser.find_element(By.ID, "step-done").click()
        wait.until(lambda b: text_of(b, "order-state") == "已完成")
        assert "熔断器 15A" in browser.find_element(By.ID, "parts-used").text
        shot(browser, "order-phone.png", tmp_path)


def assigned_order(world: World) -> int:
    """A repair order on the demo maintainer's station, assigned to them."""
    settings, now = world.settings, world.ctx.now()
    person = demo_maintainer(world.registry).id
    with session_factory(world.engine).begin() as session:
        order = actions.open_order(
            session,
            settings,
            station_id=world.mine,
            kind=OrderKind.REPAIR,
            severity=Severity.WARNING,
            title="汇流箱熔断器检查",
            actor="user:bureau",
            channel="web",
            now=now,
        )
        actions.assign(session, settings, order.id, person, "user:bureau", "web", now)
        return order.id


def world_alerts(world: World) -> list[int]:
    with session_factory(world.engine)() as session:
        return list(
            session.scalars(select(tables.Alert.id).where(tables.Alert.station_id == world.mine))
        )


def test_a_collective_sees_its_income(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, _ = site
    sign_in(browser, base, "collective")
    assert "/villages/" in browser.current_url
    net = browser.find_element(By.CSS_SELECTOR, "#net .big").text
    assert net.endswith("元")
    assert float(net.split()[0].replace(",", "")) != 0
    assert len(browser.find_elements(By.CSS_SELECTOR, "#stations tr")) > 1
    WebDriverWait(browser, 20).until(lambda b: charts_drawn(b, "chart-months"))
    shot(browser, "collective-village.png", tmp_path)
    browser.find_element(By.ID, "disclosure-link").click()
    title = WebDriverWait(browser, 10).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "#sheet h1"))
    )
    assert "收益公示" in title.text
    # Printed on A4 (about 720 CSS px inside the margins): no table wider than the sheet.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.set_window_size(720, 1400)
    try:
        cut = browser.execute_script(
            "return [...document.querySelectorAll('#sheet table')]"
            ".filter(t => t.scrollWidth > document.querySelector('#sheet').clientWidth + 1)"
            ".length"
        )
        assert cut == 0
        assert browser.find_element(By.ID, "signatures").is_displayed()
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.set_window_size(1280, 1400)


def number_in(text: str) -> float:
    return float(text.split(maxsplit=1)[0].replace(",", ""))


def long_view(world: World) -> None:
    """The station's degradation and soiling, as the weekly and monthly jobs keep them."""
    as_of = dt.date.today() - dt.timedelta(days=1)
    now = dt.datetime.now(dt.UTC)
    with session_factory(world.engine).begin() as session:
        session.merge(
            tables.StationDegradation(
                station_id=world.mine, as_of=as_of, rate_pct=-0.74, low_pct=-0.86,
                high_pct=-0.61, pairs=1320, first_day=dt.date(2021, 3, 2), computed_at=now,
            )
        )  # fmt: skip
        session.merge(
            tables.StationSoiling(
                station_id=world.mine, as_of=as_of, ratio=0.969, low=0.962, high=0.973,
                loss_now_pct=6.4, lost_kwh=1210.0, lost_yuan=907.5, window_days=28,
                cleaning_yuan=650.0, intervals=14, cleanings=15, computed_at=now,
            )
        )  # fmt: skip


def test_the_bureau_opens_a_station_its_inverter_and_its_maintainer(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, world = site
    sign_in(browser, base, "bureau")
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    browser.get(f"{base}/stations/{world.mine}?day={yesterday}")
    assert world.mine in browser.find_element(By.ID, "page-title").text
    assert number_in(browser.find_element(By.ID, "kpi-energy").text) > 0
    assert number_in(browser.find_element(By.ID, "kpi-yf").text) > 0
    assert number_in(browser.find_element(By.ID, "kpi-peer").text) > 0
    for chart in ("chart-power", "chart-daily", "chart-monthly"):
        WebDriverWait(browser, 20).until(lambda b, c=chart: charts_drawn(b, c))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#owners tr")) > 1, "the bureau sees money"
    inverters = browser.find_elements(By.CSS_SELECTOR, "#inverters tr")
    judged = browser.find_elements(By.CSS_SELECTOR, "#data-quality tr")
    assert len(judged) == len(inverters) > 1, "each inverter's data quality, with a header"
    assert not browser.find_elements(By.CSS_SELECTOR, "#data-quality .state-warning")
    timing = [number_in(r.find_elements(By.TAG_NAME, "td")[-1].text) for r in judged[1:]]
    assert all(abs(m) < 30 for m in timing), "each inverter's output timing, near its township's"
    shot(browser, "station.png", tmp_path)
    browser.execute_script("document.getElementById('inverters').scrollIntoView()")
    shot(browser, "station-data-quality.png", tmp_path)
    long_view(world)
    browser.refresh()
    assert browser.find_element(By.ID, "degradation").text.startswith("组件衰减：每年-0.74%")
    assert "目前6.4%" in browser.find_element(By.ID, "soiling").text
    browser.execute_script("document.getElementById('degradation').scrollIntoView()")
    shot(browser, "station-long-view.png", tmp_path)

    browser.find_element(By.CSS_SELECTOR, "#inverters a").click()
    WebDriverWait(browser, 10).until(lambda b: "/devices/" in b.current_url)
    browser.get(f"{browser.current_url}?day={yesterday}")
    WebDriverWait(browser, 20).until(lambda b: charts_drawn(b, "chart-power"))
    assert browser.find_element(By.ID, "kpi-power").text != "—"
    shot(browser, "inverter.png", tmp_path)

    browser.get(f"{base}/stations/{world.mine}")
    browser.find_element(By.CSS_SELECTOR, "#maintainers a").click()
    WebDriverWait(browser, 10).until(lambda b: "/people/" in b.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "#person-stations tr")
    assert len(rows) > 1
    assert browser.find_elements(By.CSS_SELECTOR, "#certificates tr, #certificates-none")
    shot(browser, "person.png", tmp_path)


def test_the_alert_list_puts_the_most_severe_first_with_names(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, world = site
    sign_in(browser, base, "bureau")
    browser.get(f"{base}/alerts")
    rows = browser.find_elements(By.CSS_SELECTOR, "#alerts tr")[1:]
    assert rows, "the world has open alerts"
    severities = [r.find_element(By.CSS_SELECTOR, "td").text for r in rows]
    order = {"严重": 0, "警告": 1, "提示": 2}
    assert [order[s] for s in severities] == sorted(order[s] for s in severities)
    subjects = " ".join(r.find_elements(By.CSS_SELECTOR, "td")[2].text for r in rows)
    assert world.mine not in subjects, "names, not ids"
    name = next(s.name for s in world.registry.stations if s.id == world.mine)
    assert name in subjects
    shot(browser, "alerts.png", tmp_path)


def test_a_station_outside_the_maintainers_care_is_not_found_and_money_is_not_shown(
    site: tuple[str, World], browser: WebDriver
) -> None:
    base, world = site
    with at_phone_width(browser):
        sign_in(browser, base, "maintainer")
        browser.get(f"{base}/stations/{world.mine}")
        assert browser.find_elements(By.ID, "inverters")
        assert not browser.find_elements(By.ID, "owners"), "a maintainer sees no money"
        browser.get(f"{base}/stations/{world.others}")
        assert not browser.find_elements(By.ID, "inverters")


def test_a_supervisor_ranks_their_stations_worst_first(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, _ = site
    sign_in(browser, base, "supervisor")
    browser.get(f"{base}/rankings?kind=village")
    rows = browser.find_elements(By.CSS_SELECTOR, "#ranking tr")[1:]
    assert rows, "the township's village stations"
    peer = [float(r.find_elements(By.CSS_SELECTOR, "td")[5].text) for r in rows]
    assert peer == sorted(peer), "worst first"
    assert all(p > 0 for p in peer), "real figures"
    kinds = {r.find_elements(By.CSS_SELECTOR, "td")[3].text for r in rows}
    assert kinds == {"村级电站"}
    townships = {r.find_elements(By.CSS_SELECTOR, "td")[2].text for r in rows}
    assert len(townships) == 1, "only the supervisor's township"
    shot(browser, "rankings.png", tmp_path)
    browser.get(f"{base}/rankings?order=yf&kind=household")
    hours = [
        float(r.find_elements(By.CSS_SELECTOR, "td")[6].text)
        for r in browser.find_elements(By.CSS_SELECTOR, "#ranking tr")[1:]
    ]
    assert len(hours) == 50, "a page of fifty"
    assert hours == sorted(hours)
    assert browser.find_element(By.ID, "next-page")


def test_the_bureau_lists_the_villages_and_reads_a_station_in_english(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, world = site
    sign_in(browser, base, "bureau")
    browser.get(f"{base}/villages")
    rows = browser.find_elements(By.CSS_SELECTOR, "#villages tr")[1:]
    assert len(rows) == len(world.registry.villages)
    with_income = [
        r for r in rows if r.find_elements(By.CSS_SELECTOR, "td")[2].text not in ("—", "0")
    ]
    assert with_income, "the computed township's villages have income"
    with_income[0].find_element(By.CSS_SELECTOR, "a").click()
    WebDriverWait(browser, 10).until(lambda b: "/villages/V" in b.current_url)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    browser.get(f"{base}/stations/{world.mine}?day={yesterday}&lang=en")
    try:
        assert "Equivalent hours" in browser.find_element(By.ID, "kpis").text
        assert "Inverters" in browser.page_source
        WebDriverWait(browser, 20).until(lambda b: charts_drawn(b, "chart-power"))
        assert "功率曲线" not in browser.page_source
    finally:
        browser.get(f"{base}/overview?lang=zh")
