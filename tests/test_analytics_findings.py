"""Detection, certification compliance and scheduling, against hand-made cases."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from analytics.detect import (
    LiveWindow,
    certification_findings,
    day_weight,
    live_findings,
    underperformance,
)
from analytics.schedule import daily_due, last_due_day, monthly_due
from pvmon.certification import compliance
from pvmon.domain import CertState, CertType, StationKind
from pvmon.findings import FindingKind, Severity
from pvmon.registry.schema import Registry
from pvmon.telemetry import GatewayEvent, OperatingState
from tests.support.services import AS_OF

TZ = ZoneInfo("Asia/Shanghai")
REQUIRED = {
    StationKind.VILLAGE: CertType.LOW_VOLTAGE,
    StationKind.HOUSEHOLD: CertType.LOW_VOLTAGE,
    StationKind.CENTRAL: CertType.HIGH_VOLTAGE,
}


# --- underperformance --------------------------------------------------------------------


def history(
    levels: dict[str, list[float]],
    weights: list[float] | None = None,
    last: dt.date = dt.date(2026, 6, 30),
) -> pd.DataFrame:
    rows = []
    n = len(next(iter(levels.values())))
    for station, values in levels.items():
        for i, value in enumerate(values):
            day = last - dt.timedelta(days=n - 1 - i)
            rows.append(
                {
                    "date": day,
                    "station_id": station,
                    "peer_index": value,
                    "weight": weights[i] if weights else 1.0,
                    "usable": True,
                }
            )
    return pd.DataFrame(rows)


def test_a_drop_from_the_stations_own_usual_level_is_caught() -> None:
    rng = np.random.default_rng(1)
    usual = list(0.97 + rng.normal(0, 0.01, 25))
    found, evaluated = underperformance(
        history({"VS001": [*usual, 0.82, 0.81, 0.83]}), dt.date(2026, 6, 30), TZ
    )
    assert [f.subject_id for f in found] == ["VS001"]
    finding = found[0]
    assert finding.kind == FindingKind.UNDERPERFORMANCE
    assert finding.evidence["usual_peer_index"] == pytest.approx(0.97, abs=0.01)
    assert finding.evidence["drop"] == pytest.approx(0.155, abs=0.02)
    assert finding.since.astimezone(TZ).date() == dt.date(2026, 6, 28)
    assert ("underperformance", "VS001") in evaluated


def test_a_station_that_always_runs_a_little_low_is_not_underperforming() -> None:
    rng = np.random.default_rng(2)
    found, _ = underperformance(
        history({"VS002": list(0.91 + rng.normal(0, 0.015, 28))}), dt.date(2026, 6, 30), TZ
    )
    assert found == []


def test_one_low_day_is_not_most_days() -> None:
    found, _ = underperformance(
        history({"VS003": [1.0] * 25 + [1.0, 0.7, 1.0]}), dt.date(2026, 6, 30), TZ
    )
    assert found == []


def test_overcast_days_weigh_less() -> None:
    # Two low readings on overcast days (weight 0.1) against one clear normal day.
    weights = [1.0] * 25 + [0.1, 0.1, 1.0]
    found, _ = underperformance(
        history({"VS004": [1.0] * 25 + [0.7, 0.7, 1.0]}, weights), dt.date(2026, 6, 30), TZ
    )
    assert found == []
    assert day_weight(0.1) == 0.0
    assert day_weight(0.5) == 1.0


def test_too_few_usable_days_leave_a_station_unjudged() -> None:
    found, evaluated = underperformance(history({"VS005": [0.5, 0.5]}), dt.date(2026, 6, 30), TZ)
    assert found == []
    assert evaluated == set()


# --- live conditions ---------------------------------------------------------------------


STATIONS = pd.DataFrame(
    {"township_id": ["T01"] * 5, "peer_group": ["array"] * 5}, index=["S1", "S2", "S3", "S4", "S5"]
)
DEVICES = pd.DataFrame(
    {"station_id": ["S1", "S2", "S3", "S4", "S5", "S5"], "rated_ac_w": [30_000.0] * 6},
    index=["D1", "D2", "D3", "D4", "D5a", "D5b"],
)


def window(
    rows: list[tuple[str, int, float, int]],
    daylight: bool = True,
    events: list[tuple[str, int, int]] | None = None,
    since: dict[str, int] | None = None,
) -> LiveWindow:
    """Every logger connected long before the window unless ``since`` says otherwise."""
    return LiveWindow(
        1000,
        2800,
        pd.DataFrame(rows, columns=["device", "ts", "W", "St"]),
        pd.DataFrame(events or [], columns=["device", "ts", "code"]),
        pd.Series({"T01": daylight}),
        pd.Series({"S1": True}),
        pd.Series(dict.fromkeys(STATIONS.index, 0) | (since or {}), dtype=float),
    )


def healthy(device: str) -> list[tuple[str, int, float, int]]:
    return [(device, t, 15_000.0, OperatingState.MPPT) for t in range(1000, 2800, 60)]


def test_live_conditions_each_found_with_their_kind() -> None:
    rows = healthy("D2") + healthy("D3") + healthy("D5a")
    rows += [("D4", t, 0.0, OperatingState.STANDBY) for t in range(1000, 2800, 60)]
    rows += [("D3", 2790, 0.0, OperatingState.FAULT)]
    found, evaluated = live_findings(window(rows, events=[("D2", 1500, 1000)]), DEVICES, STATIONS)
    kinds = {(f.kind, f.subject_id) for f in found}
    assert kinds == {
        (FindingKind.COMM_LOSS, "S1"),
        (FindingKind.ZERO_OUTPUT, "S4"),
        (FindingKind.FAULT_STATE, "S3"),
        (FindingKind.FAULT_STATE, "S2"),
        (FindingKind.DEVICE_SILENT, "S5"),
    }
    silent = next(f for f in found if f.kind == FindingKind.DEVICE_SILENT)
    assert silent.evidence["silent_devices"] == ["D5b"]
    comm = next(f for f in found if f.kind == FindingKind.COMM_LOSS)
    assert comm.evidence["logger_online"] is True
    assert ("comm_loss", "S2") in evaluated


def test_a_gateway_saying_a_device_does_not_answer_is_its_silence_not_a_fault() -> None:
    rows = healthy("D2") + healthy("D3") + healthy("D4") + healthy("D5a")
    rows += healthy("D1")
    events = [("D5b", 1000, GatewayEvent.NO_RESPONSE), ("D2", 1200, GatewayEvent.ANSWERS_AGAIN)]
    found, _ = live_findings(window(rows, events=events), DEVICES, STATIONS)
    assert [(f.kind, f.subject_id, f.evidence["silent_devices"]) for f in found] == [
        (FindingKind.DEVICE_SILENT, "S5", ["D5b"])
    ]


def test_a_logger_that_connected_within_the_window_is_not_yet_called_silent() -> None:
    """The first minutes of a new system (or of a logger back from an outage): nothing
    has had the time to report, and that is not a lost link."""
    rows = healthy("D2") + healthy("D3") + healthy("D4") + healthy("D5a") + healthy("D5b")
    since = {"S1": 2500, "S2": 2500}  # S1 silent, S2 reporting: both connected minutes ago
    found, evaluated = live_findings(window(rows, since=since), DEVICES, STATIONS)
    assert found == []
    assert ("comm_loss", "S1") not in evaluated, "an open comm loss is not cleared either"
    assert ("comm_loss", "S2") in evaluated, "every device heard: not silent, whatever the age"


def test_silence_is_not_judged_over_a_window_the_monitor_did_not_listen_to() -> None:
    """After the monitor itself was down (or before it started), the quiet is its own."""
    rows = healthy("D2") + healthy("D3") + healthy("D4") + healthy("D5a")
    w = window(rows)
    for listening in (None, w.start + 60):
        found, evaluated = live_findings(
            LiveWindow(
                w.start,
                w.end,
                w.readings,
                w.events,
                w.daylight,
                w.logger_online,
                w.logger_since,
                listening,
            ),
            DEVICES,
            STATIONS,
        )
        assert found == [], listening
        assert ("comm_loss", "S1") not in evaluated
    found, _ = live_findings(w, DEVICES, STATIONS)
    assert {f.subject_id for f in found} == {"S1", "S5"}, "listened throughout: both silent"


def test_a_station_never_heard_from_is_not_a_lost_link() -> None:
    rows = healthy("D2") + healthy("D3") + healthy("D4") + healthy("D5a") + healthy("D5b")
    never = pd.Series({s: 0 for s in STATIONS.index if s != "S1"}, dtype=float)
    w = window(rows)
    found, _ = live_findings(
        LiveWindow(w.start, w.end, w.readings, w.events, w.daylight, w.logger_online, never),
        DEVICES,
        STATIONS,
    )
    assert found == []


def test_night_silence_is_normal() -> None:
    found, evaluated = live_findings(window([], daylight=False), DEVICES, STATIONS)
    assert found == []
    assert evaluated == set(), "nothing judged at night, so nothing is cleared either"


# --- certification -----------------------------------------------------------------------


def test_compliance_of_the_generated_registry(default_registry: Registry) -> None:
    report = compliance(default_registry, AS_OF, REQUIRED)
    states = {r.person_id: r.state for r in report.requirements}
    assert report.maintainers == len([p for p in default_registry.people if p.role == "maintainer"])
    assert 0.85 < report.rate < 1.0
    assert report.certified == report.maintainers - len({r.person_id for r in report.invalid()})
    assert None in states.values()
    assert CertState.EXPIRED in states.values()
    assert CertState.REVIEW_OVERDUE in states.values()
    assert len(report.due_soon()) >= 5
    assert all(
        r.due_on and AS_OF <= r.due_on <= AS_OF + dt.timedelta(days=60) for r in report.due_soon()
    )
    assert report.uncovered_stations, "a few stations have no certified maintainer"
    central = [r for r in report.requirements if r.cert_type == CertType.HIGH_VOLTAGE]
    assert central, "the centralized station's crew needs the high-voltage certificate"
    findings = certification_findings(report, TZ)
    by_kind = {f.kind for f in findings}
    assert {
        FindingKind.CERT_MISSING,
        FindingKind.CERT_EXPIRED,
        FindingKind.CERT_REVIEW_OVERDUE,
        FindingKind.CERT_DUE,
        FindingKind.STATION_UNCOVERED,
    } <= by_kind
    uncovered = [f for f in findings if f.kind == FindingKind.STATION_UNCOVERED]
    assert all(f.severity == Severity.CRITICAL for f in uncovered)


def test_a_maintainer_whose_review_lapses_makes_the_station_uncovered(
    default_registry: Registry,
) -> None:
    report = compliance(default_registry, AS_OF, REQUIRED)
    valid_due = next(r for r in report.due_soon() if r.due == "review")
    later = valid_due.due_on + dt.timedelta(days=1)
    assert compliance(default_registry, later, REQUIRED).rate < report.rate


# --- scheduling --------------------------------------------------------------------------


def test_a_day_is_due_after_its_run_time_once_newest_first() -> None:
    run_at = dt.time(20, 30)
    evening = dt.datetime(2026, 6, 10, 21, 0, tzinfo=TZ)
    noon = dt.datetime(2026, 6, 10, 12, 0, tzinfo=TZ)
    assert last_due_day(evening, run_at) == dt.date(2026, 6, 10)
    assert last_due_day(noon, run_at) == dt.date(2026, 6, 9)
    first = dt.date(2026, 6, 8)
    # newest first: yesterday's figures are on the dashboards before last week's
    assert daily_due(evening, run_at, first, {}, {}) == [dt.date(2026, 6, d) for d in (10, 9, 8)]
    done = {f"2026-06-0{d}": dt.datetime(2026, 6, d, 13, tzinfo=dt.UTC) for d in (8, 9)}
    assert daily_due(evening, run_at, first, done, {}) == [dt.date(2026, 6, 10)]


def test_late_data_makes_a_computed_day_due_again() -> None:
    evening = dt.datetime(2026, 6, 10, 21, 0, tzinfo=TZ)
    done = {"2026-06-09": dt.datetime(2026, 6, 9, 13, tzinfo=dt.UTC)}
    late = {dt.date(2026, 6, 9): dt.datetime(2026, 6, 10, 2, tzinfo=dt.UTC)}
    due = daily_due(evening, dt.time(20, 30), dt.date(2026, 6, 9), done, late)
    assert due == [dt.date(2026, 6, 10), dt.date(2026, 6, 9)]


def test_late_data_stored_while_a_day_was_computing_makes_it_due_again() -> None:
    evening = dt.datetime(2026, 6, 10, 21, 0, tzinfo=TZ)
    started = dt.datetime(2026, 6, 10, 12, 31, tzinfo=dt.UTC)  # the run ended minutes later
    done = {"2026-06-09": started}
    during = {dt.date(2026, 6, 9): started + dt.timedelta(seconds=20)}
    before = {dt.date(2026, 6, 9): started - dt.timedelta(seconds=20)}
    first = dt.date(2026, 6, 9)
    assert dt.date(2026, 6, 9) in daily_due(evening, dt.time(20, 30), first, done, during)
    assert dt.date(2026, 6, 9) not in daily_due(evening, dt.time(20, 30), first, done, before)


def test_months_are_due_once_over() -> None:
    now = dt.datetime(2026, 3, 2, tzinfo=TZ)
    assert monthly_due(now, dt.date(2026, 1, 1), {}) == [(2026, 1), (2026, 2)]
    assert monthly_due(now, dt.date(2026, 1, 1), {"2026-01": now}) == [(2026, 2)]
    assert monthly_due(dt.datetime(2027, 1, 5, tzinfo=TZ), dt.date(2026, 12, 1), {}) == [(2026, 12)]
