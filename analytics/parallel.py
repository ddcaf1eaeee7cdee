"""Catching up on many days at once, on every core.

Each worker process opens its own stores (connections do not survive a fork) and computes
a run of consecutive days, so that each day can start from the last readings of the day
before without asking InfluxDB again. The parent records the outcome of every day.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor

from analytics.context import Analytics
from analytics.rollups import DayOutcome, compute_days
from pvmon.settings import Settings
from pvmon.stores import open_database, open_influx

CHUNK_DAYS = 7

_worker: Analytics | None = None


def _open_worker(settings: Settings) -> None:
    global _worker  # noqa: PLW0603 - one Analytics per worker process, made at its start
    _worker = Analytics.open(settings, open_database(settings), open_influx(settings))


def compute_run(days: Sequence[tuple[dt.date, bool]]) -> list[DayOutcome]:
    assert _worker is not None
    return compute_days(_worker, days)


def compute_parallel(
    settings: Settings, days: Sequence[tuple[dt.date, bool]], workers: int
) -> Iterator[list[DayOutcome]]:
    """Runs of days, in order of submission (each run in date order, so that a day starts
    from the day before's last readings), as the workers finish them."""
    chunks = [sorted(days[i : i + CHUNK_DAYS]) for i in range(0, len(days), CHUNK_DAYS)]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_open_worker, initargs=(settings,)
    ) as pool:
        yield from pool.map(compute_run, chunks)
