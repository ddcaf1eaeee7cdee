"""The soiling loss by stochastic rate and recovery (``analytics.soiling``) against RdTools's
own answers on the same inputs (recorded by ``bench/rdtools_agreement.py``, which runs
RdTools 3.2.1 in an environment of its own)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.soiling import Soiling, daily_frame, deseasoned, srr

REFERENCE = json.loads((Path(__file__).parent / "data" / "rdtools_soiling.json").read_text())


def inputs(case: dict) -> tuple[pd.Series, pd.Series, pd.Series | None]:
    index = pd.to_datetime(case["dates"])
    recorded = pd.Series(case["recorded"], index=index)
    return (
        pd.Series(case["values"], index=index, dtype=float),
        pd.Series(case["insolation"], index=index),
        recorded if recorded.any() else None,
    )


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"truth {c['truth']:.3f}")
def test_the_soiling_ratio_is_rdtools_draw_for_draw(case: dict) -> None:
    pi, insolation, recorded = inputs(case)
    found = srr(pi, insolation, np.random.RandomState(0), recorded)
    assert found is not None
    assert found.ratio == pytest.approx(case["ratio"], abs=1e-12)
    assert [found.low, found.high] == pytest.approx(case["ci"], abs=1e-12)
    assert found.exceedance == pytest.approx(case["exceedance"], abs=1e-12)
    assert found.intervals == case["valid"]
    assert abs(found.ratio - case["truth"]) < 0.03, "near the series' true ratio"


def test_a_recorded_cleaning_starts_a_new_interval() -> None:
    """A cleaning too small for the data to show (the dust was light) still ends the
    interval when it is recorded."""
    case = next(c for c in REFERENCE["cases"] if any(c["recorded"]))
    pi, insolation, recorded = inputs(case)
    assert recorded is not None
    with_record = daily_frame(pi, insolation, recorded)
    without = daily_frame(pi, insolation, None)
    assert with_record is not None
    assert without is not None
    on = recorded[recorded].index
    assert with_record.loc[with_record.index.intersection(on), "clean_event"].all()
    assert with_record["run"].max() > without["run"].max()


def test_the_profile_with_perfect_cleanings_follows_the_dust() -> None:
    dates = pd.date_range("2025-01-01", "2025-12-31", freq="D")
    dust = (np.arange(len(dates)) % 40) * 0.002
    pi = pd.Series(0.9 * (1 - dust), index=dates)
    found = srr(pi, pd.Series(5.0, index=dates), np.random.RandomState(1), reps=50)
    assert found is not None
    rate = 0.002 * 0.9 / pi.median()
    """The dust's rate in the first year's median level, the unit of the profile."""
    assert found.profile.iloc[0] == pytest.approx(1.0)
    before_last = found.profile[:"2025-11-01"]
    assert before_last.min() == pytest.approx(1 - 39 * rate, abs=1e-6)
    assert before_last.max() == pytest.approx(1.0)
    perfect = 100 * (1 - found.profile.mean())
    assert perfect == pytest.approx(100 * dust.mean() * rate / 0.002, abs=0.5)
    drawn = 100 * (1 - found.ratio)
    assert perfect < drawn < perfect + 1.5, "cleanings drawn as not quite perfect"


def test_the_same_data_give_the_same_result() -> None:
    pi, insolation, recorded = inputs(REFERENCE["cases"][0])
    once = srr(pi, insolation, np.random.RandomState(5), recorded, reps=100)
    again = srr(pi, insolation, np.random.RandomState(5), recorded, reps=100)
    assert once is not None
    assert again is not None
    assert (once.ratio, once.low, once.high) == (again.ratio, again.low, again.high)


def test_no_data_or_no_interval_gives_no_estimate() -> None:
    dates = pd.date_range("2025-01-01", "2025-03-31", freq="D")
    empty = pd.Series(np.nan, index=dates)
    assert srr(empty, pd.Series(5.0, index=dates), np.random.RandomState(0)) is None
    rising = pd.Series(np.linspace(0.8, 0.9, len(dates)), index=dates)
    assert srr(rising, pd.Series(5.0, index=dates), np.random.RandomState(0)) is None
    dusty = pd.Series(0.9 - 0.001 * (np.arange(len(dates)) % 30), index=dates)
    assert srr(dusty, pd.Series(5.0, index=dates), np.random.RandomState(0)) is not None
    unknown = pd.Series(np.nan, index=dates)
    assert srr(dusty, unknown, np.random.RandomState(0)) is None, "nothing to weight by"


def test_the_seasons_are_not_taken_for_dust() -> None:
    """Three years of a station whose clean level swings 12 % with the seasons, dust
    building up slowly (0.05 % a day) and washed by rain every seven weeks or so: divided by
    its clean level at each time of year, the last year's soiling comes out near the truth;
    taken as it is, the autumn's fall reads as dust."""
    rng = np.random.default_rng(4)
    dates = pd.date_range("2023-12-01", "2026-11-30", freq="D")
    season = 1 + 0.12 * np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 240) / 365.25)
    rain = rng.random(len(dates)) < 1 / 50
    dust = np.zeros(len(dates))
    for i in range(1, len(dates)):
        dust[i] = 0.0 if rain[i] else min(0.1, dust[i - 1] + 0.0005)
    level = 0.6 * season * (1 - dust) + rng.normal(0, 0.003, len(dates))
    level[rng.random(len(dates)) < 0.3] = np.nan
    levels = pd.DataFrame({"VS001": level}, index=dates).dropna()
    year = dates[-365:]
    truth = 1 - dust[-365:].mean()
    insolation = pd.Series(5.0, index=year)
    clean = srr(deseasoned(levels)["VS001"][year[0] :], insolation, np.random.RandomState(2))
    plain = srr(levels["VS001"][year[0] :], insolation, np.random.RandomState(2))
    assert clean is not None
    assert plain is not None
    assert abs(clean.ratio - truth) < 0.006
    assert abs(plain.ratio - truth) > 0.02


def test_what_the_dust_took_is_a_share_of_what_was_made_and_never_more_than_all() -> None:
    dates = pd.date_range("2025-01-01", periods=4, freq="D")
    found = Soiling(0.9, 0.88, 0.92, 0.86, 1, 0, pd.Series([1.0, 0.8, 0.5, 0.2], index=dates))
    assert found.lost_share().tolist() == pytest.approx([0.0, 0.25, 1.0, 1.0])
    assert found.loss_now_pct == pytest.approx(50.0), "a fit run below half is not dust"


def test_a_series_that_begins_with_a_long_gap_is_estimated() -> None:
    """A day of data, then three weeks without (an outage begins on the first day), then
    dust building up: the first day is an interval of its own."""
    dates = pd.date_range("2025-01-01", "2025-06-30", freq="D")
    pi = pd.Series(0.9 - 0.001 * (np.arange(len(dates)) % 30), index=dates)
    pi.iloc[1:22] = np.nan
    daily = daily_frame(pi, pd.Series(5.0, index=dates), None)
    assert daily is not None
    assert daily["clean_event"].iloc[0], "the outage begins on the first day"
    found = srr(pi, pd.Series(5.0, index=dates), np.random.RandomState(0), reps=20)
    assert found is not None
    assert 0.95 < found.ratio < 1.0
