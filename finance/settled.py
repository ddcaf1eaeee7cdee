"""Settled money, station by station and village by village (pure).

A statement settles a station's month: its export, the grid's payment and the subsidy (as
stated, or — where the statement leaves it out — the settled export at the month's subsidy
rate, each day at the tariff in effect that day). A station-month's money belongs to the
villages holding the station on each of its days: it is spread over the month's days in
proportion to the telemetry estimate's daily export (evenly where there is none), and each
day's part goes by that day's shares (``pvmon.shares``) — the estimate's own rule, so that
settled and estimated figures split alike.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from pvmon.localtime import month_bounds, month_of
from pvmon.money import costs_of_days
from pvmon.shares import parts_by_day

MONEY = ["export_kwh", "grid_yuan", "subsidy_yuan"]


def month_days(period: str) -> list[dt.date]:
    first, last = month_bounds(period)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def subsidy_rates(tariffs: pd.DataFrame, station_periods: pd.DataFrame) -> pd.Series:
    """For each (station_id, period) row: the mean over the month's days of the subsidy
    rate in effect on each day [yuan/kWh] (a day without a tariff counts 0)."""
    keys = station_periods[["station_id", "period"]].reset_index(names="row")
    bounds = [month_bounds(p) for p in keys["period"]]
    keys["first"] = [b[0] for b in bounds]
    keys["last"] = [b[1] for b in bounds]
    rows = keys.merge(tariffs, on="station_id")
    start = np.maximum(_days(rows["valid_from"]), _days(rows["first"]))
    ends = rows["valid_to"].where(rows["valid_to"].notna(), rows["last"])
    end = np.minimum(_days(ends), _days(rows["last"]))
    overlap = np.clip((end - start).astype(int) + 1, 0, None)
    weighted = (
        pd.Series(overlap * rows["subsidy_yuan_per_kwh"].to_numpy(float))
        .groupby(rows["row"].to_numpy())
        .sum()
    )
    length = (_days(keys["last"]) - _days(keys["first"])).astype(int) + 1
    total = weighted.reindex(keys["row"], fill_value=0.0).to_numpy()
    return pd.Series(total / length, index=station_periods.index, dtype=float)


def _days(dates: pd.Series) -> np.ndarray:
    return np.array(dates.tolist(), dtype="datetime64[D]")


def settled_money(settlements: pd.DataFrame, tariffs: pd.DataFrame) -> pd.DataFrame:
    """``settlements`` (station_id, period, export_kwh, grid_yuan, subsidy_yuan — empty where
    the statement states none) with the subsidy due filled in by the rule, and
    ``subsidy_stated`` saying which were stated."""
    out = settlements.copy()
    out["subsidy_stated"] = out["subsidy_yuan"].notna()
    if (~out["subsidy_stated"]).any():
        missing = out[~out["subsidy_stated"]]
        rates = subsidy_rates(tariffs, missing)
        out.loc[missing.index, "subsidy_yuan"] = (missing["export_kwh"] * rates).round(2)
    out["subsidy_yuan"] = out["subsidy_yuan"].astype(float)
    return out


def spread_over_days(months: pd.DataFrame, weights: pd.DataFrame | None) -> pd.DataFrame:
    """Each (station_id, period) of ``months`` as its days, each with the ``fraction`` of
    the month's money it carries: in proportion to ``weights`` (station_id, date, weight:
    the estimate's export that day) where the month has some, else evenly."""
    days = [
        (station, period, day)
        for station, period in zip(months["station_id"], months["period"], strict=True)
        for day in month_days(period)
    ]
    frame = pd.DataFrame(days, columns=["station_id", "period", "date"])
    if weights is not None and len(weights):
        frame = frame.merge(weights, on=["station_id", "date"], how="left")
        frame["weight"] = frame["weight"].fillna(0.0).clip(lower=0.0)
    else:
        frame["weight"] = 0.0
    keys = ["station_id", "period"]
    totals = frame.groupby(keys)["weight"].transform("sum")
    counts = frame.groupby(keys)["weight"].transform("size")
    frame["fraction"] = np.where(
        totals > 0, frame["weight"] / totals.where(totals > 0, 1.0), 1.0 / counts
    )
    return frame[["station_id", "period", "date", "fraction"]]


def month_shares(
    months: pd.DataFrame, shares: pd.DataFrame, weights: pd.DataFrame | None
) -> pd.DataFrame:
    """What of each station-month (``months``: station_id, period) is each village's:
    village_id, station_id, period, share — the day's shares weighted by how the month's
    money spreads over its days (a month with one owner throughout: that owner's share)."""
    columns = ["village_id", "station_id", "period", "share"]
    keys = months[["station_id", "period"]].drop_duplicates()
    if keys.empty:
        return pd.DataFrame(columns=columns)
    days = spread_over_days(keys, weights)
    parts = parts_by_day(days[["station_id", "date", "fraction"]], shares)
    if parts.empty:
        return pd.DataFrame(columns=columns)
    parts["period"] = [month_of(d) for d in parts["date"]]
    grouped = parts.groupby(["village_id", "station_id", "period"], as_index=False)["fraction"]
    return grouped.sum().rename(columns={"fraction": "share"})[columns]


def split(frame: pd.DataFrame, figures: list[str], shares: pd.DataFrame) -> pd.DataFrame:
    """Each station-month row of ``frame`` once per village holding part of it, its
    ``figures`` times that village's share of the month (``month_shares``)."""
    out = frame.merge(shares, on=["station_id", "period"])
    for column in figures:
        out[column] = out[column].astype(float) * out["share"]
    return out


def village_costs(costs: pd.DataFrame, shares: pd.DataFrame, months: pd.DataFrame) -> pd.DataFrame:
    """Each village's part of each station-month's costs (``months``: station_id, period),
    every day at the costs in effect and the shares held that day (``pvmon.money``,
    ``pvmon.shares``): village_id, station_id, period, costs_yuan."""
    columns = ["village_id", "station_id", "period", "costs_yuan"]
    keys = months[["station_id", "period"]].drop_duplicates()
    if keys.empty:
        return pd.DataFrame(columns=columns)
    days = spread_over_days(keys, None)
    days["costs_yuan"] = costs_of_days(costs, days)
    parts = parts_by_day(days[["station_id", "date", "costs_yuan"]], shares)
    if parts.empty:
        return pd.DataFrame(columns=columns)
    parts["period"] = [month_of(d) for d in parts["date"]]
    return parts.groupby(["village_id", "station_id", "period"], as_index=False)[
        "costs_yuan"
    ].sum()[columns]


def changing_months(months: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """The station-months of ``months`` in which some share of the station begins or ends
    on a day other than the month's first or last: only there does how the money spreads
    over the days change who gets what (elsewhere every day has the same shares)."""
    keys = months[["station_id", "period"]].drop_duplicates()
    if keys.empty or shares.empty:
        return keys.iloc[0:0]
    starts = shares[["station_id", "valid_from"]].rename(columns={"valid_from": "day"})
    ends = shares[shares["valid_to"].notna()][["station_id", "valid_to"]].rename(
        columns={"valid_to": "day"}
    )
    ends["day"] = [d + dt.timedelta(days=1) for d in ends["day"]]
    changes = pd.concat([starts, ends])
    changes = changes[[d.day != 1 for d in changes["day"]]]
    changes["period"] = [month_of(d) for d in changes["day"]]
    return keys.merge(
        changes[["station_id", "period"]].drop_duplicates(), on=["station_id", "period"]
    )
