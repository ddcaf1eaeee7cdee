"""Analytics benchmarks (prints figures; asserts nothing).

1. The whole-fleet daily job over one day of one-minute data: the simulated readings of all
   2,569 inverters for a day are written into a fresh influxd, then the day's rollups are
   computed (first time) and recomputed (replacing the day).
2. Year-to-date target and forecast (village stations, 65 village collectives) from a year
   of daily rollups; and the 2,136 households' income forecasts.

Run: .venv/bin/python -m bench.analytics
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analytics import forecasts
from analytics.context import Analytics
from analytics.influxstore import rollup_lines
from analytics.rollups import compute_day
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import free_port
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.influx.fastlines import telemetry_lines
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_bounds
from pvmon.registry.store import replace_registry
from pvmon.settings import load_settings
from pvmon.stores import open_database, provision_influx
from pvmon.telemetry import FLOAT_FIELDS, INT_FIELDS
from simulators.demo_registry import GenerationOptions, generate_registry
from simulators.fleet_arrays import build_fleet
from simulators.history import device_prefixes
from simulators.model import FleetModel
from simulators.readings import ReadingGenerator
from simulators.sky import SkyModel
from simulators.state import initial_counters

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date.today() - dt.timedelta(days=2)


def write_day(influx: InfluxClient, registry, settings, day: dt.date = DAY) -> int:
    fleet = build_fleet(registry, 7, settings.telemetry_interval_s)
    model = FleetModel(fleet, SkyModel(fleet.townships, TZ, 7))
    start, end = day_bounds(day, TZ)
    generator = ReadingGenerator(fleet, model, [], initial_counters(fleet, model, {}, start), start)
    batch = generator.span(end - 1)
    rows = batch.rows()
    prefixes = device_prefixes(fleet)
    lines = telemetry_lines(
        [prefixes[d] for d in batch.idx[rows]],
        batch.stamped[rows],
        {k: batch.fields[k][rows] for k in FLOAT_FIELDS},
        {k: batch.fields[k][rows] for k in INT_FIELDS},
    )
    for i in range(0, len(lines), 10_000):
        influx.write(lines[i : i + 10_000])
    return len(lines)


def year_of_rollups(influx: InfluxClient, a: Analytics, year: int, last: dt.date) -> int:
    """Plausible daily rollups for every station, village and segment, 1 January → last."""
    f = a.frames
    rng = np.random.default_rng(1)
    stations = f.stations
    written = 0
    day = dt.date(year, 1, 1)
    while day <= last:
        ts = day_bounds(day, a.tz)[0]
        typical = a.climate[day.month] / 30
        energy = stations["capacity_kwp"] * typical * rng.uniform(0.6, 1.2)
        revenue = energy * 0.78
        frame = pd.DataFrame(
            {
                "station": stations.index,
                "kind": stations["kind"],
                "township": stations["township_id"],
                "energy_kwh": energy.to_numpy(),
                "export_kwh": (energy * 0.97).to_numpy(),
                "grid_yuan": (energy * 0.32).to_numpy(),
                "subsidy_yuan": (revenue - energy * 0.32).to_numpy(),
            }
        )
        villages = pd.DataFrame(
            {
                "village": f.villages.index,
                "township": f.villages["township_id"],
                "energy_kwh": 300.0,
                "net_yuan": 520.0,
            }
        )
        seg = frame.groupby("kind")[["energy_kwh"]].sum().reset_index()
        seg["revenue_yuan"] = seg["energy_kwh"] * 0.78
        towns = frame.groupby(["township", "kind"])[["energy_kwh"]].sum().reset_index()
        towns["revenue_yuan"] = towns["energy_kwh"] * 0.78
        lines = (
            rollup_lines(
                schema.STATION_DAILY,
                frame,
                ["station", "kind", "township"],
                ["energy_kwh", "export_kwh", "grid_yuan", "subsidy_yuan"],
                ts,
            )
            + rollup_lines(
                schema.VILLAGE_DAILY,
                villages,
                ["village", "township"],
                ["energy_kwh", "net_yuan"],
                ts,
            )
            + rollup_lines(schema.SEGMENT_DAILY, seg, ["kind"], ["energy_kwh", "revenue_yuan"], ts)
            + rollup_lines(
                schema.TOWNSHIP_DAILY,
                towns,
                ["township", "kind"],
                ["energy_kwh", "revenue_yuan"],
                ts,
            )
        )
        for i in range(0, len(lines), 10_000):
            influx.write(lines[i : i + 10_000], rp=ROLLUP_RP)
        written += len(lines)
        day += dt.timedelta(days=1)
    return written


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = Influxd(
            InfluxdOptions(
                http_port=free_port(), rpc_port=free_port(), directory=Path(tmp) / "influxd"
            )
        )
        server.start()
        try:
            run(Path(tmp), server.url)
        finally:
            server.stop()


def run(tmp: Path, url: str) -> None:
    settings = load_settings(data_dir=tmp, influx_url=url)
    engine = open_database(settings)
    registry = generate_registry(GenerationOptions(as_of=dt.date.today()))
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    influx = InfluxClient(url, settings.influx_db, timeout=60)
    provision_influx(influx, settings)
    began = time.perf_counter()
    points = write_day(influx, registry, settings)
    print(
        f"setup: {points:,} one-minute readings of {len(registry.inverters):,} inverters "
        f"for {DAY} written in {time.perf_counter() - began:.1f} s"
    )
    a = Analytics.open(settings, engine, influx)
    began = time.perf_counter()
    result = compute_day(a, DAY, recompute=False)
    first = time.perf_counter() - began
    began = time.perf_counter()
    compute_day(a, DAY, recompute=True)
    again = time.perf_counter() - began
    print(
        f"daily job, whole fleet, one day of 1-minute data ({result.readings:,} readings, "
        f"{result.points:,} rollup points): {first:.2f} s first time, {again:.2f} s "
        f"recomputed (target: under 30 s)"
    )

    year_db = InfluxClient(url, "bench_year", timeout=60)
    provision_influx(year_db, settings)
    ya = Analytics.open(settings.model_copy(update={"influx_db": "bench_year"}), engine, year_db)
    last = dt.date.today() - dt.timedelta(days=1)
    began = time.perf_counter()
    written = year_of_rollups(year_db, ya, last.year, last)
    print(
        f"setup: {written:,} daily rollup points, 1 January → {last}, "
        f"in {time.perf_counter() - began:.1f} s"
    )
    timings, home_timings = [], []
    for _ in range(5):
        began = time.perf_counter()
        report = forecasts.targets(ya, last)
        timings.append(time.perf_counter() - began)
        began = time.perf_counter()
        homes = forecasts.household_targets(ya, last)
        home_timings.append(time.perf_counter() - began)
    s = report.segment
    print(
        f"year-to-date target and forecast (village stations and {len(report.villages)} "
        f"village collectives): median {np.median(timings):.3f} s, best {min(timings):.3f} s "
        f"over 5 runs (target: under 1 s); forecast {s.forecast_kwh / 1e6:.2f} GWh, "
        f"{s.status}"
    )
    print(
        f"households' income forecasts ({len(homes):,}): median "
        f"{np.median(home_timings):.2f} s over 5 runs"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
