"""Analytics' InfluxDB side: read raw telemetry, write and read daily rollups.

Rollup points carry local midnight as their time and stable ids as tags. Recomputing a day
first deletes that day's rollup points, so a field that is absent this time (a peer index
with too few peers, say) does not survive from an earlier computation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import pandas as pd

from pvmon.influx.client import InfluxClient
from pvmon.influx.lineprotocol import escape_tag
from pvmon.influx.provision import ROLLUP_RP
from pvmon.influx.schema import EVENTS, TELEMETRY

LOOKBACK_S = 7 * 86400
"""How far back a device's last reading before a day is looked for."""
WRITE_BATCH = 10_000


def _frame(series: Iterable[dict], tag: str, columns: Sequence[str]) -> pd.DataFrame:
    """Series grouped by ``tag`` into one table with the tag as a column."""
    parts: dict[str, list] = {tag: [], **{c: [] for c in columns}}
    for s in series:
        names = s["columns"]
        values = s.get("values", [])
        if not values:
            continue
        parts[tag].extend([s.get("tags", {}).get(tag)] * len(values))
        for column in columns:
            i = names.index(column) if column in names else None
            parts[column].extend(row[i] if i is not None else None for row in values)
    frame = pd.DataFrame(parts)
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _rows(
    series: Iterable[dict], columns: Sequence[str], tags: Sequence[str] = ("device",)
) -> pd.DataFrame:
    """The rows of an ungrouped query (``tags`` selected as columns): one series, sent in
    chunks — much cheaper to parse than a series per device."""
    values: list[list] = []
    names: list[str] = list(columns)
    for s in series:
        names = s["columns"]
        values.extend(s.get("values", []))
    frame = pd.DataFrame(values, columns=names) if values else pd.DataFrame(columns=names)
    frame = frame.reindex(columns=list(columns))
    for column in columns:
        if column not in tags:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def townships_condition(townships: Sequence[str]) -> str:
    """An InfluxQL condition on the ``township`` tag (ids are codes: safe in a regex)."""
    return f'"township" =~ /^({"|".join(townships)})$/'


def _and(scope: str) -> str:
    return f" AND {scope}" if scope else ""


class TelemetryReader:
    """Raw telemetry, of the whole fleet or of the townships ``scope`` selects."""

    def __init__(self, influx: InfluxClient, scope: str = "") -> None:
        self.influx = influx
        self.scope = scope

    def day(self, start: int, end: int) -> pd.DataFrame:
        """device, ts, W, WH, St of every reading in [start, end)."""
        q = (
            f'SELECT "W", "WH", "St", "device" FROM "{TELEMETRY}" WHERE time >= {start}s '
            f"AND time < {end}s{_and(self.scope)}"
        )
        return _rows(self.influx.stream(q), ["time", "W", "WH", "St", "device"]).rename(
            columns={"time": "ts"}
        )

    def previous(self, start: int) -> pd.DataFrame:
        """Each device's last reading before ``start`` (within a week): device, ts, W, WH."""
        q = (
            f'SELECT LAST("WH") AS "WH", "W" FROM "{TELEMETRY}" WHERE time >= '
            f'{start - LOOKBACK_S}s AND time < {start}s{_and(self.scope)} GROUP BY "device"'
        )
        frame = _frame(self.influx.stream(q), "device", ["time", "W", "WH"])
        return frame.rename(columns={"time": "ts"})

    def first_time(self, since: int) -> int | None:
        """Epoch seconds of the earliest reading at or after ``since``, if any."""
        series = self.influx.query(f'SELECT FIRST("W") FROM "{TELEMETRY}" WHERE time >= {since}s')
        return int(series[0]["values"][0][0]) if series else None

    def recent(self, since: int, until: int) -> pd.DataFrame:
        """device, ts, W, St of the readings in [since, until) (the frequent job's window)."""
        q = (
            f'SELECT "W", "St" FROM "{TELEMETRY}" WHERE time >= {since}s AND time < '
            f'{until}s{_and(self.scope)} GROUP BY "device"'
        )
        return _frame(self.influx.stream(q), "device", ["time", "W", "St"]).rename(
            columns={"time": "ts"}
        )

    def events(self, start: int, end: int) -> pd.DataFrame:
        """device, ts, code of the inverter alarms in [start, end)."""
        q = (
            f'SELECT "code", "text" FROM "{EVENTS}" WHERE time >= {start}s AND time < '
            f'{end}s{_and(self.scope)} GROUP BY "device"'
        )
        frame = _frame(self.influx.stream(q), "device", ["time", "code"])
        return frame.rename(columns={"time": "ts"})


def rollup_lines(
    measurement: str, frame: pd.DataFrame, tags: Sequence[str], fields: Sequence[str], ts: int
) -> list[str]:
    """One point per row; NaN fields are left out (a recomputed day was deleted first).

    Built column by column with plain string formatting: ``encode_point`` is general but
    slow for the ~5,000 rollup points of a day.
    """
    heads = [escape_tag(measurement)] * len(frame)
    for tag in tags:
        values = [escape_tag(str(v)) for v in frame[tag].tolist()]
        heads = [f"{h},{tag}={v}" if v else h for h, v in zip(heads, values, strict=True)]
    columns = []
    for field in fields:
        values = frame[field].to_numpy(dtype=float).tolist()
        columns.append([f"{field}={v!r}" if math.isfinite(v) else None for v in values])
    lines = []
    for head, *parts in zip(heads, *columns, strict=True):
        present = ",".join(p for p in parts if p is not None)
        if present:
            lines.append(f"{head} {present} {ts}")
    return lines


class RollupStore:
    """Daily rollups, of the whole fleet or of the townships ``scope`` selects (the
    measurements tagged by township: not the segments' and the fleet's)."""

    def __init__(self, influx: InfluxClient, scope: str = "") -> None:
        self.influx = influx
        self.scope = scope

    def replace_day(
        self,
        start: int,
        end: int,
        lines_by_measurement: dict[str, list[str]],
        *,
        existing: bool = True,
    ) -> int:
        """Write the day's points; if the day may hold points from an earlier computation
        (``existing``), delete them first so nothing stale survives. InfluxDB's DELETE is
        slow (a scan of the day's shards), so a first computation skips it."""
        if existing:
            names = "|".join(sorted(lines_by_measurement))
            self.influx.execute(
                f"DELETE FROM /^({names})$/ WHERE time >= {start}s AND time < {end}s"
                f"{_and(self.scope)}"
            )
        lines = [line for group in lines_by_measurement.values() for line in group]
        for chunk in range(0, len(lines), WRITE_BATCH):
            self.influx.write(lines[chunk : chunk + WRITE_BATCH], rp=ROLLUP_RP)
        return len(lines)

    def read(
        self,
        measurement: str,
        start: int,
        end: int,
        tag: str | None,
        fields: Sequence[str],
        where: str = "",
    ) -> pd.DataFrame:
        """Rollup rows in [start, end): ts, the tag (if any) and the fields."""
        quoted = ", ".join(f'"{f}"' for f in fields)
        group = f' GROUP BY "{tag}"' if tag else ""
        condition = f" AND {where}" if where else ""
        q = (
            f'SELECT {quoted} FROM "{ROLLUP_RP}"."{measurement}" WHERE time >= {start}s AND '
            f"time < {end}s{condition}{group}"
        )
        frame = _frame(self.influx.stream(q), tag or "_", ["time", *fields])
        frame = frame.rename(columns={"time": "ts"})
        return frame.drop(columns="_") if not tag else frame

    def rows(
        self, measurement: str, start: int, end: int, tags: Sequence[str], fields: Sequence[str]
    ) -> pd.DataFrame:
        """Rollup rows in [start, end) with their ``tags`` as columns: ts, tags, fields."""
        selected = ", ".join(f'"{c}"' for c in [*fields, *tags])
        q = (
            f'SELECT {selected} FROM "{ROLLUP_RP}"."{measurement}" WHERE time >= {start}s '
            f"AND time < {end}s{_and(self.scope)}"
        )
        frame = _rows(self.influx.stream(q), ["time", *tags, *fields], tags)
        return frame.rename(columns={"time": "ts"})

    def sums(
        self,
        measurement: str,
        start: int,
        end: int,
        tag: str | None,
        fields: Sequence[str],
        where: str = "",
    ) -> pd.DataFrame:
        """Per tag value (or overall): the sum of each field over [start, end) and the
        number of days (points) counted."""
        selected = ", ".join(f'SUM("{f}") AS "{f}"' for f in fields)
        condition = _and(where) + _and(self.scope)
        group = f' GROUP BY "{tag}"' if tag else ""
        q = (
            f'SELECT {selected}, COUNT("{fields[0]}") AS "days" FROM '
            f'"{ROLLUP_RP}"."{measurement}" WHERE time >= {start}s AND time < {end}s'
            f"{condition}{group}"
        )
        frame = _frame(self.influx.stream(q), tag or "_", [*fields, "days"])
        return frame.set_index(tag) if tag else frame.drop(columns="_")
