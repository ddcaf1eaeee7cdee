"""The finance service's tick: settled months against the telemetry estimate, and the
statements that have not come — both as findings, which the alert engine sends to the
bureau (``pvmon finance``, started by ``pvmon up``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from finance import estimates, reconcile
from finance.books import SETTLEMENT_COLUMNS, table_of
from finance.settled import settled_money
from pvmon.db import tables
from pvmon.db.findings import sync_findings
from pvmon.findings import FindingKind
from pvmon.influx.client import InfluxClient
from pvmon.localtime import local_day, month_add, month_bounds, month_of
from pvmon.money import tariff_table
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry
from pvmon.settings import Settings

log = structlog.get_logger("finance")
KINDS = (str(FindingKind.SETTLEMENT_DEVIATION), str(FindingKind.SETTLEMENT_MISSING))


@dataclass(frozen=True)
class Reconciliation:
    rows: pd.DataFrame
    """``finance.reconcile.compare``'s table of the settled months looked at."""
    missing: dict[str, list[str]]
    """Station → the months whose statements are overdue."""


def reconciliation(
    session: Session,
    registry: Registry,
    settings: Settings,
    influx: InfluxClient,
    today: dt.date,
) -> Reconciliation:
    """The settled months of the last ``reconcile_months`` beside their estimate, and the
    overdue statements."""
    tz = ZoneInfo(settings.timezone)
    cfg = settings.finance
    first = month_add(month_of(today), 1 - cfg.reconcile_months)
    rows = table_of(
        session.scalars(select(tables.Settlement).where(tables.Settlement.period >= first)).all(),
        SETTLEMENT_COLUMNS,
    )
    money = settled_money(rows, tariff_table(registry.tariffs))
    if money.empty:
        compared = reconcile.compare(money, reconcile.monthly_estimate(money.iloc[0:0]), 1.0)
    else:
        days = estimates.station_days(
            influx,
            tz,
            month_bounds(money["period"].min())[0],
            month_bounds(money["period"].max())[1],
            set(money["station_id"]),
        )
        compared = reconcile.compare(money, reconcile.monthly_estimate(days), cfg.deviation_share)
    return Reconciliation(compared, _missing(session, registry, settings, today, first))


def _missing(
    session: Session, registry: Registry, settings: Settings, today: dt.date, window: str
) -> dict[str, list[str]]:
    cfg = settings.finance
    start = cfg.statements_from
    begin = month_of(start) if start else session.scalar(select(func.min(tables.Settlement.period)))
    if begin is None:
        return {}
    months = reconcile.expected_months(max(begin, window), today, cfg.statement_due_days)
    have = {
        (r.station_id, r.period)
        for r in session.execute(select(tables.Settlement.station_id, tables.Settlement.period))
    }
    out = {}
    for s in registry.stations:
        if s.kind in cfg.settled_kinds:
            lacking = [
                m for m in months if m >= month_of(s.commissioned_on) and (s.id, m) not in have
            ]
            if lacking:
                out[s.id] = lacking
    return out


def tick(
    session: Session, settings: Settings, influx: InfluxClient, now: dt.datetime
) -> dict[str, int]:
    """Find and clear the money's findings; the counts found."""
    tz = ZoneInfo(settings.timezone)
    registry = load_registry(session)
    found = reconciliation(session, registry, settings, influx, local_day(now, tz))
    findings = reconcile.deviation_findings(found.rows, tz)
    findings += reconcile.missing_findings(found.missing, tz)
    settled = [s.id for s in registry.stations if s.kind in settings.finance.settled_kinds]
    evaluated = {(kind, s) for kind in KINDS for s in settled}
    opened, cleared = sync_findings(session, findings, evaluated, now)
    return {
        "deviations": sum(f.kind == FindingKind.SETTLEMENT_DEVIATION for f in findings),
        "missing": sum(f.kind == FindingKind.SETTLEMENT_MISSING for f in findings),
        "opened": opened,
        "cleared": cleared,
    }


def serve(settings: Settings) -> None:
    """Tick on a schedule until interrupted (``pvmon finance``)."""
    from pvmon.db.engine import session_factory
    from pvmon.influx.client import InfluxError
    from pvmon.localtime import utc_now
    from pvmon.stores import open_database, open_influx
    from pvmon.ticking import tick_forever

    sessions = session_factory(open_database(settings))
    influx = open_influx(settings)

    def run() -> None:
        try:
            with sessions.begin() as session:
                counts = tick(session, settings, influx, utc_now())
        except (InfluxError, OSError) as exc:
            log.warning("finance_tick_failed", error=str(exc)[:300])
            return
        log.info("finance_tick", **counts)

    tick_forever("finance", settings.finance.tick_s, settings.timezone, run)
