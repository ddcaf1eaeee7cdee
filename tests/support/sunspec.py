"""A SunSpec register map a test controls, built from pysunspec2's model definitions (the
same ones the gateway reads with), and a pymodbus Modbus TCP server serving it."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sunspec2.device import get_model_def

SUNS = [0x5375, 0x6E53]
"""The marker "SunS" at the map's base."""
END = [0xFFFF, 0]
UNSET = {
    "int16": 0x8000,
    "sunssf": 0x8000,
    "uint16": 0xFFFF,
    "enum16": 0xFFFF,
    "count": 0,
    "pad": 0x8000,
    "acc32": 0,
    "uint32": 0xFFFFFFFF,
    "bitfield32": 0xFFFFFFFF,
}
"""SunSpec's "not implemented" value of each type."""


@cache
def definition(model_id: int) -> dict[str, Any]:
    return get_model_def(model_id, mapping=False)  # type: ignore[no-any-return]


def encode_point(kind: str, size: int, value: Any) -> list[int]:
    if kind == "string":
        raw = (value or "").encode("ascii")[: size * 2].ljust(size * 2, b"\0")
        return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    if kind == "float32":
        packed = struct.pack(">f", math.nan if value is None else float(value))
        return [int.from_bytes(packed[:2], "big"), int.from_bytes(packed[2:], "big")]
    number = UNSET.get(kind, 0) if value is None else int(value)
    if size == 2:
        number &= 0xFFFFFFFF
        return [number >> 16, number & 0xFFFF]
    return [number & 0xFFFF]


def encode_group(
    group: Mapping[str, Any], values: Mapping[str, Any], top: bool = False
) -> list[int]:
    out: list[int] = []
    for point in group["points"]:
        if top and point["name"] in ("ID", "L"):
            continue
        out += encode_point(point["type"], point.get("size", 1), values.get(point["name"]))
    for sub in group.get("groups", []):
        for repeat in values.get(sub["name"], []):
            out += encode_group(sub, repeat)
    return out


def encode_model(model_id: int, values: Mapping[str, Any]) -> list[int]:
    """A model's registers: ID, L, then its points (``values`` holds raw register values:
    integers with their scale factors as separate points, as the device stores them)."""
    body = encode_group(definition(model_id)["group"], values, top=True)
    return [model_id, len(body), *body]


def register_map(models: Sequence[tuple[int, Mapping[str, Any]]]) -> list[int]:
    """ "SunS", each model in order, the end marker."""
    out = list(SUNS)
    for model_id, values in models:
        out += encode_model(model_id, values)
    return [*out, *END]


def offsets(model_id: int) -> dict[str, int]:
    """Each top-level point's offset from its model's ID register."""
    at, out = 0, {}
    for point in definition(model_id)["group"]["points"]:
        out[point["name"]] = at
        at += point.get("size", 1)
    return out


def point_address(
    models: Sequence[tuple[int, Mapping[str, Any]]], model_id: int, name: str, base: int = 40000
) -> int:
    """The register address of a top-level point of one model in ``register_map(models)``."""
    at = base + len(SUNS)
    for mid, values in models:
        if mid == model_id:
            return at + offsets(mid)[name]
        at += len(encode_model(mid, values))
    raise KeyError(model_id)


def acc32(value: int) -> list[int]:
    """A 32-bit counter as its two registers, high word first."""
    return [value >> 16 & 0xFFFF, value & 0xFFFF]


def inverter_map(w: int = 12345, wh: int | None = 1_000_000) -> list[tuple[int, dict[str, Any]]]:
    """A SunSpec inverter: common model, model 103 (W ×0.1, WH ×10 Wh), two MPPT inputs."""
    return [
        (1, {"Mn": "Huawei", "Md": "SUN2000-50KTL", "SN": "INV0001"}),
        (
            103,
            {
                "W": w,
                "W_SF": -1,
                "WH": wh,
                "WH_SF": 1,
                "Hz": 5002,
                "Hz_SF": -2,
                "TmpCab": 412,
                "Tmp_SF": -1,
                "St": 4,
                "Evt1": 0,
            },
        ),
        (
            160,
            {
                "DCA_SF": -2,
                "DCV_SF": -1,
                "N": 2,
                "module": [{"DCA": 1200, "DCV": 6100}, {"DCA": 800, "DCV": 5900}],
            },
        ),
    ]
