"""A service that does one thing every so many seconds until it is stopped (the
maintenance and finance services): APScheduler's blocking scheduler, a missed tick
coalesced, never two at once, the first at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger


def tick_forever(name: str, every_s: float, timezone: str, tick: Callable[[], None]) -> None:
    """Run ``tick`` now and every ``every_s`` seconds until interrupted."""
    log = structlog.get_logger(name)
    tz = ZoneInfo(timezone)
    scheduler = BlockingScheduler(timezone=tz)
    scheduler.add_job(
        tick,
        IntervalTrigger(seconds=every_s),
        coalesce=True,
        max_instances=1,
        next_run_time=dt.datetime.now(tz),
    )
    log.info(f"{name}_started", tick_s=every_s)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info(f"{name}_stopped")
