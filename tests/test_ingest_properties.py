"""Property-based tests (hypothesis) over what a data logger — or anyone — might send:
random bytes, deeply nested JSON, huge numbers, NaN and Inf, wrong types, far-future and
far-past times, oversized payloads, topics with wildcards, unknown stations, a device
under a station it does not belong to. Ingest never crashes, and every message is either
stored or dead-lettered with its reason."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine

from ingest.batch import reading_line
from ingest.fleetindex import DeviceInfo, FleetIndex, StationInfo
from ingest.parse import Event, Limits, LoggerState, Reading, Rejection, parse_message
from ingest.receiver_handle import subscription
from launch.local.mosquitto import Mosquitto
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.telemetry import Reason
from tests.support.counts import dead_letters, stored_count
from tests.support.ingest import RunningIngest, make_settings
from tests.support.waiting import wait_for

PURE_EXAMPLES = 1500
PIPELINE_EXAMPLES = 4
NOW = time.time()
INDEX = FleetIndex(
    stations={"VS001": StationInfo("village", "T01"), "HH0001": StationInfo("household", "T02")},
    devices={
        "A17B0000001": DeviceInfo("VS001", 40_000.0),
        "A17B0000002": DeviceInfo("HH0001", 5_000.0),
    },
)
LIMITS = Limits(late_window_s=14 * 86400, future_skew_s=300, max_payload_bytes=8192)

numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(
        lambda d: float(d) if d.is_finite() else 0.0
    ),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=30))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=40,
)
times = st.one_of(
    st.integers(min_value=int(NOW) - 20 * 86400, max_value=int(NOW) + 3600),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "2026-11-28T10:00:00+08:00",
            "2026-11-28T10:00:00",
            "yesterday",
            "",
            "9999-12-31T23:59:59Z",
        ]
    ),
    json_values,
)
FIELDS = ["WH", "DCV", "DCA", "Hz", "TmpCab", "St", "Evt1", "seq", "extra"]
readings = st.fixed_dictionaries(
    {"ts": times, "W": st.one_of(numbers, scalars)},
    optional={name: st.one_of(numbers, scalars, json_values) for name in FIELDS},
)


def deep(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


payloads = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    readings.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.integers(min_value=10, max_value=100_000).map(deep),
    st.integers(min_value=8193, max_value=30_000).map(lambda n: b"{" + b" " * n + b"}"),
    st.sampled_from([b"online", b"offline", b"ONLINE", b""]),
)
segments = st.one_of(
    st.sampled_from(["VS001", "HH0001", "ZZ999", "A17B0000001", "A17B0000002", "+", "#", ""]),
    st.text(max_size=12),
)
topics = st.one_of(
    st.builds(
        lambda s, d, k: f"pv/{s}/{d}/{k}",
        segments,
        segments,
        st.sampled_from(["telemetry", "event", "status", "x"]),
    ),
    st.builds(lambda s: f"pv/{s}/status", segments),
    st.text(max_size=40),
)


def check(parsed: object) -> None:
    """What any parse outcome must satisfy."""
    assert isinstance(parsed, Reading | Event | LoggerState | Rejection)
    if isinstance(parsed, Rejection):
        assert isinstance(parsed.reason, Reason)
        assert parsed.detail
        return
    if isinstance(parsed, Reading):
        assert INDEX.devices[parsed.device].station == parsed.station, "no device for another"
        assert NOW - LIMITS.late_window_s - 1 <= parsed.ts <= NOW + LIMITS.future_skew_s + 1
        assert all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in parsed.fields.values()
        )
        line = reading_line(parsed)
        assert "\n" not in line
        assert "nan" not in line.lower()
        assert "inf" not in line.lower()


@settings(max_examples=PURE_EXAMPLES, deadline=None)
@given(topic=topics, payload=payloads)
def test_any_message_becomes_a_record_or_a_rejection_with_its_reason(
    topic: str, payload: bytes
) -> None:
    check(parse_message(topic, payload, INDEX, NOW, LIMITS))


@settings(max_examples=PURE_EXAMPLES, deadline=None)
@given(payload=readings.map(lambda v: json.dumps(v, allow_nan=True).encode()))
def test_nearly_valid_readings_are_stored_only_when_wholly_valid(payload: bytes) -> None:
    check(parse_message("pv/VS001/A17B0000001/telemetry", payload, INDEX, NOW, LIMITS))


def _mqtt_topic_ok(topic: str) -> bool:
    """What the broker accepts from a publisher at all: MQTT forbids wildcards in a
    published topic, and Mosquitto disconnects a client that publishes one with control
    characters, non-characters or a leading ``$`` — those never reach ingest."""
    if not topic or topic.startswith("$") or "+" in topic or "#" in topic:
        return False
    for ch in topic:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            return False
        if code & 0xFFFE == 0xFFFE or 0xFDD0 <= code <= 0xFDEF:
            return False
    return len(topic.encode("utf-8")) < 65_536


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@settings(
    max_examples=PIPELINE_EXAMPLES,
    deadline=None,
    phases=[Phase.generate],  # each example waits on real processes: no shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(st.tuples(topics, payloads), min_size=30, max_size=60), data=st.data())
def test_through_real_ingest_every_message_is_stored_or_dead_lettered(
    messages: list[tuple[str, bytes]],
    data: st.DataObject,
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    start_ingest: Callable[..., RunningIngest],
) -> None:
    """The real pipeline (Mosquitto, ingest, influxd, the store) agrees with the parser:
    the readings it accepts are stored, one point per (device, ts); every other message is
    in the dead letter with the parser's reason."""
    settings_ = make_settings(
        tmp_path, broker, influx, loaded_engine.url.render_as_string(hide_password=False)
    )
    worker = _running(settings_, loaded_engine, influx, start_ingest)
    with session_factory(loaded_engine)() as session:
        index = FleetIndex.load(session)
    device = next(d for d, info in sorted(index.devices.items()) if info.station == "VS001")
    stamps = data.draw(
        st.lists(st.integers(int(NOW) - 13 * 86400, int(NOW)), min_size=5, max_size=40)
    )
    valid = [
        (f"pv/VS001/{device}/telemetry", json.dumps({"ts": t, "W": float(t % 20_000)}).encode())
        for t in stamps  # repeated stamps are redeliveries: stored once
    ]
    messages = data.draw(st.permutations(messages + valid))
    before_letters = dead_letters(loaded_engine)
    before_stored = stored_count(influx)
    sendable = [(t, p) for t, p in messages if _mqtt_topic_ok(t) and len(p) < 1_000_000]
    expected_letters: Counter[str] = Counter()
    expected_points: set[tuple[str, int]] = set()
    now = time.time()
    for topic, payload in sendable:
        if not mqtt.topic_matches_sub(subscription(None), topic):
            continue  # not ingest's topic tree: the broker gives it to nobody here
        parsed = parse_message(topic, payload, index, now, worker.service.limits)
        if isinstance(parsed, Rejection):
            expected_letters[str(parsed.reason)] += 1
        elif isinstance(parsed, Reading):
            expected_points.add((parsed.device, parsed.ts))
    _publish(broker, sendable)
    stored_before = _STORED.setdefault(str(loaded_engine.url), set())
    new_points = expected_points - stored_before  # an earlier example's point is rewritten
    try:
        wait_for(lambda: dead_letters(loaded_engine) - before_letters == expected_letters, 30)
        wait_for(lambda: stored_count(influx) - before_stored == len(new_points), 30)
    except AssertionError:
        letters = dead_letters(loaded_engine) - before_letters
        stored = stored_count(influx) - before_stored
        raise AssertionError(
            f"dead letters {dict(letters)} != expected {dict(expected_letters)}; "
            f"stored {stored} != expected {len(new_points)}"
        ) from None
    stored_before |= new_points
    assert worker.thread.is_alive(), "ingest never crashes"


_WORKERS: dict[str, RunningIngest] = {}
_STORED: dict[str, set[tuple[str, int]]] = {}
"""Points stored by earlier examples of the same run (same database)."""


def _running(
    settings_: object, engine: Engine, influx: InfluxClient, start: Callable[..., RunningIngest]
) -> RunningIngest:
    """One worker per test run: hypothesis runs every example with the same fixtures."""
    key = str(engine.url)
    if key not in _WORKERS or not _WORKERS[key].thread.is_alive():
        _WORKERS[key] = start(settings_, engine, influx)
    return _WORKERS[key]


def _publish(broker: Mosquitto, messages: list[tuple[str, bytes]]) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="property-sender", protocol=mqtt.MQTTv5)
    c.connect(broker.options.host, broker.options.port)
    c.loop_start()
    try:
        infos = [c.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(20)
    finally:
        c.loop_stop()
        c.disconnect()
