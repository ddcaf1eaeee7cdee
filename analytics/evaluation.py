"""The daily evaluation: underperformance over the recent weeks, certification, and the
targets, as findings."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analytics.context import Analytics
from analytics.degradation import clear_township_days
from analytics.detect import (
    certification_findings,
    target_findings,
    underperformance,
)
from analytics.forecasts import targets
from analytics.profiles import ENERGY_FIELDS, PROFILE_DAYS, SHAPE_FIELDS, profile_losses
from analytics.quality import (
    CLOCK_FIELD,
    CLOCK_RECENT_WINDOW_DAYS,
    CLOCK_USUAL_DAYS,
    QUALITY_FIELDS,
    bad_data,
    clock_shifts,
    on_clear_days,
)
from pvmon.certification import Compliance, compliance
from pvmon.db.findings import sync_findings
from pvmon.findings import Finding, FindingKind
from pvmon.influx import schema
from pvmon.localtime import day_bounds, local_day

HISTORY_DAYS = 40
"""Days of station rollups the underperformance and clock checks read (baseline and
recent)."""
HISTORY_FIELDS = ["peer_index", "weight", "usable", "csi"]


def station_history(a: Analytics, last: dt.date, days: int = HISTORY_DAYS) -> pd.DataFrame:
    start, _ = day_bounds(last - dt.timedelta(days=days - 1), a.tz)
    _, end = day_bounds(last, a.tz)
    frame = a.rollups.read(schema.STATION_DAILY, start, end, "station", HISTORY_FIELDS)
    frame["date"] = [local_day(t, a.tz) for t in frame["ts"]]
    frame["usable"] = frame["usable"].fillna(0) > 0
    return frame.rename(columns={"station": "station_id"})


def profile_history(a: Analytics, last: dt.date) -> pd.DataFrame:
    """The judged station-days of the profile window up to ``last``: date, station_id and
    the hours' shapes and energy."""
    start, _ = day_bounds(last - dt.timedelta(days=PROFILE_DAYS - 1), a.tz)
    _, end = day_bounds(last, a.tz)
    frame = a.rollups.read(
        schema.STATION_HOURS, start, end, "station", [*SHAPE_FIELDS, *ENERGY_FIELDS]
    )
    frame["date"] = [local_day(t, a.tz) for t in frame["ts"]]
    return frame.rename(columns={"station": "station_id"})


def day_quality(a: Analytics, day: dt.date) -> pd.DataFrame:
    """device → the data-quality counts of its readings of ``day``."""
    start, end = day_bounds(day, a.tz)
    frame = a.rollups.read(schema.DEVICE_DAILY, start, end, "device", QUALITY_FIELDS)
    return frame.set_index("device")[QUALITY_FIELDS].dropna()


def clock_history(a: Analytics, day: dt.date, stations: pd.DataFrame) -> pd.DataFrame:
    """date × device → the devices' clock offsets over the days ``clock_shifts`` judges, on
    their townships' clear days. ``stations``: ``station_history`` of the same days."""
    first = day - dt.timedelta(days=CLOCK_RECENT_WINDOW_DAYS + CLOCK_USUAL_DAYS - 1)
    start, _ = day_bounds(first, a.tz)
    _, end = day_bounds(day, a.tz)
    frame = a.rollups.read(schema.DEVICE_DAILY, start, end, "device", [CLOCK_FIELD])
    frame["date"] = [local_day(t, a.tz) for t in frame["ts"]]
    offsets = frame.pivot_table(index="date", columns="device", values=CLOCK_FIELD)
    clear = stations.assign(
        clear=clear_township_days(stations, a.frames.stations["township_id"])
    ).pivot_table(index="date", columns="station_id", values="clear", aggfunc="any")
    return on_clear_days(offsets, clear, a.frames.devices["station_id"])


CERT_KINDS = (
    FindingKind.CERT_MISSING,
    FindingKind.CERT_EXPIRED,
    FindingKind.CERT_REVIEW_OVERDUE,
    FindingKind.CERT_DUE,
)


def evaluate(a: Analytics, day: dt.date, now: dt.datetime) -> dict[str, object]:
    """Findings as of the end of ``day``: underperformance, losses confined to some hours,
    devices whose data were mostly bad or whose clock moved, certification, targets."""
    history = station_history(a, day)
    found, evaluated = underperformance(history, day, a.tz)
    shaded, shaded_evaluated = profile_losses(profile_history(a, day), day, a.tz)
    bad, bad_evaluated = bad_data(
        day_quality(a, day),
        a.frames.devices["station_id"],
        a.settings.analytics.bad_data_share,
        day,
        a.tz,
    )
    clocks, clock_evaluated = clock_shifts(
        clock_history(a, day, history), a.frames.devices["station_id"], day, a.tz
    )
    report = certification(a, day)
    cert, cert_evaluated = _certification_findings(a, report)
    status = targets(a, day)
    goals = target_findings(status.segment, status.villages, a.tz)
    evaluated |= cert_evaluated | shaded_evaluated | bad_evaluated | clock_evaluated
    evaluated.add((str(FindingKind.TARGET_AT_RISK), "village-stations"))
    evaluated |= {(str(FindingKind.VILLAGE_INCOME_AT_RISK), v) for v in status.villages}
    with a.sessions.begin() as session:
        opened, cleared = sync_findings(
            session, [*found, *shaded, *bad, *clocks, *cert, *goals], evaluated, now
        )
    return {
        "underperforming": len(found),
        "hour_losses": len(shaded),
        "bad_data_devices": len(bad),
        "clock_shifts": len(clocks),
        "certification_findings": len(cert),
        "certification_rate": round(report.rate, 4),
        "target": str(status.segment.status),
        "opened": opened,
        "cleared": cleared,
    }


def certify(a: Analytics, day: dt.date, now: dt.datetime) -> dict[str, object]:
    """Certification findings as of ``day`` alone: they need the registry, not telemetry,
    so they hold from the first start, before any day has been computed."""
    report = certification(a, day)
    cert, evaluated = _certification_findings(a, report)
    with a.sessions.begin() as session:
        opened, cleared = sync_findings(session, cert, evaluated, now)
    return {
        "certification_findings": len(cert),
        "certification_rate": round(report.rate, 4),
        "opened": opened,
        "cleared": cleared,
    }


def _certification_findings(
    a: Analytics, report: Compliance
) -> tuple[list[Finding], set[tuple[str, str]]]:
    evaluated = {(str(k), r.person_id) for r in report.requirements for k in CERT_KINDS}
    evaluated |= {(str(FindingKind.STATION_UNCOVERED), s) for s in a.frames.stations.index}
    return certification_findings(report, a.tz), evaluated


def certification(a: Analytics, day: dt.date) -> Compliance:
    return compliance(a.registry, day, a.settings.registry.required_cert)
