"""Migrations carry the data they find: a database at an older revision, with rows in it, is
upgraded and the rows are still there, completed as the new schema needs them."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.db.engine import make_engine
from pvmon.db.migrate import upgrade


def test_dead_letters_kept_whole_before_0006_keep_their_payload_and_gain_size_and_digest(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0005")
    payloads = [b"{bad", b"z" * 30_000]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO dead_letters (received_at, worker_id, topic, payload, reason,"
                " detail) VALUES (:at, 'w', 'pv/VS001/x/telemetry', :payload, 'oversized', 'd')"
            ),
            [{"at": dt.datetime(2026, 11, 1), "payload": p} for p in payloads],
        )
    upgrade(engine)
    with Session(engine) as session:
        letters = session.scalars(sa.select(tables.DeadLetter).order_by(tables.DeadLetter.id))
        assert [(d.payload, d.payload_bytes, d.payload_sha256) for d in letters] == [
            (p, len(p), hashlib.sha256(p).hexdigest()) for p in payloads
        ]
    engine.dispose()
