"""Points that InfluxDB could not take yet, kept on disk in arrival order.

Each spooled batch is one row of an SQLite file committed with ``synchronous=FULL`` in WAL
mode: the commit returns only after the write-ahead log is fsync'd, so a batch whose
append returned survives a crash of this process or of the machine, and a batch whose
append did not return was never acknowledged to the broker. SQLite (the standard
library's) gives atomic appends and removals without a file format of our own; queue
libraries such as persist-queue were not taken because the spool must be bounded by
bytes and hold a batch with its metadata as one unit, which they do not offer.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import orjson


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


@dataclass(frozen=True, slots=True)
class Depth:
    batches: int
    points: int
    bytes: int


class Spool:
    """A bounded FIFO of ``SpoolEntry`` on disk, safe to use from several threads."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA auto_vacuum=FULL")  # give pages back as batches leave
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " spooled_at REAL NOT NULL, points INTEGER NOT NULL, data BLOB NOT NULL)"
        )
        batches, points, size = self._db.execute(
            "SELECT count(*), coalesce(sum(points), 0), coalesce(sum(length(data)), 0) FROM batches"
        ).fetchone()
        self._depth = Depth(batches, points, size)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def depth(self) -> Depth:
        return self._depth

    def is_empty(self) -> bool:
        return self._depth.batches == 0

    def append(self, entry: SpoolEntry) -> bool:
        """Keep the entry durably; False (and nothing kept) when it would pass the bound.
        An entry larger than the whole bound is kept when the spool is empty, so that a
        single batch can always go through."""
        data = entry.encode()
        with self._lock:
            d = self._depth
            if d.batches and d.bytes + len(data) > self.max_bytes:
                return False
            self._db.execute(
                "INSERT INTO batches (spooled_at, points, data) VALUES (?, ?, ?)",
                (time.time(), len(entry.lines), data),
            )
            self._depth = Depth(d.batches + 1, d.points + len(entry.lines), d.bytes + len(data))
        return True

    def oldest(self) -> tuple[int, SpoolEntry] | None:
        with self._lock:
            row = self._db.execute("SELECT seq, data FROM batches ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else (row[0], SpoolEntry.decode(row[1]))

    def remove(self, seq: int) -> None:
        self._change(seq, None)

    def replace(self, seq: int, entry: SpoolEntry) -> None:
        """Keep only what is still owed of a batch, in its place in the order."""
        self._change(seq, entry)

    def _change(self, seq: int, entry: SpoolEntry | None) -> None:
        with self._lock:
            row = self._db.execute(
                "SELECT points, length(data) FROM batches WHERE seq = ?", (seq,)
            ).fetchone()
            if row is None:
                return
            d = self._depth
            if entry is None:
                self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))
                self._depth = Depth(d.batches - 1, d.points - row[0], d.bytes - row[1])
                return
            data = entry.encode()
            self._db.execute(
                "UPDATE batches SET points = ?, data = ? WHERE seq = ?",
                (len(entry.lines), data, seq),
            )
            self._depth = Depth(
                d.batches, d.points - row[0] + len(entry.lines), d.bytes - row[1] + len(data)
            )
