"""While InfluxDB is away, ingest keeps validated points in a bounded disk spool,
acknowledges them, and replays them in order when InfluxDB answers again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from ingest.sink import write_splitting
from ingest.spool import Spool, SpoolEntry
from ingest.status import read_status
from launch.local.influxd import Influxd
from launch.local.mosquitto import Mosquitto
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient, InfluxRejected, InfluxUnavailable
from pvmon.influx.provision import provision
from pvmon.registry.schema import Registry
from pvmon.settings import Settings
from tests.support.ingest import RunningIngest, make_settings
from tests.support.traffic import publish_readings, readings, stored_keys
from tests.support.waiting import wait_for


def entry(*lines: str, late: int = 0) -> SpoolEntry:
    days = [("VS001", dt.date(2026, 11, 1 + i), 1.0) for i in range(late)]
    return SpoolEntry(list(lines), [f"pv/VS001/{line}/telemetry" for line in lines], days)


# --- the spool file ------------------------------------------------------------------------


def test_spooled_batches_come_back_in_order_after_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path, 10**6)
    for n in range(5):
        assert spool.append(entry(f"a{n}", f"b{n}", late=1))
    spool.close()

    reopened = Spool(path, 10**6)
    assert (reopened.depth.batches, reopened.depth.points) == (5, 10)
    seen = []
    while (head := reopened.oldest()) is not None:
        seq, e = head
        seen.append(e.lines)
        assert e.late_days == [("VS001", dt.date(2026, 11, 1), 1.0)]
        reopened.remove(seq)
    assert seen == [[f"a{n}", f"b{n}"] for n in range(5)]
    assert reopened.is_empty()
    assert reopened.depth.bytes == 0


def test_a_full_spool_refuses_and_keeps_what_it_holds(tmp_path: Path) -> None:
    big = [f"line-{n:06d}-" + "x" * (n % 97) for n in range(2000)]
    spool = Spool(tmp_path / "spool.sqlite3", 4000)
    assert spool.append(entry(*big)), "an empty spool takes one batch even over the bound"
    assert not spool.append(entry("one more"))
    assert spool.depth.batches == 1
    head = spool.oldest()
    assert head is not None
    assert head[1].lines == big
    spool.remove(head[0])
    assert spool.append(entry("one more"))


def test_replacing_a_batch_keeps_its_place_and_the_depth_right(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3", 10**6)
    spool.append(entry("a", "b", "c"))
    spool.append(entry("d"))
    seq, _ = spool.oldest() or (0, None)
    spool.replace(seq, entry("c"))
    assert spool.depth.points == 2
    head = spool.oldest()
    assert head is not None
    assert head[1].lines == ["c"]


# --- writing with splitting (pure logic over a fake store) ---------------------------------


class FakeStore:
    """Refuses any request holding a line that starts with 'bad'; goes away after
    ``answers`` requests."""

    def __init__(self, answers: int = 10**6) -> None:
        self.answers = answers
        self.stored: list[str] = []

    def write(self, lines: Sequence[str]) -> None:
        if self.answers == 0:
            raise InfluxUnavailable("gone")
        self.answers -= 1
        if any(line.startswith("bad") for line in lines):
            raise InfluxRejected("HTTP 400 partial write")
        self.stored.extend(lines)


def test_bad_lines_are_found_and_the_good_ones_stored() -> None:
    lines = [f"ok{n}" for n in range(20)]
    lines[3], lines[17] = "bad3", "bad17"
    store = FakeStore()
    outcome = write_splitting(store.write, lines)
    assert sorted(i for i, _ in outcome.refused) == [3, 17]
    assert store.stored == [x for x in lines if x.startswith("ok")], "in the original order"
    assert outcome.unwritten == []
    assert outcome.error is None


def test_a_store_going_away_midway_reports_exactly_what_is_owed_in_order() -> None:
    lines = [f"ok{n}" for n in range(16)]
    lines[2] = "bad2"
    # Refuses 0-16, 0-8 and 0-4, takes 0-2, then is gone before 2-4 is tried.
    store = FakeStore(answers=4)
    outcome = write_splitting(store.write, lines)
    assert store.stored == ["ok0", "ok1"]
    assert outcome.error == "gone"
    assert outcome.unwritten == list(range(2, 16)), "the bad line is still owed, not lost"
    assert outcome.refused == []


# --- a real ingest with a real influxd that goes away ---------------------------------------


def _influxd_away(
    tmp_path: Path, broker: Mosquitto, server: Influxd, engine: Engine, **ingest: object
) -> tuple[Settings, InfluxClient]:
    """Settings for an ingest whose influxd is provisioned, then stopped."""
    influx = InfluxClient(server.url, "pvmon", timeout=2)
    url = engine.url.render_as_string(hide_password=False)
    settings = make_settings(
        tmp_path,
        broker,
        influx,
        url,
        ingest={"batch_size": 200, "retry_max_backoff_s": 0.5, **ingest},
    )
    provision(influx, raw_days=400)
    server.stop()
    return settings, influx


def _counters(service_counters: dict) -> tuple[int, int]:
    return int(service_counters.get("acked", 0)), int(service_counters.get("points_spooled", 0))


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_influxdb_away_points_are_spooled_acknowledged_and_replayed_after_a_restart(
    tmp_path: Path,
    broker: Mosquitto,
    influxd_factory: Callable[[], Influxd],
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    server = influxd_factory()
    settings, influx = _influxd_away(tmp_path, broker, server, loaded_engine)

    first = start_ingest(settings, loaded_engine, influx)
    messages = readings(default_registry, 3000, day_offset=1)  # late data: yesterday's
    sent = publish_readings(broker.options.host, broker.options.port, messages)
    assert len(sent) == 3000
    wait_for(lambda: _counters(first.service.counters.snapshot()) == (3000, 3000), timeout=60)
    wait_for(lambda: read_status(loaded_engine).spool_points == 3000, timeout=30)
    with session_factory(loaded_engine)() as session:
        assert session.scalars(select(tables.LateDay)).all() == [], (
            "a late day is recorded only when its points are in InfluxDB"
        )
    first.stop()  # the spool outlives the process

    server.start()
    back = dt.datetime.now(dt.UTC)
    second = start_ingest(settings, loaded_engine, influx)
    wait_for(second.service.spool.is_empty, timeout=60)
    assert stored_keys(influx) == sent
    wait_for(lambda: read_status(loaded_engine).spool_points == 0, timeout=30)
    with session_factory(loaded_engine)() as session:
        late = session.scalars(select(tables.LateDay)).all()
    assert late, "yesterday's data was recorded as late"
    assert all(day.last_seen_at.replace(tzinfo=dt.UTC) >= back for day in late)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_full_spool_stops_acknowledging_and_the_broker_keeps_the_rest(
    tmp_path: Path,
    broker: Mosquitto,
    influxd_factory: Callable[[], Influxd],
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    server = influxd_factory()
    settings, influx = _influxd_away(tmp_path, broker, server, loaded_engine, spool_max_mb=0.002)

    running = start_ingest(settings, loaded_engine, influx)
    sent = publish_readings(
        broker.options.host, broker.options.port, readings(default_registry, 3000)
    )
    wait_for(lambda: running.service.counters.snapshot().get("spool_full_waits", 0) > 0)
    acked, spooled = _counters(running.service.counters.snapshot())
    assert 0 < spooled < 3000
    assert acked == spooled, "acknowledged only what the spool holds"

    server.start()
    wait_for(lambda: stored_keys(influx) == sent, timeout=90)
    wait_for(lambda: _counters(running.service.counters.snapshot())[0] == 3000, timeout=30)
