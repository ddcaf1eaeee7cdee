"""What a station did not make on a day (pure): its expected energy — the township's
comparable stations' specific yield that day × its capacity × its usual level against
them — minus what it made, and that shortfall valued by the revenue rule at the tariff
valid that day.

The shortfall is signed: on a healthy day it is noise around zero (the usual level is a
median), so a fault's loss is the sum over the days it lasted, and partial days need no
weighting — the day's own energy already holds only the hours the fault took. Stations
without enough peers (the centralized one) have no expected energy: their loss is unknown,
not zero.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.revenue import station_revenue

FIELDS = ["usual_peer_index", "expected_kwh", "shortfall_kwh", "shortfall_yuan"]


def shortfall(
    day: dt.date,
    figures: pd.DataFrame,
    usual: pd.Series,
    stations: pd.DataFrame,
    tariffs: pd.DataFrame,
) -> pd.DataFrame:
    """Per station: the usual level used, expected energy, shortfall [kWh] and its value
    [yuan]. ``figures``: the day's energy_kwh, peer_yf and lifetime_kwh_start; ``usual``:
    usual peer index by station (missing: the peers' level, 1.0)."""
    level = usual.reindex(figures.index).fillna(1.0)
    expected = figures["peer_yf"] * stations["capacity_kwp"].reindex(figures.index) * level
    short = expected - figures["energy_kwh"].fillna(0.0)
    valued = station_revenue(
        day,
        pd.DataFrame({"energy_kwh": short, "lifetime_kwh_start": figures["lifetime_kwh_start"]}),
        stations,
        tariffs,
    )
    money = (valued["grid_yuan"] + valued["subsidy_yuan"]).where(short.notna())
    return pd.DataFrame(
        {
            "usual_peer_index": level,
            "expected_kwh": expected,
            "shortfall_kwh": short,
            "shortfall_yuan": money,
        }
    )
