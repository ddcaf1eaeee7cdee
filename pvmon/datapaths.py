"""The paths outside the databases that hold state the system cannot lose: what a backup
must copy besides InfluxDB and the relational store (``pvmon backup``, issue 20). Each
is named here once, and the code that writes it takes its path from here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pvmon.settings import Settings


@dataclass(frozen=True)
class DataPath:
    path: Path
    holds: str
    writer: str
    """The process that writes it."""


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
            ingest_spool(settings),
            "readings received and acknowledged while InfluxDB was away, not yet written",
            "ingest",
        ),
        DataPath(
            gateway_buffers(settings),
            "each station's messages not yet acknowledged by the broker (store-and-forward)",
            "gateway",
        ),
        DataPath(
            order_photos(settings),
            "photos of the work on each order, uploaded from maintainers' phones",
            "api",
        ),
        DataPath(
            disclosures(settings),
            "each village's published disclosure sheets (公示), kept unchanged as PDF files",
            "api",
        ),
        DataPath(
            reports(settings),
            "the reports produced (the bureau's monthly report, villages' quarterly statements)",
            "reports",
        ),
    ]
