"""Messages a gateway could not hand to the broker yet, on disk, oldest first: the
store-and-forward the telemetry contract promises (readings keep their own ``ts``).

Bounded by bytes (a logger's flash is finite too): when full, the oldest message makes room
for the newest and is counted as dropped — the same choice a real data logger makes, and
the operator sees the count. Durable on every append (``pvmon.diskqueue``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from pvmon.diskqueue import DiskQueue


@dataclass(frozen=True, slots=True)
class Held:
    seq: int
    topic: str
    payload: bytes


class MessageBuffer:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self._queue = DiskQueue(path, max_bytes)
        self.dropped = 0

    def hold(self, topic: str, payload: bytes) -> None:
        data = orjson.dumps([topic, payload.decode()])
        while not self._queue.append(data):
            for seq, _ in self._queue.oldest(1):
                self._queue.remove(seq)
                self.dropped += 1

    def oldest(self, n: int) -> list[Held]:
        out = []
        for seq, data in self._queue.oldest(n):
            topic, payload = orjson.loads(data)
            out.append(Held(seq, topic, payload.encode()))
        return out

    def sent(self, seq: int) -> None:
        """The broker took it (PUBACK): forget it."""
        self._queue.remove(seq)

    def __len__(self) -> int:
        return self._queue.depth.entries

    def close(self) -> None:
        self._queue.close()
