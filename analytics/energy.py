"""Energy from an inverter's lifetime counter, robust to lost messages, resets and wraps.

The SunSpec ``WH`` counter is a 32-bit accumulator in units of ``10**WH_SF`` Wh: a drop from
near its modulus to near zero is a wrap-around, not a reset. Any other drop is a reset (the
inverter's memory was cleared, or it was replaced under the same serial), and a rise larger
than the inverter could have produced in the interval is an impossible jump. Those intervals
fall back to integrating the reported power, where the interval is short enough for that to
mean something; otherwise they count as unknown (zero) and are reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

COUNTER_BITS = 32
JUMP_TOLERANCE = 1.1
"""A rise above 110 % of the rating over the interval (plus one counter step) is impossible."""


class Method(IntEnum):
    COUNTER = 0
    WRAP = 1
    POWER = 2
    """Power integrated because the counter reset or jumped (or there is no counter)."""
    UNKNOWN = 3
    """The counter failed and the gap is too long to integrate power over."""


@dataclass(frozen=True)
class IntervalEnergy:
    energy_wh: np.ndarray
    """Energy of each interval between consecutive readings (length n - 1)."""
    method: np.ndarray
    resets: int
    jumps: int
    wraps: int


def counter_modulus_wh(wh_scale_exp: int) -> float:
    return float(2**COUNTER_BITS) * 10.0**wh_scale_exp


@dataclass(frozen=True)
class Intervals:
    """Element-wise results for intervals between consecutive readings."""

    energy_wh: np.ndarray
    method: np.ndarray
    reset: np.ndarray
    jump: np.ndarray
    wrap: np.ndarray


def classify_intervals(
    dt_s: np.ndarray,
    delta_wh: np.ndarray,
    power_before: np.ndarray,
    power_after: np.ndarray,
    rated_w: np.ndarray | float,
    wh_scale_exp: np.ndarray | int = 0,
    max_power_gap_s: float = 900.0,
) -> Intervals:
    """The energy of intervals, given their length, counter difference and the power at
    both ends; the rating and counter scale may differ per interval (many devices)."""
    step = 10.0 ** np.asarray(wh_scale_exp, dtype=float)
    modulus = 2.0**COUNTER_BITS * step
    ceiling = np.asarray(rated_w, dtype=float) * dt_s / 3600 * JUMP_TOLERANCE + step
    wrapped = delta_wh + modulus
    with np.errstate(invalid="ignore"):
        wrap = (delta_wh < 0) & (wrapped >= 0) & (wrapped <= ceiling)
        counter_ok = np.isfinite(delta_wh) & (delta_wh >= 0) & (delta_wh <= ceiling)
        reset = np.isfinite(delta_wh) & (delta_wh < 0) & ~wrap
        jump = np.isfinite(delta_wh) & (delta_wh > ceiling)
    trapezoid = (power_before + power_after) / 2 * dt_s / 3600
    power_ok = np.isfinite(trapezoid) & (dt_s <= max_power_gap_s)
    energy = np.select(
        [counter_ok, wrap, power_ok], [delta_wh, wrapped, np.clip(trapezoid, 0, None)], 0.0
    )
    method = np.select(
        [counter_ok, wrap, power_ok], [Method.COUNTER, Method.WRAP, Method.POWER], Method.UNKNOWN
    )
    return Intervals(energy, method.astype(int), reset, jump, wrap)


def interval_energy(
    ts: np.ndarray,
    wh: np.ndarray,
    power_w: np.ndarray,
    *,
    rated_w: float,
    wh_scale_exp: int = 0,
    max_power_gap_s: float = 900.0,
) -> IntervalEnergy:
    """Energy between consecutive readings of one device, sorted by time.

    Parameters
    ----------
    ts : epoch seconds, strictly increasing
    wh : counter readings [Wh]; NaN where a reading has no counter
    power_w : AC power [W]; NaN where missing
    rated_w : the inverter's AC rating [W]
    wh_scale_exp : SunSpec WH_SF of the counter
    max_power_gap_s : longest interval over which power is integrated [s]
    """
    ts = np.asarray(ts, dtype=float)
    wh = np.asarray(wh, dtype=float)
    power_w = np.asarray(power_w, dtype=float)
    if ts.size < 2:
        empty = np.zeros(0)
        return IntervalEnergy(empty, empty.astype(int), 0, 0, 0)
    if np.any(np.diff(ts) <= 0):
        raise ValueError("readings must be sorted by time without duplicates")
    result = classify_intervals(
        np.diff(ts), np.diff(wh), power_w[:-1], power_w[1:], rated_w, wh_scale_exp, max_power_gap_s
    )
    return IntervalEnergy(
        result.energy_wh,
        result.method,
        int(result.reset.sum()),
        int(result.jump.sum()),
        int(result.wrap.sum()),
    )
