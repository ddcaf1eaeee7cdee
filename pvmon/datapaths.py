"""The paths outside the databases that hold state the system cannot lose: what a backup
must copy besides InfluxDB and the relational store (``pvmon backup``, issue 20). Each
is named here once, and the code that writes it takes its path from here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pvmon.settings import Settings, config_file


@dataclass(frozen=True)
class DataPath:
    name: str
    """Its name in a backup."""
    path: Path
    """A directory, or (``settings``) one file."""
    holds: str
    writer: str
    """The process (or person) that writes it."""


def local_influxdb(settings: Settings) -> Path:
    """The files of the influxd ``pvmon up`` starts (backed up through influxd itself)."""
    return settings.data_dir / "influxdb"


def broker_files(settings: Settings) -> Path:
    return settings.data_dir / "broker"


def ingest_spool(settings: Settings) -> Path:
    return settings.ingest.spool_dir or settings.data_dir / "spool"


def gateway_buffers(settings: Settings) -> Path:
    return settings.data_dir / "gateway"


def order_photos(settings: Settings) -> Path:
    return settings.data_dir / "photos"


def disclosures(settings: Settings) -> Path:
    return settings.data_dir / "disclosures"


def reports(settings: Settings) -> Path:
    return settings.data_dir / "reports"


def report_file(settings: Settings, kind: str, period: str, name: str) -> Path:
    """Where a report's file is kept: by its kind and period."""
    return reports(settings) / kind / period / name


def declared(settings: Settings) -> list[DataPath]:
    return [
        DataPath(
            "broker",
            broker_files(settings),
            "the local broker's password file and ACL, and each logger's credential",
            "pvmon broker config",
        ),
        DataPath(
            "settings",
            config_file().absolute(),
            "the settings file (pvmon.toml), where there is one",
            "the operator",
        ),
        DataPath(
            "spool",
            ingest_spool(settings),
            "readings received and acknowledged while InfluxDB was away, not yet written",
            "ingest",
        ),
        DataPath(
            "gateway",
            gateway_buffers(settings),
            "each station's messages not yet acknowledged by the broker (store-and-forward)",
            "gateway",
        ),
        DataPath(
            "photos",
            order_photos(settings),
            "photos of the work on each order, uploaded from maintainers' phones",
            "api",
        ),
        DataPath(
            "disclosures",
            disclosures(settings),
            "each village's published disclosure sheets (公示), kept unchanged as PDF files",
            "api",
        ),
        DataPath(
            "reports",
            reports(settings),
            "the reports produced (the bureau's monthly report, villages' quarterly statements)",
            "reports",
        ),
    ]
