"""The long view (``analytics.longterm``): each station's degradation from years of its
daily rollups in a real influxd, kept in the relational store, and a station degrading
faster than allowed found — once a month, by the analytics service's catch-up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from analytics import longterm
from analytics.context import Analytics
from launch.cli import app
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_start
from pvmon.registry.schema import Registry
from pvmon.settings import load_settings
from tests.support.fleetwriter import TZ, township_stations

RATES = {0: 0.004, 1: 0.006, 2: 0.008, 3: 0.005, 4: 0.025, 5: 0.007}
"""Share lost a year by the township's first six stations; the fifth degrades fast."""
YEARS = 3


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
    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=loaded_engine.url.render_as_string(False),
    )
    a = Analytics.open(settings, loaded_engine, influx)
    now = dt.datetime.now(dt.UTC)
    done = longterm.degradation(a, last, now)
    assert done["stations"] == len(RATES)
    assert done["degrading_fast"] == 1
    with session_factory(loaded_engine)() as session:
        kept = {r.station_id: r for r in session.scalars(select(tables.StationDegradation))}
        found = list(
            session.scalars(select(tables.Finding).where(tables.Finding.kind == "degradation"))
        )
    assert set(kept) == set(stations)
    for i, station in enumerate(stations):
        assert kept[station].rate_pct == pytest.approx(-100 * RATES[i], abs=0.15)
        assert kept[station].low_pct < kept[station].rate_pct < kept[station].high_pct
        assert kept[station].as_of == last
    assert [(f.subject_id, f.active) for f in found] == [(stations[4], True)]
    assert found[0].evidence["limit_pct"] == settings.analytics.degradation_limit_pct

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
