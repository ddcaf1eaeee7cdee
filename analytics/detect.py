"""Finding what is wrong (pure): live conditions, underperformance, certification, targets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.day_figures import PEER_PRODUCING, ZERO_FRACTION
from analytics.targets import Forecast, TargetStatus
from pvmon.certification import Compliance
from pvmon.domain import CertState
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.localtime import midnight, utc
from pvmon.telemetry import GatewayEvent, OperatingState

# --- live: the last minutes of telemetry -------------------------------------------------


@dataclass(frozen=True)
class LiveWindow:
    start: int
    end: int
    readings: pd.DataFrame
    """device, ts, W, St in [start, end)"""
    events: pd.DataFrame
    """device, ts, code in [start, end)"""
    daylight: pd.Series
    """township → the sun is up through the whole window"""
    logger_online: pd.Series
    """station → the logger's last status said online"""
    logger_since: pd.Series
    """station → since when (epoch seconds) its logger has said that. Silence is judged
    only where the logger's state held through the whole window: a logger that has just
    connected (the system or the logger just started) has not yet had the time to report,
    and one never heard from is not yet connected, not a lost link."""
    listening_since: float | None = 0.0
    """Since when ingest has been receiving without a break (None: it is not). Silence
    is judged only over a window it listened to throughout: after the monitor itself was
    down, the quiet is its own, not the stations'."""


def live_findings(
    w: LiveWindow, devices: pd.DataFrame, stations: pd.DataFrame
) -> tuple[list[Finding], set[tuple[str, str]]]:
    """Findings, and the (kind, station) pairs evaluated: only those may be cleared.

    Stations are judged only in daylight; night silence is normal.
    """
    lit = stations["township_id"].map(w.daylight).fillna(False).astype(bool)
    judged = stations.index[lit]
    readings = w.readings.join(devices[["station_id", "rated_ac_w"]], on="device")
    readings = readings[readings["station_id"].isin(judged)]
    held = w.logger_since.reindex(judged) <= w.start
    monitored = w.listening_since is not None and w.listening_since <= w.start
    listened = judged[held.fillna(False).to_numpy(dtype=bool)] if monitored else judged[:0]
    findings: list[Finding] = []
    findings += _silence(w, readings, devices, listened)
    findings += _zero_output(w, readings, stations)
    findings += _faults(w, readings, devices, judged)
    evaluated = {
        (str(kind), s)
        for s in judged
        for kind in (FindingKind.ZERO_OUTPUT, FindingKind.FAULT_STATE)
    } | {
        (str(kind), s) for s in listened.union(_heard_whole(readings, devices)) for kind in SILENCE
    }
    return findings, evaluated


def _heard_whole(readings: pd.DataFrame, devices: pd.DataFrame) -> pd.Index:
    """Stations every device of which was heard in the window: not silent, however long
    their logger has been connected."""
    heard = devices.index.isin(readings["device"].unique())
    whole = pd.Series(heard, index=devices.index).groupby(devices["station_id"]).all()
    return whole.index[whole.to_numpy(dtype=bool)]


SILENCE = (FindingKind.COMM_LOSS, FindingKind.DEVICE_SILENT)


def _silence(
    w: LiveWindow, readings: pd.DataFrame, devices: pd.DataFrame, judged: pd.Index
) -> list[Finding]:
    heard = set(readings["device"])
    out = []
    minutes = (w.end - w.start) // 60
    for station, members in devices[devices["station_id"].isin(judged)].groupby("station_id"):
        quiet = [d for d in members.index if d not in heard]
        if not quiet:
            continue
        online = bool(w.logger_online.get(station, False))
        if len(quiet) == len(members):
            out.append(
                Finding(
                    FindingKind.COMM_LOSS,
                    Subject.STATION,
                    station,
                    Severity.CRITICAL,
                    utc(w.start),
                    {"minutes_without_data": minutes, "logger_online": online},
                    station,
                )
            )
        else:
            out.append(
                Finding(
                    FindingKind.DEVICE_SILENT,
                    Subject.STATION,
                    station,
                    Severity.WARNING,
                    utc(w.start),
                    {"silent_devices": sorted(quiet), "minutes": minutes},
                    station,
                )
            )
    return out


def _zero_output(w: LiveWindow, readings: pd.DataFrame, stations: pd.DataFrame) -> list[Finding]:
    if readings.empty:
        return []
    mean_w = readings.groupby(["station_id", "device"])["W"].mean()
    rated = readings.groupby(["station_id", "device"])["rated_ac_w"].first()
    share = (mean_w.groupby("station_id").sum() / rated.groupby("station_id").sum()).rename("share")
    frame = share.to_frame().join(stations[["township_id", "peer_group"]])
    frame["peers"] = frame.groupby(["township_id", "peer_group"])["share"].transform("median")
    faulted = set(readings.loc[readings["St"] == OperatingState.FAULT, "station_id"])
    zero = frame[(frame["share"] <= ZERO_FRACTION) & (frame["peers"] >= PEER_PRODUCING)]
    return [
        Finding(
            FindingKind.ZERO_OUTPUT,
            Subject.STATION,
            station,
            Severity.CRITICAL,
            utc(w.start),
            {
                "output_share": round(float(row.share), 4),
                "peer_median_share": round(float(row.peers), 3),
            },
            station,
        )
        for station, row in zero.iterrows()
        if station not in faulted
    ]


def _faults(
    w: LiveWindow, readings: pd.DataFrame, devices: pd.DataFrame, judged: pd.Index
) -> list[Finding]:
    latest = readings.sort_values("ts").groupby("device").tail(1)
    tripped = latest[latest["St"] == OperatingState.FAULT]
    events = w.events.join(devices[["station_id"]], on="device")
    # what a gateway says about polling a device is not the device's alarm: its silence
    # is judged by `_silence`
    alarms = ~events["code"].isin([int(c) for c in GatewayEvent])
    events = events[events["station_id"].isin(judged) & alarms]
    out = []
    for station in sorted(set(tripped["station_id"]) | set(events["station_id"])):
        devs = sorted(set(tripped.loc[tripped["station_id"] == station, "device"]))
        codes = sorted({int(c) for c in events.loc[events["station_id"] == station, "code"]})
        first = readings[
            (readings["station_id"] == station) & (readings["St"] == OperatingState.FAULT)
        ]["ts"]
        since = utc(float(first.min())) if len(first) else utc(w.start)
        out.append(
            Finding(
                FindingKind.FAULT_STATE,
                Subject.STATION,
                station,
                Severity.CRITICAL,
                since,
                {"devices": devs, "event_codes": codes},
                station,
            )
        )
    return out


# --- underperformance: days against the station's own usual level -----------------------

BASELINE_DAYS = 28
RECENT_USABLE_DAYS = 3
MARGIN = 0.08
"""A day is low when the peer index is more than 8 % below the station's usual level."""
LOW_SHARE = 0.6
"""... and low days make up most (by weight) of the recent usable days."""
MIN_RECENT_WEIGHT = 1.0
MIN_BASELINE_DAYS = 5
FALLBACK_MARGIN = 0.12
"""Without enough history the usual level is taken as the peers' (1.0), with a wider margin."""


def day_weight(township_csi: float) -> float:
    """How much a day counts: overcast days, when every station makes little, weigh less."""
    if not np.isfinite(township_csi):
        return 0.0
    return float(np.clip((township_csi - 0.15) / 0.25, 0.0, 1.0))


def township_day_weights(day: pd.DataFrame, stations: pd.DataFrame) -> pd.Series:
    """Per station, the weight of its township's day (median clear-sky index of the
    township's ground-mounted stations, or of all its stations)."""
    frame = day[["csi"]].join(stations[["township_id", "peer_group"]])
    arrays = frame[frame["peer_group"] == "array"].groupby("township_id")["csi"].median()
    every = frame.groupby("township_id")["csi"].median()
    median = arrays.reindex(every.index).fillna(every)
    return frame["township_id"].map(median).map(day_weight)


def usable(day: pd.DataFrame) -> pd.Series:
    """Days that say something about performance: full data, no outage, no fault."""
    return (
        (day["availability"] >= 0.9)
        & (day["comm_loss_hours"] == 0)
        & (day["zero_hours"] == 0)
        & (day["fault_hours"] == 0)
        & day["peer_index"].notna()
    )


def baseline(days: pd.DataFrame, before: dt.date) -> pd.DataFrame:
    """The usable days (of one station) the usual level is taken from: the
    ``BASELINE_DAYS`` before ``before``, bright enough to count (weight ≥ 0.5)."""
    since = before - dt.timedelta(days=BASELINE_DAYS)
    return days[
        days["usable"] & (days["date"] < before) & (days["date"] >= since) & (days["weight"] >= 0.5)
    ]


def usual_levels(history: pd.DataFrame, day: dt.date) -> pd.Series:
    """Each station's usual peer index before ``day``: the median over its baseline; a
    station without enough baseline days is left out (its level is taken as the peers',
    1.0). ``history``: date, station_id, peer_index, weight, usable."""
    base = baseline(history, day)
    level = base.groupby("station_id")["peer_index"].median()
    enough = base.groupby("station_id")["peer_index"].count() >= MIN_BASELINE_DAYS
    return level[enough]


def underperformance(
    history: pd.DataFrame, today: dt.date, tz: dt.tzinfo
) -> tuple[list[Finding], set[tuple[str, str]]]:
    """``history``: date, station_id, peer_index, weight, usable — the station-days up to
    ``today``. Returns findings and the stations evaluated (enough recent usable days)."""
    out: list[Finding] = []
    evaluated: set[tuple[str, str]] = set()
    good = history[history["usable"] & (history["date"] <= today)].sort_values("date")
    for station, days in good.groupby("station_id"):
        recent = days[days["weight"] > 0].tail(RECENT_USABLE_DAYS)
        if len(recent) < RECENT_USABLE_DAYS or recent["weight"].sum() < MIN_RECENT_WEIGHT:
            continue
        evaluated.add((str(FindingKind.UNDERPERFORMANCE), station))
        base = baseline(days, recent["date"].min())
        if len(base) >= MIN_BASELINE_DAYS:
            usual, margin = float(base["peer_index"].median()), MARGIN
        else:
            usual, margin = 1.0, FALLBACK_MARGIN
        threshold = usual * (1 - margin)
        low = recent["peer_index"] < threshold
        share = float((recent["weight"] * low).sum() / recent["weight"].sum())
        if share < LOW_SHARE:
            continue
        level = float(np.average(recent["peer_index"], weights=recent["weight"]))
        drop = 1 - level / usual
        first_low = recent.loc[low, "date"].min()
        out.append(
            Finding(
                FindingKind.UNDERPERFORMANCE,
                Subject.STATION,
                station,
                Severity.CRITICAL if drop >= 0.25 else Severity.WARNING,
                midnight(first_low, tz).astimezone(dt.UTC),
                {
                    "usual_peer_index": round(usual, 3),
                    "recent_peer_index": round(level, 3),
                    "drop": round(drop, 3),
                    "baseline_days": len(base),
                    "recent": [
                        {
                            "date": d.isoformat(),
                            "peer_index": round(float(p), 3),
                            "weight": round(float(wt), 2),
                        }
                        for d, p, wt in zip(
                            recent["date"], recent["peer_index"], recent["weight"], strict=True
                        )
                    ],
                },
                station,
            )
        )
    return out, evaluated


# --- certification and targets -----------------------------------------------------------

_CERT_KIND = {
    None: FindingKind.CERT_MISSING,
    CertState.EXPIRED: FindingKind.CERT_EXPIRED,
    CertState.REVIEW_OVERDUE: FindingKind.CERT_REVIEW_OVERDUE,
    CertState.NOT_YET_VALID: FindingKind.CERT_MISSING,
}


def certification_findings(c: Compliance, tz: dt.tzinfo) -> list[Finding]:
    since = midnight(c.on, tz).astimezone(dt.UTC)
    out = []
    for r in c.invalid():
        start = since
        if r.state == CertState.EXPIRED and r.expires_on:
            start = midnight(r.expires_on, tz).astimezone(dt.UTC)
        elif r.state == CertState.REVIEW_OVERDUE and r.review_due_on:
            start = midnight(r.review_due_on, tz).astimezone(dt.UTC)
        out.append(
            Finding(
                _CERT_KIND[r.state],
                Subject.MAINTAINER,
                r.person_id,
                Severity.WARNING,
                start,
                {
                    "name": r.name,
                    "cert_type": str(r.cert_type),
                    "certificate": r.certificate_id,
                    "expires_on": _iso(r.expires_on),
                    "review_due_on": _iso(r.review_due_on),
                },
            )
        )
    for r in c.due_soon():
        out.append(
            Finding(
                FindingKind.CERT_DUE,
                Subject.MAINTAINER,
                r.person_id,
                Severity.INFO,
                since,
                {
                    "name": r.name,
                    "cert_type": str(r.cert_type),
                    "due": r.due,
                    "due_on": _iso(r.due_on),
                    "certificate": r.certificate_id,
                },
            )
        )
    for station, crew in c.uncovered_stations.items():
        out.append(
            Finding(
                FindingKind.STATION_UNCOVERED,
                Subject.STATION,
                station,
                Severity.CRITICAL,
                since,
                {"maintainers": crew},
                station,
            )
        )
    return out


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def target_findings(
    segment: Forecast, villages: dict[str, Forecast], tz: dt.tzinfo
) -> list[Finding]:
    since = midnight(segment.as_of, tz).astimezone(dt.UTC)
    out = []
    if segment.status == TargetStatus.AT_RISK:
        out.append(
            Finding(
                FindingKind.TARGET_AT_RISK,
                Subject.FLEET,
                "village-stations",
                Severity.WARNING,
                since,
                segment.as_dict(),
            )
        )
    for village, f in villages.items():
        if f.status == TargetStatus.AT_RISK:
            out.append(
                Finding(
                    FindingKind.VILLAGE_INCOME_AT_RISK,
                    Subject.VILLAGE,
                    village,
                    Severity.INFO,
                    since,
                    f.as_dict(),
                )
            )
    return out
