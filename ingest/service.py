"""The ingest process: MQTT in, InfluxDB and the relational store out, at least once.

A receiver process holds the MQTT session and hands over whole batches (ingest/receiver_handle.py,
ingest/receiver_process.py); this process's loop parses and validates each batch, makes it durable
through the sink, and only then has the receiver acknowledge it to the broker; a heartbeat
thread publishes the counters to the relational store, where ``pvmon up`` and the API read
every worker's.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import time
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ingest.batch import Batch, Inbound
from ingest.counters import Counters
from ingest.deadletter import DeadLetterRows
from ingest.fleetindex import FleetIndex
from ingest.parse import Limits, Parsed, Rejection, parse_message
from ingest.receiver_handle import ReceiverHandle, subscription
from ingest.recovery import mark_recovered, recoverable
from ingest.replay import Replayer
from ingest.sink import Sink, Stopping
from ingest.spool import Spool
from pvmon.brokerauth import ingest_client_id
from pvmon.datapaths import ingest_spool
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.upsert import upsert
from pvmon.influx.client import InfluxClient
from pvmon.settings import MqttEndpoint, Settings
from pvmon.telemetry import Reason

log = structlog.get_logger(__name__)

REGISTRY_REASONS = frozenset(
    {Reason.UNKNOWN_STATION, Reason.UNKNOWN_DEVICE, Reason.DEVICE_MISMATCH}
)
STALE_INDEX_S = 5.0
"""A registry miss reloads the registry when the copy in memory is older than this."""


class IngestService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        influx: InfluxClient,
        mqtt: MqttEndpoint,
        *,
        retire: bool = False,
    ) -> None:
        """``retire``: leave the shared group for good — take what this worker's session
        still holds, store it, replay the spool, end the session and return."""
        self.settings = settings
        self.cfg = settings.ingest
        self.tz = ZoneInfo(settings.timezone)
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.influx = influx
        self.counters = Counters()
        self.stop_event = threading.Event()
        self.consumer = ReceiverHandle(
            mqtt,
            ingest_client_id(self.cfg.worker_id),
            subscription(self.cfg.shared_group),
            receive_maximum=self.cfg.effective_receive_maximum,
            session_expiry_s=self.cfg.session_expiry_s,
            keepalive_s=self.cfg.keepalive_s,
            batch_size=self.cfg.batch_size,
            batch_max_wait_s=self.cfg.batch_max_wait_s,
            counters=self.counters,
            log_level=settings.log_level,
            retire=retire,
        )
        self.spool = Spool(
            ingest_spool(settings) / f"{self.cfg.worker_id}.sqlite3",
            int(self.cfg.spool_max_mb * 2**20),
        )
        dead_letters = DeadLetterRows(self.cfg.worker_id, self.cfg.dead_letter_head_bytes)
        self.sink = Sink(
            self.influx.write,
            self.sessions,
            self.spool,
            dead_letters,
            self.counters,
            self.stop_event,
            self.cfg.retry_max_backoff_s,
            self.cfg.device_status_every_s,
        )
        self.replayer = Replayer(
            self.spool,
            self.influx.write,
            self.sessions,
            dead_letters,
            self.counters,
            self.stop_event,
            self.cfg.retry_max_backoff_s,
        )
        self.limits = Limits.of(self.cfg)
        self.started_at = dt.datetime.now(dt.UTC)
        self._index = FleetIndex({}, {})
        self._index_loaded = 0.0
        self._to_recover: set[str] = set()
        """Devices new to the registry whose dead letters are still to be recovered."""

    # --- lifecycle -------------------------------------------------------------------

    def run(self) -> None:
        """Consume until ``stop()``; returns after the current batch is stored or abandoned."""
        self._reload_index()
        heartbeat = threading.Thread(
            target=self._heartbeat_loop, name="ingest-heartbeat", daemon=True
        )
        heartbeat.start()
        self.replayer.start()
        self.consumer.start()
        log.info(
            "ingest_started",
            worker=self.cfg.worker_id,
            topic=self.consumer.topic,
            batch_size=self.cfg.batch_size,
            receive_maximum=self.cfg.effective_receive_maximum,
        )
        try:
            while not self.stop_event.is_set():
                messages = self.consumer.take(timeout=0.2)
                if messages and self._process(messages):
                    self.consumer.request(messages)
                if self.consumer.drained.is_set() and self.spool.is_empty():
                    log.info("ingest_retired", worker=self.cfg.worker_id)
                    break
                if time.monotonic() - self._index_loaded > self.cfg.registry_refresh_s:
                    self._reload_index()
        finally:
            self.consumer.stop()
            self.stop_event.set()
            heartbeat.join(timeout=5)
            self.replayer.join(timeout=30)
            self._flush_devices()
            self._beat()
            self.spool.close()
            log.info("ingest_stopped", worker=self.cfg.worker_id, **_flat(self.counters))

    def stop(self) -> None:
        self.stop_event.set()

    # --- the loop --------------------------------------------------------------------

    def _process(self, messages: list[Inbound]) -> bool:
        """Parse and store a batch; True when it is durable and may be acknowledged."""
        now = time.time()
        batch = Batch.starting(self.tz, now)
        for message in messages:
            batch.add(message, self._parse(message, now))
        try:
            spooled = self.sink.write(batch)
        except Stopping:
            log.info("batch_left_unacknowledged", messages=len(batch))
            return False
        self._count(batch, spooled)
        return True

    def _parse(self, message: Inbound, now: float) -> Parsed:
        parsed = parse_message(message.topic, message.payload, self._index, now, self.limits)
        if (
            isinstance(parsed, Rejection)
            and parsed.reason in REGISTRY_REASONS
            and time.monotonic() - self._index_loaded > STALE_INDEX_S
        ):
            self._reload_index()
            parsed = parse_message(message.topic, message.payload, self._index, now, self.limits)
        return parsed

    def _count(self, batch: Batch, spooled: int) -> None:
        stored_rejects = sum(1 for _, r in batch.rejected if r.reason == Reason.STORE_REJECTED)
        for _, rejection in batch.rejected:
            self.counters.reject(rejection.reason)
        self.counters.add(
            received=len(batch),
            batches=1,
            points_written=len(batch.lines) - stored_rejects - spooled,
            readings=batch.readings,
            events=batch.events,
            logger_updates=len(batch.logger_states),
            ignored_fields=batch.ignored_fields,
            bytes_received=sum(len(m.payload) for m in batch.messages),
        )
        oldest = min(m.received_at for m in batch.messages)
        self.counters.gauge(
            lag_s=round(time.time() - oldest, 3),
            last_batch_size=len(batch),
            queue_depth=self.consumer.waiting,
        )

    def _reload_index(self) -> None:
        known = set(self._index.devices)
        with self.sessions() as session:
            self._index = FleetIndex.load(session)
        self._index_loaded = time.monotonic()
        log.debug(
            "registry_loaded", stations=len(self._index.stations), devices=len(self._index.devices)
        )
        self._to_recover |= set(self._index.devices) - known
        if self._to_recover:
            try:
                self._recover(self._to_recover)
            except SQLAlchemyError as exc:  # tried again at the next reload
                log.warning("dead_letter_recovery_failed", error=str(exc)[:300])
            else:
                self._to_recover = set()

    def _recover(self, gained: set[str]) -> None:
        """Store what devices new to the registry sent while they were unknown
        (``ingest.recovery``); what still does not pass stays in the dead letter."""
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=self.cfg.late_window_days)
        with self.sessions() as session:
            for rows in recoverable(session, gained, since):
                now = time.time()
                batch = Batch.starting(self.tz, now)
                taken = []
                for row in rows:
                    parsed = parse_message(row.topic, row.payload, self._index, now, self.limits)
                    if not isinstance(parsed, Rejection):
                        inbound = Inbound(
                            row.topic, row.payload, 0, 0, row.received_at.timestamp(), -1
                        )
                        batch.add(inbound, parsed)
                        taken.append(row.id)
                if not taken:
                    continue
                try:
                    self.sink.write(batch)
                except Stopping:
                    return
                mark_recovered(session, taken, dt.datetime.now(dt.UTC))
                session.commit()
                self.counters.add(recovered=len(taken))
                log.info("dead_letters_recovered", readings=len(taken))

    def _flush_devices(self) -> None:
        try:
            self.sink.flush_devices()
        except (Stopping, DBAPIError) as exc:
            log.warning("device_status_not_written", error=str(exc)[:300])

    # --- heartbeat -------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        while not self.stop_event.wait(self.cfg.heartbeat_s):
            self._beat()

    def _beat(self) -> None:
        row = {
            "worker_id": self.cfg.worker_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": self.started_at,
            "heartbeat_at": dt.datetime.now(dt.UTC),
            "counters": {
                **self.counters.snapshot(),
                "connected": self.consumer.connected.is_set(),
                **_spool_gauges(self.spool),
            },
        }
        try:
            with self.sessions.begin() as session:
                upsert(
                    session,
                    tables.IngestWorker.__table__,
                    [row],
                    ["worker_id"],
                    lambda _t, new: {
                        c: getattr(new, c)
                        for c in ("host", "pid", "started_at", "heartbeat_at", "counters")
                    },
                )
        except Exception as exc:  # a missed heartbeat must never stop ingest
            log.warning("heartbeat_failed", error=str(exc)[:300])


def _spool_gauges(spool: Spool) -> dict[str, int]:
    depth = spool.depth
    return {
        "spool_batches": depth.batches,
        "spool_points": depth.points,
        "spool_bytes": depth.bytes,
    }


def _flat(counters: Counters) -> dict[str, object]:
    return {k: v for k, v in counters.snapshot().items() if k != "rejected"}
