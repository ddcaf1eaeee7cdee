"""Local days (DESIGN §3: days, months and years are local time everywhere): the one place
that turns a local day into instants and an instant into its local day. A daily total
computed in UTC is a bug."""

from __future__ import annotations

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
