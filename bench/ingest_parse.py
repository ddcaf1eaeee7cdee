"""Ingest's CPU path per message, without I/O: parse, validate, encode to line protocol.

Prints messages per second over realistic payloads of the whole generated fleet (one core).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

from ingest.batch import Batch, Inbound
from ingest.parse import Limits, parse_message
from pvmon.fleetindex import DeviceInfo, FleetIndex, StationInfo
from pvmon.registry.generate import GenerationOptions, generate_registry
from pvmon.telemetry import telemetry_topic

ROUNDS = 20


def main() -> None:
    registry = generate_registry(GenerationOptions(as_of=dt.date(2026, 11, 28)))
    stations = {s.id: StationInfo(s.kind, s.township_id) for s in registry.stations}
    index = FleetIndex(
        stations, {i.id: DeviceInfo(i.station_id, i.rated_ac_w) for i in registry.inverters}
    )
    now = time.time()
    messages = []
    for n, inv in enumerate(registry.inverters):
        body = {
            "ts": int(now) - 60,
            "W": 12345.6,
            "WH": 123456789 + n,
            "DCV": 612.3,
            "DCA": 20.15,
            "Hz": 50.012,
            "TmpCab": 31.4,
            "St": 4,
            "Evt1": 0,
            "seq": n,
        }
        messages.append(
            Inbound(
                telemetry_topic(inv.station_id, inv.id), json.dumps(body).encode(), n, 1, now, 1
            )
        )
    limits = Limits(late_window_s=14 * 86400, future_skew_s=300, max_payload_bytes=8192)
    tz = ZoneInfo("Asia/Shanghai")
    started = time.perf_counter()
    for _ in range(ROUNDS):
        batch = Batch.starting(tz, now)
        for m in messages:
            batch.add(m, parse_message(m.topic, m.payload, index, now, limits))
    elapsed = time.perf_counter() - started
    total = ROUNDS * len(messages)
    print(
        f"ingest parse+validate+encode: {total:,} messages in {elapsed:.2f} s "
        f"= {total / elapsed:,.0f} messages/s on one core "
        f"({sum(len(m.payload) for m in messages) / len(messages):.0f}-byte payloads)"
    )


if __name__ == "__main__":
    main()
