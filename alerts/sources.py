"""Reading what the rules judge: analytics' active findings, ingest's dead letters and
device status from the relational store, and stored-message counts from InfluxDB."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.rules import ActiveFinding, DeviceTraffic
from pvmon.db import tables
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.schema import TELEMETRY
from pvmon.telemetry import Reason

REJECT_WINDOW = dt.timedelta(days=1)


def active_findings(session: Session) -> list[ActiveFinding]:
    rows = session.scalars(select(tables.Finding).where(tables.Finding.active.is_(True)))
    return [
        ActiveFinding(
            r.kind, r.subject_type, r.subject_id, r.station_id, r.severity, r.since, r.evidence
        )
        for r in rows
    ]


def rejections(
    session: Session, station_of: dict[str, str], now: dt.datetime
) -> dict[str, tuple[int, dt.datetime, Counter[str]]]:
    """Known devices' dead letters over the last day: count, first time, reasons — leaving
    out what was refused because the device was not yet in the registry (a new inverter
    that spoke before it was recorded: its readings are stored once it is)."""
    since = now - REJECT_WINDOW
    rows = session.execute(
        select(
            tables.DeadLetter.device_id,
            tables.DeadLetter.reason,
            func.count(),
            func.min(tables.DeadLetter.received_at),
        )
        .where(
            tables.DeadLetter.received_at >= since,
            tables.DeadLetter.device_id.is_not(None),
            tables.DeadLetter.reason != str(Reason.UNKNOWN_DEVICE),
        )
        .group_by(tables.DeadLetter.device_id, tables.DeadLetter.reason)
    )
    found: dict[str, tuple[int, dt.datetime, Counter[str]]] = {}
    for device, reason, count, first in rows:
        if device not in station_of:
            continue  # a made-up id: counted by reason in ingest's status, not a device alert
        total, earliest, reasons = found.get(device, (0, first, Counter()))
        reasons[reason] += count
        found[device] = (total + count, min(earliest, first), reasons)
    return found


def stored_counts(influx: InfluxClient, devices: list[str], since: dt.datetime) -> dict[str, int]:
    """Readings stored per device since ``since`` (device ids are registry codes: safe in
    an InfluxQL regular expression)."""
    if not devices:
        return {}
    pattern = "|".join(devices)
    series = influx.query(
        f'SELECT COUNT("W") AS n FROM "{TELEMETRY}" WHERE time >= {int(since.timestamp())}s '
        f'AND "device" =~ /^({pattern})$/ GROUP BY "device"'
    )
    return {row["device"]: int(row["n"]) for row in series_values(series)}


def traffic(
    session: Session, influx: InfluxClient, station_of: dict[str, str], now: dt.datetime
) -> dict[str, DeviceTraffic]:
    rejected = rejections(session, station_of, now)
    stored = stored_counts(influx, sorted(rejected), now - REJECT_WINDOW)
    return {
        device: DeviceTraffic(station_of[device], count, stored.get(device, 0), first, dict(why))
        for device, (count, first, why) in rejected.items()
    }


def liveness(
    session: Session, station_of: dict[str, str]
) -> tuple[dict[str, tuple[str, dt.datetime | None]], dt.datetime | None]:
    """Each registry device's last reception, and since when ingest has been watching
    (None: no ingest worker has ever run, so silence says nothing)."""
    rows = session.execute(
        select(tables.DeviceStatus.device_id, tables.DeviceStatus.last_received_at)
    ).all()
    seen: dict[str, dt.datetime] = dict(rows)  # type: ignore[arg-type]
    watching = session.scalar(select(func.min(tables.IngestWorker.started_at)))
    return {d: (s, seen.get(d)) for d, s in station_of.items()}, watching
