"""The MQTT side of ingest: a persistent MQTT 5 session that acknowledges only on request."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.batch import Inbound
from pvmon.settings import MqttEndpoint

log = structlog.get_logger(__name__)


def subscription(shared_group: str | None) -> str:
    return f"$share/{shared_group}/pv/#" if shared_group else "pv/#"


class MqttConsumer:
    """Receives QoS 1 messages with manual acknowledgement.

    The broker keeps the session (and every unacknowledged message) for
    ``session_expiry_s`` after a crash, and never has more than ``receive_maximum``
    unacknowledged messages in flight to this client (DESIGN §3: both must be sent
    explicitly, or a crash loses the backlog and a batch can never grow past 20).
    """

    def __init__(
        self,
        endpoint: MqttEndpoint,
        client_id: str,
        topic: str,
        *,
        receive_maximum: int,
        session_expiry_s: int,
        keepalive_s: int,
        deliver: Callable[[Inbound], None],
    ) -> None:
        self.endpoint = endpoint
        self.topic = topic
        self.receive_maximum = receive_maximum
        self.session_expiry_s = session_expiry_s
        self.keepalive_s = keepalive_s
        self._deliver = deliver
        self._session = 0
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if endpoint.username:
            client.username_pw_set(endpoint.username, endpoint.password)
        if endpoint.tls:
            client.tls_set_context(ssl.create_default_context())
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client

    @property
    def session(self) -> int:
        return self._session

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.session_expiry_s
        properties.ReceiveMaximum = self.receive_maximum
        self._client.connect_async(
            self.endpoint.host,
            self.endpoint.port,
            self.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, message: Inbound) -> bool:
        """Acknowledge a stored message; False when its connection is gone (the broker will
        deliver it again on the session's next connection, and rewriting it is harmless)."""
        if message.qos == 0:
            return True
        if message.session != self._session:
            return False
        self._client.ack(message.mid, message.qos)
        return True

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: Any,
        _properties: Any,
    ) -> None:
        if reason_code.is_failure:
            log.error("mqtt_connect_refused", reason=str(reason_code))
            return
        self._session += 1
        self.connected.set()
        log.info(
            "mqtt_connected",
            host=self.endpoint.host,
            port=self.endpoint.port,
            session_present=flags.session_present,
            topic=self.topic,
        )
        client.subscribe(self.topic, options=SubscribeOptions(qos=1))

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reason_codes: list[Any],
        _properties: Any,
    ) -> None:
        failures = [str(code) for code in reason_codes if code.is_failure]
        if failures:
            log.error("mqtt_subscribe_refused", topic=self.topic, reasons=failures)
        else:
            log.info("mqtt_subscribed", topic=self.topic)
            self.subscribed.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _properties: Any
    ) -> None:
        self.connected.clear()
        if reason_code.is_failure:
            log.warning("mqtt_disconnected", reason=str(reason_code))
        else:
            log.info("mqtt_disconnected", reason=str(reason_code))

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = repr(msg._topic)  # the broker should refuse such topics; keep it visible
        self._deliver(Inbound(topic, msg.payload, msg.mid, msg.qos, time.time(), self._session))
