"""The simulated fleet: every inverter as columns of arrays, built from the registry.

What the registry cannot know is the simulator's own: each station's small, steady deviation
from nominal (orientation, soiling: up to ±3 %), the rate its modules degrade at from its
commissioning (0.3–1.5 % of their output a year), each logger's reporting phase, and the
inverters' DC voltage class. All of it is seeded, so a run is repeatable.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np

from pvmon.domain import StationKind
from pvmon.registry.schema import InverterRow, Registry
from simulators.sky import Township

STATION_SPREAD = 0.03
"""Healthy stations differ from nominal by up to ±3 %."""
DC_NOMINAL_V = {
    StationKind.VILLAGE: 620.0,
    StationKind.HOUSEHOLD: 360.0,
    StationKind.CENTRAL: 1050.0,
}
DEGRADATION = (0.003, 0.015)
"""The range of the stations' degradation rates [share of the output lost a year]."""
YEAR_S = 365.25 * 86400
CLIMATE_YIELD_KWH_PER_KWP_DAY = 3.4
"""About 1,240 kWh/kWp a year: used only to give old inverters a plausible lifetime counter."""


@dataclass(frozen=True)
class SimStation:
    id: str
    kind: StationKind
    township: int
    devices: tuple[int, ...]


@dataclass(frozen=True)
class SimFleet:
    townships: tuple[Township, ...]
    township_ids: tuple[str, ...]
    stations: tuple[SimStation, ...]
    device_ids: tuple[str, ...]
    station_of: np.ndarray
    """Index into ``stations`` per device."""
    township_of: np.ndarray
    tilt: np.ndarray
    azimuth: np.ndarray
    kwp: np.ndarray
    """The share of its station's array each inverter converts [kWp]."""
    rated_w: np.ndarray
    interval_s: np.ndarray
    phase_s: np.ndarray
    """Each logger reports on its own grid: ts ≡ phase (mod interval)."""
    perf: np.ndarray
    dc_nominal_v: np.ndarray
    wh_unit: np.ndarray
    """Counter resolution [Wh]: 10 ** wh_scale_exp."""
    installed: np.ndarray
    """Installation day as epoch seconds."""
    commissioned: np.ndarray
    """The station's commissioning day as epoch seconds: its modules age from then."""
    degradation: np.ndarray
    """The share of its output the station's modules lose a year (linear)."""

    @property
    def size(self) -> int:
        return len(self.device_ids)

    def index_of(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.device_ids)}

    def station_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.stations)}

    def health(self, idx: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """What the modules still make of their output when new, at ``ts``."""
        years = np.maximum(0.0, (ts - self.commissioned[idx]) / YEAR_S)
        return 1.0 - self.degradation[idx] * years

    def baseline_wh(self, idx: np.ndarray, at: np.ndarray | int) -> np.ndarray:
        """A plausible lifetime counter at ``at`` for inverters nobody has simulated yet."""
        days = np.maximum(0, (at - self.installed[idx]) / 86400)
        return self.kwp[idx] * CLIMATE_YIELD_KWH_PER_KWP_DAY * 1000 * days * self.perf[idx]


def unit(seed: int, text: str) -> float:
    """A repeatable number in [0, 1) for (seed, text)."""
    return zlib.crc32(f"{seed}:{text}".encode()) / 2**32


def _array_rating(inverters: list[InverterRow]) -> float:
    """The AC rating the station's array is shared out by: that of the inverters in service
    (a retired inverter stood where its successor stands), or of all if none is."""
    serving = [i for i in inverters if i.valid_to is None] or inverters
    return sum(i.rated_ac_w for i in serving)


def build_fleet(
    registry: Registry,
    seed: int,
    interval_s: Mapping[StationKind, int],
    only_stations: Collection[str] | None = None,
) -> SimFleet:
    """The simulated fleet of a registry, or of some of its stations."""
    township_ids = tuple(t.id for t in registry.townships)
    centres: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for v in registry.villages:
        centres[v.township_id].append((v.lat, v.lon, v.altitude_m))
    townships = tuple(
        Township(*np.mean(centres[t], axis=0)) if centres[t] else Township(36.76, 110.63, 1000.0)
        for t in township_ids
    )
    inverters: dict[str, list] = defaultdict(list)
    for inv in registry.inverters:
        inverters[inv.station_id].append(inv)
    wanted = set(only_stations) if only_stations is not None else None
    if wanted is not None:
        unknown = wanted - {s.id for s in registry.stations}
        if unknown:
            raise ValueError(f"stations not in the registry: {', '.join(sorted(unknown))}")
    columns: dict[str, list] = defaultdict(list)
    stations = []
    for s in registry.stations:
        if (wanted is not None and s.id not in wanted) or not inverters[s.id]:
            continue
        kind = StationKind(s.kind)
        station_rated = _array_rating(inverters[s.id])
        interval = interval_s[kind]
        phase = int(unit(seed, "phase:" + s.id) * interval)
        perf = 1 + STATION_SPREAD * (2 * unit(seed, "perf:" + s.id) - 1)
        low, high = DEGRADATION
        degradation = low + (high - low) * unit(seed, "degradation:" + s.id)
        commissioned = dt.datetime.combine(s.commissioned_on, dt.time(12), dt.UTC).timestamp()
        first = len(columns["id"])
        for inv in inverters[s.id]:
            columns["id"].append(inv.id)
            columns["station"].append(len(stations))
            columns["township"].append(township_ids.index(s.township_id))
            columns["tilt"].append(s.tilt_deg)
            columns["azimuth"].append(s.azimuth_deg)
            columns["kwp"].append(s.capacity_kwp * inv.rated_ac_w / station_rated)
            columns["rated"].append(inv.rated_ac_w)
            columns["interval"].append(interval)
            columns["phase"].append(phase)
            columns["perf"].append(perf)
            columns["commissioned"].append(commissioned)
            columns["degradation"].append(degradation)
            columns["dcv"].append(DC_NOMINAL_V[kind])
            columns["unit"].append(10.0**inv.wh_scale_exp)
            columns["installed"].append(
                dt.datetime.combine(inv.valid_from, dt.time(12), dt.UTC).timestamp()
            )
        devices = tuple(range(first, len(columns["id"])))
        stations.append(SimStation(s.id, kind, township_ids.index(s.township_id), devices))
    if not stations:
        raise ValueError("no station with inverters to simulate")
    f = {k: np.asarray(v) for k, v in columns.items()}
    return SimFleet(
        townships=townships,
        township_ids=township_ids,
        stations=tuple(stations),
        device_ids=tuple(columns["id"]),
        station_of=f["station"].astype(int),
        township_of=f["township"].astype(int),
        tilt=f["tilt"].astype(float),
        azimuth=f["azimuth"].astype(float),
        kwp=f["kwp"].astype(float),
        rated_w=f["rated"].astype(float),
        interval_s=f["interval"].astype(np.int64),
        phase_s=f["phase"].astype(np.int64),
        perf=f["perf"].astype(float),
        dc_nominal_v=f["dcv"].astype(float),
        wh_unit=f["unit"].astype(float),
        installed=f["installed"].astype(float),
        commissioned=f["commissioned"].astype(float),
        degradation=f["degradation"].astype(float),
    )
