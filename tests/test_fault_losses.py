"""Energy a fault cost, from the data alone: each day's expected energy (the township's
comparable stations × capacity × the station's usual level) minus what it made, summed
over the fault's days — against the simulator's truth (its output with and without the
fault)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from analytics.context import Analytics
from analytics.rollups import compute_day
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.localtime import day_bounds, local_day
from pvmon.losses import Loss, fault_loss, fault_span
from pvmon.registry.schema import Registry
from tests.support.fleetwriter import TZ, FleetWriter, only_stations, settings_for

DAYS = 13
FAULTS = [
    ("fault", "VS041", 9 * 24 + 10, 30, None),
    ("output_loss", "VS042", 9 * 24, 72, 0.2),
    ("outage", "HH0726", 10 * 24, 24, None),
]
"""(kind, station, start and length [h] from the first day's midnight, share lost): a trip
over a night, a fifth of the output lost for three days, a household dark for a day."""


def scenario(kind: str, station: str, start_h: int, hours: int, factor: float | None) -> dict:
    fault = {"kind": kind, "stations": [station], "start": f"+{start_h}h", "duration": f"{hours}h"}
    return fault | ({"factor": factor} if factor else {})


def fault_days(first: dt.date, start_h: int, hours: int) -> tuple[dt.date, dt.date]:
    begin = dt.datetime.combine(first, dt.time(0), TZ) + dt.timedelta(hours=start_h)
    end = begin + dt.timedelta(hours=hours)
    return fault_span(begin, end - dt.timedelta(seconds=1), end, TZ)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_energy_each_fault_cost_is_within_a_tenth_of_the_truth(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    township = [s.id for s in default_registry.stations if s.township_id == "T03"]
    subset = township[:9] + township[9:21]  # the nine village stations and twelve households
    first = dt.date.today() - dt.timedelta(days=DAYS + 1)
    writer = FleetWriter(default_registry, subset, first, faults=[scenario(*f) for f in FAULTS])
    a = Analytics.open(settings_for(tmp_path, influx, loaded_engine), loaded_engine, influx)
    only_stations(a, subset)
    for n in range(DAYS):
        writer.day(influx, first + dt.timedelta(days=n))
        compute_day(a, first + dt.timedelta(days=n), recompute=False)
    start, _ = day_bounds(first, TZ)
    _, end = day_bounds(first + dt.timedelta(days=DAYS - 1), TZ)
    fields = ["shortfall_kwh", "shortfall_yuan", "energy_kwh", "expected_kwh"]
    rows = a.rollups.read(schema.STATION_DAILY, start, end, "station", fields)
    rows["date"] = [local_day(t, TZ) for t in rows["ts"]]
    healthy = rows[~rows["station"].isin([f[1] for f in FAULTS])]
    healthy = healthy[healthy["date"] >= first + dt.timedelta(days=5)]
    noise = (healthy["shortfall_kwh"] / healthy["expected_kwh"]).abs().median()
    assert noise < 0.05, "on healthy days the expected energy is close to what was made"

    reported, truth = [], []
    for kind, station, start_h, hours, _ in FAULTS:
        span = fault_days(first, start_h, hours)
        loss = fault_loss(rows[rows["station"] == station], *span)
        expected = writer.lost_kwh(station, *span)
        reported.append(loss.kwh)
        truth.append(expected)
        assert isinstance(loss, Loss)
        assert loss.days == (span[1] - span[0]).days + 1
        assert loss.kwh == pytest.approx(expected, rel=0.10), f"{kind} at {station}"
        assert loss.yuan > 0
    assert sum(reported) == pytest.approx(sum(truth), rel=0.03)
    print(pd.DataFrame({"fault": [f[0] for f in FAULTS], "reported": reported, "true": truth}))
