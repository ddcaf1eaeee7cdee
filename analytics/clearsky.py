"""The clear-sky reference for a local day: daylight hours and reference yield per station.

The stations have no irradiance sensors, so the reference is computed, not measured: pvlib's
Ineichen clear sky (with its climatological Linke turbidity) on each station's own plane,
the sun's position taken once per township (DESIGN §4: exact enough over ~40 km). The
clear-sky index Yf / Yr_cs compares stations and days; it is not IEC 61724-1's PR, which
needs measured plane-of-array irradiance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pvlib

from pvmon.localtime import day_bounds

STEP_MIN = 5


@dataclass(frozen=True)
class DaySun:
    daylight: pd.DataFrame
    """township × hour of the local day → the sun stands above the daylight elevation."""
    reference_yield: pd.Series
    """station → clear-sky in-plane insolation [kWh/m²], i.e. reference yield [kWh/kWp]."""
    reference_hours: pd.DataFrame
    """station × hour of the local day → the same, hour by hour."""


def day_sun(
    stations: pd.DataFrame,
    centres: pd.DataFrame,
    day: dt.date,
    tz: ZoneInfo,
    daylight_elevation: float,
) -> DaySun:
    """``stations`` needs township_id, tilt_deg, azimuth_deg; ``centres`` lat, lon,
    altitude_m per township."""
    start, end = day_bounds(day, tz)
    times = pd.date_range(
        pd.Timestamp(start, unit="s", tz=tz),
        pd.Timestamp(end, unit="s", tz=tz),
        freq=f"{STEP_MIN}min",
        inclusive="left",
    )
    daylight = {}
    reference: list[pd.DataFrame] = []
    for township, centre in centres.iterrows():
        location = pvlib.location.Location(
            centre.lat, centre.lon, tz=str(tz), altitude=centre.altitude_m
        )
        solpos = location.get_solarposition(times)
        clear = location.get_clearsky(times, model="ineichen", solar_position=solpos)
        seconds = np.asarray((times - times[0]).total_seconds(), dtype=np.int64)
        mid_hour = solpos["elevation"].to_numpy()[seconds % 3600 == 1800]
        daylight[township] = mid_hour > daylight_elevation
        members = stations[stations["township_id"] == township]
        if not members.empty:
            reference.append(_plane_hours(members, solpos, clear, seconds // 3600))
    hours = pd.concat(reference) if reference else pd.DataFrame(dtype=float)
    return DaySun(pd.DataFrame(daylight).T, hours.sum(axis=1), hours)


def _plane_hours(
    members: pd.DataFrame, solpos: pd.DataFrame, clear: pd.DataFrame, hour: np.ndarray
) -> pd.DataFrame:
    """member × hour of the day → clear-sky in-plane insolation [kWh/m²]."""
    poa = _poa(members["tilt_deg"].to_numpy(), members["azimuth_deg"].to_numpy(), solpos, clear)
    energy = poa * STEP_MIN / 60 / 1000
    per_hour = np.stack([energy[:, hour == h].sum(axis=1) for h in range(int(hour.max()) + 1)])
    return pd.DataFrame(per_hour.T, index=members.index)


def _poa(
    tilt: np.ndarray, azimuth: np.ndarray, solpos: pd.DataFrame, clear: pd.DataFrame
) -> np.ndarray:
    """planes × times → clear-sky in-plane irradiance [W/m²] (0 where the sun is down)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        poa = pvlib.irradiance.get_total_irradiance(
            tilt[:, None],
            azimuth[:, None],
            solpos["apparent_zenith"].to_numpy()[None, :],
            solpos["azimuth"].to_numpy()[None, :],
            clear["dni"].to_numpy()[None, :],
            clear["ghi"].to_numpy()[None, :],
            clear["dhi"].to_numpy()[None, :],
        )["poa_global"]
    return np.nan_to_num(np.asarray(poa, dtype=float)).clip(min=0)


def plane_irradiance(
    lat: float,
    lon: float,
    altitude_m: float,
    tilt_deg: float,
    azimuth_deg: float,
    epoch_s: Sequence[int],
    tz: ZoneInfo,
) -> pd.Series:
    """Clear-sky irradiance on one plane at the given moments [W/m²], indexed by them:
    the same model as the daily reference yield (``day_sun``), for a station's curve."""
    times = pd.DatetimeIndex(pd.to_datetime(list(epoch_s), unit="s", utc=True)).tz_convert(tz)
    location = pvlib.location.Location(lat, lon, tz=str(tz), altitude=altitude_m)
    solpos = location.get_solarposition(times)
    clear = location.get_clearsky(times, model="ineichen", solar_position=solpos)
    poa = _poa(np.array([tilt_deg]), np.array([azimuth_deg]), solpos, clear)[0]
    return pd.Series(poa, index=pd.Index(list(epoch_s), name="time"))


def sun_up_through(centres: pd.DataFrame, start: int, end: int, elevation: float) -> pd.Series:
    """township → the sun stands above ``elevation`` at both ends of [start, end]."""
    moments = pd.DatetimeIndex(
        [pd.Timestamp(start, unit="s", tz="UTC"), pd.Timestamp(end, unit="s", tz="UTC")]
    )
    up = {}
    for township, centre in centres.iterrows():
        position = pvlib.solarposition.get_solarposition(
            moments, centre.lat, centre.lon, altitude=centre.altitude_m
        )
        up[township] = bool((position["elevation"] > elevation).all())
    return pd.Series(up)
