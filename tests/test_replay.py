"""Faults replayed through the past with the project's own commands: the live check as of
a past moment (``pvmon analytics run frequent --at``) and weeks of days, each day's findings
as of that day's end (``pvmon analytics run daily --from --to``) — what a detection
benchmark drives (``bench/detection.py``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from launch.cli import app
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient, series_values
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from simulators.demo_registry import GenerationOptions, generate_registry
from tests.support.fleetwriter import TZ, FleetWriter, silent_station_day, township_stations

runner = CliRunner()


@pytest.fixture
def stores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, influx: InfluxClient, loaded_engine: Engine
) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PVMON_INFLUX_URL", influx.url)
    monkeypatch.setenv("PVMON_INFLUX_DB", influx.database)
    monkeypatch.setenv("PVMON_DATABASE_URL", loaded_engine.url.render_as_string(False))


def findings(engine: Engine, kind: str) -> list[tables.Finding]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(tables.Finding).where(tables.Finding.kind == kind)))


@pytest.mark.usefixtures("stores")
def test_the_live_check_runs_as_of_a_past_moment(
    influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    day = dt.date.today() - dt.timedelta(days=1)
    _, quiet = silent_station_day(default_registry, influx, loaded_engine, day)
    at = dt.datetime.combine(day, dt.time(12, 30), TZ)
    done = runner.invoke(app, ["analytics", "run", "frequent", "--at", at.isoformat()])
    assert done.exit_code == 0, done.output
    lost = [f for f in findings(loaded_engine, "comm_loss") if f.subject_id == quiet]
    (found,) = lost
    assert found.detected_at == at.astimezone(dt.UTC), "as of the moment replayed, not now"
    window_start = at - dt.timedelta(minutes=30)
    assert found.since == window_start.astimezone(dt.UTC), "silent through the half hour looked at"
    naive = runner.invoke(app, ["analytics", "run", "frequent", "--at", "2026-06-01T12:00:00"])
    assert naive.exit_code == 2
    assert "needs its UTC offset" in naive.output


def three_days_replayed(
    registry: Registry, influx: InfluxClient, faults: list[dict] | None = None
) -> list[dt.date]:
    """The days before yesterday of one township's stations written (with ``faults``) and
    run through ``pvmon analytics run daily --from --to``."""
    first = dt.date.today() - dt.timedelta(days=4)
    writer = FleetWriter(registry, township_stations(registry), first, faults)
    days = [first + dt.timedelta(days=n) for n in range(3)]
    for day in days:
        writer.day(influx, day)
    done = runner.invoke(
        app, ["analytics", "run", "daily", "--from", str(days[0]), "--to", str(days[-1])]
    )
    assert done.exit_code == 0, done.output
    return days


@pytest.mark.usefixtures("stores")
def test_days_replayed_have_their_findings_as_of_each_days_end(
    influx: InfluxClient, loaded_engine: Engine
) -> None:
    """The registry is generated as of the first day replayed, so that its certificates
    stand through the three days as generated (none falls due within five days): the
    stations uncovered at the first day's end are the same at the last's. (The shared
    registry's certificates are dated from a fixed day; replayed days move with the
    calendar, and one falling due among them is found that day, rightly.)"""
    first = dt.date.today() - dt.timedelta(days=4)
    registry = generate_registry(GenerationOptions(seed=2021, as_of=first))
    with session_factory(loaded_engine).begin() as session:
        replace_registry(session, registry)
    days = three_days_replayed(registry, influx)
    uncovered = findings(loaded_engine, "station_uncovered")
    assert uncovered
    first_end = dt.datetime.combine(days[1], dt.time(0), TZ).astimezone(dt.UTC)
    last_end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(0), TZ)
    assert {f.detected_at for f in uncovered} == {first_end}, "found as the first day ended"
    assert {f.updated_at for f in uncovered} == {last_end.astimezone(dt.UTC)}
    with session_factory(loaded_engine)() as session:
        runs = {r.period for r in session.scalars(select(tables.JobRun)) if r.job == "daily"}
    assert runs == {d.isoformat() for d in days}


SHADED = "HH0740"
RESET = "HH0741"
CLOCK = "HH0742"
DAYS = 16


def last_spring_before(day: dt.date) -> dt.date:
    """The latest 20 April on or before ``day``: in spring a shade until 10:30 costs a few
    per cent of the day; in December the sun rises near 8:00, only the 9 o'clock hour of the
    shaded ones is bright enough to judge, and the shade costs under 2 % of the day — below
    what the profile check reports (``analytics.profiles.MIN_LOSS_SHARE``)."""
    spring = day.replace(month=4, day=20)
    return spring if spring <= day else spring.replace(year=day.year - 1)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.usefixtures("stores")
def test_a_morning_shade_replayed_through_the_past_is_found_with_its_hours(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    """``pvmon backfill --scenario`` then ``pvmon analytics run daily``: a household shaded
    by 20 % every morning until 10:30 — about 5 % of its day, within the daily margin — is
    found from its hours; a counter reset on another household is not a loss; a third
    household's logger whose clock is set 20 minutes back is found by its output coming 20
    minutes early against its township's."""
    stations = township_stations(default_registry)
    assert {SHADED, RESET, CLOCK} <= set(stations)
    first = last_spring_before(dt.date.today() - dt.timedelta(days=DAYS + 1))
    scenario = tmp_path / "shade.toml"
    scenario.write_text(
        f"""
[[faults]]
kind = "shading"
stations = ["{SHADED}"]
hours = "00:00-10:30"
factor = 0.2
start = "+4d"

[[faults]]
kind = "counter_reset"
stations = ["{RESET}"]
start = "+8.5d"

[[faults]]
kind = "clock"
stations = ["{CLOCK}"]
offset = "-20m"
start = "+11d"
"""
    )
    until = dt.datetime.combine(first + dt.timedelta(days=DAYS), dt.time(0), TZ)
    replayed = runner.invoke(
        app,
        [
            *("backfill", "--scenario", str(scenario), "--from", str(first)),
            *("--until", until.isoformat(), "--stations", ",".join(stations)),
        ],
    )
    assert replayed.exit_code == 0, replayed.output
    last = until.date() - dt.timedelta(days=1)
    done = runner.invoke(
        app, ["analytics", "run", "daily", "--from", str(first), "--to", str(last)]
    )
    assert done.exit_code == 0, done.output

    operating = [f for f in findings_of_stations(loaded_engine) if f.kind != "station_uncovered"]
    clock = [f for f in operating if f.kind == "clock_shift"]
    assert [(f.station_id, f.active) for f in clock] == [(CLOCK, True)]
    assert clock[0].evidence["shift_min"] == pytest.approx(-20, abs=3)
    assert clock[0].detected_at.date() >= first + dt.timedelta(days=11), "once it was set wrong"
    losses = [f for f in operating if f.station_id != CLOCK]
    assert [(f.kind, f.subject_id) for f in losses] == [("profile_loss", SHADED)]
    (shade,) = losses
    assert shade.evidence["hours"].endswith("10:00") or shade.evidence["hours"].endswith("11:00")
    assert 0.02 <= shade.evidence["share"] <= 0.1
    assert shade.detected_at.date() > first + dt.timedelta(days=4), "after the shade began"
    stored = influx.query('SELECT COUNT("s12") FROM "rollups"."station_hours"')
    assert stored, "the judged hours are kept with the rollups"


def findings_of_stations(engine: Engine) -> list[tables.Finding]:
    with session_factory(engine)() as session:
        return list(
            session.scalars(select(tables.Finding).where(tables.Finding.station_id.is_not(None)))
        )


@pytest.mark.usefixtures("stores")
def test_a_logger_whose_power_froze_raises_the_data_quality_finding(
    influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    """A logger that keeps sending the power it read at 10:00 (a frozen register) while its
    counter goes on: its readings are labelled stale in the device's daily rollup, and the
    day that is mostly stale raises the data-quality finding; the others' data are clean."""
    stations = township_stations(default_registry)
    village = next(s for s in default_registry.stations if s.id in stations and s.kind == "village")
    device = next(i.id for i in default_registry.inverters if i.station_id == village.id)
    stuck = [{"kind": "stuck", "devices": [device], "start": "+34h"}]
    days = three_days_replayed(default_registry, influx, stuck)

    (bad,) = findings(loaded_engine, "bad_data")
    assert (bad.subject_id, bad.station_id, bad.active) == (device, village.id, True)
    assert bad.detected_at == dt.datetime.combine(days[2], dt.time(0), TZ).astimezone(dt.UTC)
    assert bad.evidence["stale"] > 0.5 * bad.evidence["readings"]
    rows = series_values(
        influx.query(
            'SELECT "device", "q_labelled", "q_bad" FROM "rollups"."device_daily" '
            f'WHERE "station" =~ /^({"|".join(stations)})$/'
        )
    )
    clean = [r for r in rows if r["device"] != device]
    assert clean
    assert all(r["q_bad"] <= 0.05 * r["q_labelled"] for r in clean)
