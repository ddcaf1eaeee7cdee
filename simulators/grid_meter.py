"""The grid company's side of the simulated county: each settled station's grid meter, the
monthly settlement statements that follow from it, and how the money arrives.

The simulator stands in for the real world, and the grid meter is part of that world: it
measures a station's export on its own, apart from the telemetry. Within the simulated
history the meter reads the same sky and physics the inverters are simulated with (sampled
at the history's 15-minute points), less the station's transformer and cable losses, with
the meter's own small error; before the history, the months' typical yield. A meter may be
faulty (a current transformer of the wrong ratio reads low from a month on) — what the
reconciliation with the telemetry estimate is there to catch.

Payments follow the practice the design describes: the grid part is paid each month for
the month before; the subsidy from the national fund arrives in batches, years late.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from pvmon.localtime import day_bounds, month_add, month_bounds, month_of, months_between
from pvmon.registry.schema import Registry
from simulators.fleet_arrays import SimFleet
from simulators.model import FleetModel
from simulators.readings import first_on_grid

SAMPLE_S = 900
"""The history's sampling of each device's output (``simulators.history``)."""
METER_ERROR = 0.004
"""A healthy grid meter's error: within ±0.4 % (class 0.5S meters)."""


@dataclass(frozen=True)
class MeterFault:
    station_id: str
    since: str
    """The first month it reads wrong, YYYY-MM."""
    factor: float
    """What it reads of the true export (0.91: 9 % low)."""


def _unit(text: str) -> float:
    return zlib.crc32(text.encode()) / 2**32


def typical_yield() -> dict[int, float]:
    """Month → typical specific yield [kWh/kWp] (the core's climate table)."""
    rows = resources.files("pvmon.data").joinpath("climate_monthly_yield.csv").read_text()
    return {int(m): float(y) for m, y in (line.split(",") for line in rows.splitlines()[1:])}


def day_export_kwh(model: FleetModel, day: dt.date, tz: dt.tzinfo) -> np.ndarray:
    """Each station's AC energy on ``day`` [kWh], from the history's 15-minute samples."""
    f = model.fleet
    start, _ = day_bounds(day, tz)
    devices = np.arange(f.size)
    first = first_on_grid(f, devices, np.full(f.size, start))
    samples = (first[:, None] + SAMPLE_S * np.arange(86400 // SAMPLE_S)[None, :]).ravel()
    idx = np.repeat(devices, 86400 // SAMPLE_S)
    out = model.conditions(idx, samples, np.ones(idx.size)).output
    energy = np.bincount(f.station_of[idx], out.p_ac * SAMPLE_S / 3600, len(f.stations))
    return energy / 1000


def monthly_ac_kwh(
    model: FleetModel, months: list[str], simulated_from: dt.date, tz: dt.tzinfo
) -> dict[str, np.ndarray]:
    """Each month's AC energy of every station of the fleet: simulated day by day from
    ``simulated_from``, the typical yield before."""
    f = model.fleet
    typical = typical_yield()
    kwp = np.bincount(f.station_of, f.kwp, len(f.stations))
    lead = np.array([s.devices[0] for s in f.stations])
    out = {}
    for month in months:
        first, last = month_bounds(month)
        if last < simulated_from:
            middle = dt.datetime.combine(first.replace(day=15), dt.time(12), tz).timestamp()
            health = f.health(lead, np.full(lead.size, middle))
            out[month] = kwp * f.perf[lead] * health * typical[first.month]
            continue
        total = np.zeros(len(f.stations))
        day = max(first, simulated_from)
        while day <= last:
            total += day_export_kwh(model, day, tz)
            day += dt.timedelta(days=1)
        out[month] = total
    return out


def statements(
    registry: Registry,
    fleet: SimFleet,
    ac_kwh: dict[str, np.ndarray],
    faults: list[MeterFault],
) -> list[dict[str, Any]]:
    """The grid company's statements: station_id, period, export_kwh (the meter's reading
    of the export), grid_yuan (at the coal-benchmark part of the tariff in effect at the
    month's end), a statement number and the day it was settled."""
    stations = {s.id: s for s in registry.stations}
    out = []
    for month, energy in ac_kwh.items():
        end = month_bounds(month)[1]
        for i, sim in enumerate(fleet.stations):
            s = stations[sim.id]
            error = 1 + METER_ERROR * (2 * _unit(f"meter:{s.id}:{month}") - 1)
            fault = next(
                (f.factor for f in faults if f.station_id == s.id and month >= f.since), 1.0
            )
            export = round(float(energy[i]) * (1 - s.grid_loss_factor) * error * fault, 2)
            tariff = next(
                (
                    t
                    for t in registry.tariffs
                    if t.station_id == s.id and t.valid_from <= end <= t.valid_to
                ),
                None,
            )
            grid = round(export * tariff.grid_yuan_per_kwh, 2) if tariff else 0.0
            out.append(
                {
                    "station_id": s.id,
                    "period": month,
                    "export_kwh": export,
                    "grid_yuan": grid,
                    "number": f"JS{month.replace('-', '')}-{s.id}",
                    "settled_on": end + dt.timedelta(days=8),
                }
            )
    return out


def grid_payments(settled: list[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    """The grid part of each statement, paid on the 20th of the month after the month it
    settles, until today."""
    out = []
    for s in settled:
        paid = month_bounds(month_add(s["period"], 1))[0].replace(day=20)
        if paid <= today and s["grid_yuan"] > 0:
            out.append(
                {
                    "station_id": s["station_id"],
                    "kind": "grid",
                    "covers_from": s["period"],
                    "covers_to": s["period"],
                    "amount_yuan": s["grid_yuan"],
                    "received_on": paid,
                    "reference": f"DF{s['period'].replace('-', '')}-{s['station_id']}",
                }
            )
    return out


def subsidy_batches(
    subsidy_due: dict[tuple[str, str], float], today: dt.date
) -> list[dict[str, Any]]:
    """The subsidy of half years paid together, years late: January to June of a year in
    the August two years on, July to December in the February after that (the fund's
    arrears); ``subsidy_due``: (station, month) → yuan."""
    out = []
    for year in sorted({int(m[:4]) for _, m in subsidy_due}):
        halves = (
            (f"{year}-01", f"{year}-06", dt.date(year + 2, 8, 28)),
            (f"{year}-07", f"{year}-12", dt.date(year + 3, 2, 26)),
        )
        for first, last, paid in halves:
            if paid > today:
                continue
            by_station: dict[str, float] = {}
            for (station, month), yuan in subsidy_due.items():
                if first <= month <= last:
                    by_station[station] = by_station.get(station, 0.0) + yuan
            out += [
                {
                    "station_id": station,
                    "kind": "subsidy",
                    "covers_from": first,
                    "covers_to": last,
                    "amount_yuan": round(yuan, 2),
                    "received_on": paid,
                    "reference": f"BT{first.replace('-', '')}-{station}",
                }
                for station, yuan in sorted(by_station.items())
            ]
    return out


def months_of_demo(today: dt.date, years_back: int) -> list[str]:
    """The months settled by ``today``: from January ``years_back`` years ago to the month
    before this one."""
    return months_between(f"{today.year - years_back}-01", month_add(month_of(today), -1))
