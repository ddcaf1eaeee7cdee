"""Every KPI against hand-computed cases (pure functions, no services)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from analytics.day_figures import DayInput, device_day, peer_yield, station_day, station_hours
from analytics.revenue import attribute_to_villages, station_revenue
from analytics.targets import TargetStatus, Totals, YearPosition, forecast, typical_yield
from pvmon.localtime import day_bounds
from pvmon.money import daily_costs, tariffs_on
from pvmon.telemetry import OperatingState

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 6, 10)
START, END = day_bounds(DAY, TZ)
DAYLIGHT = pd.DataFrame([[6 <= h < 19 for h in range(24)]], index=["T01"], columns=range(24))


def stations(*rows: tuple[str, float, str]) -> pd.DataFrame:
    """(id, kWp, peer group) in township T01."""
    frame = pd.DataFrame(rows, columns=["id", "capacity_kwp", "peer_group"]).set_index("id")
    frame["township_id"] = "T01"
    return frame


def devices(*rows: tuple[str, str, float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["id", "station_id", "rated_ac_w"]).set_index("id")
    frame["wh_scale_exp"] = 0
    return frame


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), TZ).timestamp())


def readings(rows: list[tuple[str, int, float, float, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["device", "ts", "W", "WH", "St"])


NO_PREVIOUS = pd.DataFrame(columns=["device", "ts", "W", "WH"])


# --- energy, availability, local days ----------------------------------------------------


def test_day_energy_across_a_counter_reset_inside_the_day() -> None:
    rows = [
        ("D1", at(10), 20_000, 1_000_000, 4),
        ("D1", at(11), 20_000, 1_020_000, 4),
        # the counter is reset between 11:00 and 11:05; power says 20 kW throughout
        ("D1", at(11, 5), 20_000, 500, 4),
        ("D1", at(12), 20_000, 18_833, 4),
    ]
    day = DayInput(START, readings(rows), NO_PREVIOUS, DAYLIGHT)
    result = device_day(day, devices(("D1", "S1", 30_000)), stations(("S1", 30.0, "array")))
    # 20 kWh (counter) + 20 kW × 5 min = 1.667 kWh (power, the reset interval) + 18.333 kWh
    assert result.loc["D1", "energy_kwh"] == pytest.approx(20 + 20 * 5 / 60 + 18.333, abs=1e-3)
    assert result.loc["D1", "resets"] == 1


def test_the_first_interval_starts_from_the_reading_before_local_midnight() -> None:
    before = pd.DataFrame(
        [("D1", at(23, 59, DAY - dt.timedelta(days=1)), 0.0, 50_000.0)],
        columns=["device", "ts", "W", "WH"],
    )
    rows = [("D1", at(0, 0) + 30, 0, 50_000, 2), ("D1", at(9), 10_000, 60_000, 4)]
    day = DayInput(START, readings(rows), before, DAYLIGHT)
    result = device_day(day, devices(("D1", "S1", 30_000)), stations(("S1", 30.0, "array")))
    assert result.loc["D1", "energy_kwh"] == pytest.approx(10.0)
    assert result.loc["D1", "wh_first"] == 50_000
    assert result.loc["D1", "wh_last"] == 60_000


def test_a_reading_just_after_midnight_belongs_to_the_new_day() -> None:
    """23:59:30 and 00:00:30 local fall on their own days (never UTC days)."""
    yesterday_start, _ = day_bounds(DAY - dt.timedelta(days=1), TZ)
    assert at(0, 0) == START
    assert START - yesterday_start == 86400
    assert dt.datetime.fromtimestamp(START + 30, TZ).date() == DAY
    assert dt.datetime.fromtimestamp(START - 30, TZ).date() == DAY - dt.timedelta(days=1)


def test_availability_counts_daylight_hours_with_data_and_no_fault() -> None:
    rows = [("D1", at(h), 1000, 1000 + 1000 * h, 4) for h in range(6, 19) if h not in (9, 10)]
    rows.append(("D1", at(12, 30), 0, 13_000, OperatingState.FAULT))
    day = DayInput(START, readings(rows), NO_PREVIOUS, DAYLIGHT)
    result = device_day(day, devices(("D1", "S1", 30_000)), stations(("S1", 30.0, "array")))
    # 13 daylight hours: two without data, one (12:00) with a fault reading.
    assert result.loc["D1", "daylight_hours"] == 13
    assert result.loc["D1", "fault_hours"] == 1
    assert result.loc["D1", "available_hours"] == 10


def test_a_device_that_said_nothing_is_in_the_rollup_with_no_energy() -> None:
    rows = [("D1", at(10), 1000, 1000, 4)]
    day = DayInput(START, readings(rows), NO_PREVIOUS, DAYLIGHT)
    result = device_day(
        day, devices(("D1", "S1", 30_000), ("D2", "S1", 30_000)), stations(("S1", 60.0, "array"))
    )
    assert result.loc["D2", "energy_kwh"] == 0
    assert result.loc["D2", "available_hours"] == 0
    assert result.loc["D2", "daylight_hours"] == 13


# --- station figures: yields, clear-sky index, peers -------------------------------------


def _flat_day(output_w: dict[str, float], kwp: dict[str, float]) -> tuple:
    """Each station one device producing a constant power through daylight."""
    st = stations(*[(s, kwp[s], "array") for s in output_w])
    dv = devices(*[(f"D{s}", s, 100_000.0) for s in output_w])
    rows = []
    for s, w in output_w.items():
        for h in range(6, 19):
            rows.append((f"D{s}", at(h), w, w * (h - 6), 4))
        rows.append((f"D{s}", at(19), 0.0, w * 13, 2))
    day = DayInput(START, readings(rows), NO_PREVIOUS, DAYLIGHT)
    dd = device_day(day, dv, st)
    reference = pd.Series(8.0, index=st.index)
    return station_day(dd, station_hours(day, dv, st), st, reference, DAYLIGHT), st


def test_specific_yield_clear_sky_index_and_peer_index() -> None:
    # 13 h × 10 kW = 130 kWh on 40 kWp → Yf 3.25; the fourth makes 0.75 of that.
    out, _ = _flat_day(
        {"A": 10_000, "B": 10_000, "C": 10_000, "D": 7_500},
        {"A": 40.0, "B": 40.0, "C": 40.0, "D": 40.0},
    )
    assert out.loc["A", "energy_kwh"] == pytest.approx(130.0)
    assert out.loc["A", "yf"] == pytest.approx(3.25)
    assert out.loc["A", "csi"] == pytest.approx(3.25 / 8.0)
    # median of (3.25, 3.25, 3.25, 2.4375) is 3.25
    assert out.loc["D", "peer_index"] == pytest.approx(0.75)
    assert out.loc["B", "peer_index"] == pytest.approx(1.0)
    assert out.loc["A", "availability"] == pytest.approx(1.0)


def test_no_peer_index_with_fewer_than_three_peers() -> None:
    out, _ = _flat_day({"A": 10_000, "B": 9_000}, {"A": 40.0, "B": 40.0})
    assert out["peer_index"].isna().all()


def test_zero_output_while_peers_produce_is_counted_by_hour() -> None:
    out, _ = _flat_day(
        {"A": 10_000, "B": 10_000, "C": 10_000, "Z": 0.0},
        {"A": 40.0, "B": 40.0, "C": 40.0, "Z": 40.0},
    )
    assert out.loc["Z", "zero_hours"] == 13
    assert out.loc["A", "zero_hours"] == 0


def test_the_peers_yield_ignores_unhealthy_peers() -> None:
    day = pd.DataFrame(
        {
            "yf": [4.0, 4.0, 4.0, 4.0, 1.0, 2.0],
            "availability": [1, 1, 1, 1, 0.3, 1],
            "zero_hours": [0, 0, 0, 0, 0, 5],
        },
        index=list("ABCDEF"),
    )
    st = stations(*[(s, 10.0, "array") for s in "ABCDEF"])
    reference = peer_yield(day, st)
    assert set(reference) == {4.0}, "the healthy median (not lower with E and F), for every station"


def test_a_stations_own_yield_is_not_in_its_reference() -> None:
    """One station losing a fifth of its output must not pull down the yield it is judged
    against; with fewer than three others there is no reference."""
    day = pd.DataFrame(
        {"yf": [1.0, 4.0, 5.0, 6.0, 2.0], "availability": [1, 1, 1, 1, 0.3], "zero_hours": 0},
        index=list("ABCDE"),
    )
    st = stations(*[(s, 10.0, "array") for s in "ABCDE"])
    assert peer_yield(day, st).to_dict() == {"A": 5.0, "B": 5.0, "C": 4.0, "D": 4.0, "E": 4.5}
    fewer = peer_yield(day.drop(index="D"), st)
    assert fewer.isna().sum() == 3, "each healthy one has two others"
    assert fewer["E"] == 4.0, "the unhealthy one is judged against all three"


# --- revenue -----------------------------------------------------------------------------


TARIFFS = pd.DataFrame(
    [
        ("T1", "S1", dt.date(2017, 1, 1), dt.date(2026, 6, 15), 0.332, 0.518),
        ("T2", "S1", dt.date(2026, 6, 16), dt.date(2036, 12, 31), 0.332, 0.418),
        ("T3", "S2", dt.date(2017, 1, 1), dt.date(2036, 12, 31), 0.332, 0.418),
    ],
    columns=[
        "id",
        "station_id",
        "valid_from",
        "valid_to",
        "grid_yuan_per_kwh",
        "subsidy_yuan_per_kwh",
    ],
)
META = pd.DataFrame(
    {
        "capacity_kwp": [100.0, 200.0],
        "grid_loss_factor": [0.03, 0.03],
        "subsidy_cap_hours": [22_000.0, 22_000.0],
    },
    index=["S1", "S2"],
)


def test_a_tariff_change_inside_a_month_applies_from_its_day() -> None:
    energy = pd.DataFrame(
        {"energy_kwh": [500.0], "lifetime_kwh_start": [1_000_000.0]}, index=["S1"]
    )
    before = station_revenue(dt.date(2026, 6, 15), energy, META, TARIFFS)
    after = station_revenue(dt.date(2026, 6, 16), energy, META, TARIFFS)
    export = 500 * 0.97
    assert before.loc["S1", "export_kwh"] == pytest.approx(export)
    assert before.loc["S1", "grid_yuan"] == pytest.approx(export * 0.332)
    assert before.loc["S1", "subsidy_yuan"] == pytest.approx(export * 0.518)
    assert after.loc["S1", "subsidy_yuan"] == pytest.approx(export * 0.418)
    assert list(tariffs_on(TARIFFS, dt.date(2026, 6, 16)).index) == ["S1", "S2"]


def test_the_subsidy_stops_at_its_lifetime_hours_cap() -> None:
    # 100 kWp with 21,998 hours used: 200 kWh of the day's 500 kWh are still subsidised.
    energy = pd.DataFrame(
        {"energy_kwh": [500.0], "lifetime_kwh_start": [2_199_800.0]}, index=["S1"]
    )
    result = station_revenue(dt.date(2026, 6, 1), energy, META, TARIFFS)
    assert result.loc["S1", "subsidy_kwh"] == pytest.approx(200 * 0.97)
    assert result.loc["S1", "subsidy_yuan"] == pytest.approx(200 * 0.97 * 0.518)
    assert result.loc["S1", "grid_yuan"] == pytest.approx(500 * 0.97 * 0.332)


def test_a_shared_station_is_split_by_ownership_share_net_of_costs() -> None:
    revenue = pd.DataFrame(
        {
            "export_kwh": [970.0, 1940.0],
            "grid_yuan": [322.04, 644.08],
            "subsidy_yuan": [405.46, 810.92],
        },
        index=["S1", "S2"],
    )
    energy = pd.Series([1000.0, 2000.0], index=["S1", "S2"])
    shares = pd.DataFrame(
        [("S1", "V1", 1.0), ("S2", "V1", 0.34), ("S2", "V2", 0.33), ("S2", "V3", 0.33)],
        columns=["station_id", "village_id", "share"],
    ).assign(valid_from=dt.date(2018, 1, 1), valid_to=None)
    costs = pd.DataFrame(
        [
            ("S1", "om", 3650.0, dt.date(2018, 1, 1), dt.date(2025, 12, 31)),
            ("S1", "om", 1825.0, dt.date(2026, 1, 1), None),
            ("S1", "rent", 1825.0, dt.date(2026, 1, 1), None),
            ("S2", "om", 7300.0, dt.date(2018, 1, 1), None),
        ],
        columns=["station_id", "item", "annual_yuan", "valid_from", "valid_to"],
    )
    daily = daily_costs(costs, dt.date(2026, 6, 1))
    assert daily.tolist() == [10.0, 20.0], "a cost in effect that day, of every item"
    assert daily_costs(costs, dt.date(2024, 6, 1)).tolist() == [
        pytest.approx(3650 / 366),
        pytest.approx(7300 / 366),
    ], "the old rate, over a leap year's days"
    villages = attribute_to_villages(dt.date(2026, 6, 1), revenue, energy, shares, daily)
    assert villages.loc["V1", "energy_kwh"] == pytest.approx(1000 + 680)
    assert villages.loc["V2", "grid_yuan"] == pytest.approx(644.08 * 0.33)
    assert villages.loc["V3", "cost_yuan"] == pytest.approx(20 * 0.33)
    assert villages.loc["V1", "net_yuan"] == pytest.approx(
        322.04 + 405.46 - 10 + 0.34 * (644.08 + 810.92 - 20)
    )
    assert villages["energy_kwh"].sum() == pytest.approx(3000.0)


# --- targets and forecast ----------------------------------------------------------------


FLAT = pd.Series(100.0, index=range(1, 13))  # 100 kWh/kWp every month


def test_typical_yield_prorates_months() -> None:
    assert typical_yield(FLAT, dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == pytest.approx(1200)
    assert typical_yield(FLAT, dt.date(2026, 2, 15), dt.date(2026, 2, 28)) == pytest.approx(
        100 * 14 / 28
    )
    assert typical_yield(FLAT, dt.date(2026, 3, 2), dt.date(2026, 3, 1)) == 0


def test_year_end_forecast_from_actuals_and_recent_performance() -> None:
    # 1,000 kWp through 30 June at 90 % of typical; 0.8 yuan/kWh.
    days = pd.date_range("2026-01-01", "2026-06-30").date
    typical_day = [FLAT[d.month] / pd.Timestamp(d).days_in_month for d in days]
    energy = np.array(typical_day) * 1000 * 0.9
    daily = pd.DataFrame({"date": days, "energy_kwh": energy, "yuan": energy * 0.8})
    position = YearPosition.of(FLAT, dt.date(2026, 6, 30))
    assert (position.typical_rest, position.days_left) == (pytest.approx(600), 184)
    result = forecast(
        Totals.of_daily(daily, position),
        position,
        capacity_kwp=1000,
        target_kwh=1_200_000,
        target_yuan=960_000,
    )
    assert result.actual_kwh == pytest.approx(540_000)
    assert result.performance == pytest.approx(0.9)
    assert result.forecast_kwh == pytest.approx(540_000 + 600_000 * 0.9)
    assert result.forecast_yuan == pytest.approx((540_000 + 540_000) * 0.8)
    assert result.status == TargetStatus.AT_RISK
    assert result.required_performance == pytest.approx((1_200_000 - 540_000) / 600_000)


def test_village_income_forecast_subtracts_the_remaining_costs() -> None:
    days = pd.date_range("2026-01-01", "2026-06-30").date
    daily = pd.DataFrame({"date": days, "energy_kwh": 500.0, "yuan": 400.0 - 50.0})
    position = YearPosition.of(FLAT, dt.date(2026, 6, 30))
    result = forecast(
        Totals.of_daily(daily, position),
        position,
        capacity_kwp=100,
        target_yuan=200_000,
        yuan_per_kwh=0.8,
        daily_cost_yuan=50.0,
    )
    recent = 500 * 30 / (100 * 100)  # the last 30 days (all June) against typical
    assert result.performance == pytest.approx(recent)
    expected = 350 * 181 + 600 * 100 * recent * 0.8 - 50 * 184
    assert result.forecast_yuan == pytest.approx(expected)
    assert result.status == TargetStatus.AT_RISK
    assert result.required_performance == pytest.approx(
        (200_000 - 350 * 181 + 50 * 184) / (600 * 100 * 0.8)
    )


def test_a_subject_without_data_is_forecast_at_typical_performance() -> None:
    """No data at all: the half year gone is unknown, not zero; the forecast is the typical
    year, and it says the data are too few to judge."""
    position = YearPosition.of(FLAT, dt.date(2026, 6, 30))
    result = forecast(
        Totals(0.0, 0.0, 0, 0.0, 0), position, capacity_kwp=4.0, target_yuan=3000, yuan_per_kwh=0.8
    )
    assert result.performance == 1.0
    assert result.forecast_yuan == pytest.approx((600 + 600) * 4.0 * 0.8)
    assert result.status == TargetStatus.INSUFFICIENT_DATA
    assert result.required_performance is None
    assert (result.days_with_data, result.days_elapsed) == (0, 181)


def test_a_forecast_from_a_near_empty_year_is_not_at_risk() -> None:
    """The system's first days, in late November: five days of normal output say nothing
    of the year, and the months before count at typical × the recent performance."""
    days = pd.date_range("2026-11-24", "2026-11-28").date
    daily = pd.DataFrame({"date": days, "energy_kwh": 1000 * 100 / 30 * 0.97, "yuan": 0.0})
    daily["yuan"] = daily["energy_kwh"] * 0.8
    position = YearPosition.of(FLAT, dt.date(2026, 11, 28))
    result = forecast(
        Totals.of_daily(daily, position),
        position,
        capacity_kwp=1000,
        target_kwh=1_200_000,
        target_yuan=960_000,
        yuan_per_kwh=0.8,
    )
    assert result.status == TargetStatus.INSUFFICIENT_DATA
    assert result.required_performance is None
    # Against the window's average typical day (October's are a little shorter): within 0.5 %.
    assert result.performance == pytest.approx(0.97, rel=0.005)
    assert result.forecast_kwh == pytest.approx(0.97 * 1_200_000, rel=0.005)
    assert (result.days_with_data, result.days_elapsed) == (5, 332)
