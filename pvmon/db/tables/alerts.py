"""Alerts and their history, the deliveries of their notifications, and the sends that
rate limits count.

Owner: ``alerts`` (the engine, and people acting through ``alerts.actions``). Read by the
API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base, UTCDateTime


class Alert(Base):
    """A condition someone must act on: open → acknowledged → resolved.

    At most one unresolved alert per ``dedup_key``; a resolved one whose condition returns
    within the flap window is reopened rather than duplicated.
    """

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(32), index=True)
    dedup_key: Mapped[str] = mapped_column(String(96), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    station_id: Mapped[str | None] = mapped_column(String(16), index=True)
    village_id: Mapped[str | None] = mapped_column(String(16), index=True)
    township_id: Mapped[str | None] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """When the condition began, as far as the evidence shows."""
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    condition_active: Mapped[bool] = mapped_column(Boolean)
    cleared_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """When the condition was last seen to clear (resolution waits resolve_after_min)."""
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    """Escalation steps taken so far."""
    first_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """When its first message went (or goes) out: quiet hours delay it, and the escalation
    clock starts then, when people could first see it."""
    last_notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    notify_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    """A person's id, or ``system`` when the condition cleared."""


class AlertEvent(Base):
    """The history of an alert: who did what, when, through which channel."""

    __tablename__ = "alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    """A person's id, or ``system``."""
    channel: Mapped[str | None] = mapped_column(String(16))
    """Where the action came from: ``cli``, ``api``, ``wecom``…; None for the engine."""
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class Delivery(Base):
    """One message about one alert to one destination: a robot group, an address, a
    phone, a webhook. Pending ones are the outbox; sent and failed ones the delivery log."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(128))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    """People this message is for (their ids)."""
    mentions: Mapped[list[str]] = mapped_column(JSON)
    """Robot mentions: WeCom or DingTalk user ids of the recipients in that group."""
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    """Not before this: the retry backoff, or the end of quiet hours."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    send_id: Mapped[int | None] = mapped_column(ForeignKey("sends.id"))
    """The request that carried it (a digest carries many)."""


class Send(Base):
    """Each request made to a channel's destination; the rate limits count these."""

    __tablename__ = "sends"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(128))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    items: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


Index("ix_sends_destination_at", Send.channel, Send.destination, Send.at)
Index("ix_alerts_dedup_state", Alert.dedup_key, Alert.state)
