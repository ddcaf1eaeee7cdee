"""Ingest's CPU path per message, without I/O: parse, validate, encode to line protocol.

Prints messages per second over realistic payloads of the whole generated fleet (one core).
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

from bench.workload import fleet
from bench.workload import messages as workload
from ingest.batch import Batch, Inbound
from ingest.fleetindex import DeviceInfo, FleetIndex, StationInfo
from ingest.parse import Limits, parse_message

ROUNDS = 20


def main() -> None:
    registry = fleet()
    stations = {s.id: StationInfo(s.kind, s.township_id) for s in registry.stations}
    index = FleetIndex(
        stations, {i.id: DeviceInfo(i.station_id, i.rated_ac_w) for i in registry.inverters}
    )
    now = time.time()
    messages = [
        Inbound(topic, payload, n, 1, now, 1)
        for n, (topic, payload) in enumerate(
            workload(registry, len(registry.inverters), int(now) - 60)
        )
    ]
    limits = Limits(late_window_s=14 * 86400, future_skew_s=300, max_payload_bytes=8192)
    tz = ZoneInfo("Asia/Shanghai")
    started = time.perf_counter()
    for _ in range(ROUNDS):
        batch = Batch.starting(tz, now)
        for m in messages:
            batch.add(m, parse_message(m.topic, m.payload, index, now, limits))
        assert not batch.rejected, batch.rejected[:3]
    elapsed = time.perf_counter() - started
    total = ROUNDS * len(messages)
    print(
        f"ingest parse+validate+encode: {total:,} messages in {elapsed:.2f} s "
        f"= {total / elapsed:,.0f} messages/s on one core "
        f"({sum(len(m.payload) for m in messages) / len(messages):.0f}-byte payloads)"
    )


if __name__ == "__main__":
    main()
