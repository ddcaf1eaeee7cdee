"""InfluxDB line protocol encoding.

Written here rather than taken from ``influxdb-client``: its point builder is several times
slower per point, and ingest encodes every message on its hot path.
"""

from __future__ import annotations

from collections.abc import Mapping

_TAG_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\=", "\n": r"\n"})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})


def escape_tag(value: str) -> str:
    return value.translate(_TAG_ESCAPES)


def field_value(value: float | int | bool | str) -> str:
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
    head = measurement.translate(_MEASUREMENT_ESCAPES)
    tag_part = "".join(f",{escape_tag(k)}={escape_tag(v)}" for k, v in sorted(tags.items()) if v)
    field_part = ",".join(f"{escape_tag(k)}={field_value(v)}" for k, v in fields.items())
    return f"{head}{tag_part} {field_part} {ts}"
