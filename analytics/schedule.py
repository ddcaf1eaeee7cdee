"""What is due, from a clock passed in (pure): tests move time instead of sleeping.

A day's rollups are due once the day's run time (after sunset) has passed, once; again if
late data arrived for it after it was computed (store-and-forward). A month's statements
are due once the month is over. Days missed while the service was down are simply still
due when it comes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping


def days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def last_due_day(now_local: dt.datetime, run_at: dt.time) -> dt.date:
    """Today once its run time has passed, else yesterday."""
    today = now_local.date()
    return today if now_local.time() >= run_at else today - dt.timedelta(days=1)


def daily_due(
    now_local: dt.datetime,
    run_at: dt.time,
    first: dt.date,
    done: Mapping[str, dt.datetime],
    late: Mapping[dt.date, dt.datetime],
) -> list[dt.date]:
    """Days never computed, or whose last computation started before late data for them
    was stored (``done`` maps a day to that start), newest first: the days people look at
    first are ready first. A day before ``first`` is due too once data for it are stored
    late (the demo's history fills the year in backwards)."""
    last = last_due_day(now_local, run_at)
    candidates = set(days(first, last)) | {day for day in late if day <= last}
    due = []
    for day in candidates:
        started = done.get(day.isoformat())
        if started is None or (day in late and late[day] >= started):
            due.append(day)
    return sorted(due, reverse=True)


def monthly_due(
    now_local: dt.datetime, first: dt.date, done: Mapping[str, dt.datetime]
) -> list[tuple[int, int]]:
    """Months that are over and have no statements yet."""
    due = []
    year, month = first.year, first.month
    while (year, month) < (now_local.year, now_local.month):
        if f"{year}-{month:02d}" not in done:
            due.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return due
