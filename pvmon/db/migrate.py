"""Run the Alembic migrations shipped inside the package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_LOCK = 0x70766D6F6E
"""The PostgreSQL advisory lock an upgrade holds (``pvmon`` in ASCII): one at a time."""


class MigrationError(Exception):
    """An upgrade was refused; the database is as it was before it."""


def alembic_config(engine: Engine, migrations: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head", migrations: Path = MIGRATIONS) -> None:
    """Bring the schema to ``revision``; safe to call on every start. Every migration it
    takes runs in one transaction: if one fails, none of them is applied.
    ``migrations``: the scripts' directory (tests use a copy with one more)."""
    command.upgrade(alembic_config(engine, migrations), revision)


@contextmanager
def sqlite_schema_change(connection: Connection) -> Iterator[None]:
    """SQLite's own procedure for changing a schema (sqlite.org/lang_altertable.html,
    "other kinds of table schema changes"): foreign keys off, every change in one
    transaction, the keys checked before it commits. Python's sqlite3 module, left to
    itself, commits each CREATE, DROP and ALTER as it runs, so a batch migration that
    rebuilds a table and then fails would leave half of it behind; and a table rebuilt with
    foreign keys on deletes, or refuses to drop, the rows that refer to it."""
    driver = connection.connection.driver_connection
    mode = driver.isolation_level
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    driver.isolation_level = None
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise MigrationError(
                    f"the upgrade would break {len(broken)} references: {broken[:5]}"
                )
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
    finally:
        driver.isolation_level = mode
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()
