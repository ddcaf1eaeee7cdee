"""The registry in the relational store: read it whole, or replace it in one transaction.

Replacing changes only what differs — rows gone are deleted, new ones inserted, changed
ones updated — so rows that other records refer to (a station with work orders) stay
put when they stay in the registry, and the change itself is known row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pvmon.db import tables
from pvmon.registry.schema import SHEET_MODELS, Registry, Row
from pvmon.registry.validate import RegistryInvalid, RowError, validated

CHUNK = 500


@dataclass
class SheetChange:
    added: list[Row] = field(default_factory=list)
    changed: list[tuple[Row, Row]] = field(default_factory=list)
    """(before, after)"""
    removed: list[Row] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def load_registry(session: Session) -> Registry:
    registry = Registry()
    for sheet, model in SHEET_MODELS.items():
        order = [getattr(model.table, k) for k in model.key]
        rows = session.scalars(select(model.table).order_by(*order))
        setattr(registry, sheet, [model.model_validate(r) for r in rows])
    return registry


def registry_changes(before: Registry, after: Registry) -> dict[str, SheetChange]:
    """What differs between two registries, sheet by sheet, keyed by each row's key (pure)."""
    out = {}
    old_sheets = before.sheets()
    for sheet, rows in after.sheets().items():
        old = {r.key_value(): r for r in old_sheets[sheet]}
        new = {r.key_value(): r for r in rows}
        out[sheet] = SheetChange(
            added=[r for k, r in new.items() if k not in old],
            changed=[(old[k], r) for k, r in new.items() if k in old and old[k] != r],
            removed=[r for k, r in old.items() if k not in new],
        )
    return out


def replace_registry(
    session: Session, registry: Registry, stored: Registry | None = None
) -> Registry:
    """Validate, then make the stored registry this one; nothing changes if it is invalid
    or removes a row other records still refer to (``RegistryInvalid`` names them).

    The caller owns the transaction: commit after this returns, and roll back on any
    failure (``sessionmaker.begin()`` does both), which undoes every table together.
    ``stored``: the registry as the caller loaded it in this transaction already.
    """
    registry = validated(registry)
    changes = registry_changes(stored or load_registry(session), registry)
    for sheet in reversed(SHEET_MODELS):
        _delete(session, sheet, changes[sheet].removed)
    for sheet, change in changes.items():
        table = SHEET_MODELS[sheet].table
        if change.added:
            session.execute(table.__table__.insert(), [r.model_dump() for r in change.added])
        if change.changed:
            session.execute(update(table), [after.model_dump() for _, after in change.changed])
    return registry


def _delete(session: Session, sheet: str, rows: Sequence[Row]) -> None:
    if not rows:
        return
    model = SHEET_MODELS[sheet]
    key = tuple_(*(getattr(model.table, k) for k in model.key))
    try:
        for at in range(0, len(rows), CHUNK):
            chunk = [r.key_value() for r in rows[at : at + CHUNK]]
            session.execute(delete(model.table).where(key.in_(chunk)))
    except IntegrityError:
        # No savepoint to go back to (pysqlite's are unreliable): the caller's transaction
        # is rolled back whole, as for any invalid registry.
        shown = ", ".join("/".join(map(str, r.key_value())) for r in rows[:20])
        raise RegistryInvalid(
            [
                RowError(
                    sheet,
                    None,
                    f"cannot remove {shown}{' …' if len(rows) > 20 else ''}: other records "
                    "(work orders, for one) refer to them; keep the rows in the registry",
                )
            ]
        ) from None


def registry_is_empty(session: Session) -> bool:
    return not session.scalar(select(func.count()).select_from(tables.Station))
