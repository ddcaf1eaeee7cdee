"""Local days (DESIGN §3: days, months and years are local time everywhere): the one place
that turns a local day into instants and an instant into its local day. A daily total
computed in UTC is a bug."""

from __future__ import annotations

import calendar
import datetime as dt


def midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The local midnight that starts ``day``."""
    return dt.datetime.combine(day, dt.time(0), tz)


def day_start(day: dt.date, tz: dt.tzinfo) -> int:
    """Epoch seconds of the local midnight that starts ``day``."""
    return int(midnight(day, tz).timestamp())


def day_bounds(day: dt.date, tz: dt.tzinfo) -> tuple[int, int]:
    """Epoch seconds of ``day``'s local start and of the next day's (the end, exclusive)."""
    return day_start(day, tz), day_start(day + dt.timedelta(days=1), tz)


def local_day(moment: dt.datetime | float, tz: dt.tzinfo) -> dt.date:
    """The local day an aware moment, or epoch seconds, falls on."""
    if isinstance(moment, dt.datetime):
        return moment.astimezone(tz).date()
    return dt.datetime.fromtimestamp(moment, tz).date()


def utc(epoch: float) -> dt.datetime:
    """Epoch seconds as an aware UTC moment."""
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


def utc_now() -> dt.datetime:
    """Now, as an aware UTC moment (the clock every process passes in by default)."""
    return dt.datetime.now(dt.UTC)


MONTH_PATTERN = r"^(19|20)\d\d-(0[1-9]|1[0-2])$"
"""A local month as the system writes it: ``YYYY-MM``."""


def month_of(day: dt.date) -> str:
    """The local month ``YYYY-MM`` a local day falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The first and last local day of ``YYYY-MM``."""
    year, number = (int(part) for part in month.split("-"))
    return dt.date(year, number, 1), dt.date(year, number, calendar.monthrange(year, number)[1])


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (none if ``last`` is earlier)."""
    out = []
    year, number = (int(part) for part in first.split("-"))
    while (month := f"{year:04d}-{number:02d}") <= last:
        out.append(month)
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return out


def month_add(month: str, count: int) -> str:
    """The month ``count`` months after ``month`` (before it, for a negative count)."""
    year, number = (int(part) for part in month.split("-"))
    index = year * 12 + number - 1 + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def moment_of(text: str) -> dt.datetime:
    """An RFC 3339 time with its offset (``2026-06-01T08:00:00+08:00``); ``ValueError``
    without one — a time without an offset means nothing here."""
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a time needs its UTC offset, e.g. 2026-06-01T08:00:00+08:00: {text!r}")
    return moment
