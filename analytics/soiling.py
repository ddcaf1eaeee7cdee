"""A station's soiling loss by stochastic rate and recovery (pure).

RdTools's ``soiling_srr`` (Deceglie, Micheli, Muller 2018, "Quantifying soiling loss
directly from PV yield", IEEE JPV 8(2) 547) with its defaults, written here for the reason
``analytics.degradation`` gives. ``bench/rdtools_agreement.py`` runs RdTools on the inputs
``tests/data/rdtools_soiling.json`` records with its answers; ``tests/test_soiling.py``
checks this module gives the same, draw for draw: the Monte Carlo draws from a
``numpy.random.RandomState`` in RdTools's order, so the same seed gives RdTools's numbers.

The daily performance index is split into soiling intervals at cleanings: a rise of its
13-day rolling median beyond the Tukey fence of all day-to-day changes, a recorded cleaning,
or an outage longer than 13 days. Each interval long and steady enough gets a Theil-Sen slope
(the dust's rate) with its 95 % interval. Many random profiles are then drawn — each
interval's rate from within its interval, each cleaning's recovery from a half-normal around
what the data show — and the insolation-weighted soiling ratio of each profile taken: the
ratio's median and spread are the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import theilslopes

DAY_SCALE = 13
"""Days of the rolling median that cleanings are found in."""
OUTLIER_FACTOR = 1.5
"""The Tukey fence a rise must pass to be a cleaning."""
MIN_INTERVAL_DAYS = 7
MAX_RELATIVE_SLOPE_ERROR = 5.0
MAX_NEGATIVE_STEP = 0.05
"""An interval counts with more than 7 days of data, a slope interval under 5 times its
slope, and no day-to-day drop of its rolling median of 5 % or more."""
REPS = 1_000
CONFIDENCE = 68.2
EXCEEDANCE = 95.0
LEAST_RATIO = 0.5
"""A profile below half the clean output is not dust (a fault, or a long interval's fit run
too far): what it costs is counted at half."""
SEASON_DAYS = 15
CLEAN_QUANTILE = 0.9
"""A station's clean level at a time of year: this quantile of its clear days' levels within
``SEASON_DAYS`` of the same day of the year, over every year of its history."""


@dataclass(frozen=True)
class Soiling:
    ratio: float
    """Insolation-weighted soiling ratio (P50): the share of its clean output the station
    made over the period (1: no loss)."""
    low: float
    high: float
    """The ``CONFIDENCE`` interval of the ratio."""
    exceedance: float
    """The ratio the station did better than with ``EXCEEDANCE`` % probability."""
    intervals: int
    """Soiling intervals with a rate."""
    cleanings: int
    """Cleanings found in the data or recorded."""
    profile: pd.Series
    """date → the soiling ratio with each cleaning perfect and each interval at its median
    rate (1 where no rate could be found)."""

    @property
    def loss_now_pct(self) -> float:
        """The dust's loss on the last day [% of clean output]."""
        return float(100 * (1 - self.profile.clip(lower=LEAST_RATIO).iloc[-1]))

    def lost_share(self) -> pd.Series:
        """date → what the dust took, as a share of what the station made (1/ratio − 1)."""
        return 1 / self.profile.clip(lower=LEAST_RATIO) - 1


def srr(
    pi: pd.Series,
    insolation: pd.Series,
    rs: np.random.RandomState,
    cleanings: pd.Series | None = None,
    reps: int = REPS,
) -> Soiling | None:
    """The soiling of a daily performance index ``pi`` (NaN on days not judged) weighted by
    the daily ``insolation``; ``cleanings``: date → a cleaning was recorded. None when no
    interval has a rate or there is no insolation to weight by."""
    daily = daily_frame(pi, insolation, cleanings)
    if daily is None or not daily["insol"].sum() > 0:
        return None
    found = intervals(daily)
    if found is None:
        return None
    ratios = monte_carlo(daily, found, reps, rs)
    half = CONFIDENCE / 2
    p50, low, high, exceed = np.percentile(ratios, [50, 50 - half, 50 + half, 100 - EXCEEDANCE])
    return Soiling(
        float(p50), float(low), float(high), float(exceed),
        int(found["valid"].sum()), int(daily["clean_event"].sum()), perfect_clean(daily, found),
    )  # fmt: skip


def deseasoned(levels: pd.DataFrame) -> pd.DataFrame:
    """date × station → each clear day's level as a share of the station's clean level at
    that time of year.

    SRR reads any steady fall between two rises as dust. A clear day's normalised energy
    also moves with the seasons — against a clear-sky model, the sun's path, the air's
    clarity and the modules' temperature change through the year (measured on the simulated
    fleet: 14 % lower in late November than in September, clean) — and would be read as
    dust. The clean level is taken from the days just washed, which every year has at every
    time of year: the upper part of the levels at that time of year. With one year of
    history, a long dry spell's clean level is still dusty, and its dust is missed."""
    doy = levels.index.day_of_year.to_numpy()
    clean = np.empty(levels.shape)
    for day in range(1, 367):
        apart = np.abs(doy - day)
        near = np.minimum(apart, 366 - apart) <= SEASON_DAYS
        clean[doy == day] = levels[near].quantile(CLEAN_QUANTILE).to_numpy()
    return levels / clean


def daily_frame(
    pi: pd.Series, insolation: pd.Series, cleanings: pd.Series | None
) -> pd.DataFrame | None:
    """date → pi_norm (recentred to the first year's median), insol, delta (change of the
    rolling median), clean_event, run (the soiling interval's number, from 0: the first
    day may itself begin one), day."""
    days = pd.date_range(pi.index.min(), pi.index.max(), freq="D")
    df = pd.DataFrame({"pi": pi.reindex(days), "insol": insolation.reindex(days)})
    known = df["pi"].dropna()
    if known.empty:
        return None
    df = df[known.index[0] : known.index[-1]].copy()
    df["day"] = np.arange(len(df))
    renorm = df.loc[known.index[0] : known.index[0] + pd.Timedelta("364D"), "pi"].median()
    df["pi_norm"] = df["pi"] / renorm
    after = df["pi_norm"].bfill(limit=DAY_SCALE).shift(-1).isna()
    before = df["pi_norm"].ffill(limit=DAY_SCALE).shift(1).isna()
    out_start = df["pi_norm"].notna() & after
    out_end = df["pi_norm"].notna() & before
    out_start.iloc[-1] = False
    out_end.iloc[0] = False
    filled = df["pi_norm"].ffill(limit=DAY_SCALE)
    df["delta"] = filled.rolling(DAY_SCALE, center=True).median().diff()
    deltas = df["delta"].abs()
    q1, q3 = deltas.quantile(0.25), deltas.quantile(0.75)
    shifted = df["delta"] > q3 + OUTLIER_FACTOR * (q3 - q1)
    recorded = (
        cleanings.reindex(df.index, fill_value=False).astype(bool)
        if cleanings is not None
        else False
    )
    df["clean_event"] = shifted | recorded | out_start | out_end
    df = df.fillna(0)
    run = df["clean_event"].cumsum()
    df["run"] = run - run.iloc[0]
    return df


def intervals(daily: pd.DataFrame) -> pd.DataFrame | None:
    """run → start, length, slope with its interval, inferred losses at start and end,
    inferred recovery at the cleaning that ends it, valid; None if none is valid."""
    rows = [_interval(run) for _, run in daily.groupby("run", sort=True)]
    found = pd.DataFrame(rows)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_err = (found["high"] - found["low"]) / found["slope"].abs()
    refused = (
        (found["slope"] > 0)
        | (slope_err >= MAX_RELATIVE_SLOPE_ERROR)
        | (found["max_neg_step"] <= -MAX_NEGATIVE_STEP)
    )
    found.loc[refused, ["slope", "low", "high"]] = 0.0
    found.loc[refused, "valid"] = False
    if not found["valid"].any():
        return None
    next_start = found.loc[found["valid"], "start_loss"].shift(-1).clip(0, 1)
    found["recovery"] = (next_start - found["end_loss"]).clip(0, 1)
    return found


def _interval(run: pd.DataFrame) -> dict:
    """One soiling interval: its Theil-Sen fit if it has more than ``MIN_INTERVAL_DAYS``
    days of data."""
    first, last = int(run["day"].iloc[0]), int(run["day"].iloc[-1])
    data = run[run["pi_norm"] > 0]
    data = data if not data.empty else run
    mean = float(data["pi_norm"].mean())
    row = {
        "start": run.index[0], "length": last - first, "slope": 0.0, "low": 0.0, "high": 0.0,
        "max_neg_step": float(data["delta"].min()), "start_loss": mean, "end_loss": mean,
        "valid": False,
    }  # fmt: skip
    if len(data) > MIN_INTERVAL_DAYS and data["pi_norm"].sum() > 0:
        slope, intercept, low, high = theilslopes(data["pi_norm"], data["day"])
        row |= {
            "slope": slope, "low": low, "high": min(0.0, high),
            "start_loss": intercept + slope * first, "end_loss": intercept + slope * last,
            "valid": True,
        }  # fmt: skip
    return row


def perfect_clean(daily: pd.DataFrame, found: pd.DataFrame) -> pd.Series:
    """date → 1 + days since the interval began × its median rate."""
    run = daily["run"].to_numpy()
    start = pd.DatetimeIndex(found["start"].to_numpy())[run]
    since = (daily.index - start).days.to_numpy()
    return pd.Series(1.0 + since * found["slope"].to_numpy()[run], index=daily.index)


def monte_carlo(daily: pd.DataFrame, found: pd.DataFrame, reps: int, rs) -> np.ndarray:
    """The insolation-weighted soiling ratio of ``reps`` random profiles (RdTools's
    "half_norm_clean": each cleaning restores output to a level drawn from a half-normal
    below 1 whose 3σ is what the data show the cleaning restored)."""
    plan = _Plan.of(found)
    starts = np.empty((reps, len(found)))
    slopes = np.empty((reps, len(found)))
    for rep in range(reps):
        slopes[rep] = rs.uniform(plan.low, plan.high)
        starts[rep] = plan.starts(slopes[rep], rs)
    run = daily["run"].to_numpy()
    first_day = pd.DatetimeIndex(found["start"].to_numpy())[run]
    since = (daily.index - first_day).days.to_numpy()
    insol = daily["insol"].to_numpy()
    losses = starts[:, run] + since * slopes[:, run]
    return (losses * insol).sum(axis=1) / insol.sum()


@dataclass(frozen=True)
class _Plan:
    """The intervals as arrays, for drawing many profiles."""

    low: np.ndarray
    high: np.ndarray
    length: np.ndarray
    recovery: np.ndarray
    valid: np.ndarray
    """Indices of the valid intervals."""
    invalid: np.ndarray
    """Indices of the invalid intervals."""
    firsts: np.ndarray
    """Per group, in draw order: its first interval."""
    sizes: np.ndarray
    previous: np.ndarray
    following: np.ndarray
    """Per interval: the valid interval before / after it (-1: none)."""

    @classmethod
    def of(cls, found: pd.DataFrame) -> _Plan:
        valid = found["valid"].to_numpy()
        group = np.cumsum(valid)
        order = _draw_order(group[~valid])
        members = [np.nonzero(~valid & (group == g))[0] for g in order]
        rows = np.arange(len(found))
        previous = np.maximum.accumulate(np.where(valid, rows, -1))
        following = np.minimum.accumulate(np.where(valid, rows, len(found))[::-1])[::-1]
        return cls(
            found["low"].to_numpy(), found["high"].to_numpy(), found["length"].to_numpy(),
            found["recovery"].fillna(1.0).to_numpy(), np.nonzero(valid)[0],
            np.concatenate(members) if members else np.array([], int),
            np.array([m[0] for m in members], int), np.array([m.size for m in members], int),
            previous, np.where(following == len(found), -1, following),
        )  # fmt: skip

    def starts(self, slopes: np.ndarray, rs) -> np.ndarray:
        """interval → its starting soiling ratio in one random profile."""
        start = np.full(self.length.size, np.nan)
        end = np.full(self.length.size, np.nan)
        level = 1.0
        for i in self.valid:
            start[i] = level
            end[i] = level + slopes[i] * self.length[i]
            restored = min(max(end[i] + self.recovery[i], 0.0), 1.0)
            level = 1 - abs(rs.normal(0.0, (1 - restored) / 3))
        levels = [
            rs.uniform(
                end[self.previous[i]] if self.previous[i] >= 0 else 1.0,
                start[self.following[i]] if self.following[i] >= 0 else 1.0,
            )
            for i in self.firsts
        ]
        start[np.sort(self.invalid)] = np.repeat(levels, self.sizes)
        return start


def _draw_order(groups: np.ndarray) -> list[int]:
    """The invalid intervals' groups in the order RdTools draws their levels (iterating a
    Python set of them: ascending while the group numbers are below the set's table size).
    RdTools then hands the levels to the invalid intervals in the intervals' order, which
    differs from the draws' only when the set is not ascending; this does the same, so that
    the two agree draw for draw."""
    return list(set(groups.tolist()))
