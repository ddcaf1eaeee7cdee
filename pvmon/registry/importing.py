"""Import a registry file: all of it, or — if any row is bad — nothing at all."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pvmon.audit import SYSTEM, Actor
from pvmon.registry.files import RegistryFileError, read_registry
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from pvmon.registry.validate import RegistryInvalid, RowError, check_registry, parse_sheets


def import_registry(
    sessions: sessionmaker[Session], path: Path, name: str | None = None, by: Actor = SYSTEM
) -> Registry:
    """Validate every row, then replace the stored registry in one transaction, each
    change in the audit log as ``by``'s import of the file.

    Raises ``RegistryInvalid`` listing every problem, the file named as ``name`` (the name
    its sender knows; default the file's own); the store is then unchanged.
    """
    try:
        raw = read_registry(path)
    except RegistryFileError as exc:
        raise RegistryInvalid([RowError(name or path.name, None, exc.reason)]) from None
    registry, errors = parse_sheets(raw)
    registry, cross_errors = check_registry(registry)
    errors += cross_errors
    if errors:
        raise RegistryInvalid(errors)
    with sessions.begin() as session:
        return replace_registry(session, registry, by=by, reason=f"import {name or path.name}")
