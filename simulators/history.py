"""History for the demo: the year so far, written straight into InfluxDB, newest day first.

Hourly readings are enough for daily energy, because energy comes from the lifetime
counters, which gather every minute's output in between (integrated here at 15-minute
steps: the daily energy is what matters). The history goes through the same store (the
same measurement, tags and fields ingest writes) and ends where the live data begin.

Each device's history hangs from an *anchor*: its counter at the moment the live data
take over — the first reading already stored (a live run came first), or the counter the
live simulation will continue from (saved as its state). Going back in time, a reading's
counter is the anchor less the energy gathered between the reading and the anchor, so the
days can be written newest first — yesterday and the last month reach the dashboards in
seconds, the rest of the year fills in behind — and the counters still rise exactly where
the live data continue: no jump, no reset at the handover.

A *replay* (``pvmon backfill --scenario``) goes the other way: every reading the loggers
would have sent, with all its fields and a scenario's faults, oldest day first, from the
healthy fleet's counters at its start; the live simulation continues from where it ends.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pvmon.influx.client import InfluxClient
from pvmon.influx.fastlines import telemetry_lines, telemetry_prefix
from pvmon.localtime import day_bounds
from pvmon.telemetry import FLOAT_FIELDS, INT_FIELDS
from simulators.fleet_arrays import SimFleet
from simulators.model import FleetModel
from simulators.readings import ReadingBatch, ReadingGenerator, first_on_grid

WRITE_BATCH = 10_000
WRITERS = 2
SAMPLE_S = 900
"""Output is integrated at 15-minute steps (each step standing for the grid points in it)."""
HISTORY_FLOATS = ("W", "WH")
HISTORY_INTS = ("St",)
"""History carries what the daily figures need: InfluxDB's cost is per field value, and a
year of all nine fields takes it three times as long to take in."""


@dataclass(frozen=True)
class Anchors:
    until: np.ndarray
    """Per device: the history ends before this moment (epoch seconds)."""
    counters: np.ndarray
    """Per device: the counter at ``until`` [Wh]."""


def device_prefixes(fleet: SimFleet) -> list[str]:
    """Each device's measurement-and-tags part of a telemetry line."""
    out = []
    for device, station in zip(fleet.device_ids, fleet.station_of, strict=True):
        s = fleet.stations[int(station)]
        out.append(telemetry_prefix(s.id, device, str(s.kind), fleet.township_ids[s.township]))
    return out


def batch_frame(fleet: SimFleet, batch: ReadingBatch) -> pd.DataFrame:
    """The sent readings of a batch as a table: device, station, ts and the fields."""
    rows = batch.rows()
    frame = pd.DataFrame({name: values[rows] for name, values in batch.fields.items()})
    frame.insert(0, "ts", batch.stamped[rows])
    devices = batch.idx[rows]
    frame.insert(
        0, "station", np.asarray([s.id for s in fleet.stations])[fleet.station_of[devices]]
    )
    frame.insert(0, "device", np.asarray(fleet.device_ids)[devices])
    return frame


def batch_lines(
    fleet: SimFleet,
    prefixes: list[str],
    batch: ReadingBatch,
    floats: Sequence[str] = HISTORY_FLOATS,
    ints: Sequence[str] = HISTORY_INTS,
) -> list[str]:
    """The sent readings of a batch as telemetry lines, with the given fields."""
    rows = batch.rows()
    devices = batch.idx[rows]
    return telemetry_lines(
        [prefixes[d] for d in devices],
        batch.stamped[rows],
        {k: batch.fields[k][rows] for k in floats},
        {k: batch.fields[k][rows] for k in ints},
    )


def write_lines(influx: InfluxClient, lines: list[str]) -> int:
    for chunk in range(0, len(lines), WRITE_BATCH):
        influx.write(lines[chunk : chunk + WRITE_BATCH])
    return len(lines)


def day_history(
    model: FleetModel, day: dt.date, tz: dt.tzinfo, anchors: Anchors, counters_at_end: np.ndarray
) -> tuple[ReadingBatch, np.ndarray]:
    """One local day's hourly readings of every device whose history reaches into it, with
    counters hanging from ``counters_at_end`` (each device's counter at the end of its
    part of the day); returns the readings and the counters at the day's start."""
    f = model.fleet
    start, end = day_bounds(day, tz)
    cap = np.minimum(anchors.until, end)
    devices = np.arange(f.size)
    # 15-minute samples on each device's own grid (every interval divides 900 s).
    first = first_on_grid(f, devices, np.full(f.size, start))
    samples = first[:, None] + SAMPLE_S * np.arange(86400 // SAMPLE_S)[None, :]
    valid = samples < cap[:, None]
    rows = np.nonzero(valid.ravel())[0]
    energy = np.zeros(samples.size)
    if rows.size:
        idx = np.repeat(devices, samples.shape[1])[rows]
        out = model.conditions(idx, samples.ravel()[rows], np.ones(rows.size)).output
        energy[rows] = out.p_ac * SAMPLE_S / 3600
    energy = energy.reshape(samples.shape)
    after = np.cumsum(energy[:, ::-1], axis=1)[:, ::-1]
    """after[d, j]: the device's energy from sample j to the end of its part of the day."""
    after = np.concatenate([after, np.zeros((f.size, 1))], axis=1)
    # Hourly readings, each on its device's grid.
    hours = start + 3600 * np.arange(24)
    reading_ts = first_on_grid(f, np.repeat(devices, 24), np.tile(hours, f.size)).reshape(
        f.size, 24
    )
    taken = reading_ts < cap[:, None]
    later = np.clip((reading_ts - first[:, None]) // SAMPLE_S + 1, 0, samples.shape[1])
    counter = counters_at_end[:, None] - np.take_along_axis(after, later, axis=1)
    idx, hour = np.nonzero(taken)
    ts = reading_ts[idx, hour]
    cond = model.conditions(idx, ts, np.ones(idx.size))
    unit = f.wh_unit[idx]
    wh = np.maximum(counter[idx, hour], 0.0)
    fields = {
        "W": np.round(cond.output.p_ac, 1),
        "WH": (np.floor(wh / unit) * unit).astype(np.int64),
        "St": cond.output.state.astype(int),
    }
    visible = ~cond.night
    batch = ReadingBatch(idx, ts, ts, fields, visible, np.zeros(idx.size, dtype=bool))
    return batch, np.maximum(counters_at_end - after[:, 0], 0.0)


def backfill(
    model: FleetModel,
    influx: InfluxClient,
    first: dt.date,
    anchors: Anchors,
    tz: dt.tzinfo,
    on_day: Callable[[dt.date, int], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Write hourly history from ``first`` up to each device's anchor, newest day first,
    until ``stop()``; ``on_day(day, points)`` once each day is in InfluxDB. Returns the
    points written."""
    fleet = model.fleet
    prefixes = device_prefixes(fleet)
    last = dt.datetime.fromtimestamp(int(anchors.until.max()) - 1, tz).date()

    def newest_first() -> Iterator[tuple[dt.date, list[str]]]:
        counters = anchors.counters.astype(float).copy()
        day = last
        while day >= first:
            batch, counters = day_history(model, day, tz, anchors, counters)
            yield day, batch_lines(fleet, prefixes, batch)
            day -= dt.timedelta(days=1)

    return write_days(influx, newest_first(), on_day, stop)


def replay(
    generator: ReadingGenerator,
    influx: InfluxClient,
    first: dt.date,
    until: int,
    tz: dt.tzinfo,
    on_day: Callable[[dt.date, int], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> int:
    """Write every reading the loggers would have sent from ``first`` up to ``until``,
    oldest day first, with all their fields and the generator's faults (a scenario played
    through the past: what a detection benchmark replays). Returns the points written."""
    fleet = generator.fleet
    prefixes = device_prefixes(fleet)

    def oldest_first() -> Iterator[tuple[dt.date, list[str]]]:
        day = first
        while day_bounds(day, tz)[0] < until:
            end = min(day_bounds(day, tz)[1], until)
            batch = generator.span(end - 1)
            yield day, batch_lines(fleet, prefixes, batch, FLOAT_FIELDS, INT_FIELDS)
            day += dt.timedelta(days=1)

    return write_days(influx, oldest_first(), on_day, stop)


def write_days(
    influx: InfluxClient,
    days: Iterator[tuple[dt.date, list[str]]],
    on_day: Callable[[dt.date, int], None] | None,
    stop: Callable[[], bool],
) -> int:
    """Write each day's lines until ``stop()`` (asked before each day is computed), two
    threads writing while the next day is computed; ``on_day(day, points)`` once a day is
    in InfluxDB. Returns the points."""
    written = 0
    pending: deque[tuple[dt.date, Future[int]]] = deque()

    def settle(keep: int) -> None:
        nonlocal written
        while len(pending) > keep:
            day, future = pending.popleft()
            points = future.result()
            written += points
            if on_day:
                on_day(day, points)

    with ThreadPoolExecutor(WRITERS, thread_name_prefix="history-writer") as writer:
        while not stop() and (item := next(days, None)) is not None:
            day, lines = item
            pending.append((day, writer.submit(write_lines, influx, lines)))
            settle(WRITERS)
        settle(0)
    return written
