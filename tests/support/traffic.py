"""Known telemetry for tests that count what arrives: each reading a distinct (device, ts),
published at QoS 1 the way a data logger does, and the stored set read back from InfluxDB."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pvmon.influx.client import InfluxClient
from pvmon.registry.schema import Registry
from pvmon.telemetry import telemetry_topic

Key = tuple[str, int]
MAX_OUTSTANDING = 20_000
"""paho numbers messages 1–65,535 and reuses a number still awaiting its PUBACK once the
count wraps, so a publisher keeps well below that many unacknowledged."""


def readings(
    registry: Registry,
    count: int,
    day_offset: int = 0,
    shift_s: int = 0,
    stations: frozenset[str] | None = None,
) -> list[tuple[str, bytes, Key]]:
    """``count`` valid readings (topic, payload, key) cycling over the fleet's inverters (or
    those of ``stations``), each pass one minute earlier, ``day_offset`` days (late data when
    > 0) and ``shift_s`` seconds back."""
    devices = [
        (i.station_id, i.id)
        for i in registry.inverters
        if stations is None or i.station_id in stations
    ]
    now = int(time.time())
    out = []
    for n in range(count):
        station, device = devices[n % len(devices)]
        ts = now - 60 * (n // len(devices)) - 1 - 86400 * day_offset - shift_s
        payload = json.dumps({"ts": ts, "W": 100.0 + n % 50, "WH": 1000 + n}).encode()
        out.append((telemetry_topic(station, device), payload, (device, ts)))
    return out


@dataclass
class Publisher:
    """One persistent MQTT 5 publisher: what the broker did not acknowledge is sent again
    after a reconnect, as a logger's store-and-forward does. ``sent`` holds the keys the
    broker acknowledged (PUBACK) — what the system then owes."""

    url_host: str
    port: int
    client_id: str = "fault-publisher"
    username: str | None = None
    password: str | None = None
    sent: set[Key] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        if self.username:
            client.username_pw_set(self.username, self.password)
        client.max_inflight_messages_set(500)
        client.reconnect_delay_set(0.2, 2)
        self._client = client
        self._keys: dict[int, Key] = {}
        self._early: set[int] = set()
        """Acknowledged before ``publish`` returned its mid to us."""
        self.connected = threading.Event()
        client.on_publish = self._on_publish
        client.on_connect = lambda *_: self.connected.set()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        client.connect_async(self.url_host, self.port, 30, clean_start=False, properties=props)
        client.loop_start()
        if not self.connected.wait(15):
            raise RuntimeError(f"publisher could not connect to {self.url_host}:{self.port}")

    def _on_publish(self, _c: object, _u: object, mid: int, _rc: object, _p: object) -> None:
        with self._lock:
            key = self._keys.pop(mid, None)
            if key is None:
                self._early.add(mid)
            else:
                self.sent.add(key)

    def publish(self, messages: list[tuple[str, bytes, Key]], per_second: float = 0) -> None:
        """Publish, pacing to ``per_second`` when given, and return once the broker has
        acknowledged each (paho sends again what a lost connection left unacknowledged)."""
        started = time.monotonic()
        for n, (topic, payload, key) in enumerate(messages):
            while len(self._keys) > MAX_OUTSTANDING:
                time.sleep(0.005)
            # Never call paho holding our lock: paho calls on_publish holding its own.
            info = self._client.publish(topic, payload, qos=1)
            with self._lock:
                if info.mid in self._early:
                    self._early.remove(info.mid)
                    self.sent.add(key)
                else:
                    self._keys[info.mid] = key
            if per_second:
                ahead = started + n / per_second - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
        deadline = time.monotonic() + 120
        while self._keys and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def publish_readings(
    host: str, port: int, messages: list[tuple[str, bytes, Key]], per_second: float = 0
) -> set[Key]:
    publisher = Publisher(host, port, client_id=f"publisher-{time.monotonic_ns()}")
    try:
        publisher.publish(messages, per_second)
        return set(publisher.sent)
    finally:
        publisher.close()


def stored_keys(influx: InfluxClient) -> set[Key]:
    """Unique (device, ts) in the telemetry measurement."""
    keys: set[Key] = set()
    for series in influx.stream('SELECT "W" FROM "telemetry" GROUP BY "device"'):
        device = series["tags"]["device"]
        keys.update((device, int(row[0])) for row in series["values"])
    return keys
