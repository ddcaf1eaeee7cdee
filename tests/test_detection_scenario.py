"""Detection over the whole fleet: the faults injected on known stations are found, the
healthy stations are left alone.

Healthy stations differ from each other by up to ±3 % (the simulator's station spread),
by the years their modules have aged at rates of their own, and by the dust on them,
about 30 % of days are overcast or broken-cloud, and 48 stations get a fault in the last
three days: an outage, zero output, a communication loss in daylight, or a 15–40 % output
loss. Analytics sees only the readings the loggers would send. The thresholds were tuned
with seed 11; this test runs seed 23.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from analytics.clearsky import day_sun, sun_up_through
from analytics.day_figures import DayInput, device_day, station_day, station_hours
from analytics.detect import (
    LiveWindow,
    live_findings,
    township_day_weights,
    underperformance,
    usable,
)
from analytics.frames import fleet_frames
from pvmon.domain import StationKind
from pvmon.findings import FindingKind
from pvmon.localtime import day_bounds
from pvmon.registry.schema import Registry
from simulators.fleet_arrays import build_fleet
from simulators.history import batch_frame
from simulators.model import FleetModel
from simulators.readings import ReadingGenerator
from simulators.scenario import Scenario, resolve_faults
from simulators.sky import DayType, SkyModel
from simulators.state import initial_counters

TZ = ZoneInfo("Asia/Shanghai")
SEED = 23
HISTORY_DAYS = 18
FAULT_DAYS = 3
FAULTY_PER_KIND = 12
EXPECTED = {
    "outage": {FindingKind.COMM_LOSS, FindingKind.DEVICE_SILENT},
    "zero_output": {FindingKind.ZERO_OUTPUT},
    "comm_loss": {FindingKind.COMM_LOSS},
    "output_loss": {FindingKind.UNDERPERFORMANCE},
}


def plan_faults(stations: list[str], start_day: int) -> tuple[dict[str, str], list[dict]]:
    rng = random.Random(SEED)
    picked = rng.sample(stations, FAULTY_PER_KIND * len(EXPECTED))
    plan, faults = {}, []
    for i, station in enumerate(picked):
        kind = list(EXPECTED)[i % len(EXPECTED)]
        plan[station] = kind
        if kind == "output_loss":
            faults.append(
                {
                    "kind": kind,
                    "stations": [station],
                    "factor": round(rng.uniform(0.15, 0.40), 2),
                    "start": f"+{start_day}d",
                }
            )
        else:  # hours in daylight on one of the three days
            hour = rng.randint(9, 13) + 24 * (start_day + rng.randint(0, FAULT_DAYS - 1))
            faults.append(
                {
                    "kind": kind,
                    "stations": [station],
                    "start": f"+{hour}h",
                    "duration": f"{rng.randint(2, 4)}h",
                }
            )
    return plan, faults


@pytest.mark.slow
def test_faults_are_found_within_three_days_and_healthy_stations_left_alone(
    default_registry: Registry,
) -> None:
    fleet = build_fleet(
        default_registry,
        SEED,
        {StationKind.VILLAGE: 60, StationKind.HOUSEHOLD: 300, StationKind.CENTRAL: 60},
    )
    model = FleetModel(fleet, SkyModel(fleet.townships, TZ, SEED))
    frames = fleet_frames(default_registry)
    first = dt.date(2026, 4, 1)
    start, _ = day_bounds(first, TZ)
    candidates = [s.id for s in fleet.stations if s.kind != StationKind.CENTRAL]
    plan, faults = plan_faults(candidates, HISTORY_DAYS)
    active = resolve_faults(Scenario.model_validate({"faults": faults}), fleet, start, SEED, TZ)
    generator = ReadingGenerator(
        fleet, model, active, initial_counters(fleet, model, {}, start), start
    )
    history: list[pd.DataFrame] = []
    found: dict[str, set[str]] = defaultdict(set)
    previous = pd.DataFrame(columns=["device", "ts", "W", "WH"])
    cloudy = 0
    for n in range(HISTORY_DAYS + FAULT_DAYS):
        day = first + dt.timedelta(days=n)
        day_start, day_end = day_bounds(day, TZ)
        readings = batch_frame(fleet, generator.span(day_end - 1))
        cloudy += model.sky.day(day).day_types[0] != DayType.CLEAR
        sun = day_sun(frames.stations, frames.township_centres, day, TZ, 5)
        day_input = DayInput(
            day_start, readings[["device", "ts", "W", "WH", "St"]], previous, sun.daylight
        )
        devices = device_day(day_input, frames.devices, frames.stations)
        stations = station_day(
            devices,
            station_hours(day_input, frames.devices, frames.stations),
            frames.stations,
            sun.reference_yield,
            sun.daylight,
        )
        stations["weight"] = township_day_weights(stations, frames.stations)
        stations["usable"] = usable(stations)
        stations["date"] = day
        history.append(stations.rename_axis("station_id").reset_index())
        previous = readings.sort_values("ts").groupby("device").tail(1)[["device", "ts", "W", "WH"]]
        if n < HISTORY_DAYS - FAULT_DAYS:
            continue
        # The frequent job, every hour of daylight; the daily evaluation at day's end.
        for hour in range(7, 19):
            end = day_start + hour * 3600
            window = readings[(readings["ts"] >= end - 1800) & (readings["ts"] < end)]
            live = LiveWindow(
                end - 1800,
                end,
                window[["device", "ts", "W", "St"]],
                pd.DataFrame(columns=["device", "ts", "code"]),
                sun_up_through(frames.township_centres, end - 1800, end, 10),
                pd.Series(dtype=bool),
                pd.Series(0.0, index=frames.stations.index),  # loggers connected all along
            )
            for f in live_findings(live, frames.devices, frames.stations)[0]:
                found[f.subject_id].add(f.kind)
        for f in underperformance(pd.concat(history), day, TZ)[0]:
            found[f.subject_id].add(f.kind)

    assert 0.15 < cloudy / (HISTORY_DAYS + FAULT_DAYS) < 0.6, "about a third of days cloudy"
    detected = [s for s, kind in plan.items() if found.get(s, set()) & EXPECTED[kind]]
    healthy = [s.id for s in fleet.stations if s.id not in plan]
    false_alarms = [s for s in healthy if found.get(s)]
    rate = len(detected) / len(plan)
    print(
        f"\ndetected {len(detected)}/{len(plan)} faulty stations ({rate:.1%}); "
        f"findings on {len(false_alarms)}/{len(healthy)} healthy stations"
    )
    assert rate >= 0.95, {s: (plan[s], sorted(found.get(s, []))) for s in plan if s not in detected}
    assert len(false_alarms) <= 0.01 * len(healthy), {s: found[s] for s in false_alarms[:10]}
