"""What of a station's figures is a village's: the one rule, its ownership share on the day
the figure belongs to (village stations owned by one village or shared between two or
three; the centralized station's beneficiaries by their fixed percentages — both are the
registry's dated station shares, ``pvmon.registry.effective``). Used for revenue and costs
(analytics' rollups and statements), settled money (finance) and what faults cost (the
assessment)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from pvmon.registry.effective import frame_in_effect
from pvmon.registry.schema import StationShareRow

SHARE_COLUMNS = ["station_id", "village_id", "share", "valid_from", "valid_to"]


def share_table(rows: Sequence[StationShareRow]) -> pd.DataFrame:
    """The registry's share rows as the table the functions below take."""
    return pd.DataFrame([r.model_dump() for r in rows], columns=SHARE_COLUMNS)


def village_parts(values: pd.DataFrame, shares: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Per (village, station) on ``day``: ``shares`` (dated rows: station_id, village_id,
    share, valid_from, valid_to) in effect that day joined with each station's ``values``
    (columns of figures, indexed by station id) times the share; a station without figures
    counts 0."""
    held = frame_in_effect(shares, day)[["station_id", "village_id", "share"]]
    return _times_share(held.join(values, on="station_id"), list(values.columns))


def by_village(values: pd.DataFrame, shares: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Per village: the sum of its parts of each station's ``values`` on ``day``."""
    return village_parts(values, shares, day).groupby("village_id")[list(values.columns)].sum()


def parts_by_day(days: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """Per (village, station, date): ``days`` (station_id, date and columns of figures, one
    row per station and day) split by the shares in effect on each row's day."""
    figures = [c for c in days.columns if c not in ("station_id", "date")]
    frame = days.merge(shares[SHARE_COLUMNS], on="station_id")
    if frame.empty:
        return frame.reindex(columns=["village_id", "station_id", "date", "share", *figures])
    ends = frame["valid_to"].where(frame["valid_to"].notna(), dt.date.max)
    held = (frame["valid_from"] <= frame["date"]) & (frame["date"] <= ends)
    frame = frame[held.to_numpy(dtype=bool)]
    return _times_share(frame, figures)[["village_id", "station_id", "date", "share", *figures]]


def _times_share(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].astype(float).fillna(0.0) * frame["share"]
    return frame
