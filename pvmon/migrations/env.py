"""Alembic environment: migrations run on the engine the caller passes in, all of them in
one transaction, so that an upgrade that fails leaves the database as it found it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pvmon.db.migrate import sqlite_schema_change
from pvmon.db.tables import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()


engine = context.config.attributes["engine"]
with engine.connect() as connection:
    if connection.dialect.name == "sqlite":
        with sqlite_schema_change(connection):
            run(connection)
    else:
        with connection.begin():
            run(connection)
