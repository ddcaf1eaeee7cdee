"""``pvmon ingest``: run one ingest worker until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import time

import structlog

from ingest.service import IngestService
from pvmon.influx.client import InfluxUnavailable
from pvmon.runtime import open_database, open_influx, provision_influx
from pvmon.settings import Settings

log = structlog.get_logger(__name__)


def run_ingest(settings: Settings, *, retire: bool = False) -> None:
    endpoint = settings.mqtt
    if endpoint is None:
        raise ValueError("no broker configured: set PVMON_MQTT_URL (pvmon up starts one)")
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
