"""Make a batch durable: points into InfluxDB, rejects and shared state into the relational
store. Only after both succeed may the batch's messages be acknowledged to the broker."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import structlog
from sqlalchemy import case
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ingest.batch import Batch
from ingest.counters import Counters
from ingest.parse import Rejection
from pvmon.db import tables
from pvmon.db.upsert import greatest, upsert
from pvmon.influx.client import InfluxClient, InfluxRejected, InfluxUnavailable
from pvmon.telemetry import Reason

log = structlog.get_logger(__name__)
T = TypeVar("T")


class Stopping(Exception):
    """Shutdown was requested while a batch was still waiting for a store; it stays unacked."""


def _utc(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.UTC)


class Sink:
    def __init__(
        self,
        influx: InfluxClient,
        sessions: sessionmaker[Session],
        worker_id: str,
        counters: Counters,
        stop: threading.Event,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.influx = influx
        self.sessions = sessions
        self.worker_id = worker_id
        self.counters = counters
        self.stop = stop
        self.max_backoff_s = max_backoff_s

    def write(self, batch: Batch) -> None:
        """Store everything in the batch, retrying temporary failures until done or stopped."""
        started = time.monotonic()
        self._write_lines(batch, list(range(len(batch.lines))))
        self.counters.add(write_seconds=time.monotonic() - started, writes=1)
        self._retry("relational store", lambda: self._write_state(batch))

    def _write_lines(self, batch: Batch, indices: list[int]) -> None:
        """Write; on a permanent refusal, split the lines to find and dead-letter the bad ones."""
        if not indices:
            return
        try:
            self._retry("InfluxDB", lambda: self.influx.write([batch.lines[i] for i in indices]))
        except InfluxRejected as exc:
            if len(indices) == 1:
                batch.reject_line(indices[0], Rejection(Reason.STORE_REJECTED, str(exc)[:500]))
                log.warning(
                    "influx_refused_point", line=batch.lines[indices[0]][:200], error=str(exc)[:200]
                )
                return
            middle = len(indices) // 2
            self._write_lines(batch, indices[:middle])
            self._write_lines(batch, indices[middle:])

    def _retry(self, what: str, action: Callable[[], T]) -> T:
        delay = 0.5
        while True:
            try:
                return action()
            except (InfluxUnavailable, DBAPIError) as exc:
                if isinstance(exc, DBAPIError) and not _is_transient(exc):
                    raise
                self.counters.add(write_retries=1)
                log.warning("store_unavailable", store=what, retry_in_s=delay, error=str(exc)[:300])
                if self.stop.wait(delay):
                    raise Stopping(what) from exc
                delay = min(self.max_backoff_s, delay * 2)

    def _write_state(self, batch: Batch) -> None:
        with self.sessions.begin() as session:
            self._dead_letters(session, batch)
            self._logger_states(session, batch)
            self._devices(session, batch)
            self._late_days(session, batch)

    def _dead_letters(self, session: Session, batch: Batch) -> None:
        if not batch.rejected:
            return
        rows = []
        for index, rejection in batch.rejected:
            message = batch.messages[index]
            rows.append(
                {
                    "received_at": _utc(message.received_at),
                    "worker_id": self.worker_id,
                    "topic": message.topic,
                    "payload": message.payload,
                    "reason": str(rejection.reason),
                    "detail": rejection.detail,
                    "station_id": rejection.station,
                    "device_id": rejection.device,
                }
            )
        session.execute(tables.DeadLetter.__table__.insert(), rows)

    @staticmethod
    def _logger_states(session: Session, batch: Batch) -> None:
        rows = [
            {"station_id": station, "online": online, "since": _utc(at), "updated_at": _utc(at)}
            for station, (online, at) in batch.logger_states.items()
        ]
        upsert(
            session,
            tables.LoggerStatus.__table__,
            rows,
            ["station_id"],
            lambda t, new: {
                "online": new.online,
                "since": case((t.c.online != new.online, new.since), else_=t.c.since),
                "updated_at": new.updated_at,
            },
        )

    @staticmethod
    def _devices(session: Session, batch: Batch) -> None:
        rows = [
            {
                "device_id": device,
                "station_id": seen.station,
                "last_ts": _utc(seen.last_ts),
                "last_received_at": _utc(seen.received_at),
            }
            for device, seen in batch.devices_seen.items()
        ]
        upsert(
            session,
            tables.DeviceStatus.__table__,
            rows,
            ["device_id"],
            lambda t, new: {
                "station_id": new.station_id,
                "last_ts": greatest(session, t.c.last_ts, new.last_ts),
                "last_received_at": new.last_received_at,
            },
        )

    @staticmethod
    def _late_days(session: Session, batch: Batch) -> None:
        """Days that received data after they ended. ``last_seen_at`` is stamped now, after
        the points are in InfluxDB: a day computation that started before this moment may
        have missed them, one that started after cannot have."""
        stored_at = _utc(time.time())
        rows = [
            {
                "station_id": station,
                "day": day,
                "first_seen_at": _utc(at),
                "last_seen_at": stored_at,
            }
            for (station, day), at in batch.late_days.items()
        ]
        upsert(
            session,
            tables.LateDay.__table__,
            rows,
            ["station_id", "day"],
            lambda t, new: {"last_seen_at": greatest(session, t.c.last_seen_at, new.last_seen_at)},
        )


def _is_transient(exc: DBAPIError) -> bool:
    """Connection loss and lock timeouts pass; a constraint or syntax error will not."""
    return exc.connection_invalidated or isinstance(exc, OperationalError)
