"""The dead letter's rows: what was refused, why, and from whom — with at most a head of the
payload, its whole size and its SHA-256, so a flood of megabyte messages cannot fill the
relational store or an operator's screen, and the original can still be matched."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from pvmon.telemetry import TopicError, parse_topic


def named_by(topic: str) -> tuple[str | None, str | None]:
    """(station, device) as the topic names them; (None, None) for a topic outside the
    contract."""
    try:
        where = parse_topic(topic)
    except TopicError:
        return None, None
    return where.station, where.device


@dataclass(frozen=True, slots=True)
class DeadLetterRows:
    worker_id: str
    head_bytes: int
    """How much of a refused payload is kept (``ingest.dead_letter_head_bytes``)."""

    def row(
        self,
        received_at: dt.datetime,
        topic: str,
        payload: bytes,
        reason: str,
        detail: str,
        station: str | None = None,
        device: str | None = None,
    ) -> dict[str, object]:
        """A ``dead_letters`` row; the station and device default to the topic's."""
        named_station, named_device = named_by(topic)
        return {
            "received_at": received_at,
            "worker_id": self.worker_id,
            "topic": topic[:1024],
            "payload": payload[: self.head_bytes],
            "payload_bytes": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "reason": reason,
            "detail": detail[:1000],
            "station_id": (station or named_station or "")[:64] or None,
            "device_id": (device or named_device or "")[:64] or None,
        }
