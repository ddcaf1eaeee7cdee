"""State that several ingest workers share: the dead letter, logger and device liveness, the
days late data touched, each worker's counters.

Owner: ``ingest`` (written only by ingest workers). Read by analytics (late days), alerts
(data-quality rules), the API and ``pvmon up`` (through ``ingest.status``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base, UTCDateTime


class DeadLetter(Base):
    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    worker_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    """The payload's head (``ingest.dead_letter_head_bytes``)."""
    payload_bytes: Mapped[int] = mapped_column(Integer)
    """The whole payload's size."""
    payload_sha256: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)
    station_id: Mapped[str | None] = mapped_column(String(64), index=True)
    device_id: Mapped[str | None] = mapped_column(String(64))
    recovered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the readings of a device unknown at the time were stored after all, its serial
    having been added to the registry (a replacement inverter that spoke before it was
    recorded)."""


class LoggerStatus(Base):
    __tablename__ = "logger_status"
    station_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DeviceStatus(Base):
    __tablename__ = "device_status"
    device_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(16), index=True)
    last_ts: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """Newest reading time stored for the device (its liveness)."""
    last_received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LateDay(Base):
    """A local day of a station that received data after the day had ended: first when
    it was received, last when the latest of it was stored in InfluxDB."""

    __tablename__ = "late_days"
    station_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class IngestWorker(Base):
    """Each ingest process's heartbeat and counters; readers sum them."""

    __tablename__ = "ingest_workers"
    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(128))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    counters: Mapped[dict[str, Any]] = mapped_column(JSON)


Index("ix_dead_letters_reason_received", DeadLetter.reason, DeadLetter.received_at)
