"""Many paho-mqtt connections driven by one asyncio loop.

Each simulated data logger is its own MQTT connection with its own credentials and last
will, and one process drives all 2,240 of them. aiomqtt drives paho the same way, but
deliberately hides what a logger simulator needs: a broken link that makes the broker send
the will (MQTT 5 "disconnect with will message"), and the broker's acknowledgement of each
publish by packet id, which the simulator counts. So this small driver uses paho's documented
external-loop callbacks directly.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

DISCONNECT_WITH_WILL = 0x04


class MqttLinkError(Exception):
    pass


class AsyncConnection:
    def __init__(
        self,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        will: tuple[str, bytes, int, bool] | None = None,
        on_ack: Callable[[int], None] | None = None,
        keepalive: int = 60,
        max_inflight: int = 200,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.keepalive = keepalive
        self._on_ack = on_ack
        self._connected: asyncio.Future[None] | None = None
        self.is_connected = False
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        if username:
            client.username_pw_set(username, password)
        if will:
            client.will_set(*will)
        client.max_inflight_messages_set(max_inflight)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        self.client = client

    async def connect(self, host: str, port: int, timeout: float = 20.0) -> None:
        self._connected = self.loop.create_future()
        try:
            # paho's connect() blocks on the TCP handshake: run it off the loop.
            await self.loop.run_in_executor(
                None, lambda: self.client.connect(host, port, self.keepalive, clean_start=True)
            )
        except OSError as exc:
            raise MqttLinkError(f"cannot reach {host}:{port}: {exc}") from None
        try:
            await asyncio.wait_for(self._connected, timeout)
        except TimeoutError:
            raise MqttLinkError(f"no CONNACK from {host}:{port} within {timeout:.0f} s") from None

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttLinkError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
        return info.mid

    def drop_link(self) -> None:
        """Lose the link as a logger's modem does: the broker publishes the last will."""
        self.client.disconnect(
            reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=DISCONNECT_WITH_WILL)
        )

    def close(self) -> None:
        self.client.disconnect()

    def tick(self) -> None:
        """Keepalive and retries; call about once a second."""
        if self.client.socket() is not None:
            self.client.loop_misc()

    # --- paho callbacks (on the loop, or on the executor thread during connect) --------

    def _on_connect(
        self, _c: mqtt.Client, _u: Any, _flags: Any, reason: ReasonCode, _props: Any
    ) -> None:
        def settle() -> None:
            if self._connected is None or self._connected.done():
                return
            if reason.is_failure:
                self._connected.set_exception(MqttLinkError(f"connection refused: {reason}"))
            else:
                self.is_connected = True
                self._connected.set_result(None)

        self.loop.call_soon_threadsafe(settle)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _reason: Any, _p: Any) -> None:
        self.is_connected = False

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        if self._on_ack is not None and not reason.is_failure:
            self._on_ack(mid)

    def _on_socket_open(self, client: mqtt.Client, _u: Any, sock: socket.socket) -> None:
        def read() -> None:
            client.loop_read()

        self.loop.call_soon_threadsafe(self.loop.add_reader, sock.fileno(), read)

    def _on_socket_close(self, _client: mqtt.Client, _u: Any, sock: socket.socket) -> None:
        fd = sock.fileno()
        if fd > -1:
            self.loop.remove_reader(fd)
            self.loop.remove_writer(fd)

    def _on_register_write(self, client: mqtt.Client, _u: Any, sock: socket.socket) -> None:
        self.loop.call_soon_threadsafe(self.loop.add_writer, sock.fileno(), client.loop_write)

    def _on_unregister_write(self, _client: mqtt.Client, _u: Any, sock: socket.socket) -> None:
        self.loop.remove_writer(sock.fileno())
