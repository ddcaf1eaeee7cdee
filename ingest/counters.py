"""Per-process ingest counters; readers (``pvmon up``, the API) sum them across workers."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class Counters:
    """Monotonic counts plus a few last-value gauges, safe to read from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._rejected: Counter[str] = Counter()
        self._gauges: dict[str, float] = {}

    def add(self, **counts: int | float) -> None:
        with self._lock:
            self._counts.update(counts)

    def reject(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self._rejected[reason] += n

    def gauge(self, **values: float) -> None:
        with self._lock:
            self._gauges.update(values)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self._counts, **self._gauges, "rejected": dict(self._rejected)}
