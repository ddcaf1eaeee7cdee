"""The demo's data: the generated default registry when the store has none, and a fault
at the demo maintainer's station so that the phone flow can be tried as ``maintainer``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import structlog
from sqlalchemy import Engine

from api.users import demo_maintainer
from pvmon.db.engine import session_factory
from pvmon.registry.store import load_registry, registry_is_empty, replace_registry
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


DEMO_FAULT_AFTER = "+3m"
"""Soon after the start, the demo maintainer's first station has an inverter trip."""


def demo_scenario(engine: Engine, directory: Path) -> Path:
    """A scenario file with one fault: an inverter of the demo maintainer's first station
    trips for the afternoon (``pvmon up`` without ``--scenario``)."""
    with session_factory(engine)() as session:
        registry = load_registry(session)
    person = demo_maintainer(registry)
    station = sorted(s for s, crew in registry.crews().items() if person.id in crew)[0]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "demo-scenario.toml"
    path.write_text(
        'description = "The demo maintainer\'s station has an inverter that trips."\n\n'
        f'[[faults]]\nkind = "fault"\nstations = ["{station}"]\n'
        f'start = "{DEMO_FAULT_AFTER}"\nduration = "8h"\n'
    )
    log.info("demo_fault", station=station, maintainer=person.id)
    return path
