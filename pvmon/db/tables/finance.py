"""The money as it is settled, received, closed, used and disclosed.

Owner: ``finance`` (the bureau entering or importing statements and receipts, closing a
village's month, a collective recording its uses, publishing a disclosure sheet). Read by
the API. Amounts people enter are decimals of two places (exact in PostgreSQL's NUMERIC;
handed to Python as floats and rounded to the fen wherever they are shown)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base, UTCDateTime

MONEY = Numeric(14, 2, asdecimal=False)
"""Yuan to the fen; also the settled kWh, which statements give to two places."""


class Settlement(Base):
    """The grid company's settlement statement (电费结算单) of one station for one month:
    the grid meter's settled export and what the grid pays for it."""

    __tablename__ = "settlements"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    """The month settled, YYYY-MM."""
    export_kwh: Mapped[float] = mapped_column(MONEY)
    grid_yuan: Mapped[float] = mapped_column(MONEY)
    """The coal-benchmark part (燃煤基准电价电费)."""
    subsidy_yuan: Mapped[float | None] = mapped_column(MONEY, nullable=True)
    """The subsidy part as the statement states it; empty: the rule computes it
    (``finance.settled``)."""
    number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The statement's number (结算单号)."""
    settled_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    entered_by: Mapped[str] = mapped_column(String(64))


class Receipt(Base):
    """Money received for a station: a grid payment or a subsidy transfer, covering some
    months, known by its voucher (凭证号)."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("station_id", "kind", "reference"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``grid`` or ``subsidy``."""
    covers_from: Mapped[str] = mapped_column(String(7))
    covers_to: Mapped[str] = mapped_column(String(7))
    """The months paid for, YYYY-MM, both included."""
    amount_yuan: Mapped[float] = mapped_column(MONEY)
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)
    reference: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    entered_by: Mapped[str] = mapped_column(String(64))


class VillageMonth(Base):
    """A village's closed month: its settled figures as they were when the bureau closed
    it, never rewritten (a later correction is an ``Adjustment`` in the month it is made)."""

    __tablename__ = "village_months"
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_by: Mapped[str] = mapped_column(String(64))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The month as closed: totals and each station's lines (``finance.months``)."""


class Adjustment(Base):
    """A correction of a village's income, booked in the month it is made, with its reason
    (and the closed month it corrects, if any)."""

    __tablename__ = "adjustments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), index=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    """The month it is booked in: the month it was made."""
    amount_yuan: Mapped[float] = mapped_column(MONEY)
    """Signed: a negative amount takes income away."""
    reason: Mapped[str] = mapped_column(Text)
    corrects: Mapped[str | None] = mapped_column(String(7), nullable=True)
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    made_by: Mapped[str] = mapped_column(String(64))


class IncomeUse(Base):
    """How a village used its PV income (收益分配), by the rules' categories."""

    __tablename__ = "income_uses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), index=True)
    used_on: Mapped[dt.date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text)
    amount_yuan: Mapped[float] = mapped_column(MONEY)
    person: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """A public-welfare job's holder (公益岗位人员)."""
    months: Mapped[int | None] = mapped_column(Integer, nullable=True)
    monthly_yuan: Mapped[float | None] = mapped_column(MONEY, nullable=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))


class Disclosure(Base):
    """A published disclosure sheet (公示): the PDF kept unchanged under the data dir
    (``pvmon.datapaths.disclosures``), its SHA-256 shown wherever it is listed."""

    __tablename__ = "disclosures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(64))
    posted_from: Mapped[dt.date] = mapped_column(Date)
    posted_until: Mapped[dt.date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(200))
    """The PDF's path under the archive folder."""
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Its totals, for the archive's list."""
