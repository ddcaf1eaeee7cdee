"""Ingest's state as operators see it: counters summed over the live workers, and the
loggers online. Ingest's public module: read by ``pvmon up``'s status line, the API and
``/metrics``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from pvmon.db import tables
from pvmon.db.engine import session_factory

LIVE_WORKER_S = 30.0
"""A worker whose heartbeat is older than this is not counted (it stopped or crashed)."""


@dataclass
class Status:
    received: int = 0
    stored: int = 0
    rejected: int = 0
    workers: int = 0
    loggers_online: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    write_retries: int = 0
    spool_points: int = 0
    """Points held on disk because InfluxDB was away, waiting to be replayed."""
    spool_bytes: int = 0


def read_status(engine: Engine) -> Status:
    """Ingest's counters summed over live workers, and the loggers reported online."""
    status = Status()
    cutoff = time.time() - LIVE_WORKER_S
    with session_factory(engine)() as session:
        for worker in session.scalars(select(tables.IngestWorker)):
            if worker.heartbeat_at.timestamp() < cutoff:
                continue
            counters = worker.counters
            status.workers += 1
            status.received += int(counters.get("received", 0))
            status.stored += int(counters.get("points_written", 0))
            for reason, count in counters.get("rejected", {}).items():
                status.rejected += int(count)
                status.rejected_by_reason[reason] = status.rejected_by_reason.get(reason, 0) + int(
                    count
                )
            status.write_retries += int(counters.get("write_retries", 0))
            status.spool_points += int(counters.get("spool_points", 0))
            status.spool_bytes += int(counters.get("spool_bytes", 0))
        status.loggers_online = (
            session.scalar(
                select(func.count())
                .select_from(tables.LoggerStatus)
                .where(tables.LoggerStatus.online.is_(True))
            )
            or 0
        )
    return status
