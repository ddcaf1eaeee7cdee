"""Revenue from energy, and who it belongs to (pure).

Money is paid on the grid meter's settled export, a little below the inverters' energy
(transformer and cable losses: the station's ``grid_loss_factor``). Until a settlement
statement is entered the figures here are estimates, and are labelled so. The tariff has two
parts: the grid company pays the coal benchmark; the rest is renewable subsidy, paid only
until the station's lifetime "reasonable utilisation hours" (财建〔2020〕426号) are used up.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pvmon.money import tariffs_on
from pvmon.shares import by_village


def station_revenue(
    day: dt.date, energy: pd.DataFrame, stations: pd.DataFrame, tariffs: pd.DataFrame
) -> pd.DataFrame:
    """Per station: export_kwh, grid_yuan, subsidy_yuan, subsidy_kwh, has_tariff.

    ``energy`` holds energy_kwh and lifetime_kwh_start (the counters before the day) per
    station; the subsidy covers only the part of the day's energy still under the cap.
    """
    out = pd.DataFrame(index=energy.index)
    meta = stations.reindex(out.index)
    rates = tariffs_on(tariffs, day).reindex(out.index)
    kwh = energy["energy_kwh"].fillna(0.0)
    export_share = 1 - meta["grid_loss_factor"]
    hours_used = energy["lifetime_kwh_start"] / meta["capacity_kwp"]
    remaining_kwh = (meta["subsidy_cap_hours"] - hours_used.fillna(0.0)).clip(lower=0) * meta[
        "capacity_kwp"
    ]
    subsidised = np.minimum(kwh, remaining_kwh)
    out["export_kwh"] = kwh * export_share
    out["grid_yuan"] = (out["export_kwh"] * rates["grid_yuan_per_kwh"]).fillna(0.0)
    out["subsidy_kwh"] = subsidised * export_share
    out["subsidy_yuan"] = (out["subsidy_kwh"] * rates["subsidy_yuan_per_kwh"]).fillna(0.0)
    out["has_tariff"] = rates["grid_yuan_per_kwh"].notna()
    return out


def attribute_to_villages(
    day: dt.date,
    revenue: pd.DataFrame,
    energy: pd.Series,
    shares: pd.DataFrame,
    costs: pd.Series,
) -> pd.DataFrame:
    """Per village on ``day``: its shares of energy, export, grid payment, subsidy and
    costs, and the distributable (net) income. Village stations are split by ownership
    share, the centralized station by its beneficiaries' percentages, as they stood that
    day (``pvmon.shares``)."""
    money = revenue[["export_kwh", "grid_yuan", "subsidy_yuan"]]
    figures = pd.concat([energy.rename("energy_kwh"), money, costs.rename("cost_yuan")], axis=1)
    village = by_village(figures, shares, day)
    village["net_yuan"] = village["grid_yuan"] + village["subsidy_yuan"] - village["cost_yuan"]
    return village
