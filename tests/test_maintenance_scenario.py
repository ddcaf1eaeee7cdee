"""Faults with a known start, end and size go through the whole chain, hour by hour, as the
services would run it: the simulated fleet's telemetry → the frequent and daily analytics →
alerts → work orders (by themselves for critical alerts; the bureau's one action in a real
browser for the others) → the maintainer works each on a phone → done → verified by the
data. The energy each fault cost, as the order says, against the simulator's truth."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import Engine, select

from alerts.service import AlertService
from analytics.context import Analytics
from analytics.evaluation import evaluate
from analytics.live import frequent
from analytics.rollups import compute_day
from api.state import ApiState
from api.users import demo_maintainer, demo_users
from maintenance import service as maintenance
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.findings import OPERATING_RULES
from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from tests.support.browser import at_phone_width, serving, shot, sign_in, text_of
from tests.support.fleetwriter import (
    TZ,
    FleetWriter,
    devices_heard,
    loggers_connected,
    narrowed,
    only_stations,
    settings_for,
)

DAYS = 15
LIVE_DAYS = (8, 9, 10)
"""Days the frequent job is played through, every half hour from 07:00 to 18:30."""


@dataclass
class Fault:
    kind: str
    station: str
    start_h: int
    """From the first day's midnight."""
    hours: int
    factor: float | None = None
    order: int | None = None
    notes: list[str] = field(default_factory=list)

    def scenario(self) -> dict:
        fault = {
            "kind": self.kind,
            "stations": [self.station],
            "start": f"+{self.start_h}h",
            "duration": f"{self.hours}h",
        }
        return fault | ({"factor": self.factor} if self.factor else {})


def faults() -> list[Fault]:
    """A trip over a night, a fifth of the output lost for three days, a household dark for
    a day — at stations of the demo maintainer (M001)."""
    return [
        Fault("fault", "VS001", 8 * 24 + 10, 30),
        Fault("output_loss", "VS002", 8 * 24, 72, 0.2),
        Fault("outage", "HH0003", 9 * 24, 24),
    ]


class Scene:
    """The services at a moment of the scenario's time, and the people in the browser."""

    def __init__(self, a: Analytics, engine: Engine, browser: WebDriver, base: str) -> None:
        self.a, self.engine, self.b, self.base = a, engine, browser, base
        self.sessions = session_factory(engine)
        self.alerts = AlertService(a.settings, engine, a.influx, channels={})
        self.now = dt.datetime.combine(dt.date.today(), dt.time(0), TZ)
        navigating = (StaleElementReferenceException, NoSuchElementException)
        self.wait = WebDriverWait(browser, 10, ignored_exceptions=navigating)
        self.signed_in: tuple[str, dt.date] | None = None

    def services(self, at: dt.datetime, live: bool) -> None:
        self.now = at
        if live:
            frequent(self.a, at)
        self.alerts.evaluate(at)
        with self.sessions.begin() as session:
            maintenance.tick(session, self.a.settings, at)

    def day_closed(self, day: dt.date) -> None:
        """The daily job after midnight: the day's rollups, then the findings as of it."""
        at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 20), TZ)
        compute_day(self.a, day, recompute=False)
        evaluate(self.a, day, at)
        self.services(at, live=False)

    def as_user(self, username: str) -> None:
        """Signed in as ``username`` (again, once the session may have ended)."""
        if self.signed_in != (username, self.now.date()):
            sign_in(self.b, self.base, username)
            self.signed_in = (username, self.now.date())

    def order_page(self, order: int) -> None:
        self.b.get(f"{self.base}/orders/{order}")

    def order(self, order_id: int) -> tables.WorkOrder | None:
        with self.sessions() as session:
            return session.get(tables.WorkOrder, order_id)

    def state_is(self, words: str) -> None:
        self.wait.until(lambda b: text_of(b, "order-state") == words)


def open_alert(scene: Scene, station: str) -> tables.Alert | None:
    with scene.sessions() as session:
        return session.scalars(
            select(tables.Alert).where(
                tables.Alert.station_id == station,
                tables.Alert.rule.in_(sorted(OPERATING_RULES)),
                tables.Alert.state != "resolved",
            )
        ).first()


def order_of(scene: Scene, station: str) -> tables.WorkOrder | None:
    with scene.sessions() as session:
        return session.scalars(
            select(tables.WorkOrder)
            .where(tables.WorkOrder.station_id == station)
            .order_by(tables.WorkOrder.id.desc())
        ).first()


def work(scene: Scene, fault: Fault, first: dt.date, maintainer: str) -> None:
    """What the people do about ``fault`` now: the bureau turns an alert without an order
    into one and assigns it; the maintainer accepts, goes, and once the fault is over
    (the scenario's end: the repair) says it is done."""
    order = order_of(scene, fault.station) if fault.order is None else scene.order(fault.order)
    if order is None:
        alert = open_alert(scene, fault.station)
        if alert is None:
            return
        scene.as_user("bureau")
        scene.b.get(f"{scene.base}/a/{alert.id}")
        scene.b.find_element(By.ID, "open-order").click()
        scene.wait.until(lambda b: b.find_elements(By.ID, "order-state"))
        fault.notes.append("opened by the bureau from its alert")
        order = order_of(scene, fault.station)
        assert order is not None
    fault.order = order.id
    state = order.state
    if state == "created":
        scene.as_user("bureau")
        scene.order_page(order.id)
        Select(scene.b.find_element(By.ID, "assign-person")).select_by_value(maintainer)
        scene.b.find_element(By.ID, "assign").click()
        scene.state_is("已派单")
        fault.notes.append("assigned by the bureau")
        return
    over = dt.datetime.combine(first, dt.time(0), TZ) + dt.timedelta(
        hours=fault.start_h + fault.hours
    )
    step = {"assigned": "accept", "accepted": "arrive"}.get(state)
    if state == "on_site" and scene.now >= over:
        step = "done"
    if step is None:
        return
    scene.as_user("maintainer")
    with at_phone_width(scene.b):
        scene.order_page(order.id)
        if step == "done":
            scene.b.find_element(By.NAME, "note").send_keys("已处理，恢复发电")
        found = scene.b.find_elements(By.ID, f"step-{step}")
        page = scene.b.find_element(By.TAG_NAME, "main").text[:600]
        assert found, f"{fault.station}: no {step} at {scene.now}: {page}"
        found[0].click()
        scene.state_is({"accept": "已接单", "arrive": "已到场", "done": "已完成"}[step])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_faults_become_orders_worked_on_a_phone_verified_by_the_data_and_costed(
    tmp_path: Path,
    influx: InfluxClient,
    engine: Engine,
    default_registry: Registry,
    browser: WebDriver,
) -> None:
    township = [s.id for s in default_registry.stations if s.township_id == "T01"]
    subset = [s for s in township if s.startswith("VS")][:9] + [
        s for s in township if s.startswith("HH")
    ][:12]
    registry = narrowed(default_registry, subset)
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    loaded_engine = engine
    station_of = {i.id: i.station_id for i in registry.inverters}
    chain = faults()
    first = dt.date.today() - dt.timedelta(days=DAYS)
    writer = FleetWriter(default_registry, subset, first, faults=[f.scenario() for f in chain])
    settings = settings_for(tmp_path, influx, loaded_engine, maintenance={"plans": []})
    a = Analytics.open(settings, loaded_engine, influx)
    only_stations(a, subset)
    start = dt.datetime.combine(first, dt.time(0), TZ)
    loggers_connected(loaded_engine, subset, start, days=DAYS + 2)
    with session_factory(loaded_engine).begin() as session:
        demo_users(session, start)
    maintainer = demo_maintainer(default_registry).id

    clock: list[dt.datetime] = [start]
    ctx = ApiState(settings, loaded_engine, influx, clock=lambda: clock[0])
    with serving(ctx) as base:
        scene = Scene(a, loaded_engine, browser, base)

        def people() -> None:
            for f in chain:
                work(scene, f, first, maintainer)

        for n in range(DAYS):
            day = first + dt.timedelta(days=n)
            writer.day(influx, day)
            devices_heard(loaded_engine, writer.frames[day], station_of)
            if n in LIVE_DAYS:
                for half_hours in range(14, 38):
                    at = dt.datetime.combine(day, dt.time(0), TZ) + dt.timedelta(
                        minutes=30 * half_hours
                    )
                    clock[0] = at
                    scene.services(at, live=True)
                    people()
            scene.day_closed(day)
            clock[0] = scene.now
            if n >= LIVE_DAYS[0]:
                people()
            if n + 1 not in LIVE_DAYS and n >= LIVE_DAYS[0]:
                for hour in (1, 12):  # the alert engine and the orders' tick go on all day
                    at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(hour), TZ)
                    clock[0] = at
                    scene.services(at, live=False)
                    people()
        shot(browser, "scenario-order.png", tmp_path)

        bureau = ctx.now()
        with session_factory(loaded_engine)() as session:
            orders = {f.station: session.get(tables.WorkOrder, f.order) for f in chain}
            history = {
                f.station: [
                    (action, actor)
                    for action, actor in session.execute(
                        select(tables.WorkOrderStep.action, tables.WorkOrderStep.actor)
                        .where(tables.WorkOrderStep.order_id == f.order)
                        .order_by(tables.WorkOrderStep.id)
                    )
                ]
                for f in chain
            }
        print(f"\nscenario ended {bureau.isoformat()}")
        for f in chain:
            o = orders[f.station]
            print(f.station, f.kind, o.state, history[f.station], f.notes)
            assert o.state == "verified", f"{f.station}: {history[f.station]}"
            assert o.assignee == maintainer
            assert history[f.station][-1] == ("verify", "system"), "verified by the data"
            opener = history[f.station][0][1]
            assert (opener == "system") == (o.severity == "critical"), "critical: by itself"

        scene.as_user("bureau")
        reported, truth = [], []
        for f in chain:
            browser.get(f"{base}/api/v1/orders/{f.order}")
            body = browser.find_element(By.TAG_NAME, "body").text
            loss = json.loads(body)["figures"]["loss"]
            begin = start + dt.timedelta(hours=f.start_h)
            end = begin + dt.timedelta(hours=f.hours) - dt.timedelta(seconds=1)
            expected = writer.lost_kwh(f.station, begin.date(), end.date())
            print(f"{f.station} {f.kind}: reported {loss['kwh']:.1f} kWh, true {expected:.1f}")
            reported.append(loss["kwh"])
            truth.append(expected)
            assert loss["kwh"] == pytest.approx(expected, rel=0.10), f.station
        assert sum(reported) == pytest.approx(sum(truth), rel=0.03)
