"""Dust on the modules: it builds up day by day at a rate of the township and the season,
faster or slower at each station, and a rain day washes it off (the simulator's truth).

Yonghe lies on the Loess Plateau: spring is dry and dusty, the summer monsoon brings most
of the rain. A day is a rain day when its township's sky is overcast and a seeded draw
against the month's share of overcast days that rain falls (``RAIN_SHARE``). On a rain day
the modules are clean; on other days the loss grows by the township's rate for the month
times the station's factor, up to ``MAX_LOSS``. A station cleaned by hand (a scenario's
``cleaning``) is clean on that day, and gathers dust from then on.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import numpy as np

from simulators.fleet_arrays import SimFleet, unit
from simulators.sky import DayType, day_types

DAILY_RATE = (
    0.0012, 0.0015, 0.0025, 0.0030, 0.0025, 0.0012,
    0.0008, 0.0008, 0.0010, 0.0012, 0.0012, 0.0012,
)  # fmt: skip
"""The share of output dust takes a day, by month (January first): spring winds off the
loess are the dustiest."""
RAIN_SHARE = (0.1, 0.2, 0.3, 0.5, 0.6, 0.7, 0.8, 0.8, 0.7, 0.5, 0.3, 0.1)
"""The share of overcast days that rain enough to wash the modules, by month."""
TOWNSHIP_SPREAD = 0.3
STATION_SPREAD = 0.25
"""Townships' and stations' rates differ from the month's by up to these shares."""
MAX_LOSS = 0.10
"""Dust settles no thicker than this loss."""
LOOKBACK_DAYS = 120
"""How far back a day's dust is summed (clean before): more than any dry spell here."""


class Soiling:
    """The dust loss of every station on any day."""

    def __init__(self, fleet: SimFleet, seed: int) -> None:
        self.seed = seed
        towns = len(fleet.townships)
        self.township_factor = np.array(
            [1 + TOWNSHIP_SPREAD * (2 * unit(seed, f"dust:{t}") - 1) for t in range(towns)]
        )
        station = np.array(
            [1 + STATION_SPREAD * (2 * unit(seed, f"dust:{s.id}") - 1) for s in fleet.stations]
        )
        self.device_factor = station[fleet.station_of]
        self.township_of = fleet.township_of
        self._towns = towns
        self.township_loss = lru_cache(maxsize=512)(self._township_loss)
        self.cleaned: dict[int, list[dt.date]] = {}
        """device → the days it was cleaned by hand."""

    def clean(self, devices: np.ndarray, day: dt.date) -> None:
        """The devices' modules are cleaned on ``day``."""
        for device in devices.tolist():
            self.cleaned.setdefault(device, []).append(day)

    def rain(self, day: dt.date) -> np.ndarray:
        """township → it rained enough on ``day`` to wash the modules."""
        types = np.array(day_types(self.seed, day, self._towns))
        draw = np.random.default_rng([self.seed, day.toordinal(), 3]).random(self._towns)
        return (types == DayType.OVERCAST) & (draw < RAIN_SHARE[day.month - 1])

    def loss(self, idx: np.ndarray, day: dt.date) -> np.ndarray:
        """The share of output devices ``idx`` lose to dust on ``day``."""
        town = self.township_of[idx]
        built = self.township_loss(day)[town]
        for row in np.flatnonzero(np.isin(idx, list(self.cleaned))):
            last = max((d for d in self.cleaned[int(idx[row])] if d <= day), default=None)
            if last is not None:
                built[row] = min(built[row], self._since(last, day)[town[row]])
        return np.minimum(MAX_LOSS, built * self.device_factor[idx])

    def _since(self, first: dt.date, day: dt.date) -> np.ndarray:
        """township → the dust built up after ``first`` to ``day`` with no rain (whichever
        came last of the rain and the cleaning is where the dust starts)."""
        days = (day - first).days
        rates = [DAILY_RATE[(first + dt.timedelta(days=n)).month - 1] for n in range(1, days + 1)]
        return sum(rates, 0.0) * self.township_factor

    def _township_loss(self, day: dt.date) -> np.ndarray:
        """township → the dust built up since its last rain, at the township's own rates
        (the station's factor is applied on top)."""
        dust = np.zeros(self._towns)
        for back in range(LOOKBACK_DAYS, -1, -1):
            past = day - dt.timedelta(days=back)
            dust = np.where(
                self.rain(past), 0.0, dust + DAILY_RATE[past.month - 1] * self.township_factor
            )
        return dust
