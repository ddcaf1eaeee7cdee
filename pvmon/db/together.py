"""Several one-row queries asked in one round trip."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, true
from sqlalchemy.orm import Session


def one_row_each(session: Session, *queries: Select[Any]) -> list[tuple[Any, ...]]:
    """The one row each of ``queries`` gives (an aggregate's: a count, a latest time), in
    one statement: each query a subquery, joined side by side. Under load every round trip
    to the database costs a request far more than the statement's own work (three of the
    overview's figures, asked one at a time, were about a third of its time at 20
    clients: docs/scaling.md)."""
    parts = [q.subquery(f"part{i}") for i, q in enumerate(queries)]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, true())
    row = session.execute(select(*[c for p in parts for c in p.c]).select_from(joined)).one()
    rows, at = [], 0
    for part in parts:
        width = len(part.c)
        rows.append(tuple(row[at : at + width]))
        at += width
    return rows
