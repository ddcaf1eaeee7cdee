"""The fleet's output at given moments, and the energy its counters gather between moments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulators.fleet_arrays import SimFleet
from simulators.physics import NIGHT_ZENITH, Output, inverter_output, plane_of_array
from simulators.sky import MINUTES, SkyModel
from simulators.soiling import Soiling

MAX_EXACT_GAP_S = 3 * 86400
"""Counter gaps up to this long are integrated exactly; longer ones use the climate average."""
CHUNK = 250_000

FactorFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Conditions:
    output: Output
    temp_air: np.ndarray
    night: np.ndarray


class FleetModel:
    def __init__(self, fleet: SimFleet, sky: SkyModel) -> None:
        self.fleet = fleet
        self.sky = sky
        self.soiling = Soiling(fleet, sky.seed)

    def conditions(self, idx: np.ndarray, ts: np.ndarray, factor: np.ndarray) -> Conditions:
        """Output of devices ``idx`` at times ``ts`` with DC-side ``factor``."""
        f = self.fleet
        zenith = np.empty(idx.size)
        azimuth = np.empty(idx.size)
        ghi = np.empty(idx.size)
        temp = np.empty(idx.size)
        doy = np.empty(idx.size)
        clean = np.empty(idx.size)
        for day, rows in self._by_day(ts):
            sky = self.sky.day(day)
            minute = np.clip((ts[rows] - sky.start) // 60, 0, MINUTES - 1)
            town = f.township_of[idx[rows]]
            zenith[rows] = sky.zenith[town, minute]
            azimuth[rows] = sky.azimuth[town, minute]
            ghi[rows] = sky.ghi[town, minute]
            temp[rows] = sky.temp_air[town, minute]
            doy[rows] = day.timetuple().tm_yday
            clean[rows] = 1.0 - self.soiling.loss(idx[rows], day)
        night = zenith > NIGHT_ZENITH
        day_rows = np.nonzero(~night)[0]
        lit = idx[day_rows]
        poa = np.zeros(idx.size)
        # The sky model is cheap; the plane-of-array transposition is not: skip the night.
        poa[day_rows] = plane_of_array(
            f.tilt[lit],
            f.azimuth[lit],
            zenith[day_rows],
            azimuth[day_rows],
            ghi[day_rows],
            doy[day_rows],
        )
        scale = f.perf[idx] * f.health(idx, ts) * clean * factor
        out = inverter_output(poa, temp, f.kwp[idx], f.rated_w[idx], scale)
        return Conditions(out, temp, night)

    def energy_wh(
        self,
        idx: np.ndarray,
        since: np.ndarray,
        until: np.ndarray,
        factor: FactorFn | None = None,
        step_s: int | None = None,
    ) -> np.ndarray:
        """Energy [Wh] the counters of devices ``idx`` gather on their reporting grids in
        (since, until] (negative when ``since`` is later). ``factor`` gives the DC-side
        factor of (device, time) pairs, for faults; by default the fleet is healthy.
        ``step_s`` integrates coarser than the grid (every k-th point, k × the energy), for
        long histories where the exact minute does not matter."""
        f = self.fleet
        since = np.broadcast_to(np.asarray(since, dtype=np.int64), idx.shape)
        until = np.broadcast_to(np.asarray(until, dtype=np.int64), idx.shape)
        forward = since <= until
        lo = np.where(forward, since, until)
        hi = np.where(forward, until, since)
        far = (hi - lo) > MAX_EXACT_GAP_S
        total = np.zeros(idx.size)
        rows = np.nonzero(~far)[0]
        stride = np.maximum(1, (step_s or 0) // f.interval_s[idx[rows]])
        for row, ts, weight in self._grid_points(idx[rows], lo[rows], hi[rows], stride):
            device = idx[rows][row]
            scale = np.ones(row.size) if factor is None else factor(device, ts)
            cond = self.conditions(device, ts, scale)
            energy = cond.output.p_ac * f.interval_s[device] * weight / 3600
            total[rows] += np.bincount(row, energy, rows.size)
        if far.any():
            total[far] = f.baseline_wh(idx[far], hi[far]) - f.baseline_wh(idx[far], lo[far])
        return np.where(forward, total, -total)

    def _grid_points(self, devices: np.ndarray, lo: np.ndarray, hi: np.ndarray, stride: np.ndarray):
        """(row, ts, weight) of each row's device grid in (lo, hi], in chunks, every
        ``stride``-th point standing for ``weight`` points; ``row`` indexes ``devices``."""
        f = self.fleet
        interval, phase = f.interval_s[devices], f.phase_s[devices]
        first = lo + (phase - lo) % interval
        first = np.where(first <= lo, first + interval, first)
        points = np.maximum(0, (hi - first) // interval + 1)
        counts = -(-points // stride)
        rows = np.arange(devices.size)
        start = 0
        while start < rows.size:
            stop, size = start, 0
            while stop < rows.size and (size == 0 or size + counts[stop] <= CHUNK):
                size += counts[stop]
                stop += 1
            if size:
                row = np.repeat(rows[start:stop], counts[start:stop])
                offset = np.arange(size) - np.repeat(
                    np.cumsum(counts[start:stop]) - counts[start:stop], counts[start:stop]
                )
                weight = np.minimum(stride[row], points[row] - offset * stride[row])
                yield row, first[row] + offset * stride[row] * interval[row], weight
            start = stop

    def _by_day(self, ts: np.ndarray):
        """Rows of ``ts`` grouped by local day (via quarter hours: every zone offset is a
        multiple of 15 minutes)."""
        quarters, inverse = np.unique(ts // 900, return_inverse=True)
        ordinals = np.array([self.sky.day_of(int(q) * 900).toordinal() for q in quarters])
        per_row = ordinals[inverse]
        for ordinal in np.unique(per_row):
            yield dt.date.fromordinal(int(ordinal)), np.nonzero(per_row == ordinal)[0]
