"""A running ingest worker, in a thread of the test, on real services."""

from __future__ import annotations

import threading
from pathlib import Path

from ingest.service import IngestService
from launch.local.mosquitto import Mosquitto
from pvmon.influx.client import InfluxClient
from pvmon.settings import Settings, load_settings


def make_settings(
    tmp_path: Path, broker: Mosquitto, influx: InfluxClient, db: str, **overrides: object
) -> Settings:
    return load_settings(
        data_dir=tmp_path,
        mqtt_url=broker.url,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=db,
        **overrides,
    )


class RunningIngest:
    def __init__(self, service: IngestService) -> None:
        self.service = service
        self.thread = threading.Thread(target=service.run, name="ingest-under-test")
        self.thread.start()
        if not service.consumer.subscribed.wait(10):
            raise RuntimeError("ingest did not subscribe within 10 s")

    def stop(self) -> None:
        self.service.stop()
        self.thread.join(30)
