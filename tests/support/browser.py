"""A real browser against a real server: the API served by uvicorn on a free port, and what
tests do in the browser (``conftest.browser``: Debian's headless Chromium, by Selenium)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from api.app import create_app
from api.state import ApiState
from api.users import DEMO_PASSWORD
from launch.local.process import free_port
from tests.support.waiting import wait_for


@contextmanager
def serving(ctx: ApiState) -> Iterator[str]:
    """The app over ``ctx`` on a free port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=20)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def at_phone_width(b: WebDriver) -> Iterator[None]:
    b.set_window_size(400, 860)
    try:
        yield
    finally:
        b.set_window_size(1280, 1400)


def sign_in(b: WebDriver, base: str, username: str) -> None:
    b.delete_all_cookies()
    b.get(f"{base}/login")
    b.find_element(By.ID, "username").send_keys(username)
    b.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    b.find_element(By.ID, "sign-in").click()
    WebDriverWait(b, 20).until(lambda d: "/login" not in d.current_url)
    WebDriverWait(b, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def shot(b: WebDriver, name: str, tmp_path: Path) -> None:
    b.save_screenshot(str(tmp_path / name))
    if target := os.environ.get("DOCS_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
        b.save_screenshot(str(Path(target) / name))


def charts_drawn(b: WebDriver, chart_id: str) -> bool:
    return bool(b.execute_script(f"return !!document.querySelector('#{chart_id} canvas')"))


def map_drawn(b: WebDriver, chart_id: str) -> bool:
    """The map's data has come and is drawn (its series set), not only its canvas."""
    script = (
        f"const e = document.getElementById('{chart_id}');"
        "const c = e && echarts.getInstanceByDom(e);"
        "return !!(c && c.getOption() && c.getOption().series.length)"
    )
    return bool(b.execute_script(script))


def text_of(b: WebDriver, element_id: str) -> str | None:
    """An element's text read in one script call: while a form's redirect replaces the
    page, an element found a moment before may belong to the page that went."""
    script = "const e = document.getElementById(arguments[0]); return e && e.textContent"
    return b.execute_script(script, element_id)


def submit(b: WebDriver, button_id: str) -> None:
    """Click a form's button and wait for the page it leads to (the one it leaves gone)."""
    old = b.find_element(By.TAG_NAME, "html")
    b.find_element(By.ID, button_id).click()
    WebDriverWait(b, 20).until(staleness_of(old))
    WebDriverWait(b, 20).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
