"""Data-quality labels on a day's raw telemetry, per device (pure).

Each reading of a device's day may carry these labels:

- ``stale``: the same power for ``WINDOW`` readings in a row while producing: a logger
  repeating its last value, a frozen sensor. Held at the inverter's limit is clipping.
- ``interpolated``: power changing by the same step for ``WINDOW`` readings while
  producing: a logger that filled a gap with a straight line.
- ``outlier``: beyond what the inverter can make (below ``-RANGE_LOW`` or above
  ``RANGE_HIGH`` of its rating). A reading far from its neighbours within that range is
  not labelled: pvanalytics's Hampel filter (``quality.outliers.hampel``) finds the one
  such outlier of its labelled series only where it flags 5 unlabelled points as well (5
  readings, 4 deviations), and on a day of broken cloud stricter settings (9 readings, 5
  deviations) still labelled 1,894 readings of one township's simulated December day, in
  221 of its devices: power alone cannot tell a passing shadow from a bad reading.
- ``clipped``: held at the inverter's limit (``pvanalytics.features.clipping.geometric``,
  at ``CLIPPING_SHARE`` of the rating or above): a feature of the plant, shown, not bad.
- ``irregular``: a reading whose interval from the previous one is not a whole number of
  the device's usual steps: a clock that jumps, or is set, off its grid. A clock that
  drifts, or is set wrong by whole steps, keeps its step and shows only against the sun:
  ``clock_offsets`` and ``clock_shifts`` below.

Stale and interpolated are pvanalytics's definitions (``quality.gaps.stale_values_diff``
and ``quality.gaps.interpolation_diff`` with ``mark="tail"``), computed here over the whole
fleet at once with numpy's sliding windows because pvanalytics calls Python once per
window: labelling a day of the fleet (718,000 readings) device by device with pvanalytics
took 131 s, against some 10 s for the rest of the daily job, and about 1 s here.
``tests/test_quality.py`` checks that both give the same labels. ``irregular`` is not
``pvanalytics.quality.time.spacing``, which marks every interval other than one step: the
reading after a gap would be bad, whereas a gap is missing data, not a bad reading.

A device's day is labelled only when its readings are at most ``MAX_STEP_S`` apart: the
windows are made for sub-hourly data (the demo's hourly history is not labelled).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pvanalytics.features import clipping

from analytics.day_figures import ZERO_FRACTION
from analytics.profiles import CLIPPING_SHARE
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.localtime import midnight

WINDOW = 6
"""Readings in a row that make a stale or interpolated run (pvanalytics's default)."""
RTOL, ATOL = 1e-5, 1e-8
"""Values this close are the same (``numpy.allclose``, pvanalytics's defaults)."""
RANGE_LOW = 0.01
RANGE_HIGH = 1.1
"""Power below -1 % or above 110 % of the rating is not a reading of that inverter."""
MAX_STEP_S = 900
BAD_LABELS = ("stale", "interpolated", "outlier", "irregular")
LABELS = (*BAD_LABELS, "clipped")
COLUMNS = ("labelled", *LABELS, "bad")
"""Per device: readings labelled, readings with each label, readings with any bad one."""
QUALITY_FIELDS = [f"q_{c}" for c in COLUMNS]
"""The counts as the device's daily rollup keeps them."""
CLOCK_FIELD = "q_clock_min"
"""The device's clock offset of the day (``clock_offsets``) as its daily rollup keeps it."""
CLOCK_RECENT_DAYS = 3
CLOCK_RECENT_WINDOW_DAYS = 10
CLOCK_USUAL_DAYS = 28
CLOCK_MIN_USUAL_DAYS = 7
CLOCK_SHIFT_MIN = 10.0
"""A device whose output comes ``CLOCK_SHIFT_MIN`` earlier or later against its township's
over its last ``CLOCK_RECENT_DAYS`` clear days (their median, all within the last
``CLOCK_RECENT_WINDOW_DAYS``) than over the clear days of the ``CLOCK_USUAL_DAYS`` before
(at least ``CLOCK_MIN_USUAL_DAYS`` of them) has a clock that drifted or was set wrong.
Only clear days count: a plane facing south-west makes its energy later than its peers in
sunshine, and at the same time under an overcast, when all light is diffuse — three
overcast days in a row moved healthy households' offsets by 10 to 15 minutes."""


def device_labels(readings: pd.DataFrame, rated_w: pd.Series) -> pd.DataFrame:
    """device → the counts of ``COLUMNS`` over its day. ``readings``: device, ts (epoch
    seconds), W; ``rated_w``: device → the inverter's rating. Devices whose readings are too
    far apart, too few, or of unknown rating are left out."""
    labels = reading_labels(readings, rated_w)
    if labels.empty:
        return pd.DataFrame(columns=list(COLUMNS), dtype=int)
    bad = labels[list(BAD_LABELS)].any(axis=1)
    counts = labels.assign(labelled=True, bad=bad).groupby(labels["device"]).sum()
    return counts[list(COLUMNS)].astype(int)


def reading_labels(readings: pd.DataFrame, rated_w: pd.Series) -> pd.DataFrame:
    """The labelled devices' readings (device, ts, W) in time order, with a boolean column
    per label."""
    rows = readings[["device", "ts", "W"]].sort_values(["device", "ts"], kind="stable")
    rows = rows.drop_duplicates(["device", "ts"]).reset_index(drop=True)
    rows["rated_w"] = rated_w.reindex(rows["device"]).to_numpy(dtype=float)
    step = rows.groupby("device")["ts"].transform(_usual_step)
    counts = rows.groupby("device")["ts"].transform("size")
    keep = (step <= MAX_STEP_S) & (rows["rated_w"] > 0) & (counts >= 2 * WINDOW)
    rows, step = rows[keep].reset_index(drop=True), step[keep].to_numpy()
    group = pd.factorize(rows["device"])[0]
    power, rated = rows["W"].to_numpy(dtype=float), rows["rated_w"].to_numpy()
    producing = power > ZERO_FRACTION * rated
    rows["clipped"] = _clipped(rows, step)
    on = np.flatnonzero(producing)
    rows["stale"] = _scatter(stale(power[on], group[on]), on, len(rows)) & ~rows["clipped"]
    interpolated = _scatter(interpolation(power[on], group[on]), on, len(rows))
    rows["interpolated"] = interpolated & ~rows["stale"] & ~rows["clipped"]
    rows["outlier"] = (power < -RANGE_LOW * rated) | (power > RANGE_HIGH * rated)
    rows["irregular"] = _off_grid(rows["ts"].to_numpy(), group, step)
    return rows.drop(columns="rated_w")


def stale(x: np.ndarray, group: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """pvanalytics's ``stale_values_diff(x, window, mark="tail")`` within each group."""
    return _backfill(_flat_windows(x, group, window), window - 1)


def interpolation(x: np.ndarray, group: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """pvanalytics's ``interpolation_diff(x, window, mark="tail")`` within each group."""
    step = np.diff(x, prepend=np.nan)
    step[_firsts(group)] = np.nan
    return _backfill(_flat_windows(step, group, window - 1), window - 1)


def _flat_windows(x: np.ndarray, group: np.ndarray, window: int) -> np.ndarray:
    """Ends of the windows, within one group, whose values are all close to their first."""
    out = np.zeros(len(x), dtype=bool)
    if len(x) < window:
        return out
    windows = sliding_window_view(x, window)
    first = windows[:, :1]
    close = np.all(np.abs(windows - first) <= ATOL + RTOL * np.abs(first), axis=1)
    one = group[: len(x) - window + 1] == group[window - 1 :]
    out[window - 1 :] = close & one
    return out


def _backfill(ends: np.ndarray, count: int) -> np.ndarray:
    """Each end marked with the ``count - 1`` values before it (pvanalytics's marking)."""
    out = ends.copy()
    for back in range(1, count):
        out[:-back] |= ends[back:]
    return out


def _scatter(flags: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=bool)
    out[at] = flags
    return out


def _clipped(rows: pd.DataFrame, step: np.ndarray) -> np.ndarray:
    """Clipping by pvanalytics, for the devices that reached the clipping level at all."""
    out = np.zeros(len(rows), dtype=bool)
    limit = rows["W"] >= CLIPPING_SHARE * rows["rated_w"]
    where = rows.groupby("device").indices
    for device in rows.loc[limit, "device"].unique():
        at = where[device]
        index = pd.to_datetime(rows["ts"].to_numpy()[at], unit="s", utc=True)
        power = pd.Series(rows["W"].to_numpy()[at], index=index).clip(lower=0)
        freq = pd.Timedelta(seconds=int(step[at[0]]))
        out[at] = clipping.geometric(power, freq=freq).to_numpy() & limit.to_numpy()[at]
    return out


def _usual_step(ts: pd.Series) -> float:
    """The device's reporting interval [s]: the most common one between its readings."""
    steps = np.diff(ts.to_numpy())
    steps = steps[steps > 0]
    if not steps.size:
        return np.inf
    values, counts = np.unique(steps, return_counts=True)
    return float(values[np.argmax(counts)])


def _off_grid(ts: np.ndarray, group: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Readings whose interval from the device's previous one is not a whole number of its
    steps."""
    gap = np.diff(ts, prepend=ts[:1])
    return ~_firsts(group) & (np.mod(gap, step) != 0)


def _firsts(group: np.ndarray) -> np.ndarray:
    """Each group's first position (groups are contiguous)."""
    return np.diff(group, prepend=np.nan) != 0


def clock_offsets(readings: pd.DataFrame, township_of: pd.Series) -> pd.Series:
    """device → how many minutes after its township's devices its day's output came: the
    power-weighted mean time of its readings against the township's median of the same.
    The sun's path and the day's clouds are the township's, so what is left is the
    device's orientation — the same every day — and its clock. ``readings``: device, ts, W;
    ``township_of``: device → township."""
    rows = readings.loc[readings["W"] > 0, ["device", "ts", "W"]]
    weight = rows["W"].groupby(rows["device"]).sum()
    centroid = (rows["ts"] * rows["W"]).groupby(rows["device"]).sum() / weight
    town = township_of.reindex(centroid.index)
    known = town.notna()
    centroid, town = centroid[known], town[known]
    return ((centroid - centroid.groupby(town).transform("median")) / 60).rename(CLOCK_FIELD)


def on_clear_days(
    offsets: pd.DataFrame, clear: pd.DataFrame, station_of: pd.Series
) -> pd.DataFrame:
    """``offsets`` (date × device) kept on the days its station's township was clear;
    ``clear``: date × station → bool (``analytics.degradation.clear_township_days``)."""
    stations = station_of.reindex(offsets.columns).to_numpy()
    mask = clear.reindex(index=offsets.index, columns=stations).fillna(False)
    return offsets.where(mask.to_numpy(dtype=bool))


def clock_shifts(
    offsets: pd.DataFrame, station_of: pd.Series, day: dt.date, tz: dt.tzinfo
) -> tuple[list[Finding], set[tuple[str, str]]]:
    """Devices whose clock offset moved by ``CLOCK_SHIFT_MIN`` or more. ``offsets``: date ×
    device → ``clock_offsets`` of the clear days up to ``day`` (NaN on the others). Returns
    the findings and the devices evaluated (enough clear days on both sides)."""
    out, evaluated = [], set()
    for device in offsets.columns:
        sides = _clock_sides(offsets[device].dropna(), day)
        if sides is None:
            continue
        evaluated.add((str(FindingKind.CLOCK_SHIFT), str(device)))
        recent, usual = sides
        moved = recent.median() - usual.median()
        if abs(moved) < CLOCK_SHIFT_MIN:
            continue
        evidence = {
            "shift_min": round(float(moved), 1),
            "recent_min": round(float(recent.median()), 1),
            "usual_min": round(float(usual.median()), 1),
            "recent_days": CLOCK_RECENT_DAYS,
            "day": day.isoformat(),
        }
        station = station_of.get(device)
        since = midnight(recent.index[0], tz).astimezone(dt.UTC)
        out.append(
            Finding(
                FindingKind.CLOCK_SHIFT, Subject.DEVICE, str(device), Severity.WARNING, since,
                evidence, None if station is None else str(station),
            )
        )  # fmt: skip
    return out, evaluated


def _clock_sides(days: pd.Series, day: dt.date) -> tuple[pd.Series, pd.Series] | None:
    """A device's recent clear days' offsets and its usual ones before them, when there are
    enough of both. ``days``: date → offset, in date order."""
    recent = days.iloc[-CLOCK_RECENT_DAYS:]
    window_first = day - dt.timedelta(days=CLOCK_RECENT_WINDOW_DAYS - 1)
    if len(recent) < CLOCK_RECENT_DAYS or recent.index[0] < window_first:
        return None
    first = recent.index[0]
    usual_first = first - dt.timedelta(days=CLOCK_USUAL_DAYS)
    usual = days[(days.index < first) & (days.index >= usual_first)]
    if len(usual) < CLOCK_MIN_USUAL_DAYS:
        return None
    return recent, usual


def bad_data(
    counts: pd.DataFrame, station_of: pd.Series, share: float, day: dt.date, tz: dt.tzinfo
) -> tuple[list[Finding], set[tuple[str, str]]]:
    """Devices whose labelled readings of ``day`` were mostly bad (more than ``share``).
    ``counts``: device → the ``QUALITY_FIELDS`` of its day. Returns the findings and the
    devices evaluated (labelled that day)."""
    labelled = counts[counts["q_labelled"] > 0]
    evaluated = {(str(FindingKind.BAD_DATA), str(d)) for d in labelled.index}
    out = []
    since = midnight(day, tz).astimezone(dt.UTC)
    for device, row in labelled.iterrows():
        if row["q_bad"] / row["q_labelled"] <= share:
            continue
        evidence = {
            "share": round(row["q_bad"] / row["q_labelled"], 3),
            "readings": int(row["q_labelled"]),
            **{label: int(row[f"q_{label}"]) for label in BAD_LABELS},
            "day": day.isoformat(),
        }
        station = station_of.get(device)
        out.append(
            Finding(
                FindingKind.BAD_DATA,
                Subject.DEVICE,
                str(device),
                Severity.WARNING,
                since,
                evidence,
                None if station is None else str(station),
            )
        )
    return out, evaluated
