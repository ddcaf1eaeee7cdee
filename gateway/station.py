"""One station's data logger as a gateway plays it: polls the station's devices, keeps
every message on disk first, and hands them to the broker oldest first over the station's
own MQTT connection (its credential, its last will), forgetting each only on PUBACK."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
import paho.mqtt.client as mqtt
import structlog

from gateway.buffer import MessageBuffer
from gateway.device import CatchingUp, Device, DeviceUnreachable
from pvmon.settings import MqttEndpoint
from pvmon.telemetry import (
    ALARM_CODE_BASE,
    GatewayEvent,
    event_topic,
    status_topic,
    telemetry_topic,
)

log = structlog.get_logger("gateway")
INFLIGHT = 100
"""Messages handed to paho and not yet acknowledged, at most."""
PUMP_S = 0.2
"""How often acknowledgements are looked at and the backlog moved on."""


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
        self._inflight: dict[int, tuple[mqtt.MQTTMessageInfo, int]] = {}
        """paho's message id → (its delivery, the buffer's sequence number)."""
        self._stopped = threading.Event()
        self._pumper = threading.Thread(target=self._pump_forever, daemon=True)
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
        self.client.reconnect_delay_set(1, 30)
        self.endpoint = endpoint

    def start(self) -> None:
        self.client.connect_async(self.endpoint.host, self.endpoint.port, keepalive=60)
        self.client.loop_start()
        self._pumper.start()

    def stop(self) -> None:
        self._stopped.set()
        self._pumper.join(5)
        self.pump()
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
            topic = telemetry_topic(self.station_id, serial)
            for earlier in device.missed() if isinstance(device, CatchingUp) else []:
                self.buffer.hold(topic, earlier.payload())
            self.buffer.hold(topic, reading.payload())
        self.pump()

    def _event(
        self, serial: str, ts: int, code: int, text: str | None, evt1: int | None = None
    ) -> None:
        body = {"ts": ts, "code": int(code), "Evt1": evt1, "text": text}
        payload = orjson.dumps({k: v for k, v in body.items() if v is not None})
        self.buffer.hold(event_topic(self.station_id, serial), payload)

    def pump(self) -> None:
        """Forget what the broker has acknowledged; hand it the oldest held messages, as
        many as the window allows. paho keeps what it was handed across a reconnection
        and sends it again; only an acknowledged message leaves the disk."""
        with self._lock:
            for mid, (info, seq) in list(self._inflight.items()):
                if info.is_published():
                    self.buffer.sent(seq)
                    del self._inflight[mid]
            if not self.client.is_connected():
                return
            handed = {seq for _, seq in self._inflight.values()}
            room = INFLIGHT - len(self._inflight)
            for held in self.buffer.oldest(room + len(handed)) if room > 0 else []:
                if held.seq in handed:
                    continue
                info = self.client.publish(held.topic, held.payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    return
                self._inflight[info.mid] = (info, held.seq)

    def _pump_forever(self) -> None:
        while not self._stopped.wait(PUMP_S):
            self.pump()

    @property
    def held(self) -> int:
        return len(self.buffer)

    def _connected(self, client: mqtt.Client, *_args: object) -> None:
        log.info("gateway_connected", station=self.station_id)
        client.publish(status_topic(self.station_id), b"online", qos=1, retain=True)

    def _disconnected(self, *_args: object) -> None:
        log.warning("gateway_disconnected", station=self.station_id, held=len(self.buffer))
