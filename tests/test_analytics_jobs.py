"""The analytics jobs against a real influxd and relational store."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from analytics import evaluation, forecasts, live, statements
from analytics.context import Analytics
from analytics.rollups import compute_day, compute_days
from analytics.service import AnalyticsService
from ingest.late import stamp_days
from launch.local.influxd import Influxd
from pvmon.certification import compliance
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.provision import ROLLUP_RP, provision
from pvmon.localtime import day_bounds
from pvmon.registry.schema import Registry
from tests.support.fleetwriter import (
    TZ,
    FleetWriter,
    only_stations,
    settings_for,
    silent_station_day,
    township_stations,
)
from tests.support.services import AS_OF

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def rollup(influx: InfluxClient, measurement: str, fields: str = "*") -> list[dict]:
    return series_values(influx.query(f'SELECT {fields} FROM "{ROLLUP_RP}"."{measurement}"'))


def test_a_day_of_telemetry_becomes_rollups_and_recomputing_replaces_it_exactly(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    day = dt.date.today() - dt.timedelta(days=3)
    subset = township_stations(default_registry)
    writer = FleetWriter(default_registry, subset, day)
    writer.day(influx, day)
    a = Analytics.open(settings_for(tmp_path, influx, loaded_engine), loaded_engine, influx)
    result = compute_day(a, day, recompute=False)

    # Energy: the counters' rise over the day, device by device, summed per station.
    frame = writer.frames[day].sort_values("ts")
    rise = frame.groupby("device")["WH"].agg(lambda wh: wh.iloc[-1] - wh.iloc[0]) / 1000
    station_of = {i.id: i.station_id for i in default_registry.inverters}
    expected = rise.groupby(rise.index.map(station_of)).sum()
    got = result.stations.loc[expected.index, "energy_kwh"]
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9)
    assert result.stations.loc[subset, "availability"].min() == 1.0
    counts = {
        m: len(rollup(influx, m, '"energy_kwh"'))
        for m in (
            schema.DEVICE_DAILY,
            schema.STATION_DAILY,
            schema.VILLAGE_DAILY,
            schema.SEGMENT_DAILY,
            schema.FLEET_DAILY,
        )
    }
    assert counts == {
        schema.DEVICE_DAILY: len(default_registry.inverters),
        schema.STATION_DAILY: len(default_registry.stations),
        schema.VILLAGE_DAILY: len(default_registry.villages),
        schema.SEGMENT_DAILY: 3,
        schema.FLEET_DAILY: 1,
    }
    stored = {r["station"]: r for r in rollup(influx, schema.STATION_DAILY)}
    assert stored[subset[0]]["energy_kwh"] == pytest.approx(
        result.stations.loc[subset[0], "energy_kwh"]
    )
    assert stored[subset[0]]["time"] == day_bounds(day, TZ)[0]

    # A late reading, a day's end after the others, recomputed: same points, new values.
    device = next(d for d in frame["device"] if station_of[d].startswith("VS"))
    last = frame[frame["device"] == device].iloc[-1]
    station = station_of[device]
    influx.write(
        [
            f"telemetry,device={device},kind=village,station={station},township=T03 "
            f"W=0.0,WH={float(last.WH) + 2000.0} {int(last.ts) + 600}"
        ]
    )
    compute_day(a, day, recompute=True)
    again = {r["station"]: r for r in rollup(influx, schema.STATION_DAILY)}
    assert len(again) == len(stored)
    assert again[station]["energy_kwh"] == pytest.approx(stored[station]["energy_kwh"] + 2.0)
    assert len(rollup(influx, schema.DEVICE_DAILY, '"energy_kwh"')) == counts[schema.DEVICE_DAILY]


def test_catch_up_computes_each_missed_day_once(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    first = dt.date.today() - dt.timedelta(days=8)
    writer = FleetWriter(default_registry, township_stations(default_registry)[:20], first)
    for n in range(6):
        writer.day(influx, first + dt.timedelta(days=n))
    settings = settings_for(
        tmp_path, influx, loaded_engine, analytics={"history_start": first.isoformat()}
    )
    a = Analytics.open(settings, loaded_engine, influx)
    evening = dt.datetime.combine(first + dt.timedelta(days=1), dt.time(21), TZ)
    service = AnalyticsService(a, clock=lambda: evening)
    assert service.catch_up().days == [first + dt.timedelta(days=1), first], "newest first"
    # The service is down for two days, then comes back on the evening of the fourth.
    back = evening + dt.timedelta(days=3)
    result = service.catch_up(now=back)
    assert result.days == [first + dt.timedelta(days=n) for n in (4, 3, 2)]
    assert service.catch_up(now=back).days == []
    with session_factory(loaded_engine)() as session:
        runs = session.scalars(select(tables.JobRun).where(tables.JobRun.job == "daily")).all()
    assert Counter(r.attempts for r in runs) == Counter({1: 5})
    assert all(r.status == "ok" for r in runs)
    assert result.evaluation["certification_rate"] > 0
    with session_factory(loaded_engine)() as session:
        longterm = session.scalars(select(tables.JobRun).where(tables.JobRun.job == "longterm"))
        months = {r.period: r.attempts for r in longterm}
        soiling = session.scalars(select(tables.JobRun).where(tables.JobRun.job == "soiling"))
        weeks = {r.period: r.attempts for r in soiling}
    judged = [first + dt.timedelta(days=1), first + dt.timedelta(days=4)]
    assert months == dict.fromkeys({f"{d.year}-{d.month:02d}" for d in judged}, 1), (
        "the degradation estimated once a month"
    )
    iso = [d.isocalendar() for d in judged]
    assert weeks == dict.fromkeys({f"{y}-W{w:02d}" for y, w, _ in iso}, 1), (
        "the soiling once a week"
    )


def test_days_read_together_give_the_rollups_of_days_read_one_by_one(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    first = dt.date.today() - dt.timedelta(days=6)
    days = [first + dt.timedelta(days=n) for n in range(4)]
    writer = FleetWriter(default_registry, township_stations(default_registry)[:20], first)
    for day in days:
        writer.day(influx, day)
    a = Analytics.open(settings_for(tmp_path, influx, loaded_engine), loaded_engine, influx)
    outcomes = compute_days(a, [(day, False) for day in days])
    assert [day for day, _, _ in outcomes] == days
    assert [detail["readings"] for _, detail, _ in outcomes] == [
        len(writer.frames[day]) for day in days
    ], "each day gets exactly its own readings"
    together = rollup(influx, schema.STATION_DAILY)
    a.carry = None
    for day in days:
        compute_day(a, day, recompute=True)
    assert rollup(influx, schema.STATION_DAILY) == together


def test_late_data_makes_the_day_recompute(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    day = dt.date.today() - dt.timedelta(days=2)
    writer = FleetWriter(default_registry, township_stations(default_registry)[:10], day)
    writer.day(influx, day)
    settings = settings_for(
        tmp_path, influx, loaded_engine, analytics={"history_start": day.isoformat()}
    )
    a = Analytics.open(settings, loaded_engine, influx)
    evening = dt.datetime.combine(day, dt.time(21), TZ)
    service = AnalyticsService(a)
    assert service.catch_up(now=evening).days == [day]
    before = {r["station"]: r["energy_kwh"] for r in rollup(influx, schema.STATION_DAILY)}
    # A store-and-forward backlog arrives the next morning: ingest notes the day.
    frame = writer.frames[day].sort_values("ts")
    station_of = {i.id: i.station_id for i in default_registry.inverters}
    device = next(d for d in frame["device"] if station_of[d].startswith("VS"))
    station = station_of[device]
    wh = float(frame[frame["device"] == device]["WH"].iloc[-1]) + 1000.0
    influx.write(
        [
            f"telemetry,device={device},kind=village,station={station},township=T03 "
            f"W=0.0,WH={wh} {int(frame['ts'].max()) + 300}"
        ]
    )
    arrived = dt.datetime.now(dt.UTC)  # stored after the first computation started
    with session_factory(loaded_engine).begin() as session:
        session.add(
            tables.LateDay(station_id=station, day=day, first_seen_at=arrived, last_seen_at=arrived)
        )
    next_morning = evening + dt.timedelta(hours=10)
    assert service.catch_up(now=next_morning).days == [day]
    assert service.catch_up(now=next_morning).days == [], "once"
    after = {r["station"]: r["energy_kwh"] for r in rollup(influx, schema.STATION_DAILY)}
    assert after[station] == pytest.approx(before[station] + 1.0)
    assert len(after) == len(before)
    with session_factory(loaded_engine)() as session:
        run = session.get(tables.JobRun, ("daily", day.isoformat()))
    assert run is not None
    assert run.attempts == 2


def test_statements_targets_and_findings_from_the_rollups(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    first = dt.date.today() - dt.timedelta(days=5)
    subset = township_stations(default_registry)
    writer = FleetWriter(default_registry, subset, first)
    a = Analytics.open(settings_for(tmp_path, influx, loaded_engine), loaded_engine, influx)
    days = [first + dt.timedelta(days=n) for n in range(4)]
    for day in days:
        writer.day(influx, day)
        compute_day(a, day, recompute=False)
    now = dt.datetime.now(dt.UTC)
    assert statements.statements(a, first.year, None, now) == len(default_registry.villages)
    with session_factory(loaded_engine)() as session:
        stored = {s.village_id: s for s in session.scalars(select(tables.VillageStatement))}
    village = next(v.id for v in default_registry.villages if v.township_id == "T03")
    s = stored[village]
    assert s.period == str(first.year)
    assert s.estimated is True
    assert s.net_yuan == pytest.approx(s.grid_yuan + s.subsidy_yuan - s.costs_yuan)
    assert sum(line["energy_kwh"] for line in s.sources) == pytest.approx(s.energy_kwh, abs=0.01)
    assert s.energy_kwh > 0
    report = forecasts.targets(a, days[-1])
    segment_energy = sum(
        r["energy_kwh"] for r in rollup(influx, schema.SEGMENT_DAILY) if r["kind"] == "village"
    )
    assert report.segment.actual_kwh == pytest.approx(segment_energy)
    assert report.segment.status == "insufficient_data", "four days say nothing of the year"
    assert report.segment.days_with_data == 4
    assert report.villages[village].actual_yuan != 0
    outcome = evaluation.evaluate(a, days[-1], now)
    assert outcome["opened"] > 0
    with session_factory(loaded_engine)() as session:
        kinds = Counter(f.kind for f in session.scalars(select(tables.Finding)).all())
    assert kinds["target_at_risk"] == 0, "too few days to say the target is at risk"
    assert kinds["station_uncovered"] >= 1


def test_the_frequent_job_finds_a_silent_station_and_clears_it_when_it_speaks(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    day = dt.date.today() - dt.timedelta(days=1)
    subset, quiet = silent_station_day(default_registry, influx, loaded_engine, day)
    a = Analytics.open(settings_for(tmp_path, influx, loaded_engine), loaded_engine, influx)
    only_stations(a, subset)
    noon = dt.datetime.combine(day, dt.time(12, 30), TZ)
    found = live.frequent(a, noon)
    assert found["opened"] == 1
    with session_factory(loaded_engine)() as session:
        finding = session.scalars(select(tables.Finding)).one()
    assert (finding.kind, finding.subject_id, finding.active) == ("comm_loss", quiet, True)
    later = live.frequent(a, noon + dt.timedelta(hours=2))
    assert later["cleared"] == 1
    with session_factory(loaded_engine)() as session:
        finding = session.scalars(select(tables.Finding)).one()
    assert finding.active is False
    assert finding.cleared_at is not None


def test_days_influxdb_cannot_serve_are_recorded_failed_and_done_when_it_returns(
    tmp_path: Path,
    influxd_factory: Callable[[], Influxd],
    loaded_engine: Engine,
    default_registry: Registry,
) -> None:
    server = influxd_factory()
    influx = InfluxClient(server.url, "pvmon", timeout=2)
    provision(influx, raw_days=400)
    day = dt.date.today() - dt.timedelta(days=2)
    FleetWriter(default_registry, township_stations(default_registry)[:5], day).day(influx, day)
    settings = settings_for(
        tmp_path, influx, loaded_engine, analytics={"history_start": day.isoformat()}
    )
    a = Analytics.open(settings, loaded_engine, influx)
    service = AnalyticsService(a)
    evening = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(21), TZ)
    server.stop()
    result = service.catch_up(now=evening)
    newest = day + dt.timedelta(days=1)
    assert result.days == []
    assert result.failed == [newest.isoformat()], "stops at the first day it cannot compute"
    with session_factory(loaded_engine)() as session:
        run = session.get(tables.JobRun, ("daily", newest.isoformat()))
    assert run is not None
    assert run.status == "failed"
    assert "error" in run.detail
    server.start()
    assert service.catch_up(now=evening).days == [newest, day]
    with session_factory(loaded_engine)() as session:
        run = session.get(tables.JobRun, ("daily", newest.isoformat()))
    assert (run.status, run.attempts) == ("ok", 2)


def test_certification_findings_exist_from_the_first_start_without_telemetry(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    a = Analytics.open(settings_for(tmp_path, influx, loaded_engine), loaded_engine, influx)
    service = AnalyticsService(a)
    now = dt.datetime.combine(AS_OF, dt.time(4), TZ)
    result = service.catch_up(now=now)
    assert result.days == []
    expected = compliance(default_registry, AS_OF, a.settings.registry.required_cert)
    with session_factory(loaded_engine)() as session:
        kinds = Counter(
            session.scalars(select(tables.Finding.kind).where(tables.Finding.active.is_(True)))
        )
        (run,) = session.scalars(select(tables.JobRun).where(tables.JobRun.job == "certification"))
    assert kinds["station_uncovered"] == len(expected.uncovered_stations) > 0
    invalid = len(expected.invalid())
    assert sum(kinds[k] for k in ("cert_missing", "cert_expired", "cert_review_overdue")) == invalid
    assert run.period == AS_OF.isoformat()
    service.catch_up(now=now + dt.timedelta(hours=1))
    with session_factory(loaded_engine)() as session:
        (again,) = session.scalars(
            select(tables.JobRun).where(tables.JobRun.job == "certification")
        )
    assert again.attempts == 1, "once a day"


def test_todays_energy_run_by_run_equals_the_days_rollup(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    """The live figure, brought up to date run by run, is the day's rollup energy by the
    day's last run: the same counter rules, the first interval from before midnight (the
    minutes after that run are night)."""
    day = dt.date.today() - dt.timedelta(days=2)
    subset = township_stations(default_registry)
    writer = FleetWriter(default_registry, subset, day - dt.timedelta(days=1))
    writer.day(influx, day - dt.timedelta(days=1))
    writer.day(influx, day)
    a = Analytics.open(settings_for(tmp_path, influx, loaded_engine), loaded_engine, influx)
    midnight = dt.datetime.combine(day, dt.time(0), TZ)
    runs = [midnight + dt.timedelta(hours=h, minutes=7) for h in (6, 9, 11, 13, 17)]
    for moment in [*runs, midnight + dt.timedelta(days=1, seconds=-1)]:
        live.energy_today(a, moment)
    at = int(midnight.timestamp())
    written = series_values(
        influx.query(
            f'SELECT "energy_kwh" FROM "{schema.STATION_TODAY}" WHERE time = {at}s '
            'GROUP BY "station"'
        )
    )
    by_station = pd.Series({r["station"]: r["energy_kwh"] for r in written})
    result = compute_day(a, day, recompute=False)
    np.testing.assert_allclose(
        by_station[subset].to_numpy(), result.stations.loc[subset, "energy_kwh"].to_numpy()
    )
    assert by_station[subset].sum() > 100, "a day of sun in the township"
    towns = series_values(
        influx.query(
            f'SELECT "energy_kwh" FROM "{schema.TOWNSHIP_TODAY}" WHERE time = {at}s '
            'GROUP BY "township", "kind"'
        )
    )
    kinds = {s.id: (s.township_id, str(s.kind)) for s in default_registry.stations}
    expected = by_station.groupby(by_station.index.map(kinds)).sum()
    found = pd.Series({(r["township"], r["kind"]): r["energy_kwh"] for r in towns})
    assert len(found) == len(expected), "each township's kinds of station, summed for the API"
    np.testing.assert_allclose(found[expected.index].to_numpy(), expected.to_numpy())


def test_history_written_backwards_is_computed_as_it_arrives(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    """The demo's history fills the year in newest day first: a day before the first one
    analytics knew of is computed once the backfill marks it stored."""
    newer = dt.date.today() - dt.timedelta(days=3)
    older = newer - dt.timedelta(days=1)
    writer = FleetWriter(default_registry, township_stations(default_registry)[:10], older)
    writer.day(influx, older)
    writer.day(influx, newer)
    settings = settings_for(
        tmp_path, influx, loaded_engine, analytics={"history_start": newer.isoformat()}
    )
    service = AnalyticsService(Analytics.open(settings, loaded_engine, influx))
    evening = dt.datetime.combine(newer, dt.time(21), TZ)
    assert service.catch_up(now=evening).days == [newer]
    with session_factory(loaded_engine).begin() as session:
        stamp_days(session, [older])
    assert service.catch_up(now=evening).days == [older]
    assert service.catch_up(now=evening).days == []
