"""Reports produced and where they went.

Owner: ``reports`` (the scheduled service and ``pvmon reports run``). Read by the API (the
archive page and the files' downloads)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base, UTCDateTime


class Report(Base):
    """One produced report: a document (PDF, and XLSX where there is one) kept unchanged
    under the data dir (``pvmon.datapaths.reports``), and its delivery."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("kind", "period", "subject", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``monthly`` (the bureau's 月报) or ``quarterly`` (a village's statement)."""
    period: Mapped[str] = mapped_column(String(8), index=True)
    """``2026-11`` or ``2026Q3``."""
    subject: Mapped[str] = mapped_column(String(16))
    """``county``, or the village's id."""
    version: Mapped[int] = mapped_column(Integer)
    """1, and one more each time the same report is made again."""
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    made_by: Mapped[str] = mapped_column(String(64))
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{name, media_type, size_bytes, sha256}] in the report's folder."""
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deliveries: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """[{channel, to, ok, error}] of the last delivery."""
