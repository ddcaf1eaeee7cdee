"""Upgrades keep the data: a database made by the first migration and filled with the whole
county is carried through every later migration, one at a time, on SQLite and PostgreSQL,
and keeps every row; an upgrade that fails halfway leaves the database as it found it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import MIGRATIONS, alembic_config, upgrade
from pvmon.registry.schema import SHEET_MODELS, YONGHE, Registry, Row
from pvmon.registry.store import load_registry, replace_registry

REVISIONS = [
    s.revision
    for s in reversed(list(ScriptDirectory.from_config(alembic_config(None)).walk_revisions()))  # type: ignore[arg-type]
]
AT = dt.datetime(2026, 11, 30, 8, 0)
PAYLOADS = [b'{"W": "NaN"}', b"\xff\xfe not json", b"x" * 20_000]


def reflected(engine: Engine) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    return metadata


def as_first(row: Row, columns: set[str]) -> dict[str, object]:
    """A registry row's cells under the first schema's names, in its columns."""
    renamed = {new: old for old, new in row.former_columns.items()}
    cells = {renamed.get(k, k): v for k, v in row.model_dump().items()}
    return {k: v for k, v in cells.items() if k in columns}


def fill_first_schema(engine: Engine, registry: Registry) -> None:
    """The registry as the first schema holds it (the columns it had), and the ingest
    workers' shared state."""
    schema = reflected(engine)
    with engine.begin() as connection:
        for sheet, rows in registry.sheets().items():
            table = schema.tables.get(SHEET_MODELS[sheet].table.__tablename__)
            if table is None or not rows:
                continue
            connection.execute(table.insert(), [as_first(r, set(table.c.keys())) for r in rows])
        connection.execute(
            schema.tables["dead_letters"].insert(),
            [
                {"received_at": AT, "worker_id": "w1", "topic": "pv/VS001/INV1/telemetry",
                 "payload": p, "reason": "malformed", "detail": "not a reading",
                 "station_id": "VS001", "device_id": None}
                for p in PAYLOADS
            ],
        )  # fmt: skip
        connection.execute(
            schema.tables["logger_status"].insert(),
            [{"station_id": "VS001", "online": True, "since": AT, "updated_at": AT}],
        )
        connection.execute(
            schema.tables["late_days"].insert(),
            [{"station_id": "VS002", "day": AT.date(), "first_seen_at": AT, "last_seen_at": AT}],
        )


def row_counts(engine: Engine, names: list[str]) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            n: connection.execute(sa.text(f"SELECT count(*) FROM {n}")).scalar_one() for n in names
        }


def first_schema_cells(registry: Registry, names: set[str]) -> dict[str, list[dict]]:
    """Each sheet's rows with only the columns the first schema had."""
    out = {}
    for sheet, rows in registry.sheets().items():
        table = SHEET_MODELS[sheet].table.__tablename__
        if table in names:
            out[sheet] = sorted((as_first(r, FIRST_COLUMNS[table]) for r in rows), key=str)
    return out


FIRST_COLUMNS: dict[str, set[str]] = {}


def by_key(registry: Registry) -> dict[str, list[object]]:
    return {
        sheet: sorted(rows, key=lambda r: str(r.key_value()))
        for sheet, rows in registry.sheets().items()
    }


def test_a_county_in_the_first_schema_keeps_every_row_through_every_migration(
    db_url: str, default_registry: Registry
) -> None:
    engine = make_engine(db_url)
    upgrade(engine, REVISIONS[0])
    first = reflected(engine)
    FIRST_COLUMNS.update({n: set(t.c.keys()) for n, t in first.tables.items()})
    fill_first_schema(engine, default_registry)
    names = sorted(n for n in first.tables if n != "alembic_version")
    counts = row_counts(engine, names)
    assert (counts["stations"], counts["inverters"], counts["dead_letters"]) == (2240, 2569, 3)
    for revision in REVISIONS[1:]:
        upgrade(engine, revision)
        assert row_counts(engine, names) == counts, f"rows lost or added by {revision}"
    with Session(engine) as session:
        stored = load_registry(session)
        letters = session.scalars(sa.select(tables.DeadLetter).order_by(tables.DeadLetter.id))
        assert [(d.payload, d.payload_bytes) for d in letters] == [(p, len(p)) for p in PAYLOADS]
    assert first_schema_cells(stored, set(names)) == first_schema_cells(
        default_registry, set(names)
    )
    assert stored.counties == [YONGHE]
    assert {t.county_id for t in stored.townships} == {YONGHE.id}
    engine.dispose()


FAILING = '''"""fails halfway: a table rebuilt, one made, rows deleted, then an error

Revision ID: 0999
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "0999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("tilt_deg")
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("DELETE FROM tariffs")
    raise RuntimeError("this migration fails halfway")


def downgrade() -> None:
    pass
'''


def with_failing_migration(tmp_path: Path) -> Path:
    """A copy of the migrations with one more after the last, which fails halfway."""
    copy = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / "0999_fails.py").write_text(FAILING.format(head=REVISIONS[-1]))
    return copy


def schema_and_rows(engine: Engine) -> tuple[dict[str, list[str]], dict[str, int], str]:
    schema = reflected(engine)
    columns = {n: sorted(t.c.keys()) for n, t in schema.tables.items()}
    with engine.connect() as connection:
        version = connection.execute(
            sa.text("SELECT version_num FROM alembic_version")
        ).scalar_one()
    return columns, row_counts(engine, sorted(columns)), version


def test_an_upgrade_that_fails_halfway_leaves_the_database_as_it_was(
    db_url: str, default_registry: Registry, tmp_path: Path
) -> None:
    """The database is behind (at the first revision today's registry can be written to:
    counties); the upgrade takes the good migrations and then one that rebuilds the
    stations table, makes a table and deletes every tariff before it fails. Nothing of
    them is left; the good ones then apply as usual."""
    engine = make_engine(db_url)
    behind = "0018"
    assert REVISIONS.index(behind) < len(REVISIONS) - 1
    upgrade(engine, behind)
    with session_factory(engine).begin() as session:
        replace_registry(session, default_registry)
    before = schema_and_rows(engine)
    with pytest.raises(RuntimeError, match="fails halfway"):
        upgrade(engine, "head", with_failing_migration(tmp_path))
    assert schema_and_rows(engine) == before
    assert before[2] == behind
    with Session(engine) as session:
        assert by_key(load_registry(session)) == by_key(default_registry)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    upgrade(engine)
    assert schema_and_rows(engine)[2] == REVISIONS[-1]
    engine.dispose()
