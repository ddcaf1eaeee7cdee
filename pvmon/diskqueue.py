"""A bounded first-in-first-out queue of byte strings on disk, durable on every append.

Each entry is one row of an SQLite file committed with ``synchronous=FULL`` in WAL mode: the
commit returns only after the write-ahead log is fsync'd, so an entry whose append returned
survives a crash of the process or of the machine. SQLite (the standard library's) gives
atomic appends and removals without a file format of our own; queue libraries such as
persist-queue were not taken because the queue must be bounded by bytes and count the items
an entry holds (an ingest batch is many points), which they do not offer.

Ingest keeps the batches InfluxDB could not take yet in one (``ingest.spool``); a gateway
keeps the readings the broker could not take yet in another (``gateway.buffer``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Depth:
    entries: int
    items: int
    bytes: int


class DiskQueue:
    """Entries in append order, safe to use from several threads."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA auto_vacuum=FULL")  # give pages back as entries leave
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # Table and column names are the ingest spool's, whose files predate this module.
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " spooled_at REAL NOT NULL, points INTEGER NOT NULL, data BLOB NOT NULL)"
        )
        entries, items, size = self._db.execute(
            "SELECT count(*), coalesce(sum(points), 0), coalesce(sum(length(data)), 0) FROM batches"
        ).fetchone()
        self._depth = Depth(entries, items, size)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def depth(self) -> Depth:
        return self._depth

    def is_empty(self) -> bool:
        return self._depth.entries == 0

    def append(self, data: bytes, items: int = 1) -> bool:
        """Keep the entry durably; False (and nothing kept) when it would pass the bound.
        An entry larger than the whole bound is kept when the queue is empty, so that a
        single entry can always go through."""
        with self._lock:
            d = self._depth
            if d.entries and d.bytes + len(data) > self.max_bytes:
                return False
            self._db.execute(
                "INSERT INTO batches (spooled_at, points, data) VALUES (?, ?, ?)",
                (time.time(), items, data),
            )
            self._depth = Depth(d.entries + 1, d.items + items, d.bytes + len(data))
        return True

    def oldest(self, n: int = 1) -> list[tuple[int, bytes]]:
        """The ``n`` oldest entries as (sequence number, data), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, data FROM batches ORDER BY seq LIMIT ?", (n,)
            ).fetchall()
        return [(seq, data) for seq, data in rows]

    def remove(self, seq: int) -> None:
        self._change(seq, None, 0)

    def replace(self, seq: int, data: bytes, items: int) -> None:
        """Keep only what is still owed of an entry, in its place in the order."""
        self._change(seq, data, items)

    def _change(self, seq: int, data: bytes | None, items: int) -> None:
        with self._lock:
            row = self._db.execute(
                "SELECT points, length(data) FROM batches WHERE seq = ?", (seq,)
            ).fetchone()
            if row is None:
                return
            d = self._depth
            if data is None:
                self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))
                self._depth = Depth(d.entries - 1, d.items - row[0], d.bytes - row[1])
                return
            self._db.execute(
                "UPDATE batches SET points = ?, data = ? WHERE seq = ?", (items, data, seq)
            )
            self._depth = Depth(d.entries, d.items - row[0] + items, d.bytes - row[1] + len(data))
