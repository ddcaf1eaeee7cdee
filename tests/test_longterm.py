"""The long view (``analytics.longterm``): each station's degradation from years of its
daily rollups in a real influxd, kept in the relational store, and a station degrading
faster than allowed found; each station's soiling over the last year, a recorded cleaning
taken into account, and a station whose dust costs more than a cleaning found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from alerts.messages import detail
from analytics import longterm
from analytics.context import Analytics
from launch.cli import app
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.tables.maintenance import OrderKind
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_start
from pvmon.registry.schema import Registry
from pvmon.settings import load_settings
from tests.support.fleetwriter import TZ, township_stations

RATES = {0: 0.004, 1: 0.006, 2: 0.008, 3: 0.005, 4: 0.025, 5: 0.007}
"""Share lost a year by the township's first six stations; the fifth degrades fast."""
YEARS = 3


def analytics_on(tmp_path: Path, influx: InfluxClient, engine: Engine) -> Analytics:
    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=engine.url.render_as_string(False),
    )
    return Analytics.open(settings, engine, influx)


def kept_and_found(engine: Engine, table: type, kind: str) -> tuple[dict, list]:
    """station → its kept estimate; the findings of ``kind``."""
    with session_factory(engine)() as session:
        kept = {r.station_id: r for r in session.scalars(select(table))}
        found = list(session.scalars(select(tables.Finding).where(tables.Finding.kind == kind)))
    return kept, found


def write_rollups(influx: InfluxClient, stations: list[str], last: dt.date) -> None:
    """``YEARS`` of the stations' daily rollups up to ``last``: their clear-sky index, a
    third of the days cloudy for the whole township."""
    rng = np.random.default_rng(8)
    days = [last - dt.timedelta(days=n) for n in range(365 * YEARS)][::-1]
    lines = []
    for n, day in enumerate(days):
        cloud = 0.3 if rng.random() < 0.33 else 1.0
        for i, station in enumerate(stations):
            csi = 0.8 * (1 - RATES[i] * n / 365) * cloud + rng.normal(0, 0.004)
            ts = day_start(day, TZ)
            lines.append(f"station_daily,station={station} csi={csi!r},usable=1.0 {ts}")
    influx.write(lines, rp=ROLLUP_RP)


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_each_stations_rate_is_kept_and_the_fast_one_is_found(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    stations = township_stations(default_registry)[: len(RATES)]
    last = dt.date.today() - dt.timedelta(days=1)
    write_rollups(influx, stations, last)
    a = analytics_on(tmp_path, influx, loaded_engine)
    now = dt.datetime.now(dt.UTC)
    done = longterm.degradation(a, last, now)
    assert done["stations"] == len(RATES)
    assert done["degrading_fast"] == 1
    kept, found = kept_and_found(loaded_engine, tables.StationDegradation, "degradation")
    assert set(kept) == set(stations)
    for i, station in enumerate(stations):
        assert kept[station].rate_pct == pytest.approx(-100 * RATES[i], abs=0.15)
        assert kept[station].low_pct < kept[station].rate_pct < kept[station].high_pct
        assert kept[station].as_of == last
    assert [(f.subject_id, f.active) for f in found] == [(stations[4], True)]
    assert found[0].evidence["limit_pct"] == a.settings.analytics.degradation_limit_pct

    again = longterm.degradation(a, last, now + dt.timedelta(days=1))
    assert again["opened"] == 0, "the same finding, not a new one"
    with session_factory(loaded_engine)() as session:
        assert session.query(tables.StationDegradation).count() == len(RATES), "replaced"


def test_the_estimate_is_made_by_hand_as_of_a_day(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
) -> None:
    """``pvmon analytics run longterm --to DAY`` estimates from the rollups up to that day."""
    stations = township_stations(default_registry)[: len(RATES)]
    last = dt.date.today() - dt.timedelta(days=1)
    write_rollups(influx, stations, last)
    for name, value in (
        ("PVMON_DATA_DIR", str(tmp_path)),
        ("PVMON_INFLUX_URL", influx.url),
        ("PVMON_INFLUX_DB", influx.database),
        ("PVMON_DATABASE_URL", loaded_engine.url.render_as_string(False)),
    ):
        monkeypatch.setenv(name, value)
    early = last - dt.timedelta(days=400)
    done = CliRunner().invoke(app, ["analytics", "run", "longterm", "--to", str(early)])
    assert done.exit_code == 0, done.output
    assert "'stations': 0" in done.output, "under two years of clear days up to then"
    done = CliRunner().invoke(app, ["analytics", "run", "longterm", "--to", str(last)])
    assert done.exit_code == 0, done.output
    assert f"'stations': {len(RATES)}" in done.output
    with session_factory(loaded_engine)() as session:
        days = {r.as_of for r in session.scalars(select(tables.StationDegradation))}
    assert days == {last}
    wrong = CliRunner().invoke(app, ["analytics", "run", "yearly"])
    assert wrong.exit_code == 2
    assert "daily, frequent or longterm" in wrong.output


DUSTY = 0
"""The station whose modules gather dust fast over the last 45 days, never washed."""
RECORDED, TWIN = 1, 2
"""Two stations with the same data; the first had a cleaning recorded."""


def write_dusty_years(influx: InfluxClient, stations: list[str], last: dt.date) -> dt.date:
    """Three years of daily rollups: dust building up slowly and washed by rain every 20
    days, a third of the days cloudy; the clear-sky insolation, energy and revenue of each
    day. The day a cleaning is recorded at ``RECORDED`` (not a rain day) is returned."""
    rng = np.random.default_rng(21)
    days = [last - dt.timedelta(days=n) for n in range(3 * 365)][::-1]
    dust = np.zeros(len(stations))
    noise = rng.normal(0, 0.003, (len(days), len(stations)))
    noise[:, TWIN] = noise[:, RECORDED]
    lines = []
    for n, day in enumerate(days):
        rate = np.full(len(stations), 0.0005)
        washed = np.full(len(stations), n % 20 == 0)
        if n >= len(days) - 45:
            rate[DUSTY], washed[DUSTY] = 0.004, False
        dust = np.where(washed, 0.0, dust + rate)
        cloud = 0.3 if rng.random() < 0.33 else 1.0
        for i, station in enumerate(stations):
            csi = float(0.8 * (1 - dust[i]) * cloud + noise[n, i])
            energy = 6.0 * csi * 300
            lines.append(
                f"station_daily,station={station} csi={csi!r},usable=1.0,yr_cs=6.0,"
                f"energy_kwh={energy!r},grid_yuan={0.33 * energy!r},"
                f"subsidy_yuan={0.42 * energy!r} {day_start(day, TZ)}"
            )
    influx.write(lines, rp=ROLLUP_RP)
    return days[-30]


def record_cleaning(engine: Engine, station: str, day: dt.date) -> None:
    at = dt.datetime.combine(day, dt.time(11), TZ).astimezone(dt.UTC)
    with session_factory(engine).begin() as session:
        session.add(
            tables.WorkOrder(
                kind=OrderKind.CLEANING, station_id=station, severity="info", title="清洗",
                state="done", created_at=at, created_by="test", deadline_at=at, done_at=at,
                parts=[],
            )
        )  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_dust_that_costs_more_than_a_cleaning_is_found(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    stations = township_stations(default_registry)[:6]
    last = dt.date.today() - dt.timedelta(days=1)
    cleaned_on = write_dusty_years(influx, stations, last)
    record_cleaning(loaded_engine, stations[RECORDED], cleaned_on)
    a = analytics_on(tmp_path, influx, loaded_engine)
    now = dt.datetime.now(dt.UTC)
    done = longterm.soiling(a, last, now)
    assert done["stations"] == len(stations)
    assert done["worth_cleaning"] == 1
    kept, found = kept_and_found(loaded_engine, tables.StationSoiling, "soiling")
    dusty = kept[stations[DUSTY]]
    assert dusty.loss_now_pct > 12
    assert dusty.lost_yuan > dusty.cleaning_yuan
    kwp = a.frames.stations.at[stations[DUSTY], "capacity_kwp"]
    costs = a.settings.analytics
    assert dusty.cleaning_yuan == pytest.approx(
        costs.cleaning_visit_yuan + costs.cleaning_yuan_per_kwp * kwp
    )
    for station in stations[1:]:
        assert kept[station].lost_yuan < kept[station].cleaning_yuan
        assert 1 - kept[station].ratio == pytest.approx(0.0005 * 9.5, abs=0.01), "light dust"
    assert kept[stations[RECORDED]].cleanings == kept[stations[TWIN]].cleanings + 1
    assert [(f.subject_id, f.active) for f in found] == [(stations[DUSTY], True)]
    assert found[0].evidence["window_days"] == costs.soiling_window_days
    lost = round(found[0].evidence["lost_yuan"])
    assert f"{lost}元（估算），超过一次清洗" in detail("soiling", found[0].evidence, "zh")
    assert f"{lost} yuan over the last 28 days" in detail("soiling", found[0].evidence, "en")

    again = longterm.soiling(a, last, now + dt.timedelta(days=1))
    assert again["opened"] == 0, "the same finding, not a new one"
    with session_factory(loaded_engine)() as session:
        assert session.query(tables.StationSoiling).count() == len(stations), "replaced"
