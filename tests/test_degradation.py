"""The degradation rate by year-on-year comparison (``analytics.degradation``) against
RdTools's own answers on the same inputs (recorded by ``bench/rdtools_agreement.py``, which
runs RdTools 3.2.1 in an environment of its own)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.degradation import clear_day_levels, station_rates, year_on_year

REFERENCE = json.loads((Path(__file__).parent / "data" / "rdtools_reference.json").read_text())
BOOTSTRAP_SPREAD = 0.03
"""%/year: both intervals come from random resamplings (RdTools 10,000, here 1,000)."""


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"truth {c['truth_pct']}")
def test_the_rate_and_its_interval_agree_with_rdtools(case: dict) -> None:
    series = pd.Series(case["values"], index=pd.to_datetime(case["dates"]))
    found = year_on_year(series, np.random.default_rng(0))
    assert found is not None
    assert found.rate_pct == pytest.approx(case["rate_pct"], abs=1e-9)
    assert found.low_pct == pytest.approx(case["ci"][0], abs=BOOTSTRAP_SPREAD)
    assert found.high_pct == pytest.approx(case["ci"][1], abs=BOOTSTRAP_SPREAD)
    assert found.low_pct < found.rate_pct < found.high_pct
    assert abs(found.rate_pct - case["truth_pct"]) < 0.25, "near the series' true rate"


def test_the_same_data_give_the_same_interval() -> None:
    case = REFERENCE["cases"][0]
    series = pd.Series(case["values"], index=pd.to_datetime(case["dates"]))
    once = year_on_year(series, np.random.default_rng(0))
    again = year_on_year(series, np.random.default_rng(0))
    assert once == again


def test_less_than_two_years_gives_no_rate() -> None:
    dates = pd.date_range("2024-01-01", "2025-11-30", freq="D")
    assert year_on_year(pd.Series(1.0, index=dates), np.random.default_rng(0)) is None
    assert year_on_year(pd.Series(dtype=float), np.random.default_rng(0)) is None


def test_a_steady_loss_is_found_whatever_the_season() -> None:
    dates = pd.date_range("2021-03-01", "2025-02-28", freq="D")
    years = np.arange(len(dates)) / 365
    season = 1 + 0.1 * np.sin(2 * np.pi * years)
    found = year_on_year(
        pd.Series((1 - 0.008 * years) * season, index=dates), np.random.default_rng(1)
    )
    assert found is not None
    assert found.rate_pct == pytest.approx(-0.8, abs=0.02)


def test_each_station_gets_its_rate_from_its_clear_usable_days() -> None:
    """Three stations of a township over three years, losing 0.4, 0.9 and 1.4 %/year; a
    cloudy day (the township's median clear-sky index low) and a day with a fault (not
    usable) say nothing about the modules and are left out; a station with one year has no
    rate."""
    rng = np.random.default_rng(3)
    dates = pd.date_range("2023-01-01", "2025-12-31", freq="D")
    years = np.arange(len(dates)) / 365
    cloudy = rng.random(len(dates)) < 0.3
    rows = []
    for station, rate in (("VS001", 0.004), ("VS002", 0.009), ("VS003", 0.014)):
        csi = 0.8 * (1 - rate * years) + rng.normal(0, 0.005, len(dates))
        csi = np.where(cloudy, 0.3 * csi, csi)
        faulty = rng.random(len(dates)) < 0.05
        csi = np.where(faulty, 0.1, csi)
        rows.append(
            pd.DataFrame({"date": dates.date, "station_id": station, "csi": csi, "usable": ~faulty})
        )
    young = dates[-300:]
    rows.append(
        pd.DataFrame({"date": young.date, "station_id": "VS004", "csi": 0.8, "usable": True})
    )
    history = pd.concat(rows, ignore_index=True)
    township_of = pd.Series("T01", index=["VS001", "VS002", "VS003", "VS004"])
    levels = clear_day_levels(history, township_of)
    assert levels["VS001"].notna().sum() < 0.7 * len(dates), "the cloudy days left out"
    assert (levels.min() > 0.5).all(), "and the days with a fault"
    rates = station_rates(levels, seed=7)
    assert list(rates.index) == ["VS001", "VS002", "VS003"]
    np.testing.assert_allclose(rates["rate_pct"], [-0.4, -0.9, -1.4], atol=0.1)
    assert (rates["low_pct"] < rates["rate_pct"]).all()
    assert (rates["rate_pct"] < rates["high_pct"]).all()
    assert station_rates(levels, seed=7).equals(rates), "the same data, the same intervals"
