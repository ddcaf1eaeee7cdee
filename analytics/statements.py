"""Each village's statement for a month or the year so far: its shares of each station's
energy and money, less its shares of the costs (estimated until settled), every day at the
shares and costs in effect that day."""

from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd

from analytics.context import Analytics
from analytics.records import save_statements
from pvmon.influx import schema
from pvmon.localtime import day_bounds, local_day
from pvmon.money import costs_of_days
from pvmon.shares import parts_by_day

FIGURES = ["energy_kwh", "export_kwh", "grid_yuan", "subsidy_yuan"]
MONEY = [*FIGURES, "costs_yuan"]


def statements(a: Analytics, year: int, month: int | None, now: dt.datetime) -> int:
    """Each village's statement for a month (or, with ``month`` None, the year so far):
    its shares of each station's energy and money, less its shares of the costs."""
    first = dt.date(year, month or 1, 1)
    last_month = month or 12
    last = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
    start, _ = day_bounds(first, a.tz)
    _, end = day_bounds(last, a.tz)
    rows = a.rollups.read(
        schema.STATION_DAILY, start, end, "station", FIGURES, "\"kind\" != 'household'"
    )
    if rows.empty:
        return 0
    days = station_days(a, rows)
    parts = parts_by_day(days, a.frames.shares).groupby(["village_id", "station_id"])
    lines = parts[MONEY].sum()
    lines["share"] = parts["share"].mean()
    period = f"{year}-{month:02d}" if month else str(year)
    out = [
        _statement(str(village), period, part.droplevel(0), now)
        for village, part in lines.groupby(level=0)
    ]
    with a.sessions.begin() as session:
        save_statements(session, out)
    return len(out)


def station_days(a: Analytics, rows: pd.DataFrame) -> pd.DataFrame:
    """station_id, date, the figures and the day's costs of each computed station-day."""
    days = rows.rename(columns={"station": "station_id"})
    days["date"] = [local_day(t, a.tz) for t in days["ts"]]
    days["costs_yuan"] = costs_of_days(a.frames.costs, days)
    return days[["station_id", "date", *MONEY]]


def _statement(village: str, period: str, lines: pd.DataFrame, now: dt.datetime) -> dict:
    totals = lines.drop(columns="share").sum()
    return {
        "village_id": village,
        "period": period,
        "energy_kwh": float(totals["energy_kwh"]),
        "export_kwh": float(totals["export_kwh"]),
        "grid_yuan": float(totals["grid_yuan"]),
        "subsidy_yuan": float(totals["subsidy_yuan"]),
        "costs_yuan": float(totals["costs_yuan"]),
        "net_yuan": float(totals["grid_yuan"] + totals["subsidy_yuan"] - totals["costs_yuan"]),
        "estimated": True,
        "sources": [
            {
                "station_id": str(station),
                "share": round(float(line["share"]), 6),
                **{k: round(float(line[k]), 3 if k == "energy_kwh" else 2) for k in MONEY},
            }
            for station, line in lines.iterrows()
        ],
        "computed_at": now,
    }
