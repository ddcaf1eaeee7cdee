import pytest

from pvmon.influx.lineprotocol import encode_point


def test_types_and_sorted_tags() -> None:
    line = encode_point(
        "telemetry",
        {"station": "VS001", "device": "A17B1"},
        {"W": 1500.0, "St": 4, "ok": True, "text": 'say "hi"'},
        1700000000,
    )
    assert line == (
        'telemetry,device=A17B1,station=VS001 W=1500.0,St=4i,ok=true,text="say \\"hi\\"" 1700000000'
    )


def test_tag_values_are_escaped_and_empty_tags_dropped() -> None:
    line = encode_point("m", {"a": "x y,z=1", "b": ""}, {"v": 1.5}, 1)
    assert line == r"m,a=x\ y\,z\=1 v=1.5 1"


def test_a_point_needs_a_field() -> None:
    with pytest.raises(ValueError, match="at least one field"):
        encode_point("m", {}, {}, 1)
