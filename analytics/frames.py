"""The registry as tables analytics can compute with (pandas, indexed by stable ids)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from pvmon.domain import PEER_GROUP
from pvmon.money import cost_table, tariff_table
from pvmon.registry.schema import Registry
from pvmon.shares import share_table


@dataclass(frozen=True)
class FleetFrames:
    townships: pd.DataFrame
    villages: pd.DataFrame
    stations: pd.DataFrame
    """kind, township_id, village_id, household_id, lat, lon, altitude_m, capacity_kwp,
    tilt_deg, azimuth_deg, commissioned_on, grid_loss_factor, subsidy_cap_hours, peer_group"""
    devices: pd.DataFrame
    """station_id, rated_ac_w, wh_scale_exp"""
    shares: pd.DataFrame
    """station_id, village_id, share, valid_from, valid_to (``pvmon.shares``)"""
    tariffs: pd.DataFrame
    costs: pd.DataFrame
    """station_id, item, annual_yuan, valid_from, valid_to (``pvmon.money``)"""
    township_centres: pd.DataFrame
    """lat, lon, altitude_m: the mean position of each township's villages"""


def _frame(rows: list, index: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame([r.model_dump() for r in rows])
    return frame.set_index(index) if index and not frame.empty else frame


def fleet_frames(registry: Registry) -> FleetFrames:
    stations = _frame(registry.stations, "id")
    stations["kind"] = stations["kind"].astype(str)
    stations["peer_group"] = stations["kind"].map({str(k): v for k, v in PEER_GROUP.items()})
    villages = _frame(registry.villages, "id")
    centres = pd.DataFrame.from_dict(
        {t: c._asdict() for t, c in registry.township_centres().items()}, orient="index"
    )
    return FleetFrames(
        townships=_frame(registry.townships, "id"),
        villages=villages,
        stations=stations,
        devices=_frame(registry.inverters, "id"),
        shares=share_table(registry.station_shares),
        tariffs=tariff_table(registry.tariffs),
        costs=cost_table(registry.station_costs),
        township_centres=centres,
    )
