"""The API's request and response models (they are its OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from pvmon.registry.schema import CODE_PATTERN


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    person_id: str | None
    township_id: str | None
    village_id: str | None


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=64)


class TokenCreated(BaseModel):
    token: str
    """Shown once; only a hash is kept."""


class PeriodTotals(BaseModel):
    energy_kwh: float
    revenue_yuan: float
    by_segment: dict[str, float]


class TownshipFigures(BaseModel):
    id: str
    name: str
    today_kwh: float
    month_kwh: float
    year_kwh: float
    year_yuan: float


class CountyFigures(TownshipFigures):
    """A county's: the sums of its townships' (a province's deployment lists them)."""


class FleetSummary(BaseModel):
    as_of: str
    today: PeriodTotals
    """Live: today's energy so far (no revenue until tonight's rollup)."""
    yesterday: PeriodTotals
    month: PeriodTotals
    year: PeriodTotals
    computed_days_month: int
    """Days of the month (before today) whose rollups exist: 0 means no figures yet."""
    computed_days_year: int
    daylight: bool
    """The sun is up over the county: today's live figure leads; at night, yesterday's."""
    townships: list[TownshipFigures]
    counties: list[CountyFigures]
    """The counties of the caller's townships, each the sum of its townships."""
    stations_by_state: dict[str, int]
    open_alerts: int
    note: str


class ForecastOut(BaseModel):
    year: int
    as_of: dt.date
    capacity_kwp: float
    actual_kwh: float
    actual_yuan: float
    performance: float
    forecast_kwh: float
    forecast_yuan: float
    target_kwh: float | None
    target_yuan: float
    required_performance: float | None
    """What the rest of the year needs against typical; null when the data say too little."""
    status: Literal["on_track", "at_risk", "insufficient_data"]
    days_with_data: int
    """Days of the year so far the forecast rests on (days without data count at typical
    × recent performance, not as zero)."""
    days_elapsed: int


class StationItem(BaseModel):
    id: str
    name: str
    kind: str
    township_id: str
    township: str
    village_id: str | None
    capacity_kwp: float
    lat: float
    lon: float
    state: str
    kpis: dict[str, Any] | None


class PersonOut(BaseModel):
    id: str
    name: str
    role: str
    mobile: str | None
    certified: bool | None = None


class StationDetail(StationItem):
    tilt_deg: float
    azimuth_deg: float
    commissioned_on: dt.date
    inverters: list[str]
    owners: dict[str, float]
    """village → ownership share (village stations) or beneficiary percentage (central)."""
    maintainers: list[PersonOut]
    days: list[dict[str, Any]]
    open_alerts: list[dict[str, Any]]


class SeriesPoint(BaseModel):
    t: dt.datetime
    value: float | None


class Series(BaseModel):
    subject: str
    field: str
    resolution: str
    points: list[SeriesPoint]


class VillageItem(BaseModel):
    id: str
    name: str
    township_id: str
    township: str
    category: str
    year_net_yuan: float | None
    target_yuan: float


class Statement(BaseModel):
    period: str
    energy_kwh: float
    export_kwh: float
    grid_yuan: float
    subsidy_yuan: float
    costs_yuan: float
    net_yuan: float
    estimated: bool
    sources: list[dict[str, Any]]


class VillageDetail(VillageItem):
    year: int
    months: list[Statement]
    annual: Statement | None
    stations: dict[str, float]
    """station → the village's share"""
    forecast: ForecastOut | None


class Household(BaseModel):
    station_id: str
    household_id: str | None
    household: str | None
    capacity_kwp: float
    forecast: ForecastOut | None


class AlertOut(BaseModel):
    id: int
    rule: str
    subject_type: str
    subject_id: str
    station_id: str | None
    village_id: str | None
    township_id: str | None
    severity: str
    state: str
    flapping: bool
    since: dt.datetime
    opened_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    escalation_level: int
    evidence: dict[str, Any]


class AlertEventOut(BaseModel):
    at: dt.datetime
    action: str
    actor: str
    channel: str | None
    detail: dict[str, Any]


class DeliveryOut(BaseModel):
    id: int
    purpose: str
    channel: str
    destination: str
    status: str
    attempts: int
    sent_at: dt.datetime | None
    last_error: str | None


class AlertDetail(AlertOut):
    history: list[AlertEventOut]
    deliveries: list[DeliveryOut]


class AlertAction(BaseModel):
    note: str | None = Field(None, max_length=500)


class WorkOrderOut(BaseModel):
    id: int
    kind: str
    plan_key: str | None
    """The recurring plan it comes from (``maintenance.plans``), with its month."""
    period: str | None
    station_id: str
    alert_id: int | None
    severity: str
    title: str
    state: str
    assignee: str | None
    created_at: dt.datetime
    created_by: str
    deadline_at: dt.datetime
    accepted_at: dt.datetime | None
    arrived_at: dt.datetime | None
    done_at: dt.datetime | None
    verified_at: dt.datetime | None
    reopen_count: int
    parts: list[dict[str, Any]]


class WorkOrderStepOut(BaseModel):
    at: dt.datetime
    action: str
    actor: str
    channel: str | None
    state: str
    detail: dict[str, Any]


class PhotoOut(BaseModel):
    id: int
    order_id: int
    uploaded_at: dt.datetime
    uploaded_by: str
    media_type: str
    size_bytes: int
    width: int
    height: int
    sha256: str
    name: str


class LossOut(BaseModel):
    """What a fault cost: expected energy (the township's comparable stations × capacity ×
    the station's usual level) minus what it made, valued at the day's tariff."""

    kwh: float
    yuan: float
    days: int
    unknown_days: int
    """Days without an expected energy (too few peers, not computed yet): a lower bound."""
    basis: Literal["estimated"] = "estimated"


class CleaningEffectOut(BaseModel):
    """The station's mean peer index over its usable days in the week before and the week
    after the cleaning was done."""

    before: float
    after: float
    change: float
    days_before: int
    days_after: int


class OrderFiguresOut(BaseModel):
    hours_to_accept: float | None
    hours_to_arrive: float | None
    hours_to_repair: float | None
    on_time: bool | None
    """Done by the deadline; None while open and not yet late."""
    loss: LossOut | None
    """Its fault's loss; None for an order without an alert (patrol, cleaning)."""
    cleaning: CleaningEffectOut | None
    """A done cleaning's effect, once a week of data follows it."""


class WorkOrderDetail(WorkOrderOut):
    history: list[WorkOrderStepOut]
    photos: list[PhotoOut]
    figures: OrderFiguresOut


class AssessmentOut(BaseModel):
    """A maintainer's month (考核): the orders created in it and what their faults cost."""

    person_id: str
    name: str
    orders: int
    done: int
    on_time: int
    late: int
    median_hours_to_accept: float | None
    median_hours_to_arrive: float | None
    median_hours_to_repair: float | None
    lost_kwh: float
    lost_yuan: float
    cert_state: str | None
    basis: Literal["estimated"] = "estimated"


class StationLossOut(BaseModel):
    station_id: str
    village_id: str | None
    township_id: str
    loss: LossOut


class VillageLossOut(BaseModel):
    """A village's part of its stations' losses, by ownership share (the centralized
    station's by its beneficiaries' percentages)."""

    village_id: str
    kwh: float
    yuan: float


class MonthLossesOut(BaseModel):
    month: str
    stations: list[StationLossOut]
    villages: list[VillageLossOut]
    kwh: float
    yuan: float
    basis: Literal["estimated"] = "estimated"


class NewWorkOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station_id: str = Field(pattern=CODE_PATTERN)
    kind: Literal["patrol", "cleaning", "vegetation", "repair", "other"]
    severity: Literal["info", "warning", "critical"] = "warning"
    title: str = Field(min_length=1, max_length=200)


class AssignOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: str = Field(pattern=CODE_PATTERN)


class PartUsed(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    quantity: float = Field(gt=0, le=10_000)


class OrderStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)
    parts: list[PartUsed] = Field(default_factory=list, max_length=50)


class InverterReplacement(BaseModel):
    """An inverter replaced on site: the old serial retired on the day of ``at``, the new
    one in service from it (unset values: the old inverter's)."""

    model_config = ConfigDict(extra="forbid")
    old: str = Field(pattern=CODE_PATTERN, description="The serial taken out")
    new: str = Field(pattern=CODE_PATTERN, description="The serial put in")
    at: AwareDatetime | None = Field(None, description="When it went in; default now")
    model: str | None = Field(None, min_length=1, max_length=128)
    rated_ac_w: float | None = Field(None, gt=0, le=10_000_000)
    wh_scale_exp: int | None = Field(None, ge=-3, le=6)
    cloud_id: str | None = Field(None, min_length=1, max_length=64)
    """The new inverter's id in its vendor's cloud, where the old one was read there."""


class MaintainerOut(BaseModel):
    id: str
    name: str
    township_id: str | None
    village_id: str | None
    cert_type: str
    state: str | None
    """valid, expired, review_overdue, not_yet_valid, or None: no certificate at all."""
    expires_on: dt.date | None
    review_due_on: dt.date | None
    due: str | None


class ComplianceOut(BaseModel):
    on: dt.date
    maintainers: int
    certified: int
    rate: float
    target_rate: float = 1.0
    invalid: list[MaintainerOut]
    due_soon: list[MaintainerOut]
    uncovered_stations: dict[str, list[str]]


class IngestStatus(BaseModel):
    workers: int
    received: int
    stored: int
    rejected: int
    rejected_by_reason: dict[str, int]
    write_retries: int
    spool_points: int
    spool_bytes: int
    loggers_online: int
    open_alerts: int
    dead_letters_24h: dict[str, int]


class DeadLetterOut(BaseModel):
    id: int
    received_at: dt.datetime
    topic: str
    reason: str
    detail: str
    station_id: str | None
    device_id: str | None
    payload: str
    """The payload's head as received (UTF-8, undecodable bytes replaced), at most
    ``ingest.dead_letter_head_bytes``."""
    payload_bytes: int
    """The whole payload's size."""
    payload_sha256: str


class ImportResult(BaseModel):
    sheets: dict[str, int]


Health = dict[Literal["status", "database", "influxdb"], str]


class TownshipArea(BaseModel):
    id: str
    name: str
    centre: tuple[float, float]
    """(lon, lat) where its label goes."""
    outline: list[tuple[float, float]]
    """(lon, lat) ring around its stations (not the legal boundary)."""
    states: dict[str, int] = {}
    """How many of its stations (those in the caller's scope) are in each state."""


class StationMap(BaseModel):
    townships: list[TownshipArea]
    stations: list[tuple[float, float, str, str, str]]
    """(lon, lat, id, name, state) of each station in the caller's scope; empty past
    20,000 of them (a province), whose townships' counts then tell the states."""
    stations_in_scope: int
