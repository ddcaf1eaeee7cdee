"""Money rules every package shares (pure): which tariff holds on a day, and what a
station's costs are on a day. The tariff and the costs are dated registry rows
(``pvmon.registry.effective``); the estimate from telemetry (analytics), the settled
figures (finance) and what faults cost all read them here."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

import pandas as pd

from pvmon.registry.effective import frame_in_effect
from pvmon.registry.schema import StationCostRow, TariffRow

TARIFF_COLUMNS = [
    "station_id",
    "grid_yuan_per_kwh",
    "subsidy_yuan_per_kwh",
    "valid_from",
    "valid_to",
]
COST_COLUMNS = ["station_id", "item", "annual_yuan", "valid_from", "valid_to"]


def tariff_table(rows: Sequence[TariffRow]) -> pd.DataFrame:
    """The registry's tariff rows as the table the functions below take."""
    return pd.DataFrame([r.model_dump() for r in rows], columns=TARIFF_COLUMNS)


def cost_table(rows: Sequence[StationCostRow]) -> pd.DataFrame:
    """The registry's cost rows as the table the functions below take."""
    return pd.DataFrame([r.model_dump() for r in rows], columns=COST_COLUMNS)


def tariffs_on(tariffs: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The tariff valid for each station on ``day`` (station_id → grid, subsidy yuan/kWh)."""
    return (
        frame_in_effect(tariffs, day)
        .drop_duplicates("station_id")
        .set_index("station_id")[["grid_yuan_per_kwh", "subsidy_yuan_per_kwh"]]
    )


def annual_costs_on(costs: pd.DataFrame, day: dt.date) -> pd.Series:
    """Each station's yearly costs (all items) in effect on ``day``; ``costs`` holds the
    dated rows: station_id, item, annual_yuan, valid_from, valid_to."""
    held = frame_in_effect(costs, day)
    if held.empty:
        return pd.Series(dtype=float, name="annual_yuan")
    return held.groupby("station_id")["annual_yuan"].sum()


def daily_costs(costs: pd.DataFrame, day: dt.date) -> pd.Series:
    """Each station's costs of ``day`` (``costs_of_days`` for one day, by station id)."""
    stations = pd.Series(costs["station_id"].unique(), dtype=object)
    days = pd.DataFrame({"station_id": stations, "date": [day] * len(stations)})
    return costs_of_days(costs, days).set_axis(stations.to_numpy()).rename("cost_yuan")


def costs_of_days(costs: pd.DataFrame, days: pd.DataFrame) -> pd.Series:
    """The costs of each (station_id, date) row of ``days``: the yearly costs in effect
    that day spread evenly over the days of its year (aligned with ``days``)."""
    if days.empty or costs.empty:
        return pd.Series(0.0, index=days.index)
    rows = days[["station_id", "date"]].reset_index(names="row").merge(costs, on="station_id")
    ends = rows["valid_to"].where(rows["valid_to"].notna(), dt.date.max)
    held = rows[((rows["valid_from"] <= rows["date"]) & (rows["date"] <= ends)).to_numpy(bool)]
    yearly = (
        held.groupby("row")["annual_yuan"].sum().reindex(days.reset_index().index, fill_value=0)
    )
    lengths = [days_in_year(d.year) for d in days["date"]]
    return pd.Series(yearly.to_numpy() / lengths, index=days.index)


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365
