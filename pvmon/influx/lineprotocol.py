"""InfluxDB line protocol encoding.

Written here rather than taken from ``influxdb-client``: its point builder is several times
slower per point, and ingest encodes every message on its hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

_TAG_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\=", "\n": r"\n"})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})


def escape_tag(value: str) -> str:
    return value.translate(_TAG_ESCAPES)


@lru_cache(maxsize=1 << 17)
def _escaped_key(value: str) -> str:
    """Tag values, tag keys and field keys repeat (a fleet's ids, a schema's names): escape
    each once."""
    return value.translate(_TAG_ESCAPES)


@lru_cache(maxsize=1 << 17)
def series_key(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    """``measurement,tag=value,…`` with tags sorted by key; a fleet has a bounded set."""
    head = measurement.translate(_MEASUREMENT_ESCAPES)
    return head + "".join(f",{_escaped_key(k)}={_escaped_key(v)}" for k, v in sorted(tags) if v)


def field_value(value: float | int | bool | str) -> str:
    kind = type(value)  # exact types first: the common cases, cheaper than isinstance
    if kind is float:
        return repr(value)
    if kind is int:
        return f"{value}i"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def encode_point(
    measurement: str,
    tags: Mapping[str, str],
    fields: Mapping[str, float | int | bool | str],
    ts: int,
) -> str:
    """One line: tags sorted by key (InfluxDB's recommendation), integer timestamp."""
    if not fields:
        raise ValueError(f"a point needs at least one field ({measurement} at {ts})")
    field_part = ",".join(f"{_escaped_key(k)}={field_value(v)}" for k, v in fields.items())
    return f"{series_key(measurement, tuple(tags.items()))} {field_part} {ts}"
