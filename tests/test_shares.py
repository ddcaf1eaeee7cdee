"""What of a station's figures is a village's: its ownership share — one rule for revenue,
costs and what faults cost."""

from __future__ import annotations

import pandas as pd
import pytest

from pvmon.shares import by_village, village_parts

SHARES = pd.DataFrame(
    [
        {"station_id": "VS001", "village_id": "V0101", "share": 1.0},
        {"station_id": "VS090", "village_id": "V0501", "share": 0.6},
        {"station_id": "VS090", "village_id": "V0502", "share": 0.4},
        {"station_id": "VS091", "village_id": "V0502", "share": 1.0},
    ]
)


def test_a_shared_station_is_split_by_share_and_a_station_without_figures_counts_nothing() -> None:
    lost = pd.DataFrame({"kwh": [120.0, 50.0], "yuan": [97.2, 40.5]}, index=["VS001", "VS090"])
    villages = by_village(lost, SHARES)
    assert villages.loc["V0101", "kwh"] == pytest.approx(120.0)
    assert villages.loc["V0501", "kwh"] == pytest.approx(30.0)
    assert villages.loc["V0502", "kwh"] == pytest.approx(20.0), "VS091 has no loss"
    assert villages["yuan"].sum() == pytest.approx(lost["yuan"].sum()), "shares sum to one"
    lines = village_parts(lost, SHARES)
    assert list(lines[lines["station_id"] == "VS090"]["yuan"].round(2)) == [24.3, 16.2]
