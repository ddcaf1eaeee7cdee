"""The demo's money: what the simulated county's grid company settled and paid, entered as
the bureau would enter it, and a year of a village's books — so that the money's pages
show a living county from the first run (``pvmon finance demo``, run by ``pvmon up`` once,
when the store holds no statement).

- Statements of every settled station for three years to last month, from the simulated
  grid meters (``simulators.grid_meter``), one of which reads 9 % low from four months ago
  (a current transformer of the wrong ratio: the reconciliation finds it).
- The grid part paid monthly; the subsidy in half-year batches, years late.
- Every village's months of this year closed up to the month before last.
- The demo collective's village records its public-welfare jobs and works.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.users import demo_maintainer
from finance import actions
from finance.books import read_books
from finance.records import ReceiptIn, SettlementIn, UseCategory, UseIn
from pvmon.audit import Actor
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.localtime import local_day, month_add, month_bounds, month_of, utc_now
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry
from pvmon.settings import Settings
from pvmon.stores import open_database
from simulators import grid_meter
from simulators.fleet_arrays import build_fleet
from simulators.model import FleetModel
from simulators.sky import SkyModel

log = structlog.get_logger(__name__)
GRID_COMPANY = Actor("demo", "system")
"""Who entered the demo's statements and payments, as the audit log says."""
YEARS_BACK = 3


def demo_books(settings: Settings) -> int:
    """Enter the demo's money unless the store has statements already; the statements
    entered."""
    sessions = session_factory(open_database(settings))
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(tables.Settlement)):
            return 0
        registry = load_registry(session)
    # Half a minute of the sky model and the books: behind the live services, not before.
    os.nice(10)
    tz = ZoneInfo(settings.timezone)
    today = local_day(utc_now(), tz)
    statements = _statements(settings, registry, today, tz)
    now = utc_now()
    with sessions.begin() as session:
        for s in statements:
            actions.save_settlement(session, SettlementIn(**s), GRID_COMPANY, now)
        due = read_books(session, registry, today).settled
        subsidy = {
            (s, p): float(y)
            for s, p, y in zip(due["station_id"], due["period"], due["subsidy_yuan"], strict=True)
        }
        payments = grid_meter.grid_payments(statements, today)
        payments += grid_meter.subsidy_batches(subsidy, today)
        for r in payments:
            actions.save_receipt(session, ReceiptIn(**r), GRID_COMPANY, now)
    with sessions.begin() as session:
        _uses(session, registry, today, now)
        _close_this_year(session, registry, today, now)
    log.info("demo_books", statements=len(statements), payments=len(payments))
    return len(statements)


def _statements(settings: Settings, registry: Registry, today: dt.date, tz: ZoneInfo) -> list[dict]:
    settled = [s.id for s in registry.stations if s.kind in settings.finance.settled_kinds]
    fleet = build_fleet(registry, settings.simulator.seed, settings.telemetry_interval_s, settled)
    model = FleetModel(fleet, SkyModel(fleet.townships, tz, settings.simulator.seed))
    months = grid_meter.months_of_demo(today, YEARS_BACK)
    simulated_from = settings.simulator.history_from or dt.date(today.year, 1, 1)
    ac = grid_meter.monthly_ac_kwh(model, months, simulated_from, tz)
    faulty = next(s.id for s in registry.stations if s.kind == "village" and s.township_id == "T02")
    fault = grid_meter.MeterFault(faulty, month_add(month_of(today), -4), 0.91)
    return grid_meter.statements(registry, fleet, ac, [fault])


def _close_this_year(
    session: Session, registry: Registry, today: dt.date, now: dt.datetime
) -> None:
    """The bureau closes each village's months of this year up to the month before last."""
    bureau = Actor(next(p.id for p in registry.people if p.role == "bureau"), "web")
    villages = [v.id for v in registry.villages]
    month = f"{today.year}-01"
    while month < month_add(month_of(today), -1):
        actions.close_months(session, registry, villages, month, bureau, now, today)
        month = month_add(month, 1)


def _uses(session: Session, registry: Registry, today: dt.date, now: dt.datetime) -> None:
    """The demo collective's village pays its public-welfare jobs each quarter and mends a
    road; its month of the last quarter's pay is still open."""
    village = demo_maintainer(registry).village_id or ""
    collective = Actor("user:collective", "web")
    quarters = [
        month_bounds(f"{today.year}-{m:02d}")[1]
        for m in (3, 6, 9)
        if dt.date(today.year, m, 28) < today
    ]
    uses = [
        UseIn(
            used_on=day,
            category=UseCategory.PUBLIC_WELFARE_JOBS,
            description="村内道路保洁及光伏电站看护公益岗",
            amount_yuan=3 * 3 * 600.0,
            person="王秀兰、李建国、张桂英",
            months=3,
            monthly_yuan=3 * 600.0,
        )
        for day in quarters
    ]
    if quarters:
        uses.append(
            UseIn(
                used_on=quarters[-1],
                category=UseCategory.SMALL_PUBLIC_WORKS,
                description="修缮村道排水沟",
                amount_yuan=8600.0,
            )
        )
    for use in uses:
        if not actions.closed_for(session, [village], month_of(use.used_on)):
            actions.record_use(session, village, use, collective, now, today)
