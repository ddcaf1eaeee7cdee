"""Losses confined to some hours of the day — a tree in the morning sun, a roof's shadow in
the evening, a string that drops out in the heat — which a daily total hides (pure).

On a clear day each station's energy in each hour is divided by the clear-sky insolation on
its own plane that hour (its orientation taken out), then by the median of its peers' (the
weather and the season taken out), then by its own median over the day's hours (its level
taken out: a shortfall over the whole day is the underperformance check's). What is left,
the day's *shape*, is near 1 in every hour for a station that loses nothing at particular
hours. Over the recent clear days, a run of hours whose median shape stays well below 1 is
a loss confined to those hours; what it costs is what the station would have made in them
at the shape of its other hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.day_figures import MIN_PEERS
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.localtime import midnight

BRIGHT_CSI = 0.35
"""A day counts when its township's stations made at least this share of their clear-sky
insolation (median clear-sky index): under a uniform overcast all light is diffuse, and the
planes' hours no longer compare through the clear-sky model."""
CLEAR_HOUR_SHARE = 0.5
"""An hour counts when the peers made at least this share of their best hour's ratio to the
clear sky that day: a passing cloud takes the hour out for the whole township."""
MIN_INSOLATION_SHARE = 0.2
"""Hours whose clear-sky insolation on the station's plane is below this share of its
brightest hour's are not judged: near sunrise and sunset every ratio is noise."""
CLIPPING_SHARE = 0.9
"""An hour in which the inverters averaged above this share of their rating was clipped:
its loss is the inverter's limit, not the array's, and it is not judged."""
MIN_HOURS = 4
"""A station-day needs this many judged hours for its own median to mean something."""
PROFILE_DAYS = 30
"""The window in which a station's recent judged days are looked for."""
PROFILE_JUDGED_DAYS = 7
"""A station's profile is the median of its last this many judged days in the window: a
week of sunshine finds a new shade, a cloudy fortnight keeps the profile it had."""
MIN_PROFILE_DAYS = 5
"""Judged days an hour needs among them before it is judged."""
PROFILE_MARGIN = 0.12
"""An hour is low when its median shape is this far below 1."""
MIN_RUN_HOURS = 2
MIN_LOSS_SHARE = 0.02
"""A run of low hours is a finding when it costs at least this share of the station's
energy on a clear day."""
HOURS = 24


def field(prefix: str, hour: int) -> str:
    """The stored field of one hour: ``s07`` (shape), ``e07`` (kWh)."""
    return f"{prefix}{hour:02d}"


SHAPE_FIELDS = [field("s", h) for h in range(HOURS)]
ENERGY_FIELDS = [field("e", h) for h in range(HOURS)]


def bright_days(csi: pd.Series, stations: pd.DataFrame) -> pd.Series:
    """station → its township's day was bright enough to judge hours in (median clear-sky
    index ≥ ``BRIGHT_CSI``)."""
    median = csi.groupby(stations["township_id"].reindex(csi.index)).transform("median")
    return median >= BRIGHT_CSI


def day_shapes(
    hour_kwh: pd.DataFrame,
    reference: pd.DataFrame,
    stations: pd.DataFrame,
    rated_kw: pd.Series,
    judged: pd.Series,
) -> pd.DataFrame:
    """station × hour → the day's shape (NaN where not judged).

    ``hour_kwh``: station × hour, energy made; ``reference``: station × hour, clear-sky
    insolation on its plane [kWh/m²]; ``stations``: township_id, peer_group,
    capacity_kwp, tilt_deg, azimuth_deg; ``rated_kw``: the inverters' rating per station;
    ``judged``: station → its day counts (bright, fully reported, without fault)."""
    index, hours = stations.index, reference.columns
    energy = hour_kwh.reindex(index=index, columns=hours).fillna(0.0)
    insolation = reference.reindex(index=index, columns=hours)
    bright = insolation.ge(MIN_INSOLATION_SHARE * insolation.max(axis=1), axis=0)
    clipped = energy.ge(CLIPPING_SHARE * rated_kw.reindex(index), axis=0)
    counts = judged.reindex(index, fill_value=False).astype(bool)
    usable = (bright & ~clipped).mul(counts, axis=0).astype(bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (energy.div(stations["capacity_kwp"], axis=0) / insolation).where(usable)
    keys = [stations["township_id"], stations["peer_group"]]
    township = ratio.groupby(keys).transform("median")
    clear = township.ge(CLEAR_HOUR_SHARE * township.max(axis=1), axis=0)
    peers = nearest_peers_median(ratio, stations)
    relative = (ratio / peers).where(clear & (peers > 0))
    level = relative.median(axis=1).where(relative.notna().sum(axis=1) >= MIN_HOURS)
    return relative.div(level, axis=0)


NEIGHBOURS = 8
"""A station's hours are compared with those of the stations of its township whose planes
face most nearly the same way: the clear-sky model's error differs with the orientation (a
plane facing south-east gains in the morning what the model does not quite give it), and
cancels between planes that share it."""
OTHER_KIND_DEG = 10.0
"""A peer of the other kind (a roof for a ground-mounted array) counts as this many degrees
further away: the same kind is preferred where the planes face alike."""


def nearest_peers_median(ratio: pd.DataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    """station × hour → the median of its ``NEIGHBOURS`` nearest peers' (by tilt and
    azimuth, in its township), where at least ``MIN_PEERS`` of them count."""
    out = pd.DataFrame(np.nan, index=ratio.index, columns=ratio.columns)
    values = ratio.to_numpy(dtype=float)
    for members in stations.groupby("township_id").indices.values():
        if len(members) <= MIN_PEERS:
            continue
        nearest = _nearest(stations.iloc[members])
        around = values[members][nearest]
        enough = np.isfinite(around).sum(axis=1) >= MIN_PEERS
        filled = np.where(enough[:, None, :], around, 0.0)
        median = np.where(enough, np.nanmedian(filled, axis=1), np.nan)
        out.iloc[members] = median
    return out


def _nearest(plane: pd.DataFrame) -> np.ndarray:
    """Each member's nearest others (positions within ``plane``), nearest first."""
    azimuth, tilt = plane["azimuth_deg"].to_numpy(), plane["tilt_deg"].to_numpy()
    turn = np.abs(azimuth[:, None] - azimuth)
    distance = np.minimum(turn, 360 - turn) + np.abs(tilt[:, None] - tilt)
    group = plane["peer_group"].to_numpy()
    distance = distance + OTHER_KIND_DEG * (group[:, None] != group)
    np.fill_diagonal(distance, np.inf)
    return np.argsort(distance, axis=1)[:, : min(NEIGHBOURS, len(plane) - 1)]


@dataclass(frozen=True)
class LowHours:
    first: int
    last: int
    """The run's hours of the local day, ``first`` to ``last`` inclusive."""
    shape: float
    """The run's median shape (its worst hour's)."""
    lost_kwh: float
    """What the run costs on a typical clear day."""
    share: float
    """That, as a share of the station's energy on such a day."""

    @property
    def label(self) -> str:
        return f"{self.first:02d}:00–{self.last + 1:02d}:00"


def low_runs(days: pd.DataFrame) -> list[LowHours]:
    """The runs of low hours in one station's recent clear days (date and the ``s``/``e``
    fields), with what each costs."""
    shapes = days[SHAPE_FIELDS].to_numpy(dtype=float)
    energy = np.nan_to_num(days[ENERGY_FIELDS].to_numpy(dtype=float))
    counted = np.isfinite(shapes).sum(axis=0) >= MIN_PROFILE_DAYS
    with np.errstate(all="ignore"):
        profile = np.where(counted, np.nanmedian(np.where(counted, shapes, 1.0), axis=0), np.nan)
        lost = np.where(np.isfinite(shapes) & (shapes > 0), energy * (1 / shapes - 1), 0.0)
    low = np.isfinite(profile) & (profile <= 1 - PROFILE_MARGIN)
    day_kwh = float(np.median(energy.sum(axis=1))) if len(energy) else 0.0
    runs = []
    for first, last in _runs(low):
        span = slice(first, last + 1)
        lost_kwh = float(np.median(lost[:, span].sum(axis=1)))
        share = lost_kwh / (day_kwh + lost_kwh) if day_kwh + lost_kwh > 0 else 0.0
        if last - first + 1 >= MIN_RUN_HOURS and share >= MIN_LOSS_SHARE:
            shape = float(np.min(profile[span]))
            runs.append(LowHours(first, last, shape, lost_kwh, share))
    return runs


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) of each run of True."""
    out, start = [], None
    for i, flag in enumerate([*flags.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            out.append((start, i - 1))
            start = None
    return out


def profile_losses(
    history: pd.DataFrame, today: dt.date, tz: dt.tzinfo
) -> tuple[list[Finding], set[tuple[str, str]]]:
    """``history``: date, station_id and the ``s``/``e`` fields of the stations' judged
    days up to ``today``. Returns findings and the stations evaluated (enough clear days)."""
    since = today - dt.timedelta(days=PROFILE_DAYS - 1)
    recent = history[(history["date"] >= since) & (history["date"] <= today)]
    out: list[Finding] = []
    evaluated: set[tuple[str, str]] = set()
    for station, judged in recent.sort_values("date").groupby("station_id"):
        days = judged.tail(PROFILE_JUDGED_DAYS)
        if len(days) < MIN_PROFILE_DAYS:
            continue
        evaluated.add((str(FindingKind.PROFILE_LOSS), str(station)))
        runs = low_runs(days)
        if runs:
            out.append(_finding(str(station), days, runs, tz))
    return out, evaluated


def _finding(station: str, days: pd.DataFrame, runs: list[LowHours], tz: dt.tzinfo) -> Finding:
    worst = min(runs, key=lambda r: r.shape)
    first_low = _first_low_day(days, worst)
    lost = sum(r.lost_kwh for r in runs)
    return Finding(
        FindingKind.PROFILE_LOSS,
        Subject.STATION,
        station,
        Severity.WARNING,
        midnight(first_low, tz).astimezone(dt.UTC),
        {
            "hours": ", ".join(r.label for r in runs),
            "runs": [
                {
                    "hours": r.label,
                    "shape": round(r.shape, 3),
                    "lost_kwh": round(r.lost_kwh, 2),
                    "share": round(r.share, 3),
                }
                for r in runs
            ],
            "lost_kwh_per_clear_day": round(lost, 2),
            "share": round(sum(r.share for r in runs), 3),
            "clear_days": len(days),
        },
        station,
    )


def _first_low_day(days: pd.DataFrame, run: LowHours) -> dt.date:
    """The first of the recent clear days on which the run's hours were low."""
    span = [field("s", h) for h in range(run.first, run.last + 1)]
    low = days[span].median(axis=1) <= 1 - PROFILE_MARGIN
    return days.loc[low, "date"].min() if low.any() else days["date"].min()
