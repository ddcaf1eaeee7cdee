"""The registry in the relational store: read it whole (or one county's part), or replace
it in one transaction.

Replacing changes only what differs — rows gone are deleted, new ones inserted, changed
ones updated — so rows that other records refer to (a station with work orders) stay
put when they stay in the registry, and the change itself is known row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pvmon.audit import SYSTEM, Actor, entry, record_rows
from pvmon.db import tables
from pvmon.localtime import utc_now
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
    return _load(session, {})


def load_county(session: Session, county: str) -> Registry:
    """One county's part of the stored registry (``Registry.of_county``) without reading
    the rest of a province: each sheet narrowed in SQL to the rows that can belong to the
    county, then cut exactly by ``of_county``, the one definition of the part."""
    t = tables
    townships = select(t.Township.id).where(t.Township.county_id == county)
    stations = select(t.Station.id).where(t.Station.township_id.in_(townships))
    villages = select(t.Village.id).where(t.Village.township_id.in_(townships))
    crews = (
        select(t.StationMaintainer.person_id)
        .where(t.StationMaintainer.station_id.in_(stations))
        .union(
            select(t.VillageMaintainer.person_id).where(
                t.VillageMaintainer.village_id.in_(villages)
            )
        )
    )
    people = select(t.Person.id).where(
        t.Person.township_id.in_(townships)
        | t.Person.village_id.in_(villages)
        | t.Person.id.in_(crews)
    )
    inverters = select(t.Inverter.id).where(t.Inverter.station_id.in_(stations))
    where = {
        "counties": t.County.id == county,
        "townships": t.Township.county_id == county,
        "villages": t.Village.township_id.in_(townships),
        "people": t.Person.id.in_(people),
        "stations": t.Station.township_id.in_(townships),
        "station_shares": t.StationShare.station_id.in_(stations),
        "inverters": t.Inverter.station_id.in_(stations),
        "device_addresses": t.DeviceAddress.inverter_id.in_(inverters),
        "station_maintainers": t.StationMaintainer.station_id.in_(stations),
        "village_maintainers": t.VillageMaintainer.village_id.in_(villages),
        "certificates": t.Certificate.person_id.in_(people),
        "tariffs": t.Tariff.station_id.in_(stations),
        "station_costs": t.StationCost.station_id.in_(stations),
    }
    return _load(session, where).of_county(county)


def _load(session: Session, where: Mapping[str, ColumnElement[bool]]) -> Registry:
    """Every sheet's rows in key order, those of a sheet in ``where`` narrowed by it."""
    registry = Registry()
    for sheet, model in SHEET_MODELS.items():
        order = [getattr(model.table, k) for k in model.key]
        query = select(model.table).order_by(*order)
        if sheet in where:
            query = query.where(where[sheet])
        setattr(registry, sheet, [model.model_validate(r) for r in session.scalars(query)])
    return registry


def registry_version(session: Session) -> int | None:
    """The last audit entry of the registry's sheets: every replacement writes some, so a
    different number means a different registry."""
    entity = tables.AuditEntry.entity
    return session.scalar(select(func.max(tables.AuditEntry.id)).where(entity.in_(SHEET_MODELS)))


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
    session: Session,
    registry: Registry,
    stored: Registry | None = None,
    *,
    by: Actor = SYSTEM,
    reason: str | None = None,
) -> Registry:
    """Validate, then make the stored registry this one; nothing changes if it is invalid
    or removes a row other records still refer to (``RegistryInvalid`` names them). Every
    row added, changed or removed is in the audit log, as done ``by`` whom (a first load
    into an empty store: one entry per sheet with its row count).

    The caller owns the transaction: commit after this returns, and roll back on any
    failure (``sessionmaker.begin()`` does both), which undoes every table together.
    ``stored``: the registry as the caller loaded it in this transaction already.
    """
    registry = validated(registry)
    stored = stored or load_registry(session)
    changes = registry_changes(stored, registry)
    for sheet in reversed(SHEET_MODELS):
        _delete(session, sheet, changes[sheet].removed)
    for sheet, change in changes.items():
        table = SHEET_MODELS[sheet].table
        if change.added:
            session.execute(table.__table__.insert(), [r.model_dump() for r in change.added])
        if change.changed:
            session.execute(update(table), [after.model_dump() for _, after in change.changed])
    record_rows(session, audit_entries(stored, registry, changes, by, reason, utc_now()))
    return registry


def audit_entries(
    stored: Registry,
    registry: Registry,
    changes: dict[str, SheetChange],
    by: Actor,
    reason: str | None,
    at: dt.datetime,
) -> list[tables.AuditEntry]:
    """The audit log's lines for a replacement (pure)."""
    if not any(stored.sheets().values()):
        return [
            entry(by, sheet, "*", "load", None, {"rows": len(rows)}, reason, at)
            for sheet, rows in registry.sheets().items()
            if rows
        ]
    out = []
    for sheet, change in changes.items():
        out += [entry(by, sheet, _key(r), "add", None, _cells(r), reason, at) for r in change.added]
        out += [
            entry(by, sheet, _key(old), "change", _cells(old), _cells(new), reason, at)
            for old, new in change.changed
        ]
        out += [
            entry(by, sheet, _key(r), "remove", _cells(r), None, reason, at) for r in change.removed
        ]
    return out


def _key(row: Row) -> str:
    return "/".join(map(str, row.key_value()))


def _cells(row: Row) -> dict[str, object]:
    return row.model_dump(mode="json")


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
