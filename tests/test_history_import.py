"""``pvmon import telemetry``: inverter history from CSV and XLSX exports (the project's
own columns, and FusionSolar's device-history layout), validated row by row as ingest
validates, written whole or not at all, into a real influxd and the relational store."""

from __future__ import annotations

import csv
import datetime as dt
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from ingest import history_import
from ingest.history_import import HistoryImportError, import_history
from ingest.parse import Limits
from launch.cli import app as cli
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient, series_values
from pvmon.registry.schema import Registry
from pvmon.settings import IngestSettings

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
TZ = ZoneInfo("Asia/Shanghai")
YESTERDAY = dt.date.today() - dt.timedelta(days=1)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, influx: InfluxClient, loaded_engine: Engine
) -> Path:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PVMON_DATABASE_URL", str(loaded_engine.url))
    monkeypatch.setenv("PVMON_INFLUX_URL", influx.url)
    monkeypatch.setenv("PVMON_INFLUX_DB", influx.database)
    return tmp_path


def household(registry: Registry, n: int = 0) -> tuple[str, str]:
    """(station, serial) of the n-th one-inverter household."""
    station = [s.id for s in registry.stations if s.id.startswith("HH")][n]
    (serial,) = [i.id for i in registry.inverters if i.station_id == station]
    return station, serial


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def stored(influx: InfluxClient, serial: str) -> list[dict[str, object]]:
    return series_values(
        influx.query(f"SELECT W, WH, DCA, DCV FROM telemetry WHERE device = '{serial}'")
    )


def late_days(engine: Engine) -> set[tuple[str, dt.date]]:
    with session_factory(engine)() as session:
        return {(d.station_id, d.day) for d in session.scalars(select(tables.LateDay))}


def test_a_csv_in_the_contracts_columns_is_imported_and_its_day_marked_for_recompute(
    env: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    station, serial = household(default_registry)
    rows = [["ts", "device", "W", "WH", "St"]]
    rows += [
        [at(YESTERDAY, 10, m).isoformat(), serial, 1200 + m, 5_000_000 + 20 * m, 4]
        for m in range(0, 60, 5)
    ]
    result = CliRunner().invoke(cli, ["import", "telemetry", str(write_csv(env / "h.csv", rows))])
    assert result.exit_code == 0, result.output
    assert "12 readings of 1 devices over 1 days" in result.output
    assert [r["W"] for r in stored(influx, serial)] == [1200.0 + m for m in range(0, 60, 5)]
    assert late_days(loaded_engine) == {(station, YESTERDAY)}


def test_a_fusionsolar_export_is_read_below_its_titles_in_its_units(
    env: Path, influx: InfluxClient, default_registry: Registry
) -> None:
    _, serial = household(default_registry)
    book = Workbook()
    ws = book.active
    ws.append(["设备历史数据"])
    ws.append(["导出时间", dt.datetime.now().isoformat(timespec="seconds")])
    ws.append(
        [
            "开始时间",
            "设备名称",
            "SN",
            "有功功率(kW)",
            "累计发电量(kWh)",
            "PV1输入电压(V)",
            "PV1输入电流(A)",
            "PV2输入电压(V)",
            "PV2输入电流(A)",
        ]
    )
    for m in (0, 5):
        moment = dt.datetime.combine(YESTERDAY, dt.time(11, m))  # local time, as exported
        ws.append([moment, "逆变器-1", serial, 3.25, 12_000.5 + m / 100, 360.0, 6.0, 340.0, 3.0])
    book.save(env / "fusionsolar.xlsx")
    result = CliRunner().invoke(cli, ["import", "telemetry", str(env / "fusionsolar.xlsx")])
    assert result.exit_code == 0, result.output
    first, second = stored(influx, serial)
    assert first["time"] == int(at(YESTERDAY, 11).timestamp()), "the county's local time"
    assert (first["W"], first["WH"]) == (3250.0, 12_000_500.0)
    assert (first["DCA"], first["DCV"]) == (9.0, pytest.approx((360 * 6 + 340 * 3) / 9))
    assert second["WH"] == pytest.approx(12_000_550.0)


def test_bad_rows_are_each_named_and_nothing_is_imported(
    env: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    _, serial = household(default_registry)
    _, other_station_serial = household(default_registry, 1)
    good = at(YESTERDAY, 12).isoformat()
    rows = [
        ["ts", "device", "W", "WH"],
        [good, serial, 1000, 5_000_000],
        [at(YESTERDAY, 12, 5).isoformat(), "NOSUCH", 1000, 5_000_100],
        [at(YESTERDAY, 12, 10).isoformat(), serial, "abc", 5_000_200],
        [at(YESTERDAY, 12, 15).isoformat(), serial, 99_000, 5_000_300],
        [at(YESTERDAY - dt.timedelta(days=30), 12).isoformat(), serial, 1000, 4_000_000],
        [good, serial, 1001, 5_000_000],
        ["2026-13-40 25:00", other_station_serial, 1000, 1],
        [at(YESTERDAY, 12, 20).isoformat(), other_station_serial, 1000, 1],
    ]
    result = CliRunner().invoke(cli, ["import", "telemetry", str(write_csv(env / "bad.csv", rows))])
    assert result.exit_code == 1
    for line in (
        "6 bad rows, nothing imported",
        "row 3: unknown_device: device 'NOSUCH' is not in the registry",
        "row 4: invalid_field: W must be a number, got 'abc'",
        "row 5: out_of_range: W=99000 exceeds 1.5 × the rating",
        "row 6: too_old:",
        f"row 7: duplicate: {serial} at {good} is also row 2",
        "row 8: invalid_field: ts is not RFC 3339: '2026-13-40 25:00'",
    ):
        assert line in result.output
    assert "row 2:" not in result.output
    assert "row 9:" not in result.output
    assert stored(influx, serial) == []
    assert stored(influx, other_station_serial) == []
    assert late_days(loaded_engine) == set()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "notes.txt: not a .csv or .xlsx file"),
        ("broken.xlsx", b"PK\x03\x04 not really", "not a readable XLSX workbook"),
        (
            "latin1.csv",
            "ts,device,W\n2026-01-01T00:00:00+08:00,é,1\n".encode("latin-1"),
            "not a readable UTF-8 CSV",
        ),
        (
            "other.csv",
            b"time,inverter,power\n1,2,3\n",
            "no header row with a time and a device column",
        ),
        ("empty.csv", b"ts,device,W\n", "no readings in the file"),
    ],
    ids=["not-a-table", "damaged-xlsx", "not-utf8", "unknown-layout", "no-rows"],
)
def test_a_file_that_cannot_be_read_is_refused_saying_why(
    env: Path, name: str, content: bytes, message: str
) -> None:
    (env / name).write_bytes(content)
    result = CliRunner().invoke(cli, ["import", "telemetry", str(env / name)])
    assert result.exit_code == 1
    assert message in result.output


def test_history_already_stored_is_not_overwritten(
    env: Path, influx: InfluxClient, default_registry: Registry
) -> None:
    _, serial = household(default_registry)
    rows = [["ts", "device", "W"], [at(YESTERDAY, 9).isoformat(), serial, 500]]
    path = write_csv(env / "once.csv", rows)
    assert CliRunner().invoke(cli, ["import", "telemetry", str(path)]).exit_code == 0
    rows[1][2] = 600
    again = CliRunner().invoke(cli, ["import", "telemetry", str(write_csv(path, rows))])
    assert again.exit_code == 1
    assert f"readings already stored in the file's time span for {serial}" in again.output
    assert [r["W"] for r in stored(influx, serial)] == [500.0]


def test_a_store_that_refuses_part_way_leaves_nothing_of_the_import(
    tmp_path: Path,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first chunk is written; InfluxDB refuses the second (a field of another type
    in that week's shard): what was written is deleted again."""
    _, serial = household(default_registry)
    early, late = YESTERDAY - dt.timedelta(days=12), YESTERDAY
    # Beside the rows, in their shard whatever the day: 1.x's weekly shards begin on
    # Mondays at 00:00 UTC (08:00 here), so a conflict at 06:00 lay in the week before
    # whenever yesterday was a Monday.
    conflict = int(at(late, 10, 30).timestamp())
    influx.write([f'telemetry,device=ELSEWHERE Hz="fifty" {conflict}'])
    rows = [["ts", "device", "W", "Hz"]]
    rows += [
        [at(day, 10, m).isoformat(), serial, 900, 50.0] for day in (early, late) for m in (0, 5)
    ]
    monkeypatch.setattr(history_import, "CHUNK", 2)
    with pytest.raises(
        HistoryImportError, match=r"refused the import part way; undone: .*field type conflict"
    ):
        import_history(
            write_csv(tmp_path / "two-weeks.csv", rows),
            influx,
            session_factory(loaded_engine),
            Limits.of(IngestSettings()),
            TZ,
            time.time(),
        )
    assert stored(influx, serial) == []
    assert late_days(loaded_engine) == set()
