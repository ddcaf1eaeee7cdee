"""Daily figures from a day's telemetry: per device, then per station (pure).

Energy comes from counter differences (``analytics.energy``), each device's first interval
starting from its last reading before the day. Hours are buckets of the local day; a
daylight hour is *available* for a device when it has a reading and no fault state in it
(counting by hours keeps availability meaningful whatever the reporting interval: one
minute, five, or the hourly history backfill).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.energy import Method, interval_energy
from pvmon.telemetry import OperatingState

ZERO_FRACTION = 0.005
"""Output below this share of the rating counts as none."""
PEER_PRODUCING = 0.10
"""Peers are producing when their median output is above this share of their rating."""
MIN_PEERS = 3
PEER_AVAILABILITY = 0.8


@dataclass(frozen=True)
class DayInput:
    start: int
    """Epoch seconds of local midnight."""
    readings: pd.DataFrame
    """device, ts, W, WH, St — the day's telemetry."""
    previous: pd.DataFrame
    """device, ts, W, WH — each device's last reading before the day (if recent)."""
    daylight: pd.DataFrame
    """township × hour → daylight."""


def device_day(day: DayInput, devices: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """Per device: energy_kwh, counter method counts, available/daylight/fault/zero hours,
    max_w, wh_first and wh_last (the counter before and at the end of the day)."""
    combined = pd.concat([day.previous.assign(before=True), day.readings.assign(before=False)])
    combined = combined.sort_values(["device", "ts", "before"])
    combined = combined.drop_duplicates(["device", "ts"], keep="last")
    townships = stations["township_id"]
    rows = []
    for device, group in combined.groupby("device", sort=False):
        if device not in devices.index:
            continue
        meta = devices.loc[device]
        daylight = day.daylight.loc[townships[meta.station_id]].to_numpy()
        rows.append(_one_device(device, group, meta, daylight, day.start))
    frame = pd.DataFrame(rows, columns=_DEVICE_COLUMNS).set_index("device")
    frame = frame[frame["readings"] > 0]
    silent = devices.index.difference(frame.index)
    if len(silent):
        frame = pd.concat([frame, _silent_devices(silent, devices, townships, day.daylight)])
    return frame


_DEVICE_COLUMNS = [
    "device",
    "station_id",
    "energy_kwh",
    "resets",
    "jumps",
    "wraps",
    "unknown_intervals",
    "readings",
    "daylight_hours",
    "available_hours",
    "fault_hours",
    "zero_hours",
    "max_w",
    "wh_first",
    "wh_last",
]


def _one_device(
    device: str, series: pd.DataFrame, meta: pd.Series, daylight: np.ndarray, start: int
) -> list:
    """``series``: the device's last reading before the day (if any), then the day's."""
    ts = series["ts"].to_numpy(dtype=float)
    wh = series["WH"].to_numpy(dtype=float)
    energy = interval_energy(
        ts,
        wh,
        series["W"].to_numpy(dtype=float),
        rated_w=meta.rated_ac_w,
        wh_scale_exp=int(meta.wh_scale_exp),
    )
    in_day = ts[1:] >= start
    group = series[~series["before"].to_numpy(dtype=bool)]
    hours = np.clip((group["ts"].to_numpy() - start) // 3600, 0, daylight.size - 1).astype(int)
    lit = daylight[hours]
    fault = group["St"].to_numpy() == OperatingState.FAULT
    zero = group["W"].to_numpy() <= ZERO_FRACTION * meta.rated_ac_w
    data_hours = set(hours[lit])
    fault_hours = set(hours[lit & fault])
    producing_hours = set(hours[lit & ~zero])
    counted = wh[np.isfinite(wh)]
    return [
        device,
        meta.station_id,
        float(energy.energy_wh[in_day].sum()) / 1000,
        energy.resets,
        energy.jumps,
        energy.wraps,
        int((energy.method[in_day] == Method.UNKNOWN).sum()),
        len(group),
        int(daylight.sum()),
        len(data_hours - fault_hours),
        len(fault_hours),
        len(data_hours - producing_hours - fault_hours),
        float(group["W"].max()) if len(group) else np.nan,
        float(counted[0]) if counted.size else np.nan,
        float(counted[-1]) if counted.size else np.nan,
    ]


def _silent_devices(
    silent: pd.Index, devices: pd.DataFrame, townships: pd.Series, daylight: pd.DataFrame
) -> pd.DataFrame:
    lit = daylight.sum(axis=1)
    frame = pd.DataFrame(index=silent)
    frame.index.name = "device"
    frame["station_id"] = devices.loc[silent, "station_id"]
    frame["daylight_hours"] = [int(lit[townships[s]]) for s in frame["station_id"]]
    for column in _DEVICE_COLUMNS[2:]:
        if column not in frame:
            frame[column] = np.nan if column.startswith(("wh_", "max_")) else 0
    return frame[_DEVICE_COLUMNS[1:]]


def station_hours(day: DayInput, devices: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """station × hour: the station's output as a share of its rating (NaN: no data)."""
    readings = day.readings.join(devices[["station_id"]], on="device")
    readings["hour"] = (readings["ts"] - day.start) // 3600
    per_device = readings.groupby(["station_id", "device", "hour"])["W"].mean()
    per_station = per_device.groupby(["station_id", "hour"]).sum().unstack("hour")
    rated = devices.groupby("station_id")["rated_ac_w"].sum()
    hours = day.daylight.columns
    share = per_station.div(rated.reindex(per_station.index), axis=0)
    return share.reindex(index=stations.index, columns=hours)


def station_day(
    devices_day: pd.DataFrame,
    hours: pd.DataFrame,
    stations: pd.DataFrame,
    reference_yield: pd.Series,
    daylight: pd.DataFrame,
) -> pd.DataFrame:
    """Per station: energy, specific and reference yield, clear-sky index, availability,
    hours without data / with zero output while peers produce / in fault, and the peer
    performance index."""
    grouped = devices_day.groupby("station_id")
    out = pd.DataFrame(index=stations.index)
    out["energy_kwh"] = grouped["energy_kwh"].sum().reindex(out.index).fillna(0.0)
    out["yf"] = out["energy_kwh"] / stations["capacity_kwp"]
    out["yr_cs"] = reference_yield.reindex(out.index)
    out["csi"] = (out["yf"] / out["yr_cs"]).where(out["yr_cs"] > 0)
    lit = daylight.loc[stations["township_id"]].to_numpy()
    has_data = hours.notna().to_numpy() & lit
    out["daylight_hours"] = lit.sum(axis=1)
    out["comm_loss_hours"] = (lit & ~hours.notna().to_numpy()).sum(axis=1)
    out["availability"] = (
        grouped["available_hours"].sum() / grouped["daylight_hours"].sum().replace(0, np.nan)
    ).reindex(out.index)
    out["fault_hours"] = grouped["fault_hours"].max().reindex(out.index).fillna(0)
    out["silent_device_hours"] = _silent_device_hours(devices_day, has_data, hours, out.index)
    out["zero_hours"] = _zero_while_peers_produce(hours, stations, lit)
    out["lifetime_kwh"] = (grouped["wh_last"].sum(min_count=1) / 1000).reindex(out.index)
    out["lifetime_kwh_start"] = (grouped["wh_first"].sum(min_count=1) / 1000).reindex(out.index)
    out["resets"] = grouped["resets"].sum().reindex(out.index).fillna(0)
    out["peer_index"] = peer_index(out, stations)
    return out


def _silent_device_hours(
    devices_day: pd.DataFrame, has_data: np.ndarray, hours: pd.DataFrame, index: pd.Index
) -> pd.Series:
    """Daylight hours in which some inverter said nothing while its station's logger spoke."""
    station_data_hours = pd.Series(has_data.sum(axis=1), index=hours.index)
    data = devices_day["available_hours"] + devices_day["fault_hours"]
    gap = station_data_hours.reindex(devices_day["station_id"]).to_numpy() - data.to_numpy()
    silent = pd.Series(np.clip(gap, 0, None), index=devices_day.index)
    return silent.groupby(devices_day["station_id"]).max().reindex(index).fillna(0)


def _zero_while_peers_produce(
    hours: pd.DataFrame, stations: pd.DataFrame, lit: np.ndarray
) -> pd.Series:
    groups = [stations["township_id"], stations["peer_group"]]
    peer_median = hours.groupby(groups).transform("median")
    zero = (hours <= ZERO_FRACTION).to_numpy() & (peer_median >= PEER_PRODUCING).to_numpy()
    return pd.Series((zero & lit).sum(axis=1), index=hours.index)


def peer_index(day: pd.DataFrame, stations: pd.DataFrame) -> pd.Series:
    """A station's specific yield over the median of comparable stations in its township
    that day (healthy ones: well available, producing). NaN with too few peers."""
    frame = day[["yf", "availability", "zero_hours"]].join(stations[["township_id", "peer_group"]])
    healthy = (frame["availability"] >= PEER_AVAILABILITY) & (frame["zero_hours"] == 0)
    pool = frame[healthy]
    keys = ["township_id", "peer_group"]
    median = pool.groupby(keys)["yf"].median()
    count = pool.groupby(keys)["yf"].count()
    key = pd.MultiIndex.from_frame(frame[keys])
    reference = median.reindex(key).to_numpy()
    enough = count.reindex(key).fillna(0).to_numpy() >= MIN_PEERS
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = frame["yf"].to_numpy() / reference
    return pd.Series(np.where(enough & (reference > 0), ratio, np.nan), index=frame.index)
