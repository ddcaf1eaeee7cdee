"""Insert-or-update for the two supported backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

SetClause = Callable[[Table, Any], Mapping[str, ColumnElement[Any] | Any]]
"""Given the target table and the proposed row (``excluded``), the columns to update."""


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    set_: SetClause,
) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_=dict(set_(table, statement.excluded))
    )
    session.execute(statement, list(rows))


def greatest(session: Session, a: Any, b: Any) -> ColumnElement[Any]:
    """The larger of two values (SQLite spells it max(a, b), PostgreSQL greatest(a, b))."""
    if session.get_bind().dialect.name == "postgresql":
        return func.greatest(a, b)
    return func.max(a, b)


def insert_missing(
    session: Session, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the rows whose keys are not there yet; leave the others as they are."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(table).on_conflict_do_nothing(index_elements=list(keys)), list(rows))
