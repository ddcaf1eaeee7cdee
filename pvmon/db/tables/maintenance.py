"""Work orders and their history.

Owner: ``maintenance`` (people acting through ``maintenance.actions``, and its service
opening, escalating and verifying orders). Read by the API, and by the analytics for the
cleanings done (``analytics.longterm``)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base, UTCDateTime


class OrderKind(StrEnum):
    FAULT = "fault"
    """Opened from an alert."""
    PATROL = "patrol"
    CLEANING = "cleaning"
    VEGETATION = "vegetation"
    REPAIR = "repair"
    OTHER = "other"


class WorkOrder(Base):
    """A piece of work on one station (工单): created → assigned → accepted → on site →
    done → verified by the data; reopened when its fault comes back."""

    __tablename__ = "work_orders"
    __table_args__ = (UniqueConstraint("station_id", "plan_key", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    """The alert it was opened from (a fault), if any."""
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    assignee: Mapped[str | None] = mapped_column(String(32), index=True)
    """The person (registry id) doing the work."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    deadline_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Parts used: [{"name", "quantity"}]."""
    plan_key: Mapped[str | None] = mapped_column(String(32))
    """The plan a recurring order comes from (``maintenance.plans`` in the settings)."""
    period: Mapped[str | None] = mapped_column(String(7))
    """The plan's month, YYYY-MM: one order per station, plan and month."""


class WorkOrderStep(Base):
    """The order's history: every step, who took it, when, through which channel."""

    __tablename__ = "work_order_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    """A person's id, ``user:<name>`` for a user with no person, or ``system``."""
    channel: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    """The order's state after the step."""
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class WorkOrderPhoto(Base):
    """A photo of the work, uploaded from the maintainer's phone. The file and its
    thumbnail live under the data dir (``pvmon.datapaths.order_photos``), named by the
    order and the photo's id; the same content sent twice to one order is one photo."""

    __tablename__ = "work_order_photos"
    __table_args__ = (UniqueConstraint("order_id", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    """The file's name on the phone, as sent (shown, never used as a path)."""
