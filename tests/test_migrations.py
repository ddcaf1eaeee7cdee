"""Migrations carry the data they find: a database at an older revision, with rows in it, is
upgraded and the rows are still there, completed as the new schema needs them."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.db.engine import make_engine
from pvmon.db.migrate import alembic_config, upgrade


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


def test_shares_and_costs_from_before_0012_hold_from_their_stations_commissioning(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0011")
    statements = [
        "INSERT INTO townships (id, name) VALUES ('T01', '芝河镇')",
        "INSERT INTO villages (id, township_id, name, category, lat, lon, altitude_m) VALUES"
        " ('V0101', 'T01', '城关村', '先行示范村', 36.7, 110.6, 900),"
        " ('V0102', 'T01', '下村', '重点帮扶村', 36.7, 110.6, 900)",
        "INSERT INTO stations (id, kind, name, township_id, village_id, lat, lon, altitude_m,"
        " capacity_kwp, tilt_deg, azimuth_deg, commissioned_on, grid_loss_factor,"
        " subsidy_cap_hours) VALUES ('VS001', 'village', '城关村电站', 'T01', 'V0101', 36.7,"
        " 110.6, 900, 100, 30, 180, '2017-05-19', 0.03, 22000)",
        "INSERT INTO station_shares (station_id, village_id, share) VALUES"
        " ('VS001', 'V0101', 0.6), ('VS001', 'V0102', 0.4)",
        "INSERT INTO station_costs (station_id, item, annual_yuan) VALUES"
        " ('VS001', 'rent', 400), ('VS001', 'om', 3500)",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    upgrade(engine)
    with Session(engine) as session:
        shares = session.scalars(sa.select(tables.StationShare)).all()
        costs = session.scalars(sa.select(tables.StationCost)).all()
    assert sorted((s.village_id, s.share, s.valid_from, s.valid_to) for s in shares) == [
        ("V0101", 0.6, dt.date(2017, 5, 19), None),
        ("V0102", 0.4, dt.date(2017, 5, 19), None),
    ]
    assert sorted((c.item, c.annual_yuan, c.valid_from) for c in costs) == [
        ("om", 3500, dt.date(2017, 5, 19)),
        ("rent", 400, dt.date(2017, 5, 19)),
    ]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO station_shares (station_id, village_id, share, valid_from)"
                " VALUES ('VS001', 'V0101', 0.5, '2026-07-01')"
            )
        )
    engine.dispose()


def test_the_migrations_make_exactly_the_schema_the_tables_describe(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, tables.Base.metadata)
    engine.dispose()
    assert differences == []


STARTING = """
import sys, time
from pathlib import Path
from pvmon.db.engine import make_engine
from pvmon.db.migrate import upgrade
engine = make_engine(sys.argv[1])
while not Path(sys.argv[2]).exists():
    time.sleep(0.01)
upgrade(engine)
"""


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_processes_starting_together_upgrade_the_schema_once_without_failing(
    db_url: str, tmp_path: Path
) -> None:
    """Several API processes and workers start at once on a database with migrations to
    take: each upgrades on start, and none fails on what another has just made."""
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTING, db_url, str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(3)  # each has imported and made its engine
    go.touch()
    failures = [p.communicate(timeout=120)[1] for p in processes if p.wait(120) != 0]
    assert failures == []
    engine = make_engine(db_url)
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    engine.dispose()
