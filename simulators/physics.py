"""From sky to inverter output, vectorized over the devices due at a moment (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pvlib

from pvmon.telemetry import OperatingState

SYSTEM_LOSSES = 0.78
"""Soiling (loess dust), wiring, mismatch and module ageing together (assumption, tuned
with the sky model so that the village stations make about 1,240 kWh/kWp a year)."""
TEMP_COEFF = -0.0037
"""Module power temperature coefficient [1/°C] (crystalline silicon)."""
INVERTER_EFFICIENCY = 0.97
WAKE_FRACTION = 0.005
"""Below this share of its rating an inverter sleeps and reports no power."""
NIGHT_ZENITH = 90.5
"""Inverters are off and loggers send nothing while the sun is below the horizon."""


@dataclass(frozen=True)
class Output:
    p_ac: np.ndarray
    """AC power [W]."""
    p_dc: np.ndarray
    t_cell: np.ndarray
    state: np.ndarray
    """SunSpec operating state per device."""


def plane_of_array(
    tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    zenith: np.ndarray,
    sun_azimuth: np.ndarray,
    ghi: np.ndarray,
    doy: np.ndarray,
) -> np.ndarray:
    """Global irradiance on the module plane [W/m²] (Erbs split, isotropic sky)."""
    split = pvlib.irradiance.erbs(ghi, zenith, doy)
    total = pvlib.irradiance.get_total_irradiance(
        tilt, surface_azimuth, zenith, sun_azimuth, split["dni"], ghi, split["dhi"]
    )
    return np.nan_to_num(np.asarray(total["poa_global"], dtype=float)).clip(min=0)


def inverter_output(
    poa: np.ndarray, temp_air: np.ndarray, kwp: np.ndarray, rated_w: np.ndarray, factor: np.ndarray
) -> Output:
    """AC output of inverters whose arrays see ``poa``; ``factor`` scales the DC side
    (station differences, soiling, string faults)."""
    t_cell = pvlib.temperature.faiman(poa, temp_air, wind_speed=2.0)
    p_dc = kwp * poa * (1 + TEMP_COEFF * (t_cell - 25)) * SYSTEM_LOSSES * factor
    p_dc = p_dc.clip(min=0)
    raw_ac = p_dc * INVERTER_EFFICIENCY
    p_ac = np.minimum(raw_ac, rated_w)
    asleep = p_ac < WAKE_FRACTION * rated_w
    p_ac = np.where(asleep, 0.0, p_ac)
    state = np.where(
        asleep,
        OperatingState.SLEEPING,
        np.where(raw_ac > rated_w, OperatingState.THROTTLED, OperatingState.MPPT),
    )
    return Output(p_ac, p_dc, t_cell, state.astype(int))


def hash_noise(ts: np.ndarray, key: np.ndarray, salt: float) -> np.ndarray:
    """Repeatable noise in [-1, 1] from (time, device): a replayed reading is identical."""
    x = np.sin(ts.astype(float) * 12.9898e-3 + key * 78.233 + salt) * 43758.5453
    return 2 * (x - np.floor(x)) - 1
