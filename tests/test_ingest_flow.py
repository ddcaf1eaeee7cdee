"""The simulated fleet's telemetry through a real Mosquitto and ingest into a real influxd."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from alerts.sources import rejections
from launch.local.mosquitto import Mosquitto
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient, series_values
from pvmon.registry.schema import Registry
from pvmon.settings import Settings
from simulators.main import run_simulation
from simulators.report import Report
from simulators.scenario import Scenario
from tests.support.counts import dead_letters, stored_count
from tests.support.ingest import RunningIngest, make_settings
from tests.support.traffic import publish_readings
from tests.support.waiting import wait_for

TZ = ZoneInfo("Asia/Shanghai")
SCENARIOS = Path(__file__).resolve().parent.parent / "simulators" / "scenarios"
SUBSET = ["VS001", "VS002", "VS010", "HH0001", "HH0002", "HH0100", "CS01"]


def morning(days_ago: int, hour: int = 10) -> str:
    day = dt.datetime.now(TZ).date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), TZ).isoformat()


def simulate(
    settings: Settings, tmp_path: Path, start: str, duration: str, **kwargs: object
) -> tuple[Report, list[dict]]:
    log = tmp_path / "published.jsonl"
    report = run_simulation(
        settings,
        start=start,
        speed=kwargs.pop("speed", 3600),
        duration=duration,
        stations=kwargs.pop("stations", SUBSET),
        publish_log=log,
        keep_state=False,
        **kwargs,
    )
    records = [json.loads(line) for line in log.read_text().splitlines()]
    return report, records


def recovered(engine: Engine) -> int:
    with session_factory(engine)() as session:
        letters = session.scalars(select(tables.DeadLetter.recovered_at))
        return sum(1 for at in letters if at is not None)


def logger_states(engine: Engine) -> dict[str, bool]:
    with session_factory(engine)() as session:
        return {s.station_id: s.online for s in session.scalars(select(tables.LoggerStatus))}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_simulated_hour_arrives_as_exactly_the_expected_points(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    settings = make_settings(
        tmp_path, broker, influx, str(loaded_engine.url.render_as_string(hide_password=False))
    )
    start_ingest(settings, loaded_engine, influx)
    report, published = simulate(settings, tmp_path, morning(2), "1h")

    inverters = Counter(i.station_id for i in default_registry.inverters if i.station_id in SUBSET)
    # Each inverter reports once at start-up and then on its grid: every minute for village
    # and central inverters (60 in an hour), every five minutes for households (12).
    expected = sum(n * (13 if sid.startswith("HH") else 61) for sid, n in inverters.items())
    assert report.confirmed["telemetry"] == len(published) == expected
    wait_for(lambda: stored_count(influx) == expected)

    rows = series_values(
        influx.query(
            'SELECT "W", "WH", "St", "station", "device", "kind", "township" FROM "telemetry"'
        )
    )
    stations = {s.id: s for s in default_registry.stations}
    by_key = {(r["device"], r["time"]): r for r in rows}
    assert len(by_key) == expected
    for record in published:
        row = by_key[(record["device"], record["ts"])]
        assert (row["W"], row["WH"]) == (record["W"], record["WH"])
        station = stations[record["station"]]
        assert (row["station"], row["kind"], row["township"]) == (
            station.id,
            station.kind,
            station.township_id,
        )
    assert {r["St"] for r in rows} <= {2, 4, 5}
    assert dead_letters(loaded_engine) == Counter()


def test_each_malformed_kind_lands_in_the_dead_letter_with_its_reason(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    settings = make_settings(
        tmp_path, broker, influx, loaded_engine.url.render_as_string(hide_password=False)
    )
    start_ingest(settings, loaded_engine, influx)
    scenario_file = SCENARIOS / "malformed.toml"
    report, published = simulate(settings, tmp_path, morning(1), "10m", scenario=scenario_file)

    injected = Counter({m.reason.value: m.count for m in Scenario.load(scenario_file).malformed})
    assert Counter(report.malformed) == injected
    wait_for(lambda: dead_letters(loaded_engine) == injected)
    wait_for(lambda: stored_count(influx) == report.confirmed["telemetry"] == len(published))
    with session_factory(loaded_engine)() as session:
        letters = session.scalars(select(tables.DeadLetter)).all()
    assert all(letter.detail and letter.payload for letter in letters)
    unknown = [d for d in letters if d.reason == "unknown_station"]
    assert all(d.station_id == "ZZ999" for d in unknown)
    oversized = [d for d in letters if d.reason == "oversized"]
    assert all(d.payload_bytes > 20_000 for d in oversized), "its whole size is kept"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_late_backlog_lands_at_its_original_times(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    settings = make_settings(
        tmp_path, broker, influx, loaded_engine.url.render_as_string(hide_password=False)
    )
    scenario = tmp_path / "backlog.toml"
    scenario.write_text(
        '[[faults]]\nkind = "backlog"\nstations = ["VS002"]\nstart = "+10m"\nduration = "20m"\n'
    )
    start_ingest(settings, loaded_engine, influx)
    start = morning(3)
    report, published = simulate(settings, tmp_path, start, "40m", scenario=scenario)

    assert report.backlog_published > 0
    window = [r for r in published if r["station"] == "VS002"]
    start_ts = int(dt.datetime.fromisoformat(start).timestamp())
    held = [r for r in window if start_ts + 600 <= r["ts"] < start_ts + 1800]
    assert report.backlog_published >= len(held) > 0
    wait_for(lambda: stored_count(influx) == len(published))
    stored = {
        (r["device"], r["time"])
        for r in series_values(
            influx.query('SELECT "W", "device" FROM "telemetry" WHERE "station" = \'VS002\'')
        )
    }
    assert {(r["device"], r["ts"]) for r in window} == stored
    day = dt.datetime.fromisoformat(start).date()
    with session_factory(loaded_engine)() as session:
        late = set(session.execute(select(tables.LateDay.station_id, tables.LateDay.day)).all())
    assert {(s, day) for s in SUBSET} <= late
    wait_for(lambda: logger_states(loaded_engine).get("VS002") is False)  # signed off at the end


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_lost_link_reports_the_logger_offline_through_its_last_will(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    settings = make_settings(
        tmp_path, broker, influx, loaded_engine.url.render_as_string(hide_password=False)
    )
    scenario = tmp_path / "comm.toml"
    scenario.write_text('[[faults]]\nkind = "comm_loss"\nstations = ["VS010"]\nstart = "+3m"\n')
    start_ingest(settings, loaded_engine, influx)
    # At 60× the link drops about 3 s into the run and the others sign off about 9 s later.
    report, published = simulate(settings, tmp_path, morning(1), "12m", scenario=scenario, speed=60)

    assert report.dropped_at_source > 0
    wait_for(lambda: stored_count(influx) == len(published))
    wait_for(lambda: logger_states(loaded_engine) == dict.fromkeys(SUBSET, False))
    with session_factory(loaded_engine)() as session:
        states = {s.station_id: s for s in session.scalars(select(tables.LoggerStatus))}
    others = min(s.since for sid, s in states.items() if sid != "VS010")
    assert (others - states["VS010"].since).total_seconds() > 4, "VS010 went offline by its will"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_huge_message_is_dead_lettered_by_its_head_with_its_size_and_digest(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    settings = make_settings(
        tmp_path, broker, influx, loaded_engine.url.render_as_string(hide_password=False)
    )
    start_ingest(settings, loaded_engine, influx)
    device = next(i.id for i in default_registry.inverters if i.station_id == "VS001")
    payload = b'{"ts": 1, "W": "' + b"x" * 1_000_000 + b'"}'
    sent = publish_readings(
        broker.options.host,
        broker.options.port,
        [(f"pv/VS001/{device}/telemetry", payload, (device, 1))],
    )
    assert sent == {(device, 1)}
    wait_for(lambda: dead_letters(loaded_engine) == Counter({"oversized": 1}))
    with session_factory(loaded_engine)() as session:
        letter = session.scalars(select(tables.DeadLetter)).one()
    assert (letter.station_id, letter.device_id) == ("VS001", device), "named by its topic"
    assert letter.payload == payload[: settings.ingest.dead_letter_head_bytes]
    assert letter.payload_bytes == len(payload)
    assert letter.payload_sha256 == hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_what_a_new_inverter_sent_before_it_was_recorded_is_stored_once_it_is(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    """A replacement inverter speaks as soon as it is wired; its serial reaches the registry
    when the maintainer records the change. Until then ingest refuses it as unknown."""
    settings = make_settings(
        tmp_path,
        broker,
        influx,
        loaded_engine.url.render_as_string(hide_password=False),
        ingest={"registry_refresh_s": 1},
    )
    start_ingest(settings, loaded_engine, influx)
    new = "HW26NEW00002"
    now = int(dt.datetime.now(dt.UTC).timestamp())
    yesterday = now - 86400
    times = [yesterday, yesterday + 60, now - 120, now - 60]
    sent = [
        (f"pv/VS001/{new}/telemetry", json.dumps({"ts": t, "W": 900.0, "WH": 50 + n}).encode())
        for n, t in enumerate(times)
    ]
    broken = (f"pv/VS001/{new}/telemetry", b'{"ts": 1, "W": NaN}')
    publish_readings(
        broker.options.host,
        broker.options.port,
        [(topic, body, (new, n)) for n, (topic, body) in enumerate([*sent, broken])],
    )
    wait_for(lambda: dead_letters(loaded_engine) == Counter({"unknown_device": 5}))
    assert stored_count(influx, f"WHERE \"device\" = '{new}'") == 0

    old = next(i for i in default_registry.inverters if i.station_id == "VS001")
    with session_factory(loaded_engine).begin() as session:
        session.add(
            tables.Inverter(
                id=new,
                station_id="VS001",
                model=old.model,
                rated_ac_w=old.rated_ac_w,
                wh_scale_exp=0,
                valid_from=dt.date.today(),
            )
        )
    wait_for(lambda: stored_count(influx, f"WHERE \"device\" = '{new}'") == len(times))
    wait_for(lambda: recovered(loaded_engine) == len(times))  # marked once stored
    stored = series_values(influx.query(f'SELECT "WH" FROM "telemetry" WHERE "device" = \'{new}\''))
    assert sorted(int(r["WH"]) for r in stored) == [50, 51, 52, 53], "each at its own time"
    with session_factory(loaded_engine)() as session:
        letters = list(session.scalars(select(tables.DeadLetter)))
        late = {d.day for d in session.scalars(select(tables.LateDay))}
    (left,) = [d for d in letters if d.recovered_at is None]
    assert left.payload == broken[1], "what still does not pass stays in the dead letter"
    assert dt.datetime.fromtimestamp(yesterday, TZ).date() in late, "its day is recomputed"
    with session_factory(loaded_engine)() as session:
        refused = rejections(session, {new: "VS001"}, dt.datetime.now(dt.UTC))
    assert refused == {}, "not the new inverter's fault: no data-quality alert"
