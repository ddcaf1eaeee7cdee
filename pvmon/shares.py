"""What of a station's figures is a village's: the one rule, its ownership share (village
stations owned by one village or shared between two or three; the centralized station's
beneficiaries by their fixed percentages — both are the registry's station shares). Used
for revenue and costs (analytics) and for what faults cost (the assessment)."""

from __future__ import annotations

import pandas as pd


def village_parts(values: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Per (village, station): ``shares`` (station_id, village_id, share) joined with each
    station's ``values`` (columns of figures, indexed by station id) times the share; a
    station without figures counts 0."""
    columns = list(values.columns)
    frame = shares.join(values, on="station_id")
    for column in columns:
        frame[column] = frame[column].fillna(0.0) * frame["share"]
    return frame


def by_village(values: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Per village: the sum of its parts of each station's ``values``."""
    return village_parts(values, shares).groupby("village_id")[list(values.columns)].sum()
