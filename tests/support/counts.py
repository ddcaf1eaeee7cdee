"""What arrived: stored readings in InfluxDB, dead letters in the relational store."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import Engine, func, select

from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient


def stored_count(influx: InfluxClient, where: str = "") -> int:
    series = influx.query(f'SELECT COUNT("W") FROM "telemetry" {where}')
    return int(series[0]["values"][0][1]) if series else 0


def dead_letters(engine: Engine) -> Counter[str]:
    with session_factory(engine)() as session:
        rows = session.execute(
            select(tables.DeadLetter.reason, func.count()).group_by(tables.DeadLetter.reason)
        )
        return Counter(dict(rows.all()))
