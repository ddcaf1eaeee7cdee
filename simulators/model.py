"""The fleet's output at given moments, and the energy its counters gather between moments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from simulators.fleet import SimFleet
from simulators.physics import NIGHT_ZENITH, Output, inverter_output, plane_of_array
from simulators.sky import MINUTES, SkyModel

MAX_EXACT_GAP_S = 3 * 86400
"""Counter gaps up to this long are integrated exactly; longer ones use the climate average."""
CHUNK = 250_000


@dataclass(frozen=True)
class Conditions:
    output: Output
    temp_air: np.ndarray
    night: np.ndarray


class FleetModel:
    def __init__(self, fleet: SimFleet, sky: SkyModel) -> None:
        self.fleet = fleet
        self.sky = sky

    def conditions(self, idx: np.ndarray, ts: np.ndarray, factor: np.ndarray) -> Conditions:
        """Output of devices ``idx`` at times ``ts`` with DC-side ``factor``."""
        f = self.fleet
        zenith = np.empty(idx.size)
        azimuth = np.empty(idx.size)
        ghi = np.empty(idx.size)
        temp = np.empty(idx.size)
        doy = np.empty(idx.size)
        for day, rows in self._by_day(ts):
            sky = self.sky.day(day)
            minute = np.clip((ts[rows] - sky.start) // 60, 0, MINUTES - 1)
            town = f.township_of[idx[rows]]
            zenith[rows] = sky.zenith[town, minute]
            azimuth[rows] = sky.azimuth[town, minute]
            ghi[rows] = sky.ghi[town, minute]
            temp[rows] = sky.temp_air[town, minute]
            doy[rows] = day.timetuple().tm_yday
        night = zenith > NIGHT_ZENITH
        poa = plane_of_array(
            f.tilt[idx], f.azimuth[idx], zenith, azimuth, np.where(night, 0.0, ghi), doy
        )
        out = inverter_output(poa, temp, f.kwp[idx], f.rated_w[idx], f.perf[idx] * factor)
        return Conditions(out, temp, night)

    def energy_wh(self, since: np.ndarray, until: int) -> np.ndarray:
        """Energy [Wh] each device's counter gathers on its reporting grid in (since, until]
        (negative when ``since`` is later), assuming the fleet healthy."""
        f = self.fleet
        total = np.zeros(f.size)
        forward = since <= until
        lo = np.where(forward, since, until).astype(np.int64)
        hi = np.where(forward, until, since).astype(np.int64)
        far = (hi - lo) > MAX_EXACT_GAP_S
        for idx, ts in self._grid_points(np.nonzero(~far)[0], lo, hi):
            cond = self.conditions(idx, ts, np.ones(idx.size))
            total += np.bincount(idx, cond.output.p_ac * f.interval_s[idx] / 3600, f.size)
        if far.any():
            total[far] = (f.baseline_wh(hi) - f.baseline_wh(lo))[far]
        return np.where(forward, total, -total)

    def _grid_points(self, devices: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        """(device, ts) pairs of each device's grid in (lo, hi], in chunks."""
        f = self.fleet
        interval, phase = f.interval_s[devices], f.phase_s[devices]
        first = lo[devices] + (phase - lo[devices]) % interval
        first = np.where(first <= lo[devices], first + interval, first)
        counts = np.maximum(0, (hi[devices] - first) // interval + 1)
        order = np.argsort(-counts)
        devices, first, interval, counts = (a[order] for a in (devices, first, interval, counts))
        start = 0
        while start < devices.size:
            stop, size = start, 0
            while stop < devices.size and (size == 0 or size + counts[stop] <= CHUNK):
                size += counts[stop]
                stop += 1
            idx = np.repeat(devices[start:stop], counts[start:stop])
            step = np.concatenate([np.arange(c) for c in counts[start:stop]]) if size else []
            ts = np.repeat(first[start:stop], counts[start:stop]) + np.asarray(
                step, dtype=np.int64
            ) * np.repeat(interval[start:stop], counts[start:stop])
            if idx.size:
                yield idx, ts
            start = stop

    def _by_day(self, ts: np.ndarray):
        """Rows of ``ts`` grouped by local day (via quarter hours: every zone offset is a
        multiple of 15 minutes)."""
        quarters, inverse = np.unique(ts // 900, return_inverse=True)
        ordinals = np.array([self.sky.day_of(int(q) * 900).toordinal() for q in quarters])
        per_row = ordinals[inverse]
        for ordinal in np.unique(per_row):
            yield dt.date.fromordinal(int(ordinal)), np.nonzero(per_row == ordinal)[0]
