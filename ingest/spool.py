"""Points that InfluxDB could not take yet, kept on disk in arrival order.

Each spooled batch is one entry of a ``pvmon.diskqueue.DiskQueue``, fsync'd before the
append returns: a batch whose append returned survives a crash of this process or of the
machine, and a batch whose append did not return was never acknowledged to the broker.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass
from pathlib import Path

import orjson

from pvmon.diskqueue import DiskQueue


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """What a batch still owes InfluxDB: its lines, each line's MQTT topic (for a dead
    letter should the store refuse it later), and the days late data reached."""

    lines: list[str]
    topics: list[str]
    late_days: list[tuple[str, dt.date, float]]
    """(station, local day, first seen at) — stamped only once the points are stored."""

    def encode(self) -> bytes:
        body = {
            "lines": self.lines,
            "topics": self.topics,
            "late_days": [[s, d.isoformat(), at] for s, d, at in self.late_days],
        }
        return zlib.compress(orjson.dumps(body), 1)

    @classmethod
    def decode(cls, data: bytes) -> SpoolEntry:
        body = orjson.loads(zlib.decompress(data))
        return cls(
            lines=body["lines"],
            topics=body["topics"],
            late_days=[(s, dt.date.fromisoformat(d), at) for s, d, at in body["late_days"]],
        )


class Spool:
    """A bounded FIFO of ``SpoolEntry`` on disk (``pvmon.diskqueue``), safe to use from
    several threads."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self._queue = DiskQueue(path, max_bytes)

    def close(self) -> None:
        self._queue.close()

    @property
    def depth(self) -> Depth:
        d = self._queue.depth
        return Depth(d.entries, d.items, d.bytes)

    def is_empty(self) -> bool:
        return self._queue.is_empty()

    def append(self, entry: SpoolEntry) -> bool:
        """Keep the entry durably; False (and nothing kept) when it would pass the bound."""
        return self._queue.append(entry.encode(), len(entry.lines))

    def oldest(self) -> tuple[int, SpoolEntry] | None:
        head = self._queue.oldest(1)
        return (head[0][0], SpoolEntry.decode(head[0][1])) if head else None

    def remove(self, seq: int) -> None:
        self._queue.remove(seq)

    def replace(self, seq: int, entry: SpoolEntry) -> None:
        """Keep only what is still owed of a batch, in its place in the order."""
        self._queue.replace(seq, entry.encode(), len(entry.lines))


@dataclass(frozen=True, slots=True)
class Depth:
    batches: int
    points: int
    bytes: int
