"""What the ``pvmon gateway`` command calls."""

from __future__ import annotations

import signal

from gateway.service import GatewayConfigError, GatewayService, plans
from pvmon.db.engine import session_factory
from pvmon.registry.store import load_registry
from pvmon.settings import Settings
from pvmon.stores import open_database


def run_gateway(settings: Settings, stations: list[str] | None) -> None:
    endpoint = settings.mqtt
    if endpoint is None:
        raise GatewayConfigError("no broker: set PVMON_MQTT_URL (mqtt://host:port)")
    engine = open_database(settings)
    with session_factory(engine)() as session:
        registry = load_registry(session)
    engine.dispose()
    service = GatewayService(settings, endpoint, plans(registry, settings, stations))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.stop())
    service.run()
