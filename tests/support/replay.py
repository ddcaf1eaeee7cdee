"""Real measured power from NREL's SERF East system (shipped in the pvanalytics wheel),
moved onto recent days with each reading's local clock time kept, and its daily energy by
the trapezoid rule: what a replay through the gateway is compared with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.resources import files
from itertools import pairwise

import pandas as pd


@dataclass(frozen=True)
class Sample:
    ts: int
    """Epoch seconds on the target day, at the reading's own local clock time."""
    w: float
    day: dt.date
    """The target local day."""


def nrel_power(name: str) -> pd.Series:
    """AC power [W] of one of pvanalytics's SERF East files, indexed by its own local time
    (the file's fixed offset, −07:00)."""
    path = files("pvanalytics") / "data" / name
    frame = pd.read_csv(str(path), index_col=0)
    index = pd.DatetimeIndex([dt.datetime.fromisoformat(t) for t in frame.index])
    return pd.Series(frame.iloc[:, 0].to_numpy(dtype=float), index=index)


def moved(power: pd.Series, days: int, last: dt.date, tz: dt.tzinfo) -> list[Sample]:
    """The series' first ``days`` local days, the last of them on ``last``, in ``tz``."""
    source_days = sorted({t.date() for t in power.index})[:days]
    shift = {d: last - dt.timedelta(days=days - 1 - n) for n, d in enumerate(source_days)}
    return [
        Sample(
            int(dt.datetime.combine(shift[t.date()], t.time(), tz).timestamp()), w, shift[t.date()]
        )
        for t, w in power.items()
        if t.date() in shift
    ]


def produced_wh(w_before: float, w_after: float, seconds: float) -> float:
    """What an inverter's yield counter adds between two readings: the trapezoid of the
    power it delivers (its night-time draw counts nothing)."""
    return (max(w_before, 0.0) + max(w_after, 0.0)) / 2 * seconds / 3600


def daily_kwh(samples: list[Sample]) -> dict[dt.date, float]:
    """Each target day's energy, the trapezoid over its own consecutive readings."""
    out: dict[dt.date, float] = {}
    for a, b in pairwise(samples):
        if a.day == b.day:
            out[a.day] = out.get(a.day, 0.0) + produced_wh(a.w, b.w, b.ts - a.ts) / 1000
    return out
