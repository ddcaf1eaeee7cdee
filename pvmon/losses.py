"""What a fault cost (pure): the sum of its station's daily shortfall — expected energy
minus what it made, and that valued at the day's tariff, both computed by the daily job
into the station's rollups — over the local days the fault lasted.

One rule for every reader (an order's page, the bureau's assessment, the overview): a
day's own energy holds only the hours the fault took, so whole days are summed; the sum
is never below zero (a fault does not earn); a day without an expected energy (too few
peers, or not computed yet) is counted as unknown, and said so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from pvmon.localtime import local_day


@dataclass(frozen=True)
class Loss:
    kwh: float
    yuan: float
    days: int
    """The local days the fault spans."""
    unknown_days: int
    """Of those, days with no expected energy: the loss is then a lower bound."""


def fault_span(
    since: dt.datetime, until: dt.datetime | None, now: dt.datetime, tz: dt.tzinfo
) -> tuple[dt.date, dt.date]:
    """The first and last local day of a fault from ``since`` to ``until`` (still going:
    to ``now``)."""
    end = min(until or now, now)
    return local_day(since.timestamp(), tz), local_day(max(end, since).timestamp(), tz)


def fault_loss(days: pd.DataFrame, first: dt.date, last: dt.date) -> Loss:
    """``days``: one station's rollups — date, shortfall_kwh, shortfall_yuan."""
    return loss_over(days, span_days(first, last))


def span_days(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}


def loss_over(days: pd.DataFrame, dates: set[dt.date]) -> Loss:
    """The loss over some of one station's days (the union of its faults' days, so that two
    alerts about the same outage do not count it twice)."""
    known = days[days["date"].isin(dates) & days["shortfall_kwh"].notna()]
    return Loss(
        kwh=max(0.0, float(known["shortfall_kwh"].sum())),
        yuan=max(0.0, float(known["shortfall_yuan"].fillna(0.0).sum())),
        days=len(dates),
        unknown_days=len(dates) - known["date"].nunique(),
    )
