"""History for the demo: the year so far, written straight into InfluxDB.

Hourly readings are enough for daily energy, because energy comes from the lifetime
counters, which gather every minute in between. The backfill goes through the same store
(the same measurement, tags and fields ingest writes) and ends where the live simulation
continues, counters included.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pvmon.influx.client import InfluxClient
from pvmon.influx.schema import telemetry_line
from simulators.fleet import SimFleet
from simulators.readings import ReadingBatch, ReadingGenerator, first_on_grid

WRITE_BATCH = 10_000


@dataclass(frozen=True)
class StationTags:
    kind: list[str]
    township: list[str]


def station_tags(fleet: SimFleet) -> StationTags:
    return StationTags(
        [str(s.kind) for s in fleet.stations],
        [fleet.township_ids[s.township] for s in fleet.stations],
    )


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


def write_batch(
    influx: InfluxClient, fleet: SimFleet, tags: StationTags, batch: ReadingBatch
) -> int:
    lines = []
    for row in batch.rows():
        device = int(batch.idx[row])
        station = int(fleet.station_of[device])
        fields = {
            k: (v[row].item() if k in ("St", "Evt1", "seq") else float(v[row]))
            for k, v in batch.fields.items()
        }
        lines.append(
            telemetry_line(
                fleet.stations[station].id,
                fleet.device_ids[device],
                tags.kind[station],
                tags.township[station],
                int(batch.ts[row]),
                fields,
            )
        )
    for chunk in range(0, len(lines), WRITE_BATCH):
        influx.write(lines[chunk : chunk + WRITE_BATCH])
    return len(lines)


def backfill(
    generator: ReadingGenerator,
    influx: InfluxClient,
    start: int,
    end: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write hourly readings for [start, end); returns the number of points written."""
    tags = station_tags(generator.fleet)
    written = 0
    for batch in hourly(generator, start, end):
        written += write_batch(influx, generator.fleet, tags, batch)
        if progress:
            progress(1)
    return written
