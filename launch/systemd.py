"""systemd units for a production server (pure: options in, file names and texts out).

One unit per process of ``pvmon up``, all parts of ``pvmon.target``: ingest and the gateway
as template units (``pvmon-ingest@w1.service``: one instance per worker id;
``pvmon-gateway@north.service``: one per group of stations, its stations in
``<config dir>/gateway/<instance>.env``), the services each as one unit, and the backup
as a oneshot service on a timer. Every unit runs as the dedicated user, reads its secrets
from one environment file (mode 0600, written by ``pvmon deploy systemd`` without its
secrets), restarts after a failure, and logs to the journal (its console; the structured
log files stay in the data directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERVICES = {
    "analytics": "rollups, findings, targets and statements on schedule",
    "alerts": "the alert engine: rules, routing and notifications",
    "maintenance": "work orders from alerts, verification by the data, escalation",
    "finance": "month close and reconciliation on schedule",
    "reports": "the monthly report and quarterly statements, made and delivered",
    "api": "the API and the dashboards",
}
"""The long-running services (``pvmon <name>``), one unit each."""
TEMPLATES = {
    "ingest": ("telemetry from MQTT into InfluxDB, worker %i", "ingest --worker-id %i"),
    "gateway": (
        "Modbus and vendor-cloud gateway %i",
        "gateway --stations ${PVMON_GATEWAY_STATIONS}",
    ),
}
"""Processes run as several instances: (description, arguments)."""
TARGET = "pvmon.target"
SECRETS = ("PVMON_MQTT_URL", "PVMON_DATABASE_URL", "PVMON_INFLUX_URL", "PVMON_INFLUX_TOKEN")
"""The addresses with credentials in them, for the operator to fill in."""


@dataclass(frozen=True)
class UnitOptions:
    pvmon: Path
    """The installed ``pvmon`` program."""
    user: str = "pvmon"
    data_dir: Path = Path("/var/lib/pvmon")
    config_dir: Path = Path("/etc/pvmon")
    backup_dir: Path = Path("/var/backups/pvmon")
    backup_keep: int = 14
    backup_calendar: str = "*-*-* 02:30:00"
    after: tuple[str, ...] = ("mosquitto.service", "influxdb.service", "postgresql.service")
    """Local servers started first, where they run on the same machine."""

    @property
    def env_file(self) -> Path:
        return self.config_dir / "pvmon.env"


def units(o: UnitOptions) -> dict[str, str]:
    """File name → text of every unit."""
    out = {TARGET: _target()}
    for name, what in SERVICES.items():
        out[f"pvmon-{name}.service"] = _service(o, f"pvmon {what}", name, name)
    for name, (what, args) in TEMPLATES.items():
        extra = f"EnvironmentFile={o.config_dir / 'gateway'}/%i.env\n" if name == "gateway" else ""
        out[f"pvmon-{name}@.service"] = _service(o, f"pvmon {what}", args, f"{name}-%i", extra)
    out["pvmon-backup.service"] = _backup(o)
    out["pvmon-backup.timer"] = _timer(o)
    return out


def environment_file(o: UnitOptions) -> str:
    """The environment file's text: the settings that carry secrets, left for the operator."""
    lines = [
        "# pvmon's secrets and addresses, read by every pvmon unit (mode 0600, owner root).",
        "# Any setting can be given here as PVMON_<NAME> (README, Configuration); the alert",
        "# channels (SMTP password, robots' URLs and secrets) are best kept in the settings",
        f"# file named below, readable by {o.user} only.",
        f"PVMON_DATA_DIR={o.data_dir}",
        f"PVMON_CONFIG={o.config_dir / 'pvmon.toml'}",
    ]
    return "\n".join([*lines, *(f"{name}=" for name in SECRETS)]) + "\n"


def _target() -> str:
    return """\
[Unit]
Description=pvmon: the Yonghe PV operations monitor, every process
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target
"""


def _common(o: UnitOptions, identifier: str) -> str:
    return f"""\
User={o.user}
Group={o.user}
EnvironmentFile={o.env_file}
Environment=PVMON_DATA_DIR={o.data_dir}
WorkingDirectory={o.data_dir}
StandardOutput=journal
StandardError=journal
SyslogIdentifier=pvmon-{identifier}
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=yes
"""


def _service(o: UnitOptions, what: str, args: str, identifier: str, extra: str = "") -> str:
    after = " ".join(("network-online.target", *o.after))
    return f"""\
[Unit]
Description={what}
PartOf={TARGET}
Wants=network-online.target
After={after}
StartLimitIntervalSec=300
StartLimitBurst=10

[Service]
Type=exec
{_common(o, identifier)}{extra}ReadWritePaths={o.data_dir}
ExecStart={o.pvmon} {args}
Restart=always
RestartSec=5
TimeoutStopSec=60

[Install]
WantedBy={TARGET}
"""


def _backup(o: UnitOptions) -> str:
    after = " ".join(o.after)
    return f"""\
[Unit]
Description=pvmon backup: InfluxDB, the relational store and the data directory's files
After={after}

[Service]
Type=oneshot
{_common(o, "backup")}ReadWritePaths={o.data_dir} {o.backup_dir}
ExecStart={o.pvmon} backup {o.backup_dir} --dated --keep {o.backup_keep}
"""


def _timer(o: UnitOptions) -> str:
    return f"""\
[Unit]
Description=pvmon backup on schedule

[Timer]
OnCalendar={o.backup_calendar}
Persistent=true
RandomizedDelaySec=300

[Install]
WantedBy=timers.target
"""
