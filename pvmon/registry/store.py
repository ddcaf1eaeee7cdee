"""The registry in the relational store: read it whole, or replace it in one transaction."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.registry.schema import SHEET_MODELS, Registry
from pvmon.registry.validate import validated


def load_registry(session: Session) -> Registry:
    registry = Registry()
    for sheet, model in SHEET_MODELS.items():
        order = [getattr(model.table, k) for k in model.key]
        rows = session.scalars(select(model.table).order_by(*order))
        setattr(registry, sheet, [model.model_validate(r) for r in rows])
    return registry


def replace_registry(session: Session, registry: Registry) -> Registry:
    """Validate, then swap the stored registry for this one; nothing changes if invalid.

    The caller owns the transaction: commit after this returns, and a failure anywhere
    rolls back every table together.
    """
    registry = validated(registry)
    for table in reversed(tables.REGISTRY_TABLES):
        session.execute(delete(table))
    for sheet, rows in registry.sheets().items():
        table = SHEET_MODELS[sheet].table
        if rows:
            session.execute(table.__table__.insert(), [r.model_dump() for r in rows])
    return registry


def registry_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(tables.Station))
