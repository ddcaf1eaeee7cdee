"""Sun, clear-sky irradiance, clouds and air temperature over the county, minute by minute.

Solar geometry and clear-sky irradiance come from pvlib once per township and local day
(the county is ~40 km across: that is exact enough, DESIGN §4). Clouds are a seeded random
process shared by the stations of a township, so a day is the same in every run with the
same seed. All arrays are shaped ``(townships, 1440)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pvlib

from pvmon.localtime import day_start, local_day

MINUTES = 1440

LINKE_TURBIDITY = (3.5, 3.9, 4.5, 5.0, 5.0, 4.8, 4.8, 4.5, 4.0, 3.7, 3.5, 3.4)
"""Monthly Linke turbidity for the Loess Plateau (assumption: dusty spring, hazy summer)."""
MEAN_TEMP_JAN, MEAN_TEMP_JUL = -4.5, 24.0
"""Yonghe's monthly mean air temperature extremes, °C (assumption from the region's climate)."""


class DayType(IntEnum):
    CLEAR = 0
    BROKEN = 1
    OVERCAST = 2


DAY_TYPE_ODDS = (0.70, 0.15, 0.15)
"""County-wide chance of a clear, broken-cloud or overcast day."""
TOWNSHIP_DEVIATION = 0.2
"""Chance that a township's sky differs by one step from the county's that day."""


@dataclass(frozen=True)
class Township:
    lat: float
    lon: float
    altitude_m: float


@dataclass(frozen=True)
class DaySky:
    day: dt.date
    start: int
    """Epoch seconds of local midnight."""
    zenith: np.ndarray
    azimuth: np.ndarray
    ghi_clear: np.ndarray
    cloud: np.ndarray
    """Clear-sky index: the share of clear-sky irradiance that gets through."""
    temp_air: np.ndarray
    day_types: tuple[DayType, ...]

    @property
    def ghi(self) -> np.ndarray:
        return self.ghi_clear * self.cloud


class SkyModel:
    """Day-sized sky arrays for a set of townships, cached (a day costs ~50 ms)."""

    def __init__(self, townships: tuple[Township, ...], tz: ZoneInfo, seed: int) -> None:
        self.townships = townships
        self.tz = tz
        self.seed = seed
        self.day = lru_cache(maxsize=8)(self._compute)

    def day_of(self, ts: int) -> dt.date:
        return local_day(ts, self.tz)

    def _compute(self, day: dt.date) -> DaySky:
        start = day_start(day, self.tz)
        times = pd.date_range(
            dt.datetime.fromtimestamp(start, self.tz), periods=MINUTES, freq="1min"
        )
        zen, azi, ghi = [], [], []
        for t in self.townships:
            z, a, g = _clear_sky(times, t)
            zen.append(z)
            azi.append(a)
            ghi.append(g)
        types = day_types(self.seed, day, len(self.townships))
        cloud = np.stack([cloud_index(self.seed, day, i, kind) for i, kind in enumerate(types)])
        temp = np.stack([air_temperature(day, kind) for kind in types])
        return DaySky(day, start, np.stack(zen), np.stack(azi), np.stack(ghi), cloud, temp, types)


def _clear_sky(times: pd.DatetimeIndex, t: Township) -> tuple[np.ndarray, ...]:
    solpos = pvlib.solarposition.get_solarposition(times, t.lat, t.lon, altitude=t.altitude_m)
    apparent = solpos["apparent_zenith"].to_numpy()
    am_rel = pvlib.atmosphere.get_relative_airmass(apparent)
    am_abs = pvlib.atmosphere.get_absolute_airmass(am_rel, pvlib.atmosphere.alt2pres(t.altitude_m))
    dni_extra = pvlib.irradiance.get_extra_radiation(times).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # night: no air mass, no irradiance
        clear = pvlib.clearsky.ineichen(
            apparent,
            am_abs,
            LINKE_TURBIDITY[times[0].month - 1],
            altitude=t.altitude_m,
            dni_extra=dni_extra,
        )
    ghi = np.nan_to_num(np.asarray(clear["ghi"], dtype=float))
    return solpos["zenith"].to_numpy(), solpos["azimuth"].to_numpy(), ghi


def day_types(seed: int, day: dt.date, townships: int) -> tuple[DayType, ...]:
    rng = np.random.default_rng([seed, day.toordinal(), 1])
    county = int(rng.choice(3, p=DAY_TYPE_ODDS))
    types = []
    for _ in range(townships):
        kind = county
        if rng.random() < TOWNSHIP_DEVIATION:
            kind = min(2, max(0, county + int(rng.choice((-1, 1)))))
        types.append(DayType(kind))
    return tuple(types)


def _smooth_noise(rng: np.random.Generator, scale_min: int) -> np.ndarray:
    """Noise in [-1, 1] that changes over about ``scale_min`` minutes."""
    knots = rng.uniform(-1, 1, MINUTES // scale_min + 2)
    return np.interp(np.arange(MINUTES) / scale_min, np.arange(knots.size), knots)


def cloud_index(seed: int, day: dt.date, township: int, kind: DayType) -> np.ndarray:
    rng = np.random.default_rng([seed, day.toordinal(), township, 2])
    if kind == DayType.CLEAR:
        return 0.86 + 0.03 * _smooth_noise(rng, 60)  # dust and haze even on clear days
    if kind == DayType.OVERCAST:
        return np.clip(
            0.25 + 0.1 * _smooth_noise(rng, 45) + 0.05 * _smooth_noise(rng, 7), 0.08, 0.5
        )
    # Broken cloud: sunny spells and shade, minutes long, the mix varying by the hour.
    k = np.empty(MINUTES)
    sunny_share = 0.45 + 0.3 * _smooth_noise(rng, 120)
    i, sunny = 0, True
    while i < MINUTES:
        length = max(1, int(rng.exponential(12 if sunny else 6)))
        level = rng.uniform(0.98, 1.06) if sunny else rng.uniform(0.25, 0.6)
        k[i : i + length] = level
        i += length
        sunny = rng.random() < sunny_share[min(i, MINUTES - 1)]
    return np.convolve(k, np.ones(3) / 3, mode="same")


def air_temperature(day: dt.date, kind: DayType) -> np.ndarray:
    doy = day.timetuple().tm_yday
    mean = (MEAN_TEMP_JAN + MEAN_TEMP_JUL) / 2 - (MEAN_TEMP_JUL - MEAN_TEMP_JAN) / 2 * np.cos(
        2 * np.pi * (doy - 15) / 365.25
    )
    amplitude = {DayType.CLEAR: 7.0, DayType.BROKEN: 5.0, DayType.OVERCAST: 2.5}[kind]
    hours = np.arange(MINUTES) / 60
    return mean + amplitude * np.sin(2 * np.pi * (hours - 9) / 24)
