"""The simulated grid company: its meter reads what the simulated inverters made (less the
station's losses, within the meter's error, or low when its CT is wrong), and the money
arrives as the design says it does — the grid part monthly, the subsidy years late."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from pvmon.registry.schema import Registry
from simulators import grid_meter
from simulators.fleet_arrays import build_fleet
from simulators.model import FleetModel
from simulators.sky import SkyModel
from tests.support.fleetwriter import INTERVALS, TZ, FleetWriter

DAYS = [dt.date(2026, 6, 10), dt.date(2026, 6, 11)]


def test_the_meter_reads_what_the_simulated_inverters_made_less_losses(
    default_registry: Registry,
) -> None:
    stations = ["VS001", "VS002"]
    fleet = build_fleet(default_registry, 5, INTERVALS, stations)
    model = FleetModel(fleet, SkyModel(fleet.townships, TZ, 5))
    metered = sum(grid_meter.day_export_kwh(model, d, TZ) for d in DAYS)
    writer = FleetWriter(default_registry, stations, DAYS[0])
    for i, station in enumerate(stations):
        made = sum(writer.made_kwh(station, d) for d in DAYS)
        # The meter samples the sky every 15 minutes, as the history does; the live
        # simulator integrates each minute: two days of passing clouds differ by ~1 %.
        assert metered[i] == pytest.approx(made, rel=0.02), "what the inverters made"
    ac = {"2026-06": metered}
    fault = grid_meter.MeterFault("VS002", "2026-06", 0.91)
    healthy, faulty = grid_meter.statements(default_registry, fleet, ac, [fault])
    loss = {s.id: s.grid_loss_factor for s in default_registry.stations}
    assert healthy["export_kwh"] == pytest.approx(metered[0] * (1 - loss["VS001"]), rel=0.005)
    assert faulty["export_kwh"] == pytest.approx(metered[1] * (1 - loss["VS002"]) * 0.91, rel=0.005)
    assert healthy["grid_yuan"] == pytest.approx(healthy["export_kwh"] * 0.332, abs=0.01)


def test_the_grid_pays_each_month_and_the_fund_pays_half_years_years_late() -> None:
    today = dt.date(2026, 12, 6)
    months = grid_meter.months_of_demo(today, 3)
    assert (months[0], months[-1]) == ("2023-01", "2026-11")
    settled = [{"station_id": "S", "period": m, "grid_yuan": 100.0} for m in months]
    paid = grid_meter.grid_payments(settled, today)
    assert paid[-1]["covers_to"] == "2026-10", "November's is paid on 20 December"
    assert paid[-1]["received_on"] == dt.date(2026, 11, 20)
    due = {("S", m): 10.0 for m in months}
    batches = grid_meter.subsidy_batches(due, today)
    assert [(b["covers_from"], b["covers_to"], b["received_on"]) for b in batches] == [
        ("2023-01", "2023-06", dt.date(2025, 8, 28)),
        ("2023-07", "2023-12", dt.date(2026, 2, 26)),
        ("2024-01", "2024-06", dt.date(2026, 8, 28)),
    ]
    assert np.isclose(batches[0]["amount_yuan"], 60.0)
