"""Relational schema: the fleet registry and the state ingest workers share.

Stable codes are the keys everywhere (townships, villages, stations, inverter serials,
people); names are plain data. Alembic migrations in ``pvmon/migrations`` create these tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# --- registry ---------------------------------------------------------------------------


class Township(Base):
    __tablename__ = "townships"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    former_name: Mapped[str | None] = mapped_column(String(64))


class Village(Base):
    __tablename__ = "villages"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    township_id: Mapped[str] = mapped_column(ForeignKey("townships.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float] = mapped_column(Float)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(32))
    wecom_id: Mapped[str | None] = mapped_column(String(64))
    dingtalk_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(128))
    village_id: Mapped[str | None] = mapped_column(ForeignKey("villages.id"), index=True)
    township_id: Mapped[str | None] = mapped_column(ForeignKey("townships.id"), index=True)


class Station(Base):
    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(128))
    township_id: Mapped[str] = mapped_column(ForeignKey("townships.id"), index=True)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("villages.id"), index=True)
    """Village where the array stands (a household array's village)."""
    household_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float] = mapped_column(Float)
    capacity_kwp: Mapped[float] = mapped_column(Float)
    tilt_deg: Mapped[float] = mapped_column(Float)
    azimuth_deg: Mapped[float] = mapped_column(Float)
    commissioned_on: Mapped[dt.date] = mapped_column(Date)
    grid_loss_factor: Mapped[float] = mapped_column(Float)
    """Share of inverter energy lost before the grid meter (transformer, cables)."""
    subsidy_cap_hours: Mapped[float] = mapped_column(Float)
    """Lifetime 'reasonable utilisation hours' the subsidy is paid for (财建〔2020〕426号)."""


class StationShare(Base):
    """Ownership of a village station, or a beneficiary's percentage of the central station."""

    __tablename__ = "station_shares"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), primary_key=True)
    share: Mapped[float] = mapped_column(Float)


class Inverter(Base):
    __tablename__ = "inverters"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The inverter's serial number, globally unique."""
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    rated_ac_w: Mapped[float] = mapped_column(Float)
    wh_scale_exp: Mapped[int] = mapped_column(Integer, default=0)
    """SunSpec WH_SF: the 32-bit energy counter counts units of 10**wh_scale_exp Wh."""
    installed_on: Mapped[dt.date] = mapped_column(Date)


class StationMaintainer(Base):
    __tablename__ = "station_maintainers"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class VillageMaintainer(Base):
    """A maintainer looks after the household arrays of the villages assigned here."""

    __tablename__ = "village_maintainers"
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)


class Certificate(Base):
    __tablename__ = "certificates"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    cert_type: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    review_due_on: Mapped[dt.date] = mapped_column(Date)
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)


class Tariff(Base):
    __tablename__ = "tariffs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    grid_yuan_per_kwh: Mapped[float] = mapped_column(Float)
    subsidy_yuan_per_kwh: Mapped[float] = mapped_column(Float)


class StationCost(Base):
    __tablename__ = "station_costs"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(32), primary_key=True)
    annual_yuan: Mapped[float] = mapped_column(Float)


REGISTRY_TABLES: tuple[type[Base], ...] = (
    Township,
    Village,
    Person,
    Station,
    StationShare,
    Inverter,
    StationMaintainer,
    VillageMaintainer,
    Certificate,
    Tariff,
    StationCost,
)
"""Registry tables in dependency order (insert forwards, delete backwards)."""


# --- state shared by ingest workers -----------------------------------------------------


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


# --- analytics ---------------------------------------------------------------------------


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
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


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


class User(Base):
    """Someone who signs in to the dashboard or calls the API, with the role that scopes
    what they see: the bureau everything, a supervisor a township, a maintainer their
    stations, a collective its village."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[str | None] = mapped_column(String(16))
    """The registry person a maintainer (or supervisor, bureau staff) user is."""
    township_id: Mapped[str | None] = mapped_column(String(16))
    village_id: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """An API token: ``pvm_<id>_<secret>``; only a slow hash of the secret is kept."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A signed-in dashboard session; the cookie holds a random value, the store its hash."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class LoginFailure(Base):
    """A failed sign-in; recent ones per username and address rate-limit further tries
    (kept in the store so that every API process sees them)."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


Index("ix_login_failures_who", LoginFailure.username, LoginFailure.address, LoginFailure.at)
