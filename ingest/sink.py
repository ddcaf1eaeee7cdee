"""Make a batch durable: points into InfluxDB — or into the disk spool while InfluxDB is
away, slow, or still owed older points — and rejects and shared state into the relational
store. Only after both succeed may the batch's messages be acknowledged to the broker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from sqlalchemy import case
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ingest.batch import Batch, DeviceSeen
from ingest.counters import Counters
from ingest.deadletter import DeadLetterRows
from ingest.late import stamp_late
from ingest.parse import Rejection
from ingest.spool import Spool, SpoolEntry
from pvmon.db import tables
from pvmon.db.upsert import greatest, upsert
from pvmon.influx.client import InfluxRejected, InfluxUnavailable
from pvmon.localtime import utc
from pvmon.telemetry import Reason

log = structlog.get_logger(__name__)
T = TypeVar("T")
SPOOL_FULL_WAIT_S = 0.5


class Stopping(Exception):
    """Shutdown was requested while a batch was still waiting for a store; it stays unacked."""


@dataclass
class WriteOutcome:
    refused: list[tuple[int, str]] = field(default_factory=list)
    """Lines the store refused for good, with its answer."""
    unwritten: list[int] = field(default_factory=list)
    """Lines not written because the store stopped answering (``error`` says how)."""
    error: str | None = None


def write_splitting(write: Callable[[Sequence[str]], None], lines: Sequence[str]) -> WriteOutcome:
    """Write ``lines`` in one request; when the store refuses the request, halve it until
    the refused lines are found, so that one bad line never costs the good ones (DESIGN §3).
    Stops at the first sign that the store is unavailable, reporting what is still owed."""
    outcome = WriteOutcome()
    ranges = [(0, len(lines))] if lines else []
    while ranges:
        lo, hi = ranges.pop()
        try:
            write(lines[lo:hi])
        except InfluxRejected as exc:
            if hi - lo == 1:
                outcome.refused.append((lo, str(exc)[:500]))
            else:
                middle = (lo + hi) // 2
                ranges += [(middle, hi), (lo, middle)]
        except InfluxUnavailable as exc:
            outcome.error = str(exc)[:300]
            outcome.unwritten = [i for a, b in [(lo, hi), *reversed(ranges)] for i in range(a, b)]
            return outcome
    return outcome


def retry_transient(
    what: str, action: Callable[[], T], counters: Counters, stop: threading.Event, max_s: float
) -> T:
    """Run ``action`` until it succeeds, waiting out a relational store that is away."""
    delay = 0.5
    while True:
        try:
            return action()
        except DBAPIError as exc:
            if not _is_transient(exc):
                raise
            counters.add(write_retries=1)
            log.warning("store_unavailable", store=what, retry_in_s=delay, error=str(exc)[:300])
            if stop.wait(delay):
                raise Stopping(what) from exc
            delay = min(max_s, delay * 2)


class Sink:
    def __init__(
        self,
        influx_write: Callable[[Sequence[str]], None],
        sessions: sessionmaker[Session],
        spool: Spool,
        dead_letters: DeadLetterRows,
        counters: Counters,
        stop: threading.Event,
        max_backoff_s: float = 30.0,
        device_status_every_s: float = 0.0,
    ) -> None:
        self.influx_write = influx_write
        self.sessions = sessions
        self.spool = spool
        self.dead_letters = dead_letters
        self.counters = counters
        self.stop = stop
        self.max_backoff_s = max_backoff_s
        self.device_status_every_s = device_status_every_s
        self._devices_seen: dict[str, DeviceSeen] = {}
        self._devices_written_at = float("-inf")

    def write(self, batch: Batch) -> int:
        """Make the batch durable; returns how many of its points went to the spool.

        While the spool holds anything, new points queue behind it, so that InfluxDB
        receives every point in the order ingest received it."""
        owed = list(range(len(batch.lines)))
        if self.spool.is_empty():
            started = time.monotonic()
            outcome = write_splitting(self.influx_write, batch.lines)
            self.counters.add(write_seconds=time.monotonic() - started, writes=1)
            for index, error in outcome.refused:
                batch.reject_line(index, Rejection(Reason.STORE_REJECTED, error))
                log.warning("influx_refused_point", line=batch.lines[index][:200], error=error)
            owed = outcome.unwritten
            if outcome.error:
                self.counters.add(write_retries=1)
                log.warning("influx_unavailable_spooling", points=len(owed), error=outcome.error)
        if owed:
            self._spool(batch, owed)
        self._remember_devices(batch)
        retry_transient(
            "relational store",
            lambda: self._write_state(batch, stamp_late_days=not owed),
            self.counters,
            self.stop,
            self.max_backoff_s,
        )
        retry_transient(
            "relational store", self._write_devices, self.counters, self.stop, self.max_backoff_s
        )
        return len(owed)

    def _spool(self, batch: Batch, owed: list[int]) -> None:
        entry = SpoolEntry(
            lines=[batch.lines[i] for i in owed],
            topics=[batch.messages[batch.line_owner[i]].topic for i in owed],
            late_days=[(s, day, at) for (s, day), at in batch.late_days.items()],
        )
        warned = False
        while not self.spool.append(entry):
            self.counters.add(spool_full_waits=1)
            if not warned:
                log.warning("spool_full_not_acknowledging", depth=self.spool.depth.bytes)
                warned = True
            if self.stop.wait(SPOOL_FULL_WAIT_S):
                raise Stopping("spool full")
        self.counters.add(points_spooled=len(entry.lines))

    def flush_devices(self) -> None:
        """Write the device liveness still held back (at shutdown)."""
        self._devices_written_at = float("-inf")
        retry_transient(
            "relational store", self._write_devices, self.counters, self.stop, self.max_backoff_s
        )

    def _remember_devices(self, batch: Batch) -> None:
        for device, seen in batch.devices_seen.items():
            known = self._devices_seen.get(device)
            self._devices_seen[device] = (
                seen
                if known is None
                else DeviceSeen(
                    seen.station,
                    max(seen.last_ts, known.last_ts),
                    max(seen.received_at, known.received_at),
                )
            )

    def _write_state(self, batch: Batch, *, stamp_late_days: bool) -> None:
        with self.sessions.begin() as session:
            self._dead_letters(session, batch)
            self._logger_states(session, batch)
            if stamp_late_days:
                stamp_late(session, [(s, d, at) for (s, d), at in batch.late_days.items()])

    def _write_devices(self) -> None:
        """Device liveness, at most every ``device_status_every_s``: it answers "silent for
        days?", and writing all the fleet's devices with every batch cost ingest a third of
        its time (profiled). A crash loses at most that interval of liveness updates, which
        the devices' next readings renew."""
        now = time.monotonic()
        if not self._devices_seen or now - self._devices_written_at < self.device_status_every_s:
            return
        with self.sessions.begin() as session:
            self._devices(session, self._devices_seen)
        self._devices_seen = {}
        self._devices_written_at = now

    def _dead_letters(self, session: Session, batch: Batch) -> None:
        if not batch.rejected:
            return
        rows = []
        for index, rejection in batch.rejected:
            message = batch.messages[index]
            rows.append(
                self.dead_letters.row(
                    utc(message.received_at),
                    message.topic,
                    message.payload,
                    str(rejection.reason),
                    rejection.detail,
                    rejection.station,
                    rejection.device,
                )
            )
        session.execute(tables.DeadLetter.__table__.insert(), rows)

    @staticmethod
    def _logger_states(session: Session, batch: Batch) -> None:
        rows = [
            {"station_id": station, "online": online, "since": utc(at), "updated_at": utc(at)}
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
    def _devices(session: Session, devices: dict[str, DeviceSeen]) -> None:
        rows = [
            {
                "device_id": device,
                "station_id": seen.station,
                "last_ts": utc(seen.last_ts),
                "last_received_at": utc(seen.received_at),
            }
            for device, seen in devices.items()
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


def _is_transient(exc: DBAPIError) -> bool:
    """Connection loss and lock timeouts pass; a constraint or syntax error will not."""
    return exc.connection_invalidated or isinstance(exc, OperationalError)
