"""Two ``pvmon analytics`` processes share a province's day on PostgreSQL; one is killed
while it computes a county: another takes that county once its lease runs out, and every
county's day is computed — and completed — exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from analytics.schedule import last_due_day
from launch.local.influxd import Influxd
from launch.local.process import ManagedProcess
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from tests.support.fleetwriter import TZ
from tests.support.province import (
    county_energy,
    fleet_energy,
    load_province,
    station_energy,
    write_province_day,
)
from tests.support.waiting import wait_for

COUNTIES = 6
LEASE_S = 3
DAILY_AT = dt.time(23, 59)


def leases_of(engine: Engine, job: str) -> list[tables.WorkLease]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(tables.WorkLease).where(tables.WorkLease.job == job)))


def analytics(name: str, tmp_path: Path, env: dict[str, str]) -> ManagedProcess:
    process = ManagedProcess(
        name, [sys.executable, "-m", "launch", "analytics"], tmp_path / f"{name}.log", env
    )
    process.start()
    return process


def freeze_while_computing(engine: Engine, process: ManagedProcess) -> list[tables.WorkLease]:
    """Stop the process (SIGSTOP) at a moment it holds a county's day; the units it holds
    then. Stopped between two units, it is let go on and tried again."""
    deadline = time.monotonic() + 180
    holder = f":{process.pid}"
    while time.monotonic() < deadline:
        if any(
            u.state == "held" and (u.holder or "").endswith(holder)
            for u in leases_of(engine, "daily")
        ):
            assert process.pid is not None
            os.kill(process.pid, signal.SIGSTOP)
            held = [
                u
                for u in leases_of(engine, "daily")
                if u.state == "held" and (u.holder or "").endswith(holder)
            ]
            if held:
                return held
            os.kill(process.pid, signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError(f"{process.name} never held a county's day")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_county_loses_it_to_the_other_and_each_county_is_computed_once(
    tmp_path: Path, influxd_factory: Callable[[], Influxd], engine: Engine
) -> None:
    server = influxd_factory()
    influx = InfluxClient(server.url, "pvmon", timeout=10)
    provision(influx, raw_days=400)
    registry = load_province(engine, COUNTIES)
    # the one day the workers find due: the deployment's local day, not the machine's
    # (from 16:00 UTC Shanghai is a day ahead, and two days were due: twelve units)
    day = last_due_day(dt.datetime.now(TZ), DAILY_AT)
    written = write_province_day(registry, influx, day, stations=60)
    env = {
        **os.environ,
        "PVMON_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "PVMON_INFLUX_URL": server.url,
        "PVMON_INFLUX_DB": "pvmon",
        "PVMON_DATA_DIR": str(tmp_path),
        "PVMON_ANALYTICS__HISTORY_START": day.isoformat(),
        "PVMON_ANALYTICS__DAILY_AT": DAILY_AT.strftime("%H:%M"),
        "PVMON_ANALYTICS__WORKERS": "1",
        "PVMON_ANALYTICS__LEASE_S": str(LEASE_S),
        "PVMON_ANALYTICS__CATCH_UP_S": "1",
    }
    first = analytics("analytics-a", tmp_path, env)
    second = analytics("analytics-b", tmp_path, env)
    try:
        victims = freeze_while_computing(engine, first)
        first.kill()
        killed_at = time.monotonic()

        def all_done() -> bool:
            daily = leases_of(engine, "daily")
            totals = leases_of(engine, "daily-totals")
            return (
                len(daily) == COUNTIES
                and all(u.state == "done" for u in daily)
                and [u.state for u in totals] == ["done"]
            )

        wait_for(all_done, timeout=300)
        taken_over_after = time.monotonic() - killed_at
    finally:
        first.stop()
        second.stop()
    daily = {u.part: u for u in leases_of(engine, "daily")}
    assert {u.period for u in daily.values()} == {day.isoformat()}
    assert sorted(daily) == sorted(registry.county_townships())
    assert [u.completions for u in daily.values()] == [1] * COUNTIES, "each county once"
    (totals,) = leases_of(engine, "daily-totals")
    assert (totals.completions, totals.detail["counties"]) == (1, COUNTIES)
    for victim in victims:
        unit = daily[victim.part]
        assert (unit.attempts, unit.completions) == (2, 1), "taken over, completed once"
        assert unit.finished_at is not None
        assert victim.expires_at is not None
        assert unit.finished_at > victim.expires_at, "not before the dead holder's lease ran out"
    stations = station_energy(influx)
    counties = county_energy(influx)
    for county, subset in written.items():
        assert all(stations[s] > 0 for s in subset), county
    assert len(set(counties.values())) == COUNTIES
    assert fleet_energy(influx) == pytest.approx(sum(counties.values()), rel=1e-9)
    with session_factory(engine)() as session:
        run = session.get(tables.JobRun, ("daily", day.isoformat()))
    assert run is not None
    assert run.status == "ok"
    print(
        f"\nanalytics workers: {COUNTIES} counties, {len(victims)} county-day(s) held by the "
        f"killed worker, taken over and done {taken_over_after:.1f} s after the kill "
        f"(lease {LEASE_S} s); completions {[u.completions for u in daily.values()]}"
    )
