"""Ingest's parser: every message becomes a typed record or a rejection with its reason."""

import json

import pytest

from ingest.fleetindex import DeviceInfo, FleetIndex, StationInfo
from ingest.parse import Event, Limits, LoggerState, Reading, Rejection, parse_message
from pvmon.telemetry import Reason

NOW = 1_790_000_000.0
INDEX = FleetIndex(
    stations={"VS001": StationInfo("village", "T01"), "HH0001": StationInfo("household", "T02")},
    devices={
        "A17B0000001": DeviceInfo("VS001", 40_000.0),
        "A17B0000002": DeviceInfo("HH0001", 5_000.0),
    },
)
LIMITS = Limits(late_window_s=14 * 86400, future_skew_s=300, max_payload_bytes=8192)
TOPIC = "pv/VS001/A17B0000001/telemetry"


def parse(payload: object, topic: str = TOPIC) -> object:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_message(topic, raw, INDEX, NOW, LIMITS)


def test_a_full_reading_is_typed_and_tagged() -> None:
    reading = parse(
        {
            "ts": int(NOW) - 60,
            "W": 12000,
            "WH": 123456789,
            "DCV": 615.5,
            "DCA": 20.1,
            "Hz": 50.01,
            "TmpCab": 31.5,
            "St": 4,
            "Evt1": 0,
            "seq": 7,
        }
    )
    assert isinstance(reading, Reading)
    assert (reading.station, reading.device, reading.kind, reading.township) == (
        "VS001",
        "A17B0000001",
        "village",
        "T01",
    )
    assert reading.ts == int(NOW) - 60
    assert reading.fields == {
        "W": 12000.0,
        "WH": 123456789.0,
        "DCV": 615.5,
        "DCA": 20.1,
        "Hz": 50.01,
        "TmpCab": 31.5,
        "St": 4,
        "Evt1": 0,
        "seq": 7,
    }
    assert isinstance(reading.fields["W"], float)
    assert isinstance(reading.fields["St"], int)


def test_rfc3339_with_offset_is_the_same_instant_as_epoch_seconds() -> None:
    a = parse({"ts": "2026-09-21T22:13:20+08:00", "W": 0})
    b = parse({"ts": 1790000000, "W": 0})
    assert isinstance(a, Reading)
    assert isinstance(b, Reading)
    assert a.ts == b.ts == 1_790_000_000


def test_fractional_epoch_is_truncated_to_the_second() -> None:
    reading = parse({"ts": NOW - 0.4, "W": 1})
    assert isinstance(reading, Reading)
    assert reading.ts == int(NOW) - 1


def test_fields_outside_the_contract_are_counted_not_stored() -> None:
    reading = parse({"ts": NOW, "W": 5.0, "Vendor": "x", "PF": 0.99})
    assert isinstance(reading, Reading)
    assert set(reading.fields) == {"W"}
    assert set(reading.ignored) == {"Vendor", "PF"}


@pytest.mark.parametrize(
    ("payload", "topic", "reason"),
    [
        (b'{"ts": 1, "W": 12', TOPIC, Reason.MALFORMED_JSON),
        (b"\xff\xfe\x00garbage", TOPIC, Reason.MALFORMED_JSON),
        (b"[" * 100_00 + b"]" * 100_00, TOPIC, Reason.OVERSIZED),
        (b"[" * 3000 + b"]" * 3000, TOPIC, Reason.MALFORMED_JSON),
        (b"[1, 2, 3]", TOPIC, Reason.INVALID_FIELD),
        ({"W": 10}, TOPIC, Reason.MISSING_FIELD),
        ({"ts": NOW}, TOPIC, Reason.MISSING_FIELD),
        ({"ts": NOW, "W": "high"}, TOPIC, Reason.INVALID_FIELD),
        ({"ts": NOW, "W": True}, TOPIC, Reason.INVALID_FIELD),
        ({"ts": NOW, "W": [1]}, TOPIC, Reason.INVALID_FIELD),
        ({"ts": "yesterday", "W": 1}, TOPIC, Reason.INVALID_FIELD),
        ({"ts": "2026-09-21T22:13:20", "W": 1}, TOPIC, Reason.INVALID_FIELD),
        ({"ts": NOW, "W": 1, "St": 4.5}, TOPIC, Reason.INVALID_FIELD),
        (b'{"ts": 1790000000, "W": NaN}', TOPIC, Reason.NOT_FINITE),
        (b'{"ts": 1790000000, "W": 1, "DCV": Infinity}', TOPIC, Reason.NOT_FINITE),
        (b'{"ts": 1790000000, "W": 1e999}', TOPIC, Reason.NOT_FINITE),
        (
            b'{"ts": 1790000000, "W": 1, "seq": 123456789012345678901234567890}',
            TOPIC,
            Reason.OUT_OF_RANGE,
        ),
        ({"ts": NOW, "W": 1, "Hz": 500}, TOPIC, Reason.OUT_OF_RANGE),
        ({"ts": NOW, "W": 1, "TmpCab": -300}, TOPIC, Reason.OUT_OF_RANGE),
        ({"ts": NOW, "W": 70_000}, TOPIC, Reason.OUT_OF_RANGE),  # 40 kW inverter
        ({"ts": NOW + 86400, "W": 1}, TOPIC, Reason.FUTURE_TIME),
        ({"ts": NOW - 30 * 86400, "W": 1}, TOPIC, Reason.TOO_OLD),
        ({"ts": 100, "W": 1}, TOPIC, Reason.TOO_OLD),
        ({"ts": NOW, "W": 1}, "pv/ZZ999/A17B0000001/telemetry", Reason.UNKNOWN_STATION),
        ({"ts": NOW, "W": 1}, "pv/VS001/NOSUCH/telemetry", Reason.UNKNOWN_DEVICE),
        ({"ts": NOW, "W": 1}, "pv/VS001/A17B0000002/telemetry", Reason.DEVICE_MISMATCH),
        ({"ts": NOW, "W": 1}, "pv/VS001/A17B0000001/telemetry/extra", Reason.BAD_TOPIC),
        ({"ts": NOW, "W": 1}, "pv/VS001/A17B0000001/other", Reason.BAD_TOPIC),
        ({"ts": NOW, "W": 1}, "pv//A17B0000001/telemetry", Reason.BAD_TOPIC),
        ({"ts": NOW, "W": 1}, "solar/VS001/A17B0000001/telemetry", Reason.BAD_TOPIC),
        (b"maybe", "pv/VS001/status", Reason.INVALID_FIELD),
        ({"ts": NOW, "text": "x"}, "pv/VS001/A17B0000001/event", Reason.MISSING_FIELD),
        ({"ts": NOW, "code": "E1"}, "pv/VS001/A17B0000001/event", Reason.INVALID_FIELD),
    ],
)
def test_each_bad_message_is_rejected_with_its_reason(
    payload: object, topic: str, reason: Reason
) -> None:
    result = parse(payload, topic)
    assert isinstance(result, Rejection), result
    assert result.reason == reason
    assert result.detail


def test_rejections_name_the_station_and_device_when_known() -> None:
    result = parse({"ts": NOW, "W": "x"})
    assert isinstance(result, Rejection)
    assert (result.station, result.device) == ("VS001", "A17B0000001")


def test_status_messages_report_the_logger_state() -> None:
    assert parse_message("pv/VS001/status", b"offline", INDEX, NOW, LIMITS) == LoggerState(
        "VS001", online=False
    )
    assert parse_message("pv/HH0001/status", b"Online\n", INDEX, NOW, LIMITS) == LoggerState(
        "HH0001", online=True
    )


def test_an_event_is_typed() -> None:
    event = parse(
        {"ts": NOW, "code": 1000, "Evt1": 1, "text": "ground fault"}, "pv/VS001/A17B0000001/event"
    )
    assert event == Event(
        "VS001", "A17B0000001", "village", "T01", int(NOW), 1000, 1, "ground fault"
    )


def test_a_null_power_is_a_missing_field_not_a_crash() -> None:
    """Found by the property-based tests: ``"W": null`` used to raise inside the parser."""
    refused = parse({"ts": int(NOW), "W": None})
    assert isinstance(refused, Rejection)
    assert refused.reason == Reason.MISSING_FIELD
