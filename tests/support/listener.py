"""A subscriber to everything under pv/# on a real broker, for tests to read what arrived."""

from __future__ import annotations

import threading

import orjson
import paho.mqtt.client as mqtt

from launch.local.mosquitto import Mosquitto


class Heard:
    """Everything the broker delivers on pv/#, as a subscriber sees it."""

    def __init__(self, broker: Mosquitto) -> None:
        self.messages: list[tuple[str, dict[str, object]]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="listener")
        self.client.on_message = self._message
        self.client.on_connect = lambda c, *_: c.subscribe("pv/#", qos=1)
        self.client.connect(broker.options.host, broker.options.port)
        self.client.loop_start()

    def _message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        body = message.payload.decode()
        with self._lock:
            self.messages.append((message.topic, orjson.loads(body) if body[0] == "{" else body))

    def on(self, suffix: str) -> list[dict[str, object]]:
        with self._lock:
            return [b for t, b in self.messages if t.endswith(suffix) and isinstance(b, dict)]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
