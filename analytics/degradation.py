"""A station's degradation rate by year-on-year comparison (pure).

RdTools's ``degradation_year_on_year`` (Jordan, Deline, Kurtz, Kimball, Anderson 2018,
"Robust PV degradation methodology and application", IEEE JPV 8(2)) with its "simple"
bootstrap, written here rather than installed: RdTools 3.2 brings xgboost, NVIDIA's NCCL,
scikit-learn, matplotlib and plotly — measured, about 870 MB more in the environment
(``nvidia`` 469 MB, ``xgboost`` 228 MB; the environment is 829 MB without them) — for
these forty lines. ``bench/rdtools_agreement.py`` runs RdTools itself, in a virtual
environment of its own, on the inputs that ``tests/data/rdtools_reference.json`` records
with its answers; ``tests/test_degradation.py`` checks this module gives the same.

Each day's normalised energy is divided by the median of the first year's (ignoring the
near-zero), paired with the day one calendar year before (within 8 days), and each pair
gives a rate: the change over the years between them, in % of the first year's level. The
station's rate is the median of the pairs'; its confidence interval is the spread of that
median over resamplings of the pairs.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

TOLERANCE = pd.Timedelta("8D")
"""How far from one calendar year before a day's partner may be."""
CONFIDENCE = 68.2
"""The confidence interval's level [%] (RdTools's default: one standard deviation)."""
RESAMPLES = 1_000
"""Bootstrap resamplings of the pairs' median (RdTools draws 10,000; the interval's bounds
move by a few thousandths of a per cent between the two, and a fleet of 2,240 stations takes
ten times as long)."""


@dataclass(frozen=True)
class Degradation:
    rate_pct: float
    """Change per year [% of the first year's level]; negative: losing."""
    low_pct: float
    high_pct: float
    """The ``CONFIDENCE`` interval of the rate."""
    pairs: int
    """Day pairs a year apart the rate is the median of."""


COLUMNS = ["rate_pct", "low_pct", "high_pct", "pairs"]


def year_on_year(normalized: pd.Series, rng: np.random.Generator) -> Degradation | None:
    """The degradation of a daily normalised-energy series (dates → e.g. the clear-sky index
    of its clear days); None with less than two years or no pair a year apart."""
    series = normalized.dropna().sort_index()
    if series.empty or series.index[-1] < series.index[0] + pd.DateOffset(years=2) - _step(
        series.index
    ):
        return None
    energy = series / _first_year_level(series)
    rates = _pair_rates(energy)
    if rates.empty:
        return None
    medians = np.median(rng.choice(rates.to_numpy(), (len(rates), RESAMPLES)), axis=0)
    low, high = np.percentile(medians, [50 - CONFIDENCE / 2, 50 + CONFIDENCE / 2])
    return Degradation(float(rates.median()), float(low), float(high), len(rates))


def _step(index: pd.DatetimeIndex) -> pd.Timedelta:
    return pd.Series(index).diff().median() if len(index) > 1 else pd.Timedelta(0)


def _first_year_level(series: pd.Series) -> float:
    """The median of the first year, ignoring values below a thousandth of it (RdTools's
    ``robust_median``)."""
    first = series[series.index[0] : series.index[0] + pd.Timedelta("364D")]
    small = first.quantile(0.5) / 1000
    return float(first[first > small].median())


def _pair_rates(energy: pd.Series) -> pd.Series:
    """Each day paired with its partner a calendar year earlier: the change, %/year."""
    frame = pd.DataFrame({"dt": energy.index, "energy": energy.to_numpy()})
    earlier = frame.assign(dt_shifted=frame["dt"] + pd.DateOffset(years=1))
    pairs = pd.merge_asof(
        frame,
        earlier.sort_values("dt_shifted"),
        left_on="dt",
        right_on="dt_shifted",
        suffixes=("", "_left"),
        tolerance=TOLERANCE,
    )
    years = (pairs["dt"] - pairs["dt_left"]) / pd.Timedelta("365D")
    return (100.0 * (pairs["energy"] - pairs["energy_left"]) / years).dropna()


CLEAR_SHARE = 0.85
"""A day counts when its township's stations made at least this share of what they make
on the township's clear days (its daily median clear-sky index against the 95th percentile
of those medians): the normalised energy of a cloudy day is mostly weather. Relative, since
what a clear day gives depends on the plants' losses (0.5 to 0.8 of the clear-sky yield)."""
CLEAR_QUANTILE = 0.95


def clear_township_days(history: pd.DataFrame, township_of: pd.Series) -> pd.Series:
    """Per row of ``history`` (date, station_id, csi): the station's township had a clear
    day (``CLEAR_SHARE`` of its clear days' median clear-sky index)."""
    township = history["station_id"].map(township_of)
    median = history["csi"].groupby([history["date"], township]).transform("median")
    best = median.groupby(township).transform(lambda m: m.quantile(CLEAR_QUANTILE))
    return median >= CLEAR_SHARE * best


def clear_day_levels(history: pd.DataFrame, township_of: pd.Series) -> pd.DataFrame:
    """date × station → the station's clear-sky index on its township's clear days, where
    the day was usable (full data, no fault). ``history``: date, station_id, csi, usable."""
    kept = history[clear_township_days(history, township_of) & history["usable"].astype(bool)]
    levels = kept.pivot_table(index="date", columns="station_id", values="csi")
    levels.index = pd.to_datetime(levels.index)
    return levels


def station_rates(levels: pd.DataFrame, seed: int) -> pd.DataFrame:
    """station → rate_pct, low_pct, high_pct and pairs of its clear days' levels (stations
    with under two years of them left out). Each station's resampling is seeded by ``seed``
    and its id, so the same data give the same interval."""
    rows = {}
    for station in levels.columns:
        rng = np.random.default_rng([seed, zlib.crc32(str(station).encode())])
        found = year_on_year(levels[station], rng)
        if found is not None:
            rows[station] = asdict(found)
    return pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
