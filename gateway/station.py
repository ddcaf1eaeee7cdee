"""One station's data logger as a gateway plays it: polls the station's devices, keeps
every message on disk first, and hands them to the broker oldest first over the station's
own MQTT connection (its credential, its last will), forgetting each only on PUBACK."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import orjson
import paho.mqtt.client as mqtt
import structlog

from gateway.buffer import MessageBuffer
from gateway.sunspec import DeviceUnreachable
from pvmon.settings import MqttEndpoint
from pvmon.telemetry import (
    ALARM_CODE_BASE,
    GatewayEvent,
    Reading,
    event_topic,
    status_topic,
    telemetry_topic,
)

log = structlog.get_logger("gateway")
INFLIGHT = 100
"""Messages handed to paho and not yet acknowledged, at most."""


class Device(Protocol):
    def poll(self, ts: int) -> Reading: ...

    def close(self) -> None: ...


def new_alarms(before: int | None, after: int | None) -> list[int]:
    """The ``Evt1`` bits set in ``after`` that were not set in ``before`` (every set bit
    when nothing was known before)."""
    if not after:
        return []
    fresh = after & ~(before or 0)
    return [bit for bit in range(32) if fresh >> bit & 1]


@dataclass
class Polled:
    answering: bool = True
    evt1: int | None = None


class StationGateway:
    def __init__(
        self,
        station_id: str,
        devices: Mapping[str, Device],
        endpoint: MqttEndpoint,
        password: str | None,
        buffer: MessageBuffer,
    ) -> None:
        self.station_id = station_id
        self.devices = dict(devices)
        self.buffer = buffer
        self.state = {serial: Polled() for serial in self.devices}
        self._lock = threading.Lock()
        self._inflight: dict[int, int] = {}
        """paho's message id → the buffer's sequence number."""
        self._handed: set[int] = set()
        self.client = mqtt.Client(
            # The buffer is what survives; a clean session keeps no second copy in the broker.
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=station_id,
            clean_session=True,
        )
        self.client.username_pw_set(station_id, password)
        self.client.will_set(status_topic(station_id), b"offline", qos=1, retain=True)
        if endpoint.tls:
            self.client.tls_set()
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_publish = self._acked
        self.client.reconnect_delay_set(1, 30)
        self.endpoint = endpoint

    def start(self) -> None:
        self.client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=60)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.publish(status_topic(self.station_id), b"offline", qos=1, retain=True)
        self.client.disconnect()
        self.client.loop_stop()
        for device in self.devices.values():
            device.close()

    def poll(self, ts: int) -> None:
        """Read every device once; readings, alarms and silences go to the buffer."""
        for serial, device in self.devices.items():
            seen = self.state[serial]
            try:
                reading = device.poll(ts)
            except DeviceUnreachable as exc:
                if seen.answering:
                    log.warning("device_not_answering", station=self.station_id, device=serial)
                    self._event(serial, ts, GatewayEvent.NO_RESPONSE, str(exc))
                seen.answering = False
                continue
            if not seen.answering:
                self._event(serial, ts, GatewayEvent.ANSWERS_AGAIN, None)
                seen.answering = True
            for bit in new_alarms(seen.evt1, reading.Evt1):
                self._event(serial, ts, ALARM_CODE_BASE + bit, None, reading.Evt1)
            seen.evt1 = reading.Evt1
            self.buffer.hold(telemetry_topic(self.station_id, serial), reading.payload())
        self.pump()

    def _event(
        self, serial: str, ts: int, code: int, text: str | None, evt1: int | None = None
    ) -> None:
        body = {"ts": ts, "code": int(code), "Evt1": evt1, "text": text}
        payload = orjson.dumps({k: v for k, v in body.items() if v is not None})
        self.buffer.hold(event_topic(self.station_id, serial), payload)

    def pump(self) -> None:
        """Hand the oldest held messages to the broker, as many as the window allows."""
        if not self.client.is_connected():
            return
        with self._lock:
            room = INFLIGHT - len(self._inflight)
            if room <= 0:
                return
            for held in self.buffer.oldest(room + len(self._handed)):
                if held.seq in self._handed:
                    continue
                info = self.client.publish(held.topic, held.payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    return
                self._inflight[info.mid] = held.seq
                self._handed.add(held.seq)

    @property
    def held(self) -> int:
        return len(self.buffer)

    def _connected(self, client: mqtt.Client, *_args: object) -> None:
        log.info("gateway_connected", station=self.station_id)
        client.publish(status_topic(self.station_id), b"online", qos=1, retain=True)
        threading.Thread(target=self.pump, daemon=True).start()

    def _disconnected(self, *_args: object) -> None:
        with self._lock:
            # What was handed over and not acknowledged is sent again from the buffer.
            self._inflight.clear()
            self._handed.clear()
        log.warning("gateway_disconnected", station=self.station_id, held=len(self.buffer))

    def _acked(self, _client: mqtt.Client, _userdata: object, mid: int, *_args: object) -> None:
        with self._lock:
            seq = self._inflight.pop(mid, None)
            if seq is None:
                return
            self._handed.discard(seq)
            self.buffer.sent(seq)
        if not self._inflight:
            threading.Thread(target=self.pump, daemon=True).start()
