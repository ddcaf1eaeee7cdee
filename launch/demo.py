"""The demo's data: the generated default registry when the store has none."""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import Engine

from pvmon.db.engine import session_factory
from pvmon.registry.store import registry_is_empty, replace_registry
from pvmon.settings import Settings
from simulators.demo_registry import GenerationOptions, generate_registry

log = structlog.get_logger(__name__)


def ensure_registry(engine: Engine, settings: Settings, as_of: dt.date | None = None) -> bool:
    """Load the generated default registry if the store has none; True if it did."""
    sessions = session_factory(engine)
    with sessions() as session:
        if not registry_is_empty(session):
            return False
    registry = generate_registry(
        GenerationOptions(
            seed=settings.registry.seed, as_of=as_of, central_kwp=settings.registry.central_kwp
        )
    )
    with sessions.begin() as session:
        replace_registry(session, registry)
    log.info(
        "registry_generated",
        stations=len(registry.stations),
        inverters=len(registry.inverters),
        seed=settings.registry.seed,
    )
    return True
