"""Degradation and soiling recovered from five years of history (prints figures; asserts
nothing).

A fresh data directory and its own influxd, raw retention set long enough; ``pvmon registry
generate``; ``pvmon backfill --from 2021-01-01`` writes the simulated fleet's hourly history
up to today (modules degrading at each station's own rate, dust building up and washed by
rain); the analytics service's catch-up computes every day's rollups (its worker processes)
and then, once, the stations' degradation and soiling (``analytics.longterm``). Each
station's rate is compared with the simulator's truth: its modules lose a share ``d`` of
their new output a year, which in the estimate's terms — % of the first year's level — is
``-100·d / h``, ``h`` what was left of the new output in the middle of the first year. Its
soiling ratio over the last year is compared with the simulator's dust over the same days,
weighted like the estimate by the clear-sky insolation on the station's plane.

Run: .venv/bin/python -m bench.longterm [--from 2021-01-01] [--seed 4242] [--again DIR]
(``--again``: a finished run's directory; estimate again from its rollups and report.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import select

from analytics import longterm
from analytics.context import Analytics
from analytics.longterm import SOILING_DAYS, station_history
from analytics.service import AnalyticsService
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import free_port
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.registry.store import load_registry
from pvmon.settings import Settings, load_settings
from pvmon.stores import open_database
from simulators.fleet_arrays import YEAR_S, SimFleet, build_fleet
from simulators.soiling import Soiling


def pvmon(env: dict[str, str], *args: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "launch", *args], env=env, check=True)
    return time.perf_counter() - began


def simulated_fleet(settings: Settings) -> SimFleet:
    engine = open_database(settings)
    with session_factory(engine)() as session:
        registry = load_registry(session)
    engine.dispose()
    return build_fleet(registry, settings.simulator.seed, settings.telemetry_interval_s)


def truth(fleet: SimFleet, first: dt.date) -> pd.Series:
    """station → its true rate in the estimate's terms [% of the first year's level a year]."""
    lead = np.array([s.devices[0] for s in fleet.stations])
    middle = dt.datetime.combine(first + dt.timedelta(days=182), dt.time(12), dt.UTC).timestamp()
    left = fleet.health(lead, np.full(lead.size, middle))
    rate = -100 * fleet.degradation[lead] / left
    return pd.Series(rate, index=[s.id for s in fleet.stations])


def soiling_truth(a: Analytics, fleet: SimFleet, last: dt.date, seed: int) -> pd.Series:
    """station → the simulator's soiling ratio over the estimate's year, weighted by the
    clear-sky insolation on the station's plane (the rollups' ``yr_cs``)."""
    first = last - dt.timedelta(days=SOILING_DAYS - 1)
    weights = station_history(a, last, first, ("yr_cs",)).pivot_table(
        index="date", columns="station_id", values="yr_cs"
    )
    dust = Soiling(fleet, seed)
    lead = np.array([s.devices[0] for s in fleet.stations])
    loss = pd.DataFrame(
        [dust.loss(lead, day) for day in weights.index],
        index=weights.index,
        columns=[s.id for s in fleet.stations],
    ).reindex(columns=weights.columns)
    return 1 - (loss * weights).sum() / weights.sum()


def estimates(settings: Settings, table: type, columns: list[str]) -> pd.DataFrame:
    """station → its latest estimate's ``columns``."""
    engine = open_database(settings)
    with session_factory(engine)() as session:
        rows = session.scalars(select(table).order_by(table.as_of)).all()
    engine.dispose()
    frame = pd.DataFrame(
        [[r.station_id, *(getattr(r, c) for c in columns)] for r in rows],
        columns=["station", *columns],
    )
    return frame.groupby("station").last()


def report_soiling(found: pd.DataFrame, true: pd.Series, kinds: pd.Series) -> None:
    frame = found.join(true.rename("truth"), how="inner")
    frame["error"] = 100 * (frame["ratio"] - frame["truth"])
    covered = (frame["low"] <= frame["truth"]) & (frame["truth"] <= frame["high"])
    print(f"\nsoiling over the last year: {len(frame):,} of {len(true):,} stations estimated")
    print(
        f"{'':12} {'stations':>9} {'true loss %':>12} {'MAE pp':>7} {'median err':>11} "
        f"{'p95 |err|':>10} {'truth in CI':>12}"
    )
    for name, part in [("all", frame), *frame.groupby(kinds.reindex(frame.index))]:
        errors = part["error"].abs()
        print(
            f"{name:12} {len(part):9,} {100 * (1 - part['truth']).mean():12.2f} "
            f"{errors.mean():7.2f} {part['error'].median():11.2f} {errors.quantile(0.95):10.2f} "
            f"{covered.reindex(part.index).mean():12.1%}"
        )


def report(found: pd.DataFrame, true: pd.Series, kinds: pd.Series, towns: pd.Series) -> None:
    frame = found.join(true.rename("truth_pct"), how="inner")
    frame["error"] = frame["rate_pct"] - frame["truth_pct"]
    covered = (frame["low_pct"] <= frame["truth_pct"]) & (frame["truth_pct"] <= frame["high_pct"])
    print(f"\nstations estimated: {len(frame):,} of {len(true):,}")
    print(
        f"{'':12} {'stations':>9} {'MAE %/yr':>9} {'median err':>11} {'p95 |err|':>10} "
        f"{'truth in CI':>12}"
    )
    parts = [
        ("all", frame),
        *frame.groupby(kinds.reindex(frame.index)),
        *frame.groupby(towns.reindex(frame.index)),
    ]
    for name, part in parts:
        errors = part["error"].abs()
        inside = covered.reindex(part.index).mean()
        print(
            f"{name:12} {len(part):9,} {errors.mean():9.3f} {part['error'].median():11.3f} "
            f"{errors.quantile(0.95):10.3f} {inside:12.1%}"
        )
    print(f"median pairs per station: {frame['pairs'].median():.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="first", default="2021-01-01")
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--again", type=Path)
    args = parser.parse_args()
    first = dt.date.fromisoformat(args.first)
    tmp = args.again or Path(tempfile.mkdtemp(prefix="pvmon-longterm-"))
    influxd = Influxd(InfluxdOptions(free_port(), free_port(), tmp / "influxd"))
    influxd.start()
    try:
        run(first, args.seed, tmp, influxd.url, again=args.again is not None)
    finally:
        influxd.stop()
    print(f"data left in {tmp}")


def run(first: dt.date, seed: int, tmp: Path, url: str, again: bool) -> None:
    data = tmp / "data"
    today = dt.date.today()
    env = {
        **os.environ,
        "PVMON_DATA_DIR": str(data),
        "PVMON_INFLUX_URL": url,
        "PVMON_SIMULATOR__SEED": str(seed),
        "PVMON_RAW_RETENTION_DAYS": str((today - first).days + 60),
        "PVMON_ANALYTICS__HISTORY_START": first.isoformat(),
        "PYTHONUNBUFFERED": "1",
    }
    seconds = {} if again else {"registry generate": pvmon(env, "registry", "generate")}
    settings = load_settings(
        data_dir=data,
        influx_url=url,
        simulator={"seed": seed},
        raw_retention_days=(today - first).days + 60,
        analytics={"history_start": first},
    )
    tz = ZoneInfo(settings.timezone)
    until = dt.datetime.combine(today, dt.time(0), tz).isoformat()
    if not again:
        seconds["backfill (hourly history)"] = pvmon(
            env, "backfill", "--from", str(first), "--until", until
        )
    engine = open_database(settings)
    influx = InfluxClient(url, settings.influx_db, timeout=600)
    a = Analytics.open(settings, engine, influx)
    if not again:
        began = time.perf_counter()
        computed = AnalyticsService(a).catch_up(dt.datetime.now(dt.UTC))
        seconds[f"catch-up: {len(computed.days):,} days computed"] = time.perf_counter() - began
    last = today - dt.timedelta(days=1)
    began = time.perf_counter()
    again = longterm.degradation(a, last, dt.datetime.now(dt.UTC))
    seconds["degradation of the fleet (again)"] = time.perf_counter() - began
    print(f"degradation: {again}")
    began = time.perf_counter()
    dust = longterm.soiling(a, last, dt.datetime.now(dt.UTC))
    seconds["soiling of the fleet (again)"] = time.perf_counter() - began
    print(f"soiling: {dust}")
    kinds = a.frames.stations["kind"].astype(str)
    fleet = simulated_fleet(settings)
    degradation_columns = ["rate_pct", "low_pct", "high_pct", "pairs"]
    report(
        estimates(settings, tables.StationDegradation, degradation_columns),
        truth(fleet, first),
        kinds,
        a.frames.stations["township_id"].astype(str),
    )
    report_soiling(
        estimates(settings, tables.StationSoiling, ["ratio", "low", "high"]),
        soiling_truth(a, fleet, last, seed),
        kinds,
    )
    print()
    for step, s in seconds.items():
        print(f"{step:40} {s:8.0f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    years = (today - first).days * 86400 / YEAR_S
    print(f"peak RSS of this process: {peak:,.0f} MB; years of history: {years:.1f}")
    engine.dispose()
    influx.close()


if __name__ == "__main__":
    main()
