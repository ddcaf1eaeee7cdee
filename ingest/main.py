"""``pvmon ingest``: run one ingest worker until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import time

import structlog

from ingest.service import IngestService
from pvmon.brokerauth import ingest_client_id
from pvmon.influx.client import InfluxUnavailable
from pvmon.settings import Settings
from pvmon.stores import open_database, open_influx, provision_influx

log = structlog.get_logger(__name__)


def run_ingest(settings: Settings, *, retire: bool = False) -> None:
    endpoint = settings.mqtt
    if endpoint is None:
        raise ValueError("no broker configured: set PVMON_MQTT_URL (pvmon up starts one)")
    client_id = ingest_client_id(settings.ingest.worker_id)
    if endpoint.username and endpoint.username != client_id:
        log.warning(
            "broker_user_is_not_the_client_id",
            user=endpoint.username,
            client_id=client_id,
            why="a broker that uses usernames as client ids (pvmon broker config) gives "
            "every worker of one credential the same session: give each worker its own",
        )
    engine = open_database(settings)
    influx = open_influx(settings)
    _provision_when_reachable(influx, settings)
    service = IngestService(settings, engine, influx, endpoint, retire=retire)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.stop())
    try:
        service.run()
    finally:
        influx.close()
        engine.dispose()


def _provision_when_reachable(influx, settings: Settings) -> None:
    """Wait for InfluxDB at start-up rather than fail: the broker keeps the messages."""
    delay = 1.0
    while True:
        try:
            provision_influx(influx, settings)
            return
        except InfluxUnavailable as exc:
            log.warning("influx_unreachable_at_start", retry_in_s=delay, error=str(exc)[:200])
            time.sleep(delay)
            delay = min(30.0, delay * 2)
