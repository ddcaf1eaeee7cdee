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

from analytics.energy import Method, classify_intervals
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
    max_w, wh_first and wh_last (the counter before and at the end of the day).

    Vectorized over all devices at once: a day of the whole fleet at one-minute resolution
    is some 700,000 readings.
    """
    rows = interval_rows(day.previous, day.readings, devices)
    townships = stations["township_id"]
    known = rows[~rows["before"]]
    if known.empty:
        return _silent_devices(devices.index, devices, townships, day.daylight)
    per_device = energy_by_device(rows)
    hours = _device_hours(known, day, townships)
    counters = rows.dropna(subset=["WH"]).groupby("device")["WH"].agg(["first", "last"])
    frame = pd.DataFrame(index=pd.Index(known["device"].unique(), name="device"))
    frame["station_id"] = devices["station_id"].reindex(frame.index)
    frame["energy_kwh"] = per_device["energy_wh"].reindex(frame.index).fillna(0.0) / 1000
    for column, source in (
        ("resets", "resets"),
        ("jumps", "jumps"),
        ("wraps", "wraps"),
        ("unknown_intervals", "unknown"),
    ):
        frame[column] = per_device[source].reindex(frame.index).fillna(0).astype(int)
    frame["readings"] = known.groupby("device").size().reindex(frame.index)
    frame["daylight_hours"] = _daylight_hours(frame["station_id"], townships, day.daylight)
    frame = frame.join(hours)
    frame["max_w"] = known.groupby("device")["W"].max().reindex(frame.index)
    frame["wh_first"] = counters["first"].reindex(frame.index)
    frame["wh_last"] = counters["last"].reindex(frame.index)
    frame[["available_hours", "fault_hours", "zero_hours"]] = (
        frame[["available_hours", "fault_hours", "zero_hours"]].fillna(0).astype(int)
    )
    silent = devices.index.difference(frame.index)
    if len(silent):
        frame = pd.concat([frame, _silent_devices(silent, devices, townships, day.daylight)])
    return frame[_DEVICE_COLUMNS[1:]]


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


def interval_rows(
    previous: pd.DataFrame, readings: pd.DataFrame, devices: pd.DataFrame
) -> pd.DataFrame:
    """Known devices' last reading before a span (``previous``), then the span's readings, by
    device and time, with each device's rating and counter scale: what ``energy_by_device``
    takes."""
    rows = pd.concat(
        [previous.assign(before=True), readings.assign(before=False)], ignore_index=True
    )
    rows = rows[rows["device"].isin(devices.index)]
    rows = rows.sort_values(["device", "ts", "before"], kind="stable")
    rows = rows.drop_duplicates(["device", "ts"], keep="first").reset_index(drop=True)
    meta = devices.reindex(rows["device"])
    rows["station_id"] = meta["station_id"].to_numpy()
    rows["rated_w"] = meta["rated_ac_w"].to_numpy()
    rows["wh_scale_exp"] = meta["wh_scale_exp"].to_numpy()
    return rows


def last_readings(readings: pd.DataFrame) -> pd.DataFrame:
    """Each device's last reading: where its next span's first interval starts."""
    last = readings.sort_values("ts").groupby("device").tail(1)
    return last[["device", "ts", "W", "WH"]].reset_index(drop=True)


def energy_by_device(rows: pd.DataFrame) -> pd.DataFrame:
    """Per device: ``energy_wh`` of the span's intervals (each device's first one starting
    from its reading before the span), and the ``resets``, ``jumps``, ``wraps`` and
    ``unknown`` intervals, by the counter rules of ``analytics.energy``: the one way energy
    is computed from telemetry, for a whole day and for today so far."""
    return (
        _interval_energy(rows)[["energy", "reset", "jump", "wrap", "unknown"]]
        .groupby(rows["device"])
        .sum()
        .rename(
            columns={"energy": "energy_wh", "reset": "resets", "jump": "jumps", "wrap": "wraps"}
        )
    )


def _interval_energy(rows: pd.DataFrame) -> pd.DataFrame:
    """The interval ending at each reading of the day (none for a device's first reading)."""
    device = rows["device"].to_numpy()
    same = np.r_[False, device[1:] == device[:-1]]
    ts = rows["ts"].to_numpy(dtype=float)
    wh = rows["WH"].to_numpy(dtype=float)
    w = rows["W"].to_numpy(dtype=float)
    prev = np.r_[0, np.arange(len(rows) - 1)]
    result = classify_intervals(
        ts - ts[prev],
        wh - wh[prev],
        w[prev],
        w,
        rows["rated_w"].to_numpy(dtype=float),
        rows["wh_scale_exp"].to_numpy(dtype=float),
    )
    counted = same & ~rows["before"].to_numpy(dtype=bool)
    return pd.DataFrame(
        {
            "middle": (ts + ts[prev]) / 2,
            "energy": np.where(counted, result.energy_wh, 0.0),
            "reset": counted & result.reset,
            "jump": counted & result.jump,
            "wrap": counted & result.wrap,
            "unknown": counted & (result.method == Method.UNKNOWN),
        }
    )


def station_hour_energy(day: DayInput, devices: pd.DataFrame) -> pd.DataFrame:
    """station × hour of the local day → kWh made, each interval counted in the hour its
    middle falls in (so that the hourly history's hour-long intervals land in theirs)."""
    rows = interval_rows(day.previous, day.readings, devices)
    intervals = _interval_energy(rows)
    hours = day.daylight.columns
    hour = np.clip((intervals["middle"].to_numpy() - day.start) // 3600, 0, len(hours) - 1)
    kwh = intervals["energy"].groupby([rows["station_id"].to_numpy(), hour.astype(int)]).sum()
    return (kwh.unstack(fill_value=0.0) / 1000).reindex(columns=hours, fill_value=0.0)


def _device_hours(known: pd.DataFrame, day: DayInput, townships: pd.Series) -> pd.DataFrame:
    """Per device: daylight hours available (data, no fault), in fault, with zero output."""
    hour = np.clip(
        (known["ts"].to_numpy() - day.start) // 3600, 0, day.daylight.shape[1] - 1
    ).astype(int)
    station_township = townships.reindex(known["station_id"]).to_numpy()
    lit = day.daylight.reindex(station_township).to_numpy()[np.arange(len(known)), hour]
    per_hour = pd.DataFrame(
        {
            "device": known["device"].to_numpy(),
            "hour": hour,
            "fault": known["St"].to_numpy() == OperatingState.FAULT,
            "producing": known["W"].to_numpy() > ZERO_FRACTION * known["rated_w"].to_numpy(),
        }
    )[lit]
    flags = per_hour.groupby(["device", "hour"]).agg(
        fault=("fault", "any"), producing=("producing", "any")
    )
    return (
        pd.DataFrame(
            {
                "available_hours": ~flags["fault"],
                "fault_hours": flags["fault"],
                "zero_hours": ~flags["fault"] & ~flags["producing"],
            }
        )
        .groupby("device")
        .sum()
    )


def _daylight_hours(
    station_ids: pd.Series, townships: pd.Series, daylight: pd.DataFrame
) -> np.ndarray:
    per_township = daylight.sum(axis=1)
    return townships.reindex(station_ids).map(per_township).fillna(0).astype(int).to_numpy()


def _silent_devices(
    silent: pd.Index, devices: pd.DataFrame, townships: pd.Series, daylight: pd.DataFrame
) -> pd.DataFrame:
    frame = pd.DataFrame(index=silent)
    frame.index.name = "device"
    frame["station_id"] = devices.loc[silent, "station_id"]
    frame["daylight_hours"] = _daylight_hours(frame["station_id"], townships, daylight)
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
    out["peer_yf"] = peer_yield(out, stations)
    out["peer_index"] = out["yf"] / out["peer_yf"]
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


def peer_yield(day: pd.DataFrame, stations: pd.DataFrame) -> pd.Series:
    """The median specific yield of the other comparable stations in each station's
    township that day (healthy ones: well available, producing) — what the station's own
    specific yield is compared with (the peer index) and what its expected energy is made
    from. The station itself is left out: in a township of nine village stations whose
    modules have aged differently, one losing a fifth of its output would pull its own
    reference down with it. NaN with too few peers."""
    frame = day[["yf", "availability", "zero_hours"]].join(stations[["township_id", "peer_group"]])
    healthy = (frame["availability"] >= PEER_AVAILABILITY) & (frame["zero_hours"] == 0)
    yf = frame["yf"].to_numpy(dtype=float)
    in_pool = healthy.to_numpy() & np.isfinite(yf)
    out = np.full(len(frame), np.nan)
    for rows in frame.groupby(["township_id", "peer_group"]).indices.values():
        out[rows] = _others_median(yf[rows], in_pool[rows])
    return pd.Series(np.where(out > 0, out, np.nan), index=frame.index)


def _others_median(values: np.ndarray, in_pool: np.ndarray) -> np.ndarray:
    """Per member, the median of the pool's values without its own (members outside the
    pool: the whole pool's); NaN where fewer than ``MIN_PEERS`` remain."""
    pool = np.sort(values[in_pool])
    size = np.where(in_pool, pool.size - 1, pool.size)
    own = np.where(in_pool, np.searchsorted(pool, values), pool.size)
    low, high = (np.maximum(size - 1, 0)) // 2, size // 2

    def ranked(k: np.ndarray) -> np.ndarray:
        at = np.where(k < own, k, k + 1)
        return pool[np.clip(at, 0, max(pool.size - 1, 0))] if pool.size else np.full(k.size, np.nan)

    median = (ranked(low) + ranked(high)) / 2
    return np.where(size >= MIN_PEERS, median, np.nan)
