"""The ingest benchmarks' workload: realistic telemetry for every inverter of the generated
fleet, each message a distinct (device, ts), the same for every consumer measured."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

from pvmon.registry.schema import Registry
from pvmon.telemetry import telemetry_topic
from simulators.demo_registry import GenerationOptions, generate_registry

AS_OF = dt.date(2026, 11, 28)


def fleet() -> Registry:
    return generate_registry(GenerationOptions(as_of=AS_OF))


def messages(registry: Registry, count: int, newest_ts: int) -> Iterator[tuple[str, bytes]]:
    """``count`` (topic, payload) pairs cycling over the fleet's inverters; each full pass
    is one minute earlier than the last, the first at ``newest_ts``."""
    inverters = registry.inverters
    for n in range(count):
        inv = inverters[n % len(inverters)]
        ts = newest_ts - 60 * (n // len(inverters))
        power = round(inv.rated_ac_w * (0.2 + 0.6 * (n % 97) / 97), 1)
        body = {
            "ts": ts,
            "W": power,
            "WH": 123_456_789 + n,
            "DCV": 612.3,
            "DCA": round(power / 0.97 / 612.3, 2),
            "Hz": 50.012,
            "TmpCab": 31.4,
            "St": 4,
            "Evt1": 0,
            "seq": n,
        }
        yield telemetry_topic(inv.station_id, inv.id), json.dumps(body).encode()
