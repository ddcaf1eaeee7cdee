"""A village's income when the ownership of a station changes within the year: every day's
money goes to the villages holding the station on that day — in the estimate from
telemetry (the daily rollups and the statements) and in the settled month, whose statement
is spread over its days as the estimate's export was."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics import statements
from analytics.context import Analytics
from analytics.rollups import compute_day
from finance import actions, estimates, views
from finance.books import read_books
from finance.records import SettlementIn
from pvmon.audit import Actor
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from tests.support.fleetwriter import FleetWriter, settings_for

STATION = "VS001"
FIRST = dt.date(2026, 11, 1)
CHANGE = dt.date(2026, 11, 3)
"""From this day VS001 is held 70/30 by its village and a neighbour (before: 100 %)."""
DAYS = [FIRST + dt.timedelta(days=n) for n in range(4)]
NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 6)


def shared_from_change(registry: Registry) -> tuple[Registry, str, str]:
    """The registry with VS001's ownership changed on ``CHANGE``: (registry, owner,
    neighbour)."""
    owner = next(r for r in registry.station_shares if r.station_id == STATION)
    neighbour = next(v.id for v in registry.villages if v.id != owner.village_id)
    before = owner.model_copy(update={"valid_to": CHANGE - dt.timedelta(days=1)})
    after = [
        owner.model_copy(update={"share": 0.7, "valid_from": CHANGE}),
        owner.model_copy(update={"village_id": neighbour, "share": 0.3, "valid_from": CHANGE}),
    ]
    rows = [before, *after, *(r for r in registry.station_shares if r is not owner)]
    return replace(registry, station_shares=rows), owner.village_id, neighbour


def test_a_share_changed_mid_month_splits_the_estimate_and_the_settled_month_at_the_date(
    engine: Engine, influx: InfluxClient, default_registry: Registry, tmp_path: Path
) -> None:
    registry, owner, neighbour = shared_from_change(default_registry)
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    settings = settings_for(tmp_path, influx, engine)
    a = Analytics.open(settings, engine, influx)
    writer = FleetWriter(registry, [STATION], FIRST)
    money: dict[dt.date, float] = {}
    exported: dict[dt.date, float] = {}
    for day in DAYS:
        writer.day(influx, day)
        result = compute_day(a, day, recompute=False)
        row = result.stations.loc[STATION]
        money[day] = row["grid_yuan"] + row["subsidy_yuan"]
        exported[day] = row["export_kwh"]
        village = result.villages
        share = 1.0 if day < CHANGE else 0.7
        assert village.loc[owner, "grid_yuan"] + village.loc[owner, "subsidy_yuan"] == (
            pytest.approx(money[day] * share)
        ), f"{day}: the owner's share that day"
        assert village.loc[neighbour, "grid_yuan"] + village.loc[neighbour, "subsidy_yuan"] == (
            pytest.approx(0.0 if day < CHANGE else money[day] * 0.3)
        )
    assert all(v > 0 for v in money.values()), "every day earned something"

    statements.statements(a, 2026, 11, dt.datetime.now(dt.UTC))
    with session_factory(engine)() as session:
        rows = {
            r.village_id: r
            for r in session.scalars(
                select(tables.VillageStatement).where(tables.VillageStatement.period == "2026-11")
            )
        }
    before = sum(v for d, v in money.items() if d < CHANGE)
    after = sum(v for d, v in money.items() if d >= CHANGE)
    got = rows[owner].grid_yuan + rows[owner].subsidy_yuan
    assert got == pytest.approx(before + 0.7 * after, rel=1e-6)
    theirs = rows[neighbour].grid_yuan + rows[neighbour].subsidy_yuan
    assert theirs == pytest.approx(0.3 * after, rel=1e-6)
    (line,) = [s for s in rows[neighbour].sources if s["station_id"] == STATION]
    assert line["share"] == pytest.approx(0.3)

    settle_november(engine, registry, settings.finance.settled_kinds)
    with session_factory(engine)() as session:
        books = read_books(
            session,
            registry,
            TODAY,
            lambda first, last, ids: estimates.station_days(influx, a.tz, first, last, ids),
        )
    settled = views.month(books, owner, "2026-11")
    assert settled.state == views.SETTLED
    (line,) = [x for x in settled.lines if x["station_id"] == STATION]
    before = sum(v for d, v in exported.items() if d < CHANGE)
    after = sum(v for d, v in exported.items() if d >= CHANGE)
    expected_share = (before + 0.7 * after) / (before + after)
    assert line["share"] == pytest.approx(expected_share, rel=1e-6), "as the export was"
    assert line["grid_yuan"] == pytest.approx(664.0 * expected_share, abs=0.01)
    shares = books.month_shares(books.settled[books.settled["station_id"] == STATION])
    split = dict(zip(shares["village_id"], shares["share"], strict=True))
    assert split == {
        owner: pytest.approx(expected_share),
        neighbour: pytest.approx(1 - expected_share),
    }


def settle_november(engine: Engine, registry: Registry, kinds: list) -> None:
    """Statements of November for the owner's stations (VS001 with its 664 yuan)."""
    by = Actor("B01", "web")
    with session_factory(engine).begin() as session:
        for station, kwh, grid in (
            ("VS001", 2000.0, 664.0),
            ("VS002", 9.0, 3.0),
            ("VS003", 9.0, 3.0),
        ):
            statement = SettlementIn(
                station_id=station, period="2026-11", export_kwh=kwh, grid_yuan=grid
            )
            actions.enter_settlement(session, registry, statement, kinds, by, NOW, TODAY)
