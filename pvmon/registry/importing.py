"""Import a registry file — the whole registry, or one county's part of a province's —
all of it, or, if any row is bad, nothing at all."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pvmon.audit import SYSTEM, Actor
from pvmon.registry.files import RegistryFileError, read_registry
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry, replace_registry
from pvmon.registry.validate import (
    RegistryInvalid,
    RowError,
    check_registry,
    parse_sheets,
    row_number,
)


def import_registry(
    sessions: sessionmaker[Session], path: Path, name: str | None = None, by: Actor = SYSTEM
) -> Registry:
    """Validate every row, then replace the stored registry in one transaction, each
    change in the audit log as ``by``'s import of the file.

    Raises ``RegistryInvalid`` listing every problem, the file named as ``name`` (the name
    its sender knows; default the file's own); the store is then unchanged.
    """
    registry, errors = _parsed(path, name)
    registry, cross_errors = check_registry(registry)
    errors += cross_errors
    if errors:
        raise RegistryInvalid(errors)
    with sessions.begin() as session:
        return replace_registry(session, registry, by=by, reason=f"import {name or path.name}")


def import_county(
    sessions: sessionmaker[Session],
    path: Path,
    county: str,
    name: str | None = None,
    by: Actor = SYSTEM,
) -> Registry:
    """Replace one county's part of the stored registry with a file's (a county's bureau
    keeps its own); the other counties' rows stay as they are. The file is checked on its
    own first (its rows numbered as in the file, each one in ``county``), then with the
    rest of the province (an id another county uses already). Raises ``RegistryInvalid``
    as ``import_registry`` does; the store is then unchanged. Returns the whole registry."""
    part, errors = _parsed(path, name)
    with sessions.begin() as session:
        stored = load_registry(session)
        part, placing = placed_in(part, stored, county, name or path.name)
        part, own = check_registry(part)
        others = stored.outside(county)
        errors += placing + own + taken_elsewhere(part, others)
        if errors:
            raise RegistryInvalid(errors)
        whole, clashes = check_registry(part.joined(others))
        if clashes:
            raise RegistryInvalid(clashes)
        reason = f"import {name or path.name} ({county})"
        return replace_registry(session, whole, stored, by=by, reason=reason)


def _parsed(path: Path, name: str | None) -> tuple[Registry, list[RowError]]:
    try:
        raw = read_registry(path)
    except RegistryFileError as exc:
        raise RegistryInvalid([RowError(name or path.name, None, exc.reason)]) from None
    return parse_sheets(raw)


def taken_elsewhere(part: Registry, others: Registry) -> list[RowError]:
    """Rows of a county's file whose id another county's row (``others``) bears already."""
    errors = []
    for sheet, rows in part.sheets().items():
        taken = {r.key_value() for r in getattr(others, sheet)}
        errors += [
            RowError(
                sheet, row_number(i), "another county has this id already", _shown(r.key_value())
            )
            for i, r in enumerate(rows)
            if r.key_value() in taken
        ]
    return errors


def _shown(key: tuple[object, ...]) -> str:
    return "/".join(map(str, key))


def placed_in(
    part: Registry, stored: Registry, county: str, name: str
) -> tuple[Registry, list[RowError]]:
    """A county's file with its county row (the stored one where the file has none) and
    its townships in it; a row of another county is an error."""
    known = {c.id: c for c in stored.counties}
    if county not in known:
        raise RegistryInvalid([RowError(name, None, f"unknown county {county!r}")])
    errors = [
        RowError("counties", row_number(i), f"the file is county {county}'s: not {c.id!r}", c.id)
        for i, c in enumerate(part.counties)
        if c.id != county
    ]
    errors += [
        RowError(
            "townships", row_number(i), f"in county {t.county_id!r}: the file is {county}'s", t.id
        )
        for i, t in enumerate(part.townships)
        if t.county_id not in (None, county)
    ]
    part.counties = part.counties or [known[county]]
    part.townships = [t.model_copy(update={"county_id": county}) for t in part.townships]
    return part, errors
