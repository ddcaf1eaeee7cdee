"""Readings refused only because their device was not yet in the registry — a replacement
inverter speaks as soon as it is wired, and its serial is recorded when the order is
finished — are stored after all once the registry knows the device: the dead letter keeps
such payloads whole (they are far below its head size), so nothing the new inverter sent
in between is lost.

A recovered dead letter is marked, not deleted: the operator still sees that it came in
before its device was known. Two workers recovering the same rows write the same points
(a reading's identity is its device and time), so a crash between storing and marking
costs nothing but a rewrite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.telemetry import Reason

CHUNK = 500
"""Dead letters read, stored and marked at a time (also the size of an ``IN`` list)."""


def recoverable(
    session: Session, devices: Collection[str], since: dt.datetime
) -> Iterator[list[tables.DeadLetter]]:
    """The whole, unrecovered unknown-device dead letters of ``devices`` received since
    ``since``, oldest first, in chunks."""
    names = sorted(devices)
    for start in range(0, len(names), CHUNK):
        d = tables.DeadLetter
        rows = session.scalars(
            select(d)
            .where(
                d.reason == str(Reason.UNKNOWN_DEVICE),
                d.recovered_at.is_(None),
                d.received_at >= since,
                d.device_id.in_(names[start : start + CHUNK]),
            )
            .order_by(d.id)
        ).all()
        whole = [r for r in rows if len(r.payload) == r.payload_bytes]
        for at in range(0, len(whole), CHUNK):
            yield whole[at : at + CHUNK]


def mark_recovered(session: Session, ids: list[int], now: dt.datetime) -> None:
    session.execute(
        update(tables.DeadLetter).where(tables.DeadLetter.id.in_(ids)).values(recovered_at=now)
    )
