"""What analytics decides and keeps: findings (the conditions it found), its job bookkeeping,
the village statements and the stations' degradation estimates.

Owner: ``analytics``. Findings are read by the alert engine; statements and job runs by the
API and ``/metrics``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base, UTCDateTime


class Finding(Base):
    """Something wrong that analytics found, one row per episode.

    At most one row per (kind, subject_id) is active; it is updated while the condition
    holds and cleared when it no longer does. Alerts are raised from these rows.
    """

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(32), index=True)
    station_id: Mapped[str | None] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, index=True)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """When the condition began, as far as the evidence shows."""
    detected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)


class WorkLease(Base):
    """One unit of a partitioned job — a county's day — and who holds it until when.

    Any analytics process may take an ``open`` unit, or a ``held`` one whose lease has
    expired (its holder died); ``token`` rises at every taking, so a holder whose lease was
    taken from it cannot complete the unit (``analytics.leases``)."""

    __tablename__ = "work_leases"
    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    part: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(8), index=True)
    token: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer)
    """Times it was taken."""
    completions: Mapped[int] = mapped_column(Integer)
    """Times it was completed: once per computation that stood."""
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class JobRun(Base):
    """The latest run of a job for a period (a day, a month, a five-minute slot)."""

    __tablename__ = "job_runs"
    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    duration_s: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class VillageStatement(Base):
    """A village collective's PV income for a month or a year (estimated until settled)."""

    __tablename__ = "village_statements"
    village_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    """``2026-05`` for a month, ``2026`` for a year."""
    energy_kwh: Mapped[float] = mapped_column(Float)
    export_kwh: Mapped[float] = mapped_column(Float)
    grid_yuan: Mapped[float] = mapped_column(Float)
    subsidy_yuan: Mapped[float] = mapped_column(Float)
    costs_yuan: Mapped[float] = mapped_column(Float)
    net_yuan: Mapped[float] = mapped_column(Float)
    """Distributable income: the village's share of revenue net of its stations' costs."""
    estimated: Mapped[bool] = mapped_column(Boolean)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class StationDegradation(Base):
    """A station's degradation rate as estimated from its daily rollups up to a day
    (``analytics.degradation``); every estimate is kept, the latest is the station's."""

    __tablename__ = "station_degradation"
    station_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    """The last day of rollups the estimate used."""
    rate_pct: Mapped[float] = mapped_column(Float)
    """Change per year [% of the first year's level]; negative: losing."""
    low_pct: Mapped[float] = mapped_column(Float)
    high_pct: Mapped[float] = mapped_column(Float)
    pairs: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[dt.date] = mapped_column(Date)
    """The first clear day of the series."""
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StationSoiling(Base):
    """A station's soiling as estimated from its daily rollups of the year up to a day
    (``analytics.soiling``), and what the dust cost over the last weeks; every estimate is
    kept, the latest is the station's."""

    __tablename__ = "station_soiling"
    station_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    """The last day of rollups the estimate used."""
    ratio: Mapped[float] = mapped_column(Float)
    """Insolation-weighted soiling ratio over the year (1: no loss)."""
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    loss_now_pct: Mapped[float] = mapped_column(Float)
    """The dust's loss on the last day [% of clean output]."""
    lost_kwh: Mapped[float] = mapped_column(Float)
    lost_yuan: Mapped[float] = mapped_column(Float)
    """What the dust cost over the last ``window_days`` (estimated)."""
    window_days: Mapped[int] = mapped_column(Integer)
    cleaning_yuan: Mapped[float] = mapped_column(Float)
    """What a cleaning of the station costs (the settings)."""
    intervals: Mapped[int] = mapped_column(Integer)
    cleanings: Mapped[int] = mapped_column(Integer)
    """Cleanings in the year: washed by rain or by hand, found in the data or recorded."""
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
