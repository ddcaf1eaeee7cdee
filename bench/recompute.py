"""Every computed day's station energy, recomputed from the raw telemetry another way
(prints figures; asserts nothing).

For a data directory that ``pvmon up`` (or ``bench.first_run``) has left, this starts
influxd on its data and, month by month, takes each device's lifetime counter (``WH``) at
its last reading of each local day; a device's energy for a day is that counter less the
one at its last reading of an earlier day. That is a deliberately different formula from
``analytics/energy.py`` (no interval pairing, no reset, wrap or jump rules), so it is
compared only on device-days whose rollup flags no counter event; the others are counted.
Each station's sum is compared with its ``station_daily`` rollup, and the year's total of
the village stations with the ``segment_daily`` rollups the targets use.

Run: .venv/bin/python -m bench.recompute DATA_DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import free_port
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.settings import load_settings

TOLERANCE_KWH = 1e-6


def _counters(influx: InfluxClient, start: int, end: int, tz: ZoneInfo) -> pd.DataFrame:
    """device, station, day, WH at the device's last reading of each local day in [start, end)."""
    q = (
        f'SELECT "WH", "device", "station" FROM "{schema.TELEMETRY}" '
        f"WHERE time >= {start}s AND time < {end}s"
    )
    values: list[list] = []
    columns: list[str] = []
    for series in influx.stream(q, chunk_size=50_000):
        columns = series["columns"]
        values.extend(series.get("values", []))
    frame = pd.DataFrame(values, columns=columns or ["time", "WH", "device", "station"])
    frame["day"] = pd.to_datetime(frame["time"], unit="s", utc=True).dt.tz_convert(tz).dt.date
    frame = frame.sort_values("time")
    return frame.groupby(["device", "station", "day"], as_index=False)["WH"].last()


def _month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def _rollup(influx: InfluxClient, measurement: str, fields: str, tz: ZoneInfo) -> pd.DataFrame:
    rows = series_values(influx.query(f'SELECT {fields} FROM "{ROLLUP_RP}"."{measurement}"'))
    frame = pd.DataFrame(rows)
    frame["day"] = pd.to_datetime(frame["time"], unit="s", utc=True).dt.tz_convert(tz).dt.date
    return frame


def device_energy(
    influx: InfluxClient, first: dt.date, last: dt.date, tz: ZoneInfo
) -> pd.DataFrame:
    """device, station, day, energy_kwh for the days after each device's first."""
    carried = pd.DataFrame(columns=["device", "station", "day", "WH"])
    out = []
    for month in _month_starts(first, last):
        after = (month + dt.timedelta(days=32)).replace(day=1)
        start = int(dt.datetime.combine(month, dt.time(0), tz).timestamp())
        end = int(dt.datetime.combine(after, dt.time(0), tz).timestamp())
        days = _counters(influx, start, end, tz)
        both = pd.concat([carried, days]).sort_values(["device", "day"])
        both["energy_kwh"] = both.groupby("device")["WH"].diff() / 1000
        out.append(both[both["day"] >= month].dropna(subset=["energy_kwh"]))
        carried = both.groupby("device", as_index=False).tail(1)[["device", "station", "day", "WH"]]
        print(f"  {month:%Y-%m}: {len(days):,} device-days read", flush=True)
    return pd.concat(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args()
    settings = load_settings(data_dir=args.data_dir)
    tz = ZoneInfo(settings.timezone)
    influxd = Influxd(
        InfluxdOptions(
            http_port=free_port(), rpc_port=free_port(), directory=args.data_dir / "influxdb"
        )
    )
    influxd.start()
    try:
        influx = InfluxClient(influxd.url, settings.influx_db)
        flags = '"device", "energy_kwh", "resets", "jumps", "wraps"'
        devices = _rollup(influx, schema.DEVICE_DAILY, flags, tz)
        stations = _rollup(influx, schema.STATION_DAILY, '"station", "energy_kwh"', tz)
        segments = _rollup(influx, schema.SEGMENT_DAILY, '"kind", "energy_kwh"', tz)
        first, last = min(stations["day"]), max(stations["day"])
        print(f"recomputing {first} … {last} from the raw counters")
        mine = device_energy(influx, first, last, tz)
    finally:
        influxd.stop()
    report(mine[mine["day"] <= last], devices, stations, segments, first)


def report(
    mine: pd.DataFrame,
    devices: pd.DataFrame,
    stations: pd.DataFrame,
    segments: pd.DataFrame,
    first: dt.date,
) -> None:
    """Compared from the second day on: the first has no earlier reading to start from."""
    mine = mine[mine["day"] > first]
    events = devices[devices[["resets", "jumps", "wraps"]].fillna(0).sum(axis=1) > 0]
    flagged = pd.MultiIndex.from_frame(events[["device", "day"]])
    has_event = pd.MultiIndex.from_frame(mine[["device", "day"]]).isin(flagged)
    unclean = pd.MultiIndex.from_frame(mine.loc[has_event, ["station", "day"]]).unique()
    per_station = mine.groupby(["station", "day"])["energy_kwh"].sum()
    compared = per_station.index.difference(unclean)
    stored = stations.set_index(["station", "day"])["energy_kwh"].reindex(compared)
    difference = (per_station.reindex(compared) - stored).abs()
    print(f"\ndevice-days with a counter event (their stations not compared): {len(events):,}")
    print(
        f"station-days compared: {len(compared):,} (missing from the rollups: "
        f"{int(stored.isna().sum()):,})"
    )
    print(f"largest difference: {np.nanmax(difference.to_numpy()):.9f} kWh")
    print(
        f"station-days differing by more than {TOLERANCE_KWH} kWh: "
        f"{int((difference > TOLERANCE_KWH).sum()):,}"
    )
    village = segments[(segments["kind"] == "village") & (segments["day"] > first)]
    is_village = per_station.index.get_level_values("station").str.startswith("VS")
    print(
        f"village stations after {first}: rollups {village['energy_kwh'].sum():,.3f} kWh, "
        f"recomputed {per_station[is_village].sum():,.3f} kWh "
        f"({int(unclean.get_level_values('station').str.startswith('VS').sum())} "
        f"village station-days with a counter event)"
    )


if __name__ == "__main__":
    main()
