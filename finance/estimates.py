"""The telemetry estimate the settled money is compared with and split by: each settled
station's daily export and money from analytics' ``station_daily`` rollups (kept for the
station's life)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd

from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_start, local_day

FIELDS = ["export_kwh", "grid_yuan", "subsidy_yuan"]
COLUMNS = ["station_id", "date", *FIELDS]
FEW_STATIONS = 40
"""Up to this many stations are named in the query; more read every settled station's."""


def station_days(
    influx: InfluxClient,
    tz: dt.tzinfo,
    first: dt.date,
    last: dt.date,
    stations: Collection[str] | None = None,
) -> pd.DataFrame:
    """station_id, date, export_kwh, grid_yuan, subsidy_yuan of each computed day from
    ``first`` to ``last`` of the stations named (all but household arrays: None)."""
    if stations is not None and not stations:
        return pd.DataFrame(columns=COLUMNS)
    only = "\"kind\" != 'household'"
    if stations is not None and len(stations) <= FEW_STATIONS:
        only = "(" + " OR ".join(f"\"station\" = '{s}'" for s in sorted(stations)) + ")"
    fields = ", ".join(f'"{f}"' for f in FIELDS)
    rows = []
    for series in influx.stream(
        f'SELECT {fields} FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" '
        f"WHERE time >= {day_start(first, tz)}s "
        f"AND time < {day_start(last + dt.timedelta(days=1), tz)}s AND {only} "
        'GROUP BY "station"'
    ):
        station = series.get("tags", {}).get("station")
        names = series["columns"]
        for values in series.get("values", []):
            row = dict(zip(names, values, strict=True))
            rows.append((station, local_day(row["time"], tz), *(row.get(f) for f in FIELDS)))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if stations is not None:
        frame = frame[frame["station_id"].isin(set(stations))]
    for field in FIELDS:
        frame[field] = pd.to_numeric(frame[field], errors="coerce")
    return frame.reset_index(drop=True)
