"""Detection replayed through the project's own commands (prints figures; asserts nothing).

A fresh data directory and its own influxd; ``pvmon registry generate``; a fault scenario
planted on stations picked with the bench's seed (one the tests do not use); ``pvmon
backfill --scenario`` writes every reading the loggers would have sent over the window,
faults included; ``pvmon analytics run daily --from --to`` judges each day as of its end;
``pvmon analytics run frequent --at`` checks, as of moments after the trips, the minutes
the live job would see. Then the findings are read from the relational store.

Planted, each on stations of its own: a morning shade (20 % until 10:30 every day) on
households, a 10 % loss, soiling building to 12 % over 10 days, one inverter of a
multi-inverter village station tripped, a logger whose power register froze, a logger whose
clock is set 20 minutes back, and a counter reset (which must not be flagged).
Prints, per fault kind: detected / planted, by which finding, the delay from the fault's
start to its first finding; and the findings on the healthy stations per healthy
station-day judged.

Run: .venv/bin/python -m bench.detection [--seed 4242] [--from 2026-04-01] [--days 42]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import free_port
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.domain import StationKind
from pvmon.findings import OPERATING_RULES, FindingKind
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry
from pvmon.settings import load_settings
from pvmon.stores import open_database

PER_KIND = 12
TRIPPED = 6
FAULTS_FROM_DAY = 21
"""The faults begin this many days into the window: the checks have their baseline."""
JUDGED_FROM_DAY = 7
"""Healthy station-days are counted from this day of the window: before it no check has
the days it needs to judge."""
LIVE_CHECKS_MIN = (5, 10, 15, 30, 60)
"""The live check is replayed this many minutes after each trip."""
JUDGED = OPERATING_RULES | {str(FindingKind.BAD_DATA), str(FindingKind.CLOCK_SHIFT)}
"""The findings about how a station's equipment and data behave (not its staffing, nor the
long view: the simulated fleet's own dust and ageing are not faults)."""


@dataclass(frozen=True)
class Planted:
    kind: str
    stations: list[str]
    start: dt.datetime
    toml: str


def pvmon(env: dict[str, str], *args: str) -> float:
    """Runs one ``pvmon`` command; returns its seconds. Its output goes to the console."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "launch", *args], env=env, check=True)
    return time.perf_counter() - began


def plan(registry: Registry, rng: random.Random, first: dt.date, tz: ZoneInfo) -> list[Planted]:
    """The faults, each kind on stations of its own."""
    kinds = {s.id: s.kind for s in registry.stations}
    households = sorted(s for s, k in kinds.items() if k == StationKind.HOUSEHOLD)
    village = sorted(s for s, k in kinds.items() if k == StationKind.VILLAGE)
    inverters: dict[str, list[str]] = defaultdict(list)
    for inverter in registry.inverters:
        inverters[inverter.station_id].append(inverter.id)
    multi = [s for s in village if len(inverters[s]) > 1]
    tripped = rng.sample(multi, TRIPPED)
    rest = [s for s in sorted(kinds) if s not in tripped and kinds[s] != StationKind.CENTRAL]
    shaded = rng.sample(households, PER_KIND)
    rest = [s for s in rest if s not in shaded]
    picked = rng.sample(rest, 5 * PER_KIND)
    lossy, soiled, reset, frozen, clocked = (picked[i::5] for i in range(5))
    begin = dt.datetime.combine(first + dt.timedelta(days=FAULTS_FROM_DAY), dt.time(0), tz)
    trip = begin + dt.timedelta(days=2, hours=10)
    reset_at = begin + dt.timedelta(days=3, hours=12)
    return [
        Planted(
            "shading 20 % until 10:30",
            shaded,
            begin,
            _fault("shading", shaded, begin, 'hours = "00:00-10:30"\nfactor = 0.2'),
        ),
        Planted(
            "output loss 10 %", lossy, begin, _fault("output_loss", lossy, begin, "factor = 0.1")
        ),
        Planted(
            "soiling to 12 % in 10 d",
            soiled,
            begin,
            _fault("soiling", soiled, begin, 'build = "10d"\nfactor = 0.12'),
        ),
        Planted(
            "one inverter tripped",
            tripped,
            trip,
            _fault("fault", [], trip, f"devices = {[inverters[s][0] for s in tripped]}"),
        ),
        Planted(
            "power register frozen",
            frozen,
            trip,
            _fault("stuck", [], trip, f"devices = {[inverters[s][0] for s in frozen]}"),
        ),
        Planted(
            "clock set 20 min back",
            clocked,
            begin,
            _fault("clock", clocked, begin, 'offset = "-20m"'),
        ),
        Planted("counter reset", reset, reset_at, _fault("counter_reset", reset, reset_at, "")),
    ]


def _fault(kind: str, stations: list[str], start: dt.datetime, more: str) -> str:
    return (
        f'[[faults]]\nkind = "{kind}"\nstations = {stations}\n'
        f'start = "{start.isoformat()}"\n{more}\n'
    ).replace("'", '"')


def operating_findings(settings_env: dict[str, str], data: Path) -> list[tables.Finding]:
    settings = load_settings(data_dir=data, influx_url=settings_env["PVMON_INFLUX_URL"])
    engine = open_database(settings)
    with session_factory(engine)() as session:
        rows = session.scalars(
            select(tables.Finding).where(
                tables.Finding.station_id.is_not(None), tables.Finding.kind.in_(JUDGED)
            )
        )
        found = list(rows)
    engine.dispose()
    return found


def report(planted: list[Planted], found: list[tables.Finding], stations: int, days: int) -> None:
    by_station: dict[str, list[tables.Finding]] = defaultdict(list)
    for f in found:
        by_station[str(f.station_id)].append(f)
    print(f"\n{'fault':26} {'detected':>9} {'by':28} {'delay median':>13} {'max':>8}")
    for p in planted:
        firsts, kinds = [], set()
        for station in p.stations:
            after = [f for f in by_station[station] if f.detected_at >= p.start]
            if after:
                first = min(after, key=lambda f: f.detected_at)
                firsts.append(first.detected_at - p.start)
                kinds.add(first.kind)
        if p.kind == "counter reset":
            flagged = sum(bool(by_station[s]) for s in p.stations)
            print(f"{p.kind:26} {'flagged':>9} {flagged}/{len(p.stations)} (must be 0)")
            continue
        delays = [d.total_seconds() for d in firsts]
        median = _span(statistics.median(delays)) if delays else "–"
        worst = _span(max(delays)) if delays else "–"
        print(
            f"{p.kind:26} {len(firsts):>4}/{len(p.stations):<4} "
            f"{', '.join(sorted(kinds)) or '–':28} {median:>13} {worst:>8}"
        )
    faulty = {s for p in planted for s in p.stations}
    began = {s: p.start for p in planted for s in p.stations}
    false = [f for f in found if f.station_id not in faulty or f.detected_at < began[f.station_id]]
    healthy = stations - len(faulty)
    station_days = healthy * days
    print(
        f"\nhealthy stations {healthy:,} × {days} judged days = {station_days:,} station-days; "
        f"false findings {len(false)} = {len(false) / station_days * 10_000:.2f} per 10,000"
    )
    for f in sorted(false, key=lambda f: f.detected_at):
        print(f"  false: {f.kind} {f.subject_id} at {f.detected_at:%Y-%m-%d %H:%M} {f.evidence}")


def _span(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=4242, help="the tests use 11, 23 and 2021")
    parser.add_argument(
        "--from", dest="first", default=None, help="default: 1 April, last year's if need be"
    )
    parser.add_argument("--days", type=int, default=42)
    args = parser.parse_args()
    today = dt.date.today()
    first = dt.date.fromisoformat(args.first) if args.first else _last_april(today, args.days)
    tmp = Path(tempfile.mkdtemp(prefix="pvmon-detection-"))
    influxd = Influxd(InfluxdOptions(free_port(), free_port(), tmp / "influxd"))
    influxd.start()
    try:
        run(args, first, tmp, influxd.url)
    finally:
        influxd.stop()
    print(f"data left in {tmp}")


def _last_april(today: dt.date, days: int) -> dt.date:
    april = today.replace(month=4, day=1)
    return april if april + dt.timedelta(days=days) < today else april.replace(year=today.year - 1)


def run(args: argparse.Namespace, first: dt.date, tmp: Path, influx_url: str) -> None:
    data = tmp / "data"
    env = {
        **os.environ,
        "PVMON_DATA_DIR": str(data),
        "PVMON_INFLUX_URL": influx_url,
        "PVMON_SIMULATOR__SEED": str(args.seed),
        "PVMON_RAW_RETENTION_DAYS": str(max(400, (dt.date.today() - first).days + 30)),
        "PYTHONUNBUFFERED": "1",
    }
    seconds = {"registry generate": pvmon(env, "registry", "generate")}
    settings = load_settings(data_dir=data, influx_url=influx_url)
    tz = ZoneInfo(settings.timezone)
    engine = open_database(settings)
    with session_factory(engine)() as session:
        registry = load_registry(session)
    engine.dispose()
    planted = plan(registry, random.Random(args.seed), first, tz)
    scenario = tmp / "scenario.toml"
    scenario.write_text(f'description = "bench.detection seed {args.seed}"\n\n')
    with scenario.open("a") as out:
        out.write("\n".join(p.toml for p in planted))
    until = dt.datetime.combine(first + dt.timedelta(days=args.days), dt.time(0), tz)
    last = first + dt.timedelta(days=args.days - 1)
    print(f"window {first} – {last}, seed {args.seed}; faults from {planted[0].start}")
    seconds["backfill --scenario"] = pvmon(
        env,
        "backfill",
        "--scenario",
        str(scenario),
        "--from",
        str(first),
        "--until",
        until.isoformat(),
    )
    seconds["analytics run daily"] = pvmon(
        env, "analytics", "run", "daily", "--from", str(first), "--to", str(last)
    )
    trip = next(p for p in planted if p.kind == "one inverter tripped").start
    began = time.perf_counter()
    for minutes in LIVE_CHECKS_MIN:
        at = trip + dt.timedelta(minutes=minutes)
        pvmon(env, "analytics", "run", "frequent", "--at", at.isoformat())
    seconds[f"analytics run frequent ×{len(LIVE_CHECKS_MIN)}"] = time.perf_counter() - began
    found = operating_findings(env, data)
    report(planted, found, len(registry.stations), args.days - JUDGED_FROM_DAY)
    print()
    for step, s in seconds.items():
        print(f"{step:32} {s:7.0f} s")


if __name__ == "__main__":
    main()
