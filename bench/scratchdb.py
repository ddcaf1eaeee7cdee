"""A PostgreSQL database made for one bench run and dropped after it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_ADMIN = os.environ.get("PVMON_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    """The SQLAlchemy URL of the database ``name`` on the local PostgreSQL."""
    return "postgresql+psycopg" + PG_ADMIN.rsplit("/", 1)[0].removeprefix("postgresql") + f"/{name}"


def kept_postgres(name: str, fresh: bool) -> str:
    """The URL of a database kept between bench runs, made (again, when ``fresh``) if needed."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


@contextmanager
def scratch_postgres() -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty database on the local PostgreSQL."""
    name = f"pvmon_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
