"""Money for the finance tests: the estimate as analytics' daily rollups would hold it, and
statement and receipt files as the bureau would bring them."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from zoneinfo import ZoneInfo

from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.influx.lineprotocol import encode_point
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_start, month_bounds

TZ = ZoneInfo("Asia/Shanghai")


def month_days(period: str) -> list[dt.date]:
    first, last = month_bounds(period)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def write_estimate(
    influx: InfluxClient,
    station: str,
    township: str,
    days: Iterable[dt.date],
    export_kwh: float,
    grid_rate: float = 0.332,
    subsidy_rate: float = 0.518,
    kind: str = "village",
) -> None:
    """Each day's ``station_daily`` as analytics writes it: ``export_kwh`` exported, paid
    at the rates."""
    lines = [
        encode_point(
            schema.STATION_DAILY,
            {"station": station, "kind": kind, "township": township},
            {
                "energy_kwh": export_kwh / 0.97,
                "export_kwh": export_kwh,
                "grid_yuan": export_kwh * grid_rate,
                "subsidy_yuan": export_kwh * subsidy_rate,
            },
            day_start(day, TZ),
        )
        for day in days
    ]
    influx.write(lines, rp=ROLLUP_RP)


def write_csv(path: Path, rows: list[Mapping[str, object]], title: str | None = None) -> Path:
    """A CSV as a spreadsheet saves it (UTF-8 with a byte-order mark), a title row first if
    given."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        if title:
            f.write(title + "\n")
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
