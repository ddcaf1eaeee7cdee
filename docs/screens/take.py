"""Screenshots of every page and role from a running ``pvmon up`` (headless Chromium).

Run: .venv/bin/python docs/screens/take.py [http://localhost:8000] — it signs in as each demo
user and saves one PNG per page here (the maintainer's at phone width).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api.users import DEMO_PASSWORD

HERE = Path(__file__).parent
DESKTOP = (1280, 1400)
PHONE = (400, 1400)


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=zh-CN"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def sign_in(b: webdriver.Chrome, base: str, user: str) -> None:
    b.delete_all_cookies()
    b.get(f"{base}/login")
    b.find_element(By.ID, "username").send_keys(user)
    b.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    b.find_element(By.ID, "sign-in").click()
    WebDriverWait(b, 20).until(lambda d: "/login" not in d.current_url)


def shoot(b: webdriver.Chrome, base: str, path: str, name: str, size: tuple[int, int]) -> str:
    b.set_window_size(*size)
    b.get(base + path)
    WebDriverWait(b, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    b.execute_script("return new Promise(r => setTimeout(r, 1500))")  # the map's data
    shoot_open(b, name, size)
    return b.page_source


def shoot_open(b: webdriver.Chrome, name: str, size: tuple[int, int]) -> None:
    """The page as it is now (a part opened by a click), whole."""
    height = b.execute_script("return document.body.scrollHeight")
    b.set_window_size(size[0], min(max(height, 600), 4000))
    b.save_screenshot(str(HERE / name))
    print(f"{name}: {b.current_url.split('/', 3)[-1]}")


def pdf_page(b: webdriver.Chrome, url: str, name: str = "collective-disclosure-pdf") -> None:
    """A PDF's first page, as poppler renders it."""
    cookies = {c["name"]: c["value"] for c in b.get_cookies()}
    pdf = httpx.get(url, cookies=cookies, timeout=60)
    pdf.raise_for_status()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "sheet.pdf").write_bytes(pdf.content)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(Path(folder) / "sheet.pdf"),
                str(HERE / name),
            ],
            check=True,
        )
    print(f"{name}.png: " + url.split("/", 3)[-1])


def bureau(b: webdriver.Chrome, base: str) -> None:
    sign_in(b, base, "bureau")
    page = shoot(b, base, "/overview", "bureau-overview.png", DESKTOP)
    shoot(b, base, "/alerts", "bureau-alerts.png", DESKTOP)
    shoot(b, base, "/villages", "bureau-villages.png", DESKTOP)
    shoot(b, base, "/rankings?kind=village", "bureau-rankings.png", DESKTOP)
    shoot(b, base, "/assessment", "bureau-assessment.png", DESKTOP)
    orders = shoot(b, base, "/orders", "bureau-orders.png", DESKTOP)
    order = re.search(r'href="/orders/(\d+)"', orders)
    if order:
        shoot(b, base, f"/orders/{order.group(1)}", "bureau-order.png", DESKTOP)
    station = re.search(r'href="/stations/([^"]+)"', page)
    if station:
        source = shoot(b, base, f"/stations/{station.group(1)}", "station.png", DESKTOP)
        device = re.search(r'href="/devices/([^"]+)"', source)
        if device:
            shoot(b, base, f"/devices/{device.group(1)}", "inverter.png", DESKTOP)
        person = re.search(r'href="/people/([^"]+)"', source)
        if person:
            shoot(b, base, f"/people/{person.group(1)}", "person.png", DESKTOP)


def money(b: webdriver.Chrome, base: str) -> None:
    """The bureau's money pages (signed in as the bureau)."""
    finance = shoot(b, base, "/finance", "bureau-finance.png", DESKTOP)
    shoot(b, base, "/finance/receivables", "bureau-receivables.png", DESKTOP)
    flagged = re.search(r"<td>(\d{4}-\d\d)</td>", finance.split('id="deviation-table"')[-1])
    month = f"?month={flagged.group(1)}" if flagged else ""
    shoot(b, base, f"/finance/settlements{month}", "bureau-settlements.png", DESKTOP)
    shoot(b, base, "/audit", "bureau-audit.png", DESKTOP)
    archive = shoot(b, base, "/reports?kind=monthly", "bureau-reports.png", DESKTOP)
    report = re.search(r'href="(/reports/\d+/files/[^"]+\.pdf)"', archive)
    if report:
        pdf_page(b, base + report.group(1), "bureau-monthly-report-pdf")


def maintainer(b: webdriver.Chrome, base: str) -> None:
    sign_in(b, base, "maintainer")
    mine = shoot(b, base, "/my", "maintainer-phone.png", PHONE)
    alert = re.search(r'href="/a/(\d+)"', mine)
    if alert:
        shoot(b, base, f"/a/{alert.group(1)}", "maintainer-alert-phone.png", PHONE)
    mine_orders = list(dict.fromkeys(re.findall(r'href="/orders/(\d+)"', mine)))
    if mine_orders:
        shoot(b, base, f"/orders/{mine_orders[0]}", "maintainer-order-phone.png", PHONE)
    for order_id in mine_orders:  # one on site: with the inverter replacement form
        b.get(f"{base}/orders/{order_id}")
        if 'id="replace-form"' in b.page_source:
            b.find_element(By.CSS_SELECTOR, "#replace-form summary").click()
            shoot_open(b, "maintainer-order-onsite-phone.png", PHONE)
            break


def collective(b: webdriver.Chrome, base: str) -> None:
    sign_in(b, base, "collective")
    village = shoot(b, base, "/village", "collective-village.png", DESKTOP)
    found = re.search(r'href="(/villages/[^"]+/disclosure[^"]*)"', village)
    if found:
        sheet = found.group(1).replace("&amp;", "&")
        shoot(b, base, sheet, "collective-disclosure.png", DESKTOP)
        pdf_page(b, base + sheet.replace("/disclosure", "/disclosure.pdf"))


def main() -> None:
    base = (sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000").rstrip("/")
    b = browser()
    try:
        bureau(b, base)
        money(b, base)
        sign_in(b, base, "supervisor")
        shoot(b, base, "/overview", "supervisor-township.png", DESKTOP)
        maintainer(b, base)
        collective(b, base)
    finally:
        b.quit()


if __name__ == "__main__":
    main()
