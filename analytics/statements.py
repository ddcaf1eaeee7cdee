"""Each village's statement for a month or the year so far: its shares of each station's
energy and money, less its shares of the costs (estimated until settlement)."""

from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd

from analytics.context import Analytics
from analytics.records import save_statements
from analytics.revenue import attribute_to_villages
from pvmon.influx import schema
from pvmon.localtime import day_bounds
from pvmon.shares import village_parts


def statements(a: Analytics, year: int, month: int | None, now: dt.datetime) -> int:
    """Each village's statement for a month (or, with ``month`` None, the year so far):
    its shares of each station's energy and money, less its shares of the costs."""
    first = dt.date(year, month or 1, 1)
    last_month = month or 12
    last = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
    start, _ = day_bounds(first, a.tz)
    _, end = day_bounds(last, a.tz)
    f = a.frames
    rows = a.rollups.read(
        schema.STATION_DAILY,
        start,
        end,
        "station",
        ["energy_kwh", "export_kwh", "grid_yuan", "subsidy_yuan"],
    )
    if rows.empty:
        return 0
    days = rows.groupby("station")["ts"].nunique()
    sums = rows.groupby("station")[["energy_kwh", "export_kwh", "grid_yuan", "subsidy_yuan"]].sum()
    costs = (f.costs["annual_yuan"] / 365 * days.reindex(f.costs.index).fillna(0)).reindex(
        f.stations.index, fill_value=0.0
    )
    collective = attribute_to_villages(sums, sums["energy_kwh"], f.shares, costs)
    figures = sums[["energy_kwh", "grid_yuan", "subsidy_yuan"]]
    lines = village_parts(pd.concat([figures, costs.rename("costs_yuan")], axis=1), f.shares)
    period = f"{year}-{month:02d}" if month else str(year)
    out = []
    for village, row in collective.iterrows():
        sources = [
            {
                "station_id": s.station_id,
                "share": float(s.share),
                "energy_kwh": round(float(s.energy_kwh), 3),
                "grid_yuan": round(float(s.grid_yuan), 2),
                "subsidy_yuan": round(float(s.subsidy_yuan), 2),
                "costs_yuan": round(float(s.costs_yuan), 2),
            }
            for s in lines[lines["village_id"] == village].itertuples()
        ]
        out.append(
            {
                "village_id": village,
                "period": period,
                "energy_kwh": float(row.energy_kwh),
                "export_kwh": float(row.export_kwh),
                "grid_yuan": float(row.grid_yuan),
                "subsidy_yuan": float(row.subsidy_yuan),
                "costs_yuan": float(row.cost_yuan),
                "net_yuan": float(row.net_yuan),
                "estimated": True,
                "sources": sources,
                "computed_at": now,
            }
        )
    with a.sessions.begin() as session:
        save_statements(session, out)
    return len(out)
