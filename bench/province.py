"""A province's daily job over several analytics processes (issue 21; prints figures).

A province of N counties (``generate_registry(counties=N)``: Yonghe and N-1 like it) goes
into a fresh PostgreSQL database and a fresh influxd, with one day of one-minute telemetry
from every inverter of every county. The day's county units (``analytics.work``) are then
computed by 1, 2 and 4 worker processes at once — each ``python -m bench.province worker``,
taking units exactly as ``pvmon analytics`` does — and the day's totals after them.

Printed per number of workers: the wall time from the workers' start to the totals stored,
a worker's start (its stores opened; it reads each county's registry as it takes it), the
median wall time of a county-day's computation,
the CPU seconds per county-day (start included), the largest worker's peak resident
memory; and influxd's resident memory after the writes and after the job. This machine
has 2 cores: past two workers the wall time cannot fall, so the CPU seconds per
county-day are the figure that carries to a bigger machine.

With ``--api-store DIR`` it then measures the API at a province's size as well: ``bench.api
--counties 100 --api-processes 2`` on the store kept in DIR (written there first, about 45
minutes here, when DIR holds none), its figures printed after these.

Run: .venv/bin/python -m bench.province [--counties 8] [--workers 1,2,4] [--api-store DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from analytics.context import Analytics
from analytics.work import holder_name, plan_days, total_days, work
from bench.analytics import write_day
from bench.influx_index import rss_mb
from bench.scratchdb import scratch_postgres
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import free_port
from pvmon.db import tables
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import upgrade
from pvmon.influx.client import InfluxClient
from pvmon.registry.store import replace_registry
from pvmon.settings import load_settings
from pvmon.stores import open_database, open_influx, provision_influx
from simulators.demo_registry import GenerationOptions, generate_registry

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date.today() - dt.timedelta(days=2)
API_COUNTIES = 100
"""The province the API is measured at (issue 21: a year of rollups, no raw telemetry)."""


def worker() -> None:
    """One analytics worker process (as ``analytics.parallel`` starts them): take and
    compute county-days until none is left, reading each county's part of the registry as
    it takes it."""
    began = time.perf_counter()
    settings = load_settings()
    a = Analytics.open(settings, open_database(settings), open_influx(settings), whole=False)
    opened = time.perf_counter() - began
    outcomes = work(a, holder_name(), [DAY])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "units": len(outcomes),
                "failed": sum(o.detail is None for o in outcomes),
                "open_s": opened,
                "unit_s": [o.detail["seconds"] for o in outcomes if o.detail],
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_mb": usage.ru_maxrss / 1024,
            }
        )
    )


def run_round(workers: int, env: dict[str, str], a: Analytics) -> dict[str, float]:
    with a.sessions.begin() as session:
        session.execute(delete(tables.WorkLease).where(tables.WorkLease.period == DAY.isoformat()))
    plan_days(a, [DAY], {})
    began = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.province", "worker"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    reports = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    totals = total_days(a, holder_name(), [DAY])
    wall = time.perf_counter() - began
    units = sum(r["units"] for r in reports)
    assert [t.detail is not None for t in totals] == [True], totals
    assert sum(r["failed"] for r in reports) == 0, reports
    unit_s = sorted(t for r in reports for t in r["unit_s"])
    return {
        "wall_s": wall,
        "units": units,
        "open_s": max(r["open_s"] for r in reports),
        "unit_median_s": unit_s[len(unit_s) // 2],
        "cpu_per_unit": sum(r["cpu_s"] for r in reports) / units,
        "peak_mb": max(r["peak_mb"] for r in reports),
        "by_worker": [r["units"] for r in reports],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--counties", type=int, default=8)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--api-store", type=Path, help="then the API at 100 counties, kept here")
    args = parser.parse_args()
    if args.mode == "worker":
        worker()
        return
    with scratch_postgres() as url, tempfile.TemporaryDirectory(prefix="pvmon-province-") as root:
        server = Influxd(InfluxdOptions(free_port(), free_port(), Path(root) / "influxdb"))
        server.start()
        try:
            bench(args, url, server, Path(root))
        finally:
            server.stop()
    if args.api_store:
        print(f"the API at {API_COUNTIES} counties (bench.api):", flush=True)
        api = [
            "--counties",
            str(API_COUNTIES),
            "--api-processes",
            "2",
            "--store",
            str(args.api_store),
        ]
        subprocess.run([sys.executable, "-m", "bench.api", *api], check=True)


def bench(args: argparse.Namespace, url: str, server: Influxd, root: Path) -> None:
    env = {
        **os.environ,
        "PVMON_DATABASE_URL": url,
        "PVMON_INFLUX_URL": server.url,
        "PVMON_INFLUX_DB": "pvmon",
        "PVMON_DATA_DIR": str(root),
    }
    settings = load_settings(database_url=url, influx_url=server.url, data_dir=root)
    engine = make_engine(url)
    upgrade(engine)
    registry = generate_registry(GenerationOptions(seed=2021, counties=args.counties))
    began = time.perf_counter()
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    print(
        f"province: {args.counties} counties, {len(registry.stations):,} stations, "
        f"{len(registry.inverters):,} inverters (registry stored in "
        f"{time.perf_counter() - began:.0f} s)"
    )
    influx = InfluxClient(server.url, "pvmon", timeout=600)
    provision_influx(influx, settings)
    began = time.perf_counter()
    readings = sum(
        write_day(influx, registry.of_county(c), settings, DAY) for c in registry.county_townships()
    )
    print(
        f"telemetry of {DAY}: {readings:,} readings written in {time.perf_counter() - began:.0f} s;"
        f" influxd resident {rss_mb(server.pid or 0):,.0f} MB"
    )
    a = Analytics.open(settings, engine, influx)
    print(f"{'workers':>7} {'wall s':>7} {'county-days':>11} {'start s':>7} {'unit s':>6} "
          f"{'CPU s each':>10} {'peak MB':>8}  units per worker")  # fmt: skip
    for workers in (int(w) for w in args.workers.split(",")):
        r = run_round(workers, env, a)
        print(
            f"{workers:>7} {r['wall_s']:>7.1f} {r['units']:>11} {r['open_s']:>7.1f} "
            f"{r['unit_median_s']:>6.1f} {r['cpu_per_unit']:>10.2f} {r['peak_mb']:>8.0f}  "
            f"{r['by_worker']}"
        )
    print(f"influxd resident after the job: {rss_mb(server.pid or 0):,.0f} MB")


if __name__ == "__main__":
    main()
