"""History for the demo: the year so far, written straight into InfluxDB.

Hourly readings are enough for daily energy, because energy comes from the lifetime
counters, which gather every minute in between. The backfill goes through the same store
(the same measurement, tags and fields ingest writes) and ends where the live simulation
continues, counters included.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

from pvmon.influx.client import InfluxClient
from pvmon.influx.fastlines import telemetry_lines, telemetry_prefix
from simulators.fleet_arrays import SimFleet
from simulators.readings import ReadingBatch, ReadingGenerator, first_on_grid

WRITE_BATCH = 10_000
WRITERS = 2
HISTORY_FLOATS = ("W", "WH")
HISTORY_INTS = ("St",)
"""History carries what the daily figures need: InfluxDB's cost is per field value, and a
year of all nine fields takes it three times as long to take in."""


def device_prefixes(fleet: SimFleet) -> list[str]:
    """Each device's measurement-and-tags part of a telemetry line."""
    out = []
    for device, station in zip(fleet.device_ids, fleet.station_of, strict=True):
        s = fleet.stations[int(station)]
        out.append(telemetry_prefix(s.id, device, str(s.kind), fleet.township_ids[s.township]))
    return out


def hourly(generator: ReadingGenerator, start: int, end: int) -> Iterator[ReadingBatch]:
    """One reading per device per hour in [start, end), each on the device's own grid."""
    fleet = generator.fleet
    idx = np.arange(fleet.size)
    for hour in range(start, end, 3600):
        ts = first_on_grid(fleet, idx, np.full(fleet.size, hour))
        yield generator.readings(idx, ts)


def batch_frame(fleet: SimFleet, batch: ReadingBatch) -> pd.DataFrame:
    """The sent readings of a batch as a table: device, station, ts and the fields."""
    rows = batch.rows()
    frame = pd.DataFrame({name: values[rows] for name, values in batch.fields.items()})
    frame.insert(0, "ts", batch.ts[rows])
    devices = batch.idx[rows]
    frame.insert(
        0, "station", np.asarray([s.id for s in fleet.stations])[fleet.station_of[devices]]
    )
    frame.insert(0, "device", np.asarray(fleet.device_ids)[devices])
    return frame


def batch_lines(fleet: SimFleet, prefixes: list[str], batch: ReadingBatch) -> list[str]:
    rows = batch.rows()
    devices = batch.idx[rows]
    return telemetry_lines(
        [prefixes[d] for d in devices],
        batch.ts[rows],
        {k: batch.fields[k][rows] for k in HISTORY_FLOATS},
        {k: batch.fields[k][rows] for k in HISTORY_INTS},
    )


def write_lines(influx: InfluxClient, lines: list[str]) -> int:
    for chunk in range(0, len(lines), WRITE_BATCH):
        influx.write(lines[chunk : chunk + WRITE_BATCH])
    return len(lines)


def backfill(
    generator: ReadingGenerator,
    influx: InfluxClient,
    start: int,
    end: int,
    progress: Callable[[int], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Write hourly readings for [start, end) until ``stop()``; returns the points written.

    Hours are gathered into requests of ``WRITE_BATCH`` lines (InfluxDB syncs its log once
    per request), and two threads write them while the next hours are computed.
    """
    prefixes = device_prefixes(generator.fleet)
    written = 0
    lines: list[str] = []
    pending: deque[Future[int]] = deque()
    with ThreadPoolExecutor(WRITERS, thread_name_prefix="backfill-writer") as writer:
        for batch in hourly(generator, start, end):
            if stop():
                break
            lines += batch_lines(generator.fleet, prefixes, batch)
            if len(lines) >= WRITE_BATCH:
                pending.append(writer.submit(write_lines, influx, lines))
                lines = []
            while len(pending) > 2 * WRITERS:
                written += pending.popleft().result()
            if progress:
                progress(1)
        pending.append(writer.submit(write_lines, influx, lines))
        written += sum(f.result() for f in pending)
    return written
