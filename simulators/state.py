"""Counters that survive restarts: where each device's lifetime counter stood, and when.

A run continues from the saved state by integrating the fleet's output between the saved
moment and its own start (backwards, if it starts earlier), so that runs over the same
moments publish the same counters.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import structlog

from simulators.fleet_arrays import SimFleet
from simulators.model import FleetModel

log = structlog.get_logger(__name__)


def load_state(path: Path | None, seed: int) -> dict[str, tuple[int, float]]:
    if path is None or not path.exists():
        return {}
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        log.warning("simulator_state_unreadable", path=str(path), error=str(exc))
        return {}
    if state.get("seed") != seed:
        return {}
    return {d: (int(t), float(wh)) for d, (t, wh) in state.get("devices", {}).items()}


def save_state(
    path: Path | None, seed: int, fleet: SimFleet, counters: np.ndarray, moment: int | np.ndarray
) -> None:
    """Record the counters as of ``moment`` (one for all devices, or one each), keeping
    devices this run did not simulate."""
    if path is None:
        return
    moments = np.broadcast_to(np.asarray(moment, dtype=np.int64), (fleet.size,))
    devices = load_state(path, seed)
    devices.update(
        {d: (int(moments[i]), float(counters[i])) for i, d in enumerate(fleet.device_ids)}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"seed": seed, "devices": devices}))
    tmp.replace(path)


def initial_counters(
    fleet: SimFleet, model: FleetModel, saved: dict[str, tuple[int, float]], start: int
) -> np.ndarray:
    """Each device's counter at ``start``, continuing the saved state where there is one."""
    idx = np.arange(fleet.size)
    counters = fleet.baseline_wh(idx, start)
    since = np.full(fleet.size, start, dtype=np.int64)
    for i, device in enumerate(fleet.device_ids):
        if device in saved:
            since[i], counters[i] = saved[device]
    return counters + model.energy_wh(idx, since, np.full(fleet.size, start))
