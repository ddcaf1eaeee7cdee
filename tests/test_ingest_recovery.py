"""A crashed ingest worker loses nothing: the broker keeps what was not acknowledged."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import Engine

from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from pvmon.services.mosquitto import Mosquitto
from pvmon.services.process import ManagedProcess
from pvmon.telemetry import telemetry_topic
from tests.test_ingest_flow import stored_count, wait_for

MESSAGES = 20_000


def publish_readings(
    broker: Mosquitto, registry: Registry, count: int, batch: int
) -> set[tuple[str, int]]:
    """``count`` valid readings, each a distinct (device, ts), published at QoS 1;
    each ``batch`` number gives readings of different times."""
    devices = [(i.station_id, i.id) for i in registry.inverters]
    now = int(time.time())
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect(broker.options.host, broker.options.port)
    client.loop_start()
    sent = set()
    infos = []
    for n in range(count):
        station, device = devices[n % len(devices)]
        ts = now - 60 * (n // len(devices)) - 1 - 86400 * batch
        payload = json.dumps({"ts": ts, "W": 100.0 + n % 50, "WH": 1000 + n}).encode()
        infos.append(client.publish(telemetry_topic(station, device), payload, qos=1))
        sent.add((device, ts))
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()
    return sent


def ingest_process(
    tmp_path: Path, broker: Mosquitto, influx: InfluxClient, db_url: str
) -> ManagedProcess:
    env = {
        **os.environ,
        "PVMON_MQTT_URL": broker.url,
        "PVMON_INFLUX_URL": influx.url,
        "PVMON_INFLUX_DB": influx.database,
        "PVMON_DATABASE_URL": db_url,
        "PVMON_DATA_DIR": str(tmp_path),
        "PVMON_INGEST__BATCH_SIZE": "500",
    }
    return ManagedProcess(
        "ingest", [sys.executable, "-m", "pvmon", "ingest"], tmp_path / "ingest.log", env=env
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_ingest_killed_mid_stream_and_restarted_stores_every_message_once(
    tmp_path: Path,
    broker: Mosquitto,
    influx: InfluxClient,
    loaded_engine: Engine,
    default_registry: Registry,
) -> None:
    url = loaded_engine.url.render_as_string(hide_password=False)
    first = ingest_process(tmp_path, broker, influx, url)
    first.start()
    wait_for(lambda: "ingest_started" in first.log_tail(50), timeout=30)
    time.sleep(1)  # subscribed
    sent: set[tuple[str, int]] = set()
    publisher = threading.Thread(
        target=lambda: sent.update(publish_readings(broker, default_registry, MESSAGES, 0))
    )
    publisher.start()
    wait_for(lambda: stored_count(influx) > 0, timeout=30)
    first.kill()  # SIGKILL while messages are still arriving
    publisher.join()
    partial = stored_count(influx)
    # More arrives while no worker runs: the broker queues it for the persistent session.
    sent |= publish_readings(broker, default_registry, MESSAGES, 1)
    assert partial < len(sent)

    second = ingest_process(tmp_path, broker, influx, url)
    second.start()
    try:
        wait_for(lambda: stored_count(influx) >= len(sent), timeout=120)
        time.sleep(1)
        assert stored_count(influx) == len(sent) == 2 * MESSAGES
    finally:
        second.stop()
