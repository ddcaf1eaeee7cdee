"""Simulated time: a start, a speed, and never ahead of the wall clock."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
import pvlib

DAYLIGHT_ELEVATION = 10.0
"""Above this solar elevation [°] the fleet clearly produces."""
REPLAY_HOURS = 4.0


class SimClock:
    def __init__(self, start: float, speed: float, wall: Callable[[], float] = time.time) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._wall = wall
        if start > wall() + 1:
            raise ValueError(
                "the simulation cannot start in the future: simulated time never "
                "runs ahead of the wall clock"
            )
        self.start = start
        self.speed = speed
        self._wall0 = wall()

    def now(self) -> float:
        wall = self._wall()
        return min(self.start + (wall - self._wall0) * self.speed, wall)

    def caught_up(self) -> bool:
        """Simulated time has reached the wall clock (and now runs in real time)."""
        return self.now() >= self._wall() - 1


def solar_elevation(moments: pd.DatetimeIndex, lat: float, lon: float) -> np.ndarray:
    return pvlib.solarposition.get_solarposition(moments, lat, lon)["elevation"].to_numpy()


def demo_start(now: float, lat: float, lon: float) -> float:
    """When the default demo starts: now if the sun is up; otherwise the most recent
    daylight hours are replayed, beginning ``REPLAY_HOURS`` before the sun last stood
    ``DAYLIGHT_ELEVATION`` above the horizon, so the fleet produces at any hour."""
    steps = pd.date_range(end=dt.datetime.fromtimestamp(now, dt.UTC), periods=6 * 40, freq="10min")
    elevation = solar_elevation(steps, lat, lon)
    if elevation[-1] >= DAYLIGHT_ELEVATION:
        return now
    lit = np.nonzero(elevation >= DAYLIGHT_ELEVATION)[0]
    if not lit.size:
        raise ValueError("no daylight in the last 40 hours at this position")
    return steps[lit[-1]].timestamp() - REPLAY_HOURS * 3600
