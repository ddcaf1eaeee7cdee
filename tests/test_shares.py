"""What of a station's figures is a village's: its ownership share on the figure's day —
one rule for revenue, costs, settled money and what faults cost."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pvmon.shares import by_village, parts_by_day, village_parts

D = dt.date
SHARES = pd.DataFrame(
    [
        {"station_id": "VS001", "village_id": "V0101", "share": 1.0},
        {"station_id": "VS090", "village_id": "V0501", "share": 0.6},
        {"station_id": "VS090", "village_id": "V0502", "share": 0.4},
        {"station_id": "VS091", "village_id": "V0502", "share": 1.0},
    ]
).assign(valid_from=D(2017, 1, 1), valid_to=None)
CHANGED = pd.DataFrame(
    [
        ("VS090", "V0501", 0.6, D(2017, 1, 1), D(2026, 6, 30)),
        ("VS090", "V0502", 0.4, D(2017, 1, 1), D(2026, 6, 30)),
        ("VS090", "V0501", 0.5, D(2026, 7, 1), None),
        ("VS090", "V0502", 0.5, D(2026, 7, 1), None),
    ],
    columns=["station_id", "village_id", "share", "valid_from", "valid_to"],
)


def test_a_shared_station_is_split_by_share_and_a_station_without_figures_counts_nothing() -> None:
    lost = pd.DataFrame({"kwh": [120.0, 50.0], "yuan": [97.2, 40.5]}, index=["VS001", "VS090"])
    villages = by_village(lost, SHARES, D(2026, 11, 1))
    assert villages.loc["V0101", "kwh"] == pytest.approx(120.0)
    assert villages.loc["V0501", "kwh"] == pytest.approx(30.0)
    assert villages.loc["V0502", "kwh"] == pytest.approx(20.0), "VS091 has no loss"
    assert villages["yuan"].sum() == pytest.approx(lost["yuan"].sum()), "shares sum to one"
    lines = village_parts(lost, SHARES, D(2026, 11, 1))
    assert list(lines[lines["station_id"] == "VS090"]["yuan"].round(2)) == [24.3, 16.2]


def test_a_share_changed_on_a_day_splits_the_days_before_and_after_it_differently() -> None:
    days = pd.DataFrame(
        {
            "station_id": ["VS090", "VS090", "VS090"],
            "date": [D(2026, 6, 29), D(2026, 6, 30), D(2026, 7, 1)],
            "yuan": [100.0, 100.0, 100.0],
        }
    )
    parts = parts_by_day(days, CHANGED)
    by = parts.groupby("village_id")["yuan"].sum()
    assert by["V0501"] == pytest.approx(60 + 60 + 50)
    assert by["V0502"] == pytest.approx(40 + 40 + 50)
    assert len(parts) == 6, "every day has exactly the two shares in effect that day"
    one_day = pd.DataFrame({"yuan": [100.0]}, index=["VS090"])
    assert by_village(one_day, CHANGED, D(2026, 6, 30)).loc["V0502", "yuan"] == pytest.approx(40)
    assert by_village(one_day, CHANGED, D(2026, 7, 1)).loc["V0502", "yuan"] == pytest.approx(50)


def test_a_day_before_any_share_belongs_to_nobody() -> None:
    days = pd.DataFrame({"station_id": ["VS090"], "date": [D(2016, 12, 31)], "yuan": [80.0]})
    assert parts_by_day(days, CHANGED).empty
