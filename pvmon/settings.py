"""The one typed settings object.

Sources, strongest first: explicit arguments, ``PVMON_*`` environment variables, the TOML
file (``pvmon.toml`` in the working directory, or the path in ``PVMON_CONFIG``), defaults.
Nested sections use ``__`` in environment names: ``PVMON_INGEST__BATCH_SIZE=2000``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from pvmon.brokerauth import DEFAULT_INGEST_WORKER, WORKER_ID_PATTERN
from pvmon.domain import CertType, StationKind
from pvmon.findings import Severity

DEFAULT_CONFIG_FILE = "pvmon.toml"


def config_file() -> Path:
    """The settings file: ``PVMON_CONFIG``, or ``pvmon.toml`` in the working directory."""
    return Path(os.environ.get("PVMON_CONFIG", DEFAULT_CONFIG_FILE))


class MqttEndpoint(BaseModel):
    """A broker address parsed from ``mqtt://user:pass@host:port`` (``mqtts://`` for TLS)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> MqttEndpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError(f"MQTT URL must start with mqtt:// or mqtts://, got {url!r}")
        if not parts.hostname:
            raise ValueError(f"MQTT URL has no host: {url!r}")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


class IngestSettings(BaseModel):
    worker_id: str = Field(DEFAULT_INGEST_WORKER, pattern=WORKER_ID_PATTERN)
    """Stable MQTT client id suffix; the broker keeps this worker's session under it. With
    broker authentication, the worker's credential is named as its client id
    (``pvmon-<worker id>``, pvmon/brokerauth.py)."""
    shared_group: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    """Join ``$share/<group>/pv/#`` (MQTT 5) so several workers split the stream."""
    batch_size: int = Field(5000, ge=1, le=32000)
    batch_max_wait_s: float = Field(0.5, gt=0, le=60)
    receive_maximum: int | None = Field(None, ge=1, le=65535)
    """Unacknowledged messages the broker may send at once; default twice the batch size."""
    session_expiry_s: int = Field(7 * 24 * 3600, ge=60)
    keepalive_s: int = Field(60, ge=5, le=3600)
    late_window_days: float = Field(14, gt=0)
    """Oldest reading accepted, in days before now (store-and-forward backlogs)."""
    max_future_skew_s: float = Field(300, ge=0)
    max_payload_bytes: int = Field(8192, ge=256)
    dead_letter_head_bytes: int = Field(1024, ge=64, le=65536)
    """How much of a refused payload the dead letter keeps (with its whole size and
    SHA-256); the API's listing shows at most this much of any payload."""
    registry_refresh_s: float = Field(60, gt=0)
    heartbeat_s: float = Field(2.0, gt=0)
    write_timeout_s: float = Field(10, gt=0)
    retry_max_backoff_s: float = Field(30, gt=0)
    device_status_every_s: float = Field(10, ge=0)
    """How often a worker writes device liveness (``device_status``) to the relational store."""
    spool_max_mb: float = Field(1024, gt=0)
    """Disk kept for points while InfluxDB is away (compressed, about 50 bytes a point:
    1 GiB holds some 20 million points, four days of the county at full sun). When it is
    full, ingest stops acknowledging and the broker keeps the messages."""
    spool_dir: Path | None = None
    """Where the spool file lives; default ``<data_dir>/spool``. One file per worker id."""

    @property
    def effective_receive_maximum(self) -> int:
        return self.receive_maximum or min(65535, 2 * self.batch_size)

    @model_validator(mode="after")
    def _batch_fits_window(self) -> IngestSettings:
        if self.effective_receive_maximum < self.batch_size:
            raise ValueError(
                f"receive_maximum ({self.effective_receive_maximum}) is below batch_size "
                f"({self.batch_size}): a batch could never fill"
            )
        return self


class SimulatorSettings(BaseModel):
    seed: int = 20210901
    speed: float = Field(1.0, gt=0, le=100000)
    credentials: Path | None = None
    """The loggers' broker passwords (``pvmon broker config``'s credentials.csv), as each
    real logger would have its own configured."""
    history_from: dt.date | None = None
    """The first day of the demo's history (``pvmon up``); default: 1 January."""


class FusionSolarSettings(BaseModel):
    """One FusionSolar Northbound account (an API user made in the portal's Northbound
    management), for the inverters whose registry address is a cloud device id."""

    base_url: str | None = None
    """e.g. https://cn.fusionsolar.huawei.com (the region the account lives in)."""
    user: str | None = None
    system_code: str | None = None
    interval_s: int = Field(300, ge=60, le=3600)
    """How often the account's real-time KPIs are read: the cloud's limits are per
    five minutes."""


class GatewaySettings(BaseModel):
    credentials: Path | None = None
    """The stations' broker passwords (``pvmon broker config``'s credentials.csv): each
    station's logger connects as that station, as a real logger would."""
    buffer_max_bytes: int = Field(64 * 1024 * 1024, ge=64 * 1024)
    """Each station's disk buffer while the broker is away (64 MiB: about two weeks of a
    six-inverter station at one reading a minute); beyond it the oldest are dropped."""
    timeout_s: float = Field(5.0, gt=0, le=120)
    """How long a device may take to answer one poll."""
    fusionsolar: FusionSolarSettings = Field(default_factory=FusionSolarSettings)
    dtu_stale_s: float = Field(300, ge=10, le=3600)
    """A DTU's inverter whose last update is older than this at a poll is not answering
    (OpenDTU polls its inverters every few seconds to a minute)."""


class AnalyticsSettings(BaseModel):
    daily_at: dt.time = dt.time(20, 30)
    """Local time the daily job runs for the day (after sunset all year in Yonghe)."""
    frequent_minutes: int = Field(5, ge=1, le=60)
    catch_up_s: float = Field(30, ge=1, le=3600)
    """How often the service looks for days due (late data, the demo's history)."""
    history_start: dt.date | None = None
    """First day the jobs catch up from on a fresh store (default: 1 January this year)."""
    climate_table: Path | None = None
    """CSV of typical monthly specific yield (month, kwh_per_kwp); default: the shipped one."""
    daylight_elevation_deg: float = Field(5.0, ge=0, le=30)
    """Hours with the sun higher than this count as daylight for availability."""
    workers: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1), ge=1, le=64)
    """Processes of this analytics service that share many units of work (a fresh year
    of history; a province's counties): each takes units as another would on another
    machine (``analytics.leases``)."""
    lease_s: float = Field(120, ge=2, le=3600)
    """How long a unit of work stays with a process that stops renewing it (it died):
    then another takes it. Renewed every third of this while the process works."""
    degradation_limit_pct: float = Field(1.0, gt=0, le=10)
    """A station whose degradation interval lies wholly beyond losing this share of its
    output a year is a finding (``analytics.longterm``, once a month)."""
    soiling_window_days: int = Field(28, ge=7, le=120)
    cleaning_visit_yuan: float = Field(50.0, ge=0)
    cleaning_yuan_per_kwp: float = Field(2.0, ge=0)
    """A station whose dust cost more over the last ``soiling_window_days`` than a cleaning
    (a visit plus so much per kWp) is a finding (``analytics.longterm``, once a week)."""
    bad_data_share: float = Field(0.5, gt=0, lt=1)
    """A device whose labelled readings of a day are bad beyond this share (stale,
    interpolated, outliers, off its clock's grid: ``analytics.quality``) raises a
    data-quality alert."""


class TargetSettings(BaseModel):
    """Annual targets; ``by_year`` overrides the segment targets for a given year."""

    village_energy_kwh: float = Field(21_000_000, gt=0)
    village_revenue_yuan: float = Field(17_000_000, gt=0)
    by_year: dict[int, dict[str, float]] = Field(default_factory=dict)
    village_income_yuan: float = Field(200_000, gt=0)
    """Each administrative village's collective income from PV (seed: ≥ 200,000 yuan)."""
    household_income_yuan: float = Field(3_000, gt=0)

    def segment_targets(self, year: int) -> tuple[float, float]:
        """(energy kWh, revenue yuan) of the village-station segment for ``year``."""
        override = self.by_year.get(year, {})
        return (
            override.get("village_energy_kwh", self.village_energy_kwh),
            override.get("village_revenue_yuan", self.village_revenue_yuan),
        )


class EscalationStep(BaseModel):
    after_h: float = Field(gt=0)
    """Hours after the alert opened, unacknowledged."""
    to: Literal["supervisor", "bureau"]


class RobotSettings(BaseModel):
    """A WeCom or DingTalk group robot (群机器人): a webhook URL, one-way."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    url: str
    secret: str | None = None
    """DingTalk's signing secret (加签); WeCom robots have none."""
    townships: list[str] = Field(default_factory=list)
    """Townships whose people are in this group; empty: the whole county."""
    per_minute: int = Field(20, ge=1, le=600)
    """Messages the robot accepts a minute; more alerts than that go out as digests."""


class SmtpSettings(BaseModel):
    host: str
    port: int = Field(25, ge=1, le=65535)
    sender: str = "pvmon@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout_s: float = Field(10, gt=0)


class SmsSettings(BaseModel):
    """An HTTP SMS gateway. ``fields`` is the request body; ``{mobile}`` and ``{text}`` in
    its values are replaced (Aliyun- and Tencent-style gateways take a JSON or form body)."""

    url: str
    format: Literal["json", "form"] = "json"
    fields: dict[str, str] = Field(default_factory=lambda: {"mobile": "{mobile}", "text": "{text}"})
    headers: dict[str, str] = Field(default_factory=dict)
    per_minute: int = Field(60, ge=1)
    """Messages the gateway takes a minute (all numbers together)."""
    severities: list[Severity] = Field(default_factory=lambda: [Severity.CRITICAL])
    """Alert severities sent by SMS to staff (households always get their outage by SMS)."""


class WebhookSettings(BaseModel):
    """A generic JSON webhook that receives every alert notification."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    url: str
    secret: str | None = None
    """When set, requests carry ``X-Pvmon-Signature: sha256=<hex HMAC of the body>``."""
    per_minute: int = Field(600, ge=1)


class AlertSettings(BaseModel):
    language: Literal["zh", "en"] = "zh"
    base_url: str | None = None
    """Where the alert pages are served, for the links in messages (default: the API's)."""
    evaluate_s: float = Field(60, gt=0)
    """How often the engine turns findings into alerts."""
    dispatch_s: float = Field(10, gt=0)
    repeat_h: float = Field(4, gt=0)
    """An unacknowledged alert is sent again this often."""
    escalation: list[EscalationStep] = Field(
        default_factory=lambda: [
            EscalationStep(after_h=4, to="supervisor"),
            EscalationStep(after_h=24, to="bureau"),
        ]
    )
    escalate_severities: list[Severity] = Field(
        default_factory=lambda: [Severity.CRITICAL, Severity.WARNING]
    )
    resolve_after_min: float = Field(15, ge=0)
    """A condition must stay clear this long before its alert resolves itself."""
    flap_window_h: float = Field(6, gt=0)
    """A resolved alert whose condition returns within this window reopens."""
    flap_reopens: int = Field(3, ge=1)
    """Reopenings within the window after which an alert is flapping: kept open, silent."""
    quiet_hours: tuple[dt.time, dt.time] | None = (dt.time(22), dt.time(7))
    """Local hours when non-critical messages wait (None: no quiet hours)."""
    retry_attempts: int = Field(5, ge=1)
    retry_base_s: float = Field(30, gt=0)
    retry_max_s: float = Field(3600, gt=0)
    send_timeout_s: float = Field(10, gt=0)
    digest_max_items: int = Field(20, ge=2)
    """Alerts listed in one digest message (robots take about 4 KB a message)."""
    silent_days: float = Field(2, gt=0)
    """A device silent this long raises a data-quality alert."""
    reject_share: float = Field(0.5, gt=0, le=1)
    """A device whose messages in the last day were rejected more than this share..."""
    reject_min: int = Field(20, ge=1)
    """...with at least this many rejections, raises a data-quality alert."""
    wecom: list[RobotSettings] = Field(default_factory=list)
    dingtalk: list[RobotSettings] = Field(default_factory=list)
    smtp: SmtpSettings | None = None
    sms: SmsSettings | None = None
    webhooks: list[WebhookSettings] = Field(default_factory=list)


class LocalServices(BaseModel):
    """Ports for the Mosquitto and influxd that ``pvmon up`` starts itself (None: a free port)."""

    mqtt_port: int | None = Field(None, ge=1, le=65535)
    influx_port: int | None = Field(None, ge=1, le=65535)
    mosquitto_bin: str = "mosquitto"
    influxd_bin: str = "influxd"
    max_queued_messages: int = Field(1_000_000, ge=1000)
    """Per-client queue in the broker; Mosquitto's default 1000 silently drops QoS 1 backlog."""
    max_queued_bytes: int = Field(512 * 1024 * 1024, ge=0)
    broker_auth: bool = True
    """The local broker admits only the registry's loggers (each under its own station) and
    ingest, with credentials generated into ``<data dir>/broker``."""


class DisclosureSettings(BaseModel):
    """The village disclosure sheet (公示): who answers objections, and for how long it is
    posted."""

    supervision_office: str = "县能源局"
    supervision_phone: str | None = None
    """The number printed for objections; unset, the sheet leaves a line to write it on."""
    posting_days: int = Field(7, ge=1, le=90)


class FinanceSettings(BaseModel):
    """Settled money: statements, receipts, reconciliation with the telemetry estimate."""

    deviation_share: float = Field(0.05, gt=0, lt=1)
    """A settled month whose export, grid or subsidy figure differs from the telemetry
    estimate by more than this share is a finding (a meter, CT or loss-factor problem)."""
    statement_due_days: int = Field(25, ge=1, le=120)
    """A month's statement is expected this many days after the month ends; later, its
    absence is a finding."""
    statements_from: dt.date | None = None
    """The first month statements are expected for; unset: the first month any statement
    was entered (a county starting to enter them is not told of the years before)."""
    settled_kinds: list[StationKind] = Field(
        default_factory=lambda: [StationKind.VILLAGE, StationKind.CENTRAL]
    )
    """The stations the bureau receives statements for (a household array is paid to the
    household)."""
    reconcile_months: int = Field(24, ge=1, le=240)
    """How many months back each reconciliation looks."""
    tick_s: float = Field(600, ge=5, le=86_400)
    """How often the finance service reconciles and looks for missing statements."""
    upload_max_bytes: int = Field(10_000_000, ge=10_000, le=200_000_000)


class ReportSettings(BaseModel):
    """The bureau's monthly report and the villages' quarterly statements: when they are
    made and who gets them (by the alerts' SMTP server and robots)."""

    monthly_day: int = Field(3, ge=1, le=28)
    """A month's report is made from this day of the next month (its last days computed,
    late data in)."""
    quarterly_day: int = Field(10, ge=1, le=28)
    """A quarter's village statements are made from this day of the month after it."""
    at_hour: int = Field(8, ge=0, le=23)
    since: str | None = Field(None, pattern=r"^20\d\d-(0[1-9]|1[0-2])$")
    """The first month reports are caught up from; unset: only the last one due."""
    email_to: list[str] = Field(default_factory=list)
    """More recipients of the monthly report, besides the bureau's people with an e-mail."""
    robots: bool = True
    """A message with the report's link to the county-wide robots."""
    tick_s: float = Field(900, ge=5, le=86_400)


class RegistrySettings(BaseModel):
    seed: int = 2021
    central_kwp: float = Field(20_000, gt=0)
    required_cert: dict[StationKind, CertType] = Field(
        default_factory=lambda: {
            StationKind.VILLAGE: CertType.LOW_VOLTAGE,
            StationKind.HOUSEHOLD: CertType.LOW_VOLTAGE,
            StationKind.CENTRAL: CertType.HIGH_VOLTAGE,
        }
    )


class PlanSettings(BaseModel):
    """A recurring job (a monthly patrol, cleaning in spring and autumn): each month it
    names, every station it covers gets one order, due on ``due_day``."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    """Names the plan in its orders; changing it starts the plan afresh."""
    kind: Literal["patrol", "cleaning", "vegetation"]
    months: list[int] = Field(default_factory=lambda: list(range(1, 13)), min_length=1)
    station_kinds: list[StationKind] = Field(default_factory=list)
    stations: list[str] = Field(default_factory=list)
    """Stations covered besides those of ``station_kinds``."""
    due_day: int = Field(28, ge=1, le=31)
    """The order's deadline: the end of this day of the month (or of the month's last day)."""
    open_days_before: int = Field(14, ge=0, le=60)

    @field_validator("months")
    @classmethod
    def _months(cls, value: list[int]) -> list[int]:
        if any(not 1 <= m <= 12 for m in value):
            raise ValueError("months are 1 to 12")
        return sorted(set(value))

    @model_validator(mode="after")
    def _covers_something(self) -> PlanSettings:
        if not self.station_kinds and not self.stations:
            raise ValueError("a plan covers station_kinds, stations or both")
        return self


def default_plans() -> list[PlanSettings]:
    """A monthly patrol of every village and the centralized station, and their cleaning in
    April and October (before the summer's and after the autumn's dust)."""
    ground = [StationKind.VILLAGE, StationKind.CENTRAL]
    return [
        PlanSettings(key="patrol", kind="patrol", station_kinds=ground),
        PlanSettings(key="cleaning", kind="cleaning", months=[4, 10], station_kinds=ground),
    ]


class MaintenanceSettings(BaseModel):
    plans: list[PlanSettings] = Field(default_factory=default_plans)
    """Recurring orders (``PVMON_MAINTENANCE__PLANS`` as JSON); unique keys."""
    deadline_hours: dict[Severity, float] = Field(
        default_factory=lambda: {
            Severity.CRITICAL: 24.0,
            Severity.WARNING: 72.0,
            Severity.INFO: 168.0,
        }
    )
    """How long an order may take from its creation to done, by severity; a later one
    escalates."""
    verify_after_h: float = Field(24, gt=0, le=24 * 30)
    """A done order is verified once its station has run without an operating finding
    (and its alert has stayed resolved) for this long."""
    tick_s: float = Field(60, ge=1, le=3600)
    """How often the maintenance service opens, verifies, reopens and escalates orders."""
    photo_max_bytes: int = Field(8_000_000, ge=10_000, le=100_000_000)
    """The largest photo a phone may upload (a phone's full-size JPEG is 2–6 MB)."""
    photo_max_pixels: int = Field(50_000_000, ge=100_000, le=500_000_000)
    """Width × height above which an image is refused before it is decoded."""
    photos_per_order: int = Field(30, ge=1, le=500)
    thumbnail_px: int = Field(320, ge=64, le=1024)
    """The longer side of the thumbnails the order pages show."""

    @field_validator("plans")
    @classmethod
    def _unique_keys(cls, value: list[PlanSettings]) -> list[PlanSettings]:
        keys = [p.key for p in value]
        if len(keys) != len(set(keys)):
            raise ValueError(f"plan keys must be unique: {keys}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PVMON_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Path("data-pvmon")
    mqtt_url: str | None = None
    """Broker to use; unset means ``pvmon up`` starts a local Mosquitto."""
    influx_url: str | None = None
    """InfluxDB to use; unset means ``pvmon up`` starts a local influxd."""
    influx_db: str = Field("pvmon", pattern=r"^[A-Za-z0-9_]{1,64}$")
    influx_token: str | None = None
    influx_org: str | None = None
    """InfluxDB 2.x organisation (provisioning only)."""
    influx_generation: Literal["auto", "1", "2", "3"] = "auto"
    influx_rpc: str = Field("127.0.0.1:8088", pattern=r"^[A-Za-z0-9_.\[\]:-]+:[0-9]{1,5}$")
    """InfluxDB 1.x's RPC address (influxd's top-level ``bind-address``), through which
    ``pvmon backup`` and ``pvmon restore`` copy the database."""
    raw_retention_days: int = Field(400, ge=1)
    database_url: str | None = None
    """SQLAlchemy URL; unset means a SQLite file in the data directory."""
    api_port: int = Field(8000, ge=1, le=65535)
    api_threads: int = Field(20, ge=1, le=200)
    """Requests the API serves at once (its worker threads). Its database pool holds two
    connections per thread — a request's own session and one a helper opens inside it — so
    that no request waits for a connection another waiting request holds."""
    api_map_stations: int = Field(20_000, ge=1)
    """The most stations the map draws one by one (a county has about 2,240); past it (a
    province) the map shades the townships by their stations' states instead."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or networks of reverse proxies whose ``X-Forwarded-For`` the API believes
    (none by default: every caller is who its connection says, so a forged header cannot
    lift the sign-in lockout)."""
    timezone: str = "Asia/Shanghai"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    demo: bool = False
    """The local demo (``pvmon up`` sets it): demo users with a published password are
    allowed. Elsewhere the API refuses to start with them or with placeholder secrets."""

    telemetry_interval_s: dict[StationKind, int] = Field(
        default_factory=lambda: {
            StationKind.VILLAGE: 60,
            StationKind.HOUSEHOLD: 300,
            StationKind.CENTRAL: 60,
        }
    )
    """How often the data loggers report each kind of station's inverters."""

    ingest: IngestSettings = Field(default_factory=IngestSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    targets: TargetSettings = Field(default_factory=TargetSettings)
    local: LocalServices = Field(default_factory=LocalServices)
    registry: RegistrySettings = Field(default_factory=RegistrySettings)
    disclosure: DisclosureSettings = Field(default_factory=DisclosureSettings)
    finance: FinanceSettings = Field(default_factory=FinanceSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    maintenance: MaintenanceSettings = Field(default_factory=MaintenanceSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file()))

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            MqttEndpoint.parse(value)
        return value

    @field_validator("influx_url")
    @classmethod
    def _influx_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"InfluxDB URL must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("database_url")
    @classmethod
    def _database_url_supported(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite:", "postgresql")):
            raise ValueError(f"database URL must be sqlite:///… or postgresql://…, got {value!r}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def mqtt(self) -> MqttEndpoint | None:
        return MqttEndpoint.parse(self.mqtt_url) if self.mqtt_url else None

    @property
    def effective_database_url(self) -> str:
        """The configured database, or the SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'pvmon.db').resolve()}"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the driver SQLAlchemy should use."""
        url = self.effective_database_url
        if url.startswith("postgresql://"):
            return "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url

    @property
    def alert_base_url(self) -> str:
        return (self.alerts.base_url or f"http://localhost:{self.api_port}").rstrip("/")

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


class SettingsError(Exception):
    """Settings failed validation; the message lists every problem, one per line."""


PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "password",
        "admin",
        "example",
        "xxx",
        "placeholder",
        "todo",
        "yonghe-demo",
    }
)


def placeholder_secrets(settings: Settings) -> list[str]:
    """Secret settings left at a placeholder value, by name (never by value)."""
    a = settings.alerts
    secrets: list[tuple[str, str | None]] = [
        ("PVMON_MQTT_URL password", settings.mqtt.password if settings.mqtt else None),
        ("PVMON_INFLUX_TOKEN", settings.influx_token),
        ("PVMON_ALERTS__SMTP password", a.smtp.password if a.smtp else None),
        *((f"DingTalk robot {r.name} secret", r.secret) for r in a.dingtalk),
        *((f"webhook {h.name} secret", h.secret) for h in a.webhooks),
    ]
    return [name for name, value in secrets if value is not None and value.lower() in PLACEHOLDERS]


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's report into one readable message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = ["invalid settings:"]
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"])
        env = "PVMON_" + "__".join(str(part) for part in error["loc"]).upper()
        lines.append(f"  {path} (env {env}): {error['msg']}")
    return "\n".join(lines)
