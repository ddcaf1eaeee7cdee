"""Losses confined to some hours of the day: a station's hour-of-day shape against the
peers whose planes face most nearly the same way, over its recent judged days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from analytics.clearsky import day_sun
from analytics.frames import fleet_frames
from analytics.profiles import (
    ENERGY_FIELDS,
    MIN_PROFILE_DAYS,
    SHAPE_FIELDS,
    bright_days,
    day_shapes,
    field,
    profile_losses,
)
from pvmon.findings import FindingKind
from pvmon.registry.schema import Registry

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 4, 20)
HEALTHY_RATIO = 0.72
"""kWh per kWp per kWh/m² of clear-sky insolation: what every healthy station makes."""


@pytest.fixture(scope="module")
def township(default_registry: Registry) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stations of one township, and their clear-sky insolation hour by hour."""
    frames = fleet_frames(default_registry)
    stations = frames.stations[frames.stations["township_id"] == "T03"]
    sun = day_sun(stations, frames.township_centres, DAY, TZ, 5)
    return stations, sun.reference_hours


def made(
    stations: pd.DataFrame, reference: pd.DataFrame, losses: dict[str, dict[int, float]]
) -> pd.DataFrame:
    """station × hour → kWh: every station at the healthy ratio, less ``losses``
    (station → hour → share lost)."""
    energy = reference.mul(stations["capacity_kwp"] * HEALTHY_RATIO, axis=0)
    for station, hours in losses.items():
        for hour, share in hours.items():
            energy.loc[station, hour] *= 1 - share
    return energy


def shapes_of(
    stations: pd.DataFrame, energy: pd.DataFrame, reference: pd.DataFrame
) -> pd.DataFrame:
    rated = stations["capacity_kwp"] * 1.2  # nothing clips
    judged = pd.Series(True, index=stations.index)
    return day_shapes(energy, reference, stations, rated, judged)


def test_a_morning_shade_shows_in_its_hours_and_nowhere_else(
    township: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    stations, reference = township
    home = stations.index[stations["kind"] == "household"][0]
    shade = dict.fromkeys(range(6, 10), 0.2)
    shapes = shapes_of(stations, made(stations, reference, {home: shade}), reference)
    assert shapes.loc[home, [8, 9]].to_numpy() == pytest.approx([0.8, 0.8], abs=0.01)
    assert shapes.loc[home, [11, 12, 13, 14]].to_numpy() == pytest.approx(1.0, abs=0.01)
    others = shapes.drop(index=home)
    assert np.nanmin(others.to_numpy()) > 0.97, "the healthy stations' shape is flat"
    assert shapes.loc[home, [0, 3, 6, 7, 19, 22]].isna().all(), "nor dawn, dusk and night"


def test_clipped_cloudy_and_unjudged_hours_say_nothing(
    township: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    stations, reference = township
    home, other = stations.index[stations["kind"] == "household"][:2]
    energy = made(stations, reference, {})
    energy[12] *= 0.4  # a cloud over the whole township at noon
    rated = stations["capacity_kwp"] * 1.2
    rated[home] = float(energy.loc[home].max()) * 0.95  # the inverter clips at its peak
    judged = pd.Series(True, index=stations.index)
    judged[other] = False  # a day with a fault or missing data
    shapes = day_shapes(energy, reference, stations, rated, judged)
    assert shapes[12].isna().all(), "a passing cloud takes the hour out for everyone"
    peak = energy.loc[home].drop(12).idxmax()
    assert pd.isna(shapes.loc[home, peak]), "a clipped hour says nothing of the array"
    assert shapes.loc[home].notna().sum() >= 6
    assert shapes.loc[other].isna().all()


def test_an_overcast_day_is_not_bright_enough_to_judge_hours(
    township: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    stations, _ = township
    bright = bright_days(pd.Series(0.55, index=stations.index), stations)
    dull = bright_days(pd.Series(0.15, index=stations.index), stations)
    assert bright.all()
    assert not dull.any()


def history(
    stations: pd.DataFrame,
    reference: pd.DataFrame,
    days: list[dt.date],
    losses: dict[str, dict[int, float]],
) -> pd.DataFrame:
    """The judged days as the daily job stores them: shapes and energy per station."""
    energy = made(stations, reference, losses)
    shapes = shapes_of(stations, energy, reference)
    one = pd.concat(
        [
            shapes.rename(columns=lambda h: field("s", h)),
            energy.where(shapes.notna()).rename(columns=lambda h: field("e", h)),
        ],
        axis=1,
    ).reindex(columns=[*SHAPE_FIELDS, *ENERGY_FIELDS])
    one = one.rename_axis("station_id").reset_index()
    return pd.concat([one.assign(date=d) for d in days], ignore_index=True)


def test_a_shade_over_recent_clear_days_is_a_finding_with_its_hours_and_cost(
    township: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    stations, reference = township
    home = stations.index[stations["kind"] == "household"][3]
    days = [DAY - dt.timedelta(days=n) for n in range(10)]
    before = history(stations, reference, days[4:], {})
    shaded = history(stations, reference, days[:4], {home: dict.fromkeys(range(6, 10), 0.25)})
    found, evaluated = profile_losses(pd.concat([before, shaded]), DAY, TZ)
    assert [f.subject_id for f in found] == [home]
    (finding,) = found
    assert finding.kind == FindingKind.PROFILE_LOSS
    assert finding.evidence["hours"] == "08:00–10:00", "the hours the sun is high enough in"
    share = finding.evidence["share"]
    assert 0.02 < share < 0.1
    clear_day = made(stations, reference, {}).loc[home]
    lost = float(clear_day[8:10].sum() * 0.25)
    assert finding.evidence["lost_kwh_per_clear_day"] == pytest.approx(lost, rel=0.25)
    assert finding.since == dt.datetime.combine(days[3], dt.time(0), TZ)
    assert (str(FindingKind.PROFILE_LOSS), home) in evaluated
    assert len(evaluated) == len(stations)


def test_a_shade_too_small_or_too_short_is_left_alone(
    township: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    stations, reference = township
    homes = stations.index[stations["kind"] == "household"][:2]
    days = [DAY - dt.timedelta(days=n) for n in range(8)]
    losses = {homes[0]: {8: 0.5}, homes[1]: dict.fromkeys(range(6, 11), 0.06)}
    found, _ = profile_losses(history(stations, reference, days, losses), DAY, TZ)
    assert found == [], "one hour alone, or 6 % in the morning, is within the noise"


def test_too_few_judged_days_are_not_a_profile(
    township: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    stations, reference = township
    home = stations.index[stations["kind"] == "household"][0]
    days = [DAY - dt.timedelta(days=n) for n in range(MIN_PROFILE_DAYS - 1)]
    shaded = history(stations, reference, days, {home: dict.fromkeys(range(6, 10), 0.3)})
    found, evaluated = profile_losses(shaded, DAY, TZ)
    assert found == []
    assert evaluated == set(), "not judged: its alert, if any, is left as it was"
