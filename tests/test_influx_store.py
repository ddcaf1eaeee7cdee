"""The InfluxDB store against a real influxd (1.x HTTP API)."""

import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from analytics.forecasts import ForecastSources, last_complete_day
from analytics.influxstore import RollupStore, rollup_lines
from ingest.batch import Batch, Inbound
from ingest.counters import Counters
from ingest.deadletter import DeadLetterRows
from ingest.parse import Reading
from ingest.replay import Replayer
from ingest.sink import Sink
from ingest.spool import Spool, SpoolEntry
from launch.local.influxd import Influxd
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, InfluxRejected, InfluxUnavailable, series_values
from pvmon.influx.provision import RAW_RP, ROLLUP_RP, detect_generation, provision
from pvmon.localtime import day_bounds
from pvmon.settings import load_settings
from tests.support.waiting import wait_for

TZ = ZoneInfo("Asia/Shanghai")
ROWS = DeadLetterRows("w1", head_bytes=1024)


def test_provisioning_creates_retention_policies_and_is_repeatable(influx: InfluxClient) -> None:
    assert provision(influx, raw_days=30) == "1"
    policies = {
        row["name"]: row
        for row in series_values(influx.query(f'SHOW RETENTION POLICIES ON "{influx.database}"'))
    }
    assert policies[RAW_RP]["duration"] == "720h0m0s"
    assert policies[RAW_RP]["default"]
    assert policies[ROLLUP_RP]["duration"] == "0s"
    assert detect_generation(influx) == "1"


def test_rewriting_a_point_overwrites_it(influx: InfluxClient) -> None:
    now = int(time.time())
    line = f"telemetry,device=D1,station=S1 W=10.0 {now}"
    influx.write([line, line.replace("10.0", "12.5")])
    influx.write([line.replace("10.0", "12.5")])
    rows = series_values(influx.query('SELECT "W" FROM "telemetry"'))
    assert rows == [{"time": now, "W": 12.5}]


def test_local_days_group_by_shanghai_midnight(influx: InfluxClient) -> None:
    before = int(dt.datetime(2026, 11, 20, 23, 59, 30, tzinfo=TZ).timestamp())
    after = int(dt.datetime(2026, 11, 21, 0, 0, 30, tzinfo=TZ).timestamp())
    influx.write([f"telemetry,device=D1 W=1.0 {before}", f"telemetry,device=D1 W=2.0 {after}"])
    series = influx.query(
        f'SELECT SUM("W") FROM "telemetry" WHERE time >= {before - 86400}s AND time <= {after}s '
        "GROUP BY time(1d) fill(none) tz('Asia/Shanghai')"
    )
    days = {dt.datetime.fromtimestamp(t, TZ).date(): v for t, v in series[0]["values"]}
    assert days == {dt.date(2026, 11, 20): 1.0, dt.date(2026, 11, 21): 2.0}


def test_a_refused_write_is_permanent_and_an_absent_server_temporary(influx: InfluxClient) -> None:
    with pytest.raises(InfluxRejected, match="400"):
        influx.write(["this is not line protocol"])
    with (
        InfluxClient("http://127.0.0.1:9", "x", timeout=1) as nowhere,
        pytest.raises(InfluxUnavailable),
    ):
        nowhere.write(["m v=1 1"])


def _reading(device: str, ts: int, w: float) -> Reading:
    return Reading("VS001", device, "village", "T01", ts, {"W": w})


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_bad_point_is_dead_lettered_and_the_rest_of_its_batch_stored(
    influx: InfluxClient, engine: Engine, tmp_path: Path
) -> None:
    now = int(time.time())
    batch = Batch.starting(TZ, now)
    for i in range(8):
        message = Inbound("pv/VS001/D1/telemetry", b"{}", i + 1, 1, now, 1)
        batch.add(message, _reading(f"D{i + 1}", now - i, 100.0 + i))
    batch.lines[5] = batch.lines[5].replace("W=105.0", "W=105i")  # a type conflict
    spool = Spool(tmp_path / "spool.sqlite3", 10**6)
    sink = Sink(influx.write, session_factory(engine), spool, ROWS, Counters(), threading.Event())
    assert sink.write(batch) == 0, "nothing spooled"
    stored = series_values(influx.query('SELECT "W", "device" FROM "telemetry"'))
    assert sorted(r["device"] for r in stored) == ["D1", "D2", "D3", "D4", "D5", "D7", "D8"]
    with session_factory(engine)() as session:
        letters = session.scalars(select(tables.DeadLetter)).all()
    assert [(d.reason, d.topic) for d in letters] == [("store_rejected", "pv/VS001/D1/telemetry")]
    assert "field type conflict" in letters[0].detail


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_batch_for_a_stopped_server_is_spooled_and_stored_when_it_returns(
    influxd_factory: Callable[[], Influxd], engine: Engine, tmp_path: Path
) -> None:
    server = influxd_factory()
    client = InfluxClient(server.url, "pvmon", timeout=2)
    provision(client, raw_days=400)
    now = int(time.time())
    batch = Batch.starting(TZ, now)
    for i in range(50):
        batch.add(
            Inbound("pv/VS001/D/telemetry", b"{}", i + 1, 1, now, 1),
            _reading(f"D{i}", now, float(i)),
        )
    server.stop()
    spool = Spool(tmp_path / "spool.sqlite3", 10**6)
    counters, stop = Counters(), threading.Event()
    sessions = session_factory(engine)
    assert Sink(client.write, sessions, spool, ROWS, counters, stop).write(batch) == 50
    assert spool.depth.points == 50
    replayer = Replayer(spool, client.write, sessions, ROWS, counters, stop, max_backoff_s=0.5)
    replayer.start()
    wait_for(lambda: counters.snapshot()["write_retries"] >= 2, timeout=30)
    assert spool.depth.points == 50, "kept while the server is away"
    server.start()
    wait_for(spool.is_empty, timeout=30)
    stop.set()
    replayer.join(10)
    assert counters.snapshot()["write_retries"] >= 1
    assert counters.snapshot()["points_replayed"] == 50
    stored = series_values(client.query('SELECT COUNT("W") FROM "telemetry"'))
    assert stored[0]["count"] == 50
    client.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_device_liveness_is_written_at_most_every_interval_and_at_shutdown(
    influx: InfluxClient, engine: Engine, tmp_path: Path
) -> None:
    now = int(time.time())
    sessions = session_factory(engine)
    spool = Spool(tmp_path / "spool.sqlite3", 10**6)
    sink = Sink(
        influx.write,
        sessions,
        spool,
        ROWS,
        Counters(),
        threading.Event(),
        device_status_every_s=3600,
    )

    def batch_at(ts: int, received: float) -> Batch:
        batch = Batch.starting(TZ, now)
        batch.add(
            Inbound("pv/VS001/D1/telemetry", b"{}", 1, 1, received, 1), _reading("D1", ts, 1.0)
        )
        return batch

    def status() -> list[tuple[int, int]]:
        with sessions() as session:
            rows = session.scalars(select(tables.DeviceStatus)).all()
        return [(int(r.last_ts.timestamp()), int(r.last_received_at.timestamp())) for r in rows]

    sink.write(batch_at(now - 120, now - 5))
    assert status() == [(now - 120, now - 5)], "a device's first sight is written at once"
    sink.write(batch_at(now - 60, now - 3))
    sink.write(batch_at(now - 600, now - 1))  # a late reading: the device still spoke
    assert status() == [(now - 120, now - 5)], "then held back for the interval"
    sink.flush_devices()
    assert status() == [(now - 60, now - 1)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_point_refused_on_replay_is_dead_lettered_and_the_rest_stored(
    influx: InfluxClient, engine: Engine, tmp_path: Path
) -> None:
    now = int(time.time())
    influx.write([f"telemetry,device=D0,kind=village,station=VS001,township=T01 W=1.0 {now}"])
    lines = [
        f"telemetry,device=D{i},kind=village,station=VS001,township=T01 W=2.0 {now - 60}"
        for i in range(6)
    ]
    lines[0] = lines[0].replace("W=2.0", "W=2i")  # conflicts with D0's float field
    spool = Spool(tmp_path / "spool.sqlite3", 10**6)
    spool.append(SpoolEntry(lines, [f"pv/VS001/D{i}/telemetry" for i in range(6)], []))
    counters, stop = Counters(), threading.Event()
    sessions = session_factory(engine)
    replayer = Replayer(spool, influx.write, sessions, ROWS, counters, stop, max_backoff_s=0.5)
    replayer.start()
    wait_for(spool.is_empty, timeout=30)
    stop.set()
    replayer.join(10)
    stored = series_values(
        influx.query(f'SELECT "W", "device" FROM "telemetry" WHERE time = {now - 60}s')
    )
    assert sorted(r["device"] for r in stored) == ["D1", "D2", "D3", "D4", "D5"]
    with sessions() as session:
        letters = session.scalars(select(tables.DeadLetter)).all()
    assert [(d.reason, d.topic, d.device_id) for d in letters] == [
        ("store_rejected", "pv/VS001/D0/telemetry", "D0")
    ]
    assert "refused when replayed from the spool" in letters[0].detail
    assert counters.snapshot()["rejected"] == {"store_rejected": 1}


def test_a_day_still_being_filled_in_is_not_a_whole_actual_day(influx: InfluxClient) -> None:
    """The demo replays yesterday's afternoon (or the county lost its link): a day whose
    fleet-wide availability is low is not counted as a complete day by the forecasts."""
    provision(influx, raw_days=400)
    last = dt.date.today() - dt.timedelta(days=1)
    lines = [
        rollup_lines(
            schema.FLEET_DAILY,
            pd.DataFrame({"availability": [availability]}),
            [],
            ["availability"],
            day_bounds(last - dt.timedelta(days=back), TZ)[0],
        )[0]
        for back, availability in ((2, 0.96), (1, 0.98), (0, 0.41))
    ]
    influx.write(lines, rp=ROLLUP_RP)
    sources = ForecastSources(load_settings(), TZ, RollupStore(influx), None, None, None)  # type: ignore[arg-type]
    assert last_complete_day(sources, last) == last - dt.timedelta(days=1)
    assert last_complete_day(sources, last - dt.timedelta(days=3)) == last - dt.timedelta(days=3)
