"""The money's pages in a real browser (Debian's headless Chromium): the bureau enters a
village's statements with a file and by hand, closes the month and reads receivables,
settlements and the audit log; the collective records a use of its income and publishes its
disclosure sheet, which is then listed with its hash. Screenshots as ``test_browser.py``
saves them (``DOCS_SCREENSHOTS=<dir>``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from pvmon.localtime import month_add, month_of
from tests.support.browser import serving, shot, sign_in, submit, text_of
from tests.support.world import World, world_fixtures

template, world = world_fixtures("T01")
LAST = month_add(month_of(dt.date.today()), -1)


@pytest.fixture
def site(world: World) -> Iterator[tuple[str, World]]:
    with serving(world.ctx) as base:
        yield base, world


def fill(b: WebDriver, form: str, **values: str) -> None:
    for name, value in values.items():
        field = b.find_element(By.CSS_SELECTOR, f"#{form} [name={name}]")
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        elif field.get_attribute("type") in ("month", "date"):
            b.execute_script("arguments[0].value = arguments[1]", field, value)
        else:
            field.clear()
            field.send_keys(value)


def test_the_bureau_keeps_the_books_and_the_collective_publishes_its_sheet(
    site: tuple[str, World], browser: WebDriver, tmp_path: Path
) -> None:
    base, w = site
    village = next(
        u for u in w.registry.people if u.role == "maintainer" and u.village_id
    ).village_id
    stations = sorted(r.station_id for r in w.registry.station_shares if r.village_id == village)
    sign_in(browser, base, "bureau")
    browser.get(f"{base}/finance")
    csv = tmp_path / "statements.csv"
    csv.write_text(
        "station_id,period,export_kwh,grid_yuan\n"
        + "".join(
            f"{s},{LAST},{12000 + 500 * n},{round((12000 + 500 * n) * 0.332, 2)}\n"
            for n, s in enumerate(stations[1:])
        ),
        encoding="utf-8",
    )
    browser.find_element(By.CSS_SELECTOR, "#import-form [name=file]").send_keys(str(csv))
    submit(browser, "import")
    assert text_of(browser, "done")
    fill(
        browser,
        "settlement-form",
        station_id=stations[0],
        period=LAST,
        export_kwh="11800",
        grid_yuan="3917.6",
    )
    submit(browser, "save-settlement")
    assert text_of(browser, "done")
    fill(
        browser,
        "receipt-form",
        station_id=stations[0],
        kind="grid",
        covers_from=LAST,
        amount_yuan="3917.6",
        received_on=dt.date.today().isoformat(),
        reference="DF-2026-001",
    )
    submit(browser, "save-receipt")
    assert text_of(browser, "done")
    shot(browser, "bureau-finance.png", tmp_path)
    submit(browser, f"close-{LAST}")
    closed = browser.find_element(By.CSS_SELECTOR, f"#state-{LAST} td:nth-child(4)").text
    assert int(closed) >= 1, "the village whose statements are all in is closed"

    browser.get(f"{base}/finance/settlements?month={LAST}")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#settlement-table tr")) == len(stations) + 1
    shot(browser, "bureau-settlements.png", tmp_path)
    browser.get(f"{base}/finance/receivables")
    grid = browser.find_element(By.CSS_SELECTOR, "#total-grid td:nth-child(4)").text
    assert float(grid.replace(",", "")) > 0, "the village's other stations are still owed"
    shot(browser, "bureau-receivables.png", tmp_path)
    browser.get(f"{base}/audit?entity=settlements")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#audit-table tr")) == len(stations) + 1
    shot(browser, "bureau-audit.png", tmp_path)

    sign_in(browser, base, "collective")
    assert browser.current_url.endswith(f"/villages/{village}")
    assert f"{LAST}" in browser.find_element(By.ID, f"month-{LAST}").text
    assert "已关账" in browser.find_element(By.ID, f"month-{LAST}").text
    browser.find_element(By.CSS_SELECTOR, "#use-details summary").click()
    fill(
        browser,
        "use-form",
        used_on=dt.date.today().isoformat(),
        category="public_welfare_jobs",
        description="村内道路保洁公益岗",
        amount_yuan="1800",
        person="张桂英",
        months="3",
        monthly_yuan="600",
    )
    submit(browser, "record-use")
    assert "村内道路保洁公益岗" in browser.find_element(By.ID, "use-table").text
    shot(browser, "collective-village.png", tmp_path)
    browser.get(f"{base}/villages/{village}/disclosure")
    assert "村内道路保洁公益岗" in browser.find_element(By.ID, "uses").text
    assert browser.find_element(By.ID, "closing-balance").text
    shot(browser, "collective-disclosure.png", tmp_path)
    submit(browser, "publish")
    listed = browser.find_element(By.ID, "archive-table").text
    assert "…" in listed, "the published sheet with its hash"
