"""Alembic environment: migrations run on the engine the caller passes in, all of them in
one transaction, so that an upgrade that fails leaves the database as it found it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pvmon.db.migrate import MIGRATION_LOCK, sqlite_schema_change
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
            # API processes and workers started together would each apply the same
            # migrations (seen: two `pvmon api` processes, the second failing on an index
            # the first had just made): the first holds the lock, the others then find
            # the schema at head. Released when the transaction ends.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            run(connection)
