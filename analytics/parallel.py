"""Many units of work at once, on every core: the service's worker processes each take
units (``analytics.work``) exactly as another analytics process on another machine would.

Each worker process opens its own stores (connections do not survive a fork) and reads
only the part of the registry of the county it takes, never a province's whole registry.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from analytics.context import Analytics
from analytics.work import RUN_DAYS, PartOutcome, holder_name, work
from pvmon.settings import Settings
from pvmon.stores import open_database, open_influx

_worker: Analytics | None = None


def _open_worker(settings: Settings) -> None:
    global _worker  # noqa: PLW0603 - one Analytics per worker process, made at its start
    _worker = Analytics.open(settings, open_database(settings), open_influx(settings), whole=False)


def _work(due: Sequence[dt.date]) -> list[PartOutcome]:
    assert _worker is not None
    return work(_worker, holder_name(), due, RUN_DAYS)


def work_parallel(settings: Settings, due: Sequence[dt.date], workers: int) -> list[PartOutcome]:
    """What ``workers`` processes computed of the units of ``due`` until none was left."""
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_open_worker, initargs=(settings,)
    ) as pool:
        runs = [pool.submit(_work, list(due)) for _ in range(workers)]
        return [outcome for run in runs for outcome in run.result()]
