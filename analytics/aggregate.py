"""From station-days to villages, townships, segments and the fleet (pure)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analytics.frames import FleetFrames

SUMMED = ["energy_kwh", "capacity_kwp", "export_kwh", "grid_yuan", "subsidy_yuan"]


def with_capacity(station_day: pd.DataFrame, frames: FleetFrames) -> pd.DataFrame:
    frame = station_day.join(frames.stations[["kind", "township_id", "village_id", "household_id"]])
    frame["capacity_kwp"] = frames.stations["capacity_kwp"]
    frame["reporting"] = (frame["availability"].fillna(0) > 0).astype(int)
    return frame


def totals(frame: pd.DataFrame, by: list[str] | None) -> pd.DataFrame:
    """Sums, specific yield and capacity-weighted availability of groups of stations."""
    weighted = frame.assign(_avail=frame["availability"].fillna(0) * frame["capacity_kwp"])
    if by:
        grouped = weighted.groupby(by)
        out = grouped[[*SUMMED, "_avail", "reporting"]].sum()
    else:
        out = weighted[[*SUMMED, "_avail", "reporting"]].sum().to_frame().T
    out["yf"] = out["energy_kwh"] / out["capacity_kwp"]
    out["availability"] = out.pop("_avail") / out["capacity_kwp"]
    out["revenue_yuan"] = out["grid_yuan"] + out["subsidy_yuan"]
    return out


def village_totals(
    collective: pd.DataFrame, stations: pd.DataFrame, frames: FleetFrames
) -> pd.DataFrame:
    """A village's collective income (attributed shares) beside its household arrays'."""
    homes = stations[stations["kind"] == "household"]
    household = homes.groupby("village_id")[["energy_kwh", "grid_yuan", "subsidy_yuan"]].sum()
    out = collective.reindex(frames.villages.index).fillna(0.0)
    out["household_kwh"] = household["energy_kwh"].reindex(out.index).fillna(0.0)
    out["household_yuan"] = (
        (household["grid_yuan"] + household["subsidy_yuan"]).reindex(out.index).fillna(0.0)
    )
    out["township_id"] = frames.villages["township_id"]
    return out.replace([np.inf, -np.inf], np.nan)
