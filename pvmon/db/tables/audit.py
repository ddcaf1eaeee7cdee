"""The audit log: every change to the registry and to the money — who, when, through which
channel, the row before and after.

Owner: the core (``pvmon.audit``), written in the same transaction as the change itself by
the registry's replacement and by ``finance``. Read by the bureau through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_key", "entity", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    """A person's id, ``user:<name>`` for a user with no person, ``cli:<login>``, or
    ``system``."""
    channel: Mapped[str] = mapped_column(String(16))
    """``web``, ``api``, ``cli`` or ``system``."""
    entity: Mapped[str] = mapped_column(String(32))
    """A registry sheet (``station_shares``) or a money record (``settlements``, …)."""
    key: Mapped[str] = mapped_column(String(160))
    """The row's key, its parts joined by ``/`` (``VS001/V0101/2026-07-01``); ``*`` for a
    whole sheet loaded at once."""
    action: Mapped[str] = mapped_column(String(16))
    """``add``, ``change``, ``remove``, ``load`` or a record's own step (``close``, …)."""
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
