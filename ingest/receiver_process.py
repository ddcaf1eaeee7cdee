"""The MQTT half of ingest, run in a process of its own.

One persistent MQTT 5 session, driven from a single thread through paho's external-loop
interface (``loop_read`` / ``loop_write`` / ``loop_misc`` around our own ``select``), collects
messages into batches, hands each batch whole to the parent over a pipe when the parent asks
for one, and acknowledges exactly the messages the parent reports stored.

Why a process, and why our own loop rather than ``loop_start()``: with paho's network thread,
the parse/write thread and the acknowledgements in one interpreter, the two halves took turns
on one GIL and ingest drained a backlog at under half the rate a bare subscriber reaches
(profile and figures in docs/scaling.md). Split, each half has a core; and one thread here
means no lock hand-offs and no wake-up byte per acknowledgement.

Protocol over the pipe (tuples and lists, cheap to pickle):
  parent → child: a list of ``(mid, qos, session)`` to acknowledge, which also asks for the
                  next batch; ``None`` to disconnect and exit.
  child → parent: ``("state", connected, subscribed)`` on every change;
                  ``("batch", rows, pending_after, held_back)`` with rows
                  ``(topic, payload, mid, qos, received_at, session)``;
                  ``("acked", acknowledged, stale)`` after each list of acknowledgements;
                  ``("drained",)`` once a retiring receiver's session is empty.
"""

from __future__ import annotations

import select
import signal
import ssl
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from pvmon.logs import configure_logging

log = structlog.get_logger(__name__)

Row = tuple[str, bytes, int, int, float, int]
READ_BURST = 512
"""Packets read per readable socket before looking at the pipe again (paho's ``loop_read``
reads one packet per call)."""
QOS0_MARGIN = 1000
"""QoS 1 traffic is bounded by the receive maximum; QoS 0 beyond this margin waits in the
socket (TCP pushes back on the broker) rather than in memory."""
MISC_EVERY_S = 0.5
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 30.0
RETIRE_QUIET_S = 2.0
"""A retiring receiver has drained its session once nothing arrived for this long after
the broker confirmed the unsubscription and everything handed over was acknowledged."""


@dataclass(frozen=True)
class ReceiverConfig:
    """Plain values only: this process imports neither pydantic nor the settings."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    client_id: str
    topic: str
    receive_maximum: int
    session_expiry_s: int
    keepalive_s: int
    batch_size: int
    batch_max_wait_s: float
    session_base: int
    """Sessions count up from here, so a restarted receiver never reuses a number."""
    retire: bool = False
    """Leave the shared group for good: unsubscribe, drain what the session still holds,
    then end the session (see ``Receiver._drained``)."""
    log_level: str = "info"
    log_json: bool | None = None


def main() -> None:
    """``python -m ingest.receiver_process FD``: FD is the parent's end of a socket pair, over which
    the first message is the ``ReceiverConfig`` (not argv: it holds the broker password).
    The parent decides when to stop, or dies and closes the pipe."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    conn = Connection(int(sys.argv[1]))
    config: ReceiverConfig = conn.recv()
    configure_logging(config.log_level, json=config.log_json)
    try:
        Receiver(config, conn).run()
    except (EOFError, BrokenPipeError, ConnectionResetError) as exc:  # the pipe: parent gone
        log.warning("ingest_parent_gone", worker=config.client_id, error=str(exc)[:200])


class Receiver:
    def __init__(self, config: ReceiverConfig, conn: Connection) -> None:
        self.cfg = config
        self.conn = conn
        self.pending: deque[Row] = deque()
        self.bound = config.receive_maximum + QOS0_MARGIN
        self.session = config.session_base
        self.connected = False
        self.subscribed = False
        self.wanted_at: float | None = None
        self.held_back = 0
        self.outstanding = 0
        """QoS 1 messages handed to the parent and not yet reported stored."""
        self.unsubscribed_at: float | None = None
        self.last_message_at = 0.0
        self.drained = False
        self.reconnect_delay = RECONNECT_MIN_S
        self.next_attempt = 0.0
        self.last_misc = 0.0
        self.client = self._client()

    def _client(self) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.cfg.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if self.cfg.username:
            client.username_pw_set(self.cfg.username, self.cfg.password)
        if self.cfg.tls:
            client.tls_set_context(ssl.create_default_context())
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        client.on_message = self._on_message
        # Writes happen in our loop when the socket is writable, never inside paho calls.
        client.on_socket_register_write = lambda *_: None
        client.on_socket_unregister_write = lambda *_: None
        return client

    # --- the loop --------------------------------------------------------------------

    def run(self) -> None:
        while True:
            sock = self.client.socket()
            if sock is None:
                self._connect_when_due()
                sock = self.client.socket()
            readers: list[Any] = [self.conn]
            if sock is not None and len(self.pending) < self.bound:
                readers.append(sock)
            writers = [sock] if sock is not None and self.client.want_write() else []
            buffered = sock is not None and hasattr(sock, "pending") and sock.pending() > 0
            ready, writable, _ = select.select(readers, writers, [], self._timeout(buffered))
            if sock is not None and (sock in ready or buffered):
                self._read()
            if writable and self.client.socket() is not None:
                self.client.loop_write()
            if self.conn in ready and not self._from_parent():
                return
            self._hand_over()
            self._misc()
            if self.cfg.retire and not self.drained and self._drained():
                self.drained = True
                self.conn.send(("drained",))

    def _timeout(self, buffered: bool) -> float:
        if buffered:
            return 0.0
        now = time.monotonic()
        timeout = MISC_EVERY_S
        if self.client.socket() is None:
            timeout = min(timeout, max(0.0, self.next_attempt - now))
        if self.wanted_at is not None and self.pending:
            timeout = min(timeout, max(0.0, self._due() - time.time()))
        return timeout

    def _read(self) -> None:
        for _ in range(READ_BURST):
            before = len(self.pending)
            if self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                return
            if len(self.pending) >= self.bound:
                self.held_back += 1
                return
            if len(self.pending) == before:
                return

    def _misc(self) -> None:
        now = time.monotonic()
        if now - self.last_misc >= MISC_EVERY_S and self.client.socket() is not None:
            self.last_misc = now
            self.client.loop_misc()

    # --- the parent ------------------------------------------------------------------

    def _from_parent(self) -> bool:
        """Act on the parent's message; False when the receiver should exit."""
        acks = self.conn.recv()
        if acks is None:
            self._disconnect()
            return False
        acknowledged = stale = 0
        self.outstanding -= sum(1 for _, _, session in acks if session >= self.cfg.session_base)
        for mid, qos, session in acks:
            if session == self.session and self.connected:
                self.client.ack(mid, qos)
                acknowledged += 1
            else:
                stale += 1  # its connection is gone: the broker will send it again
        if self.client.socket() is not None and self.client.want_write():
            self.client.loop_write()
        self.conn.send(("acked", acknowledged, stale))
        self.wanted_at = time.time()
        return True

    def _due(self) -> float:
        assert self.wanted_at is not None
        return max(self.wanted_at, self.pending[0][4]) + self.cfg.batch_max_wait_s

    def _hand_over(self) -> None:
        """Send the parent a batch when it asked for one and one is ready: full, or its
        oldest message has waited ``batch_max_wait_s`` since the parent was ready."""
        if self.wanted_at is None or not self.pending:
            return
        if len(self.pending) < self.cfg.batch_size and time.time() < self._due():
            return
        count = min(self.cfg.batch_size, len(self.pending))
        rows = [self.pending.popleft() for _ in range(count)]
        self.outstanding += sum(1 for row in rows if row[3])
        self.conn.send(("batch", rows, len(self.pending), self.held_back))
        self.held_back = 0
        self.wanted_at = None

    def _drained(self) -> bool:
        """Retiring: the broker has stopped routing to this session, every message it still
        held has arrived, been handed over and been acknowledged."""
        if not self.connected or self.unsubscribed_at is None or self.pending or self.outstanding:
            return False
        quiet_since = max(self.unsubscribed_at, self.last_message_at)
        return time.time() - quiet_since >= RETIRE_QUIET_S

    def _state(self) -> None:
        self.conn.send(("state", self.connected, self.subscribed))

    # --- the broker ------------------------------------------------------------------

    def _connect_when_due(self) -> None:
        now = time.monotonic()
        if now < self.next_attempt:
            return
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.cfg.session_expiry_s
        properties.ReceiveMaximum = self.cfg.receive_maximum
        try:
            self.client.connect(
                self.cfg.host,
                self.cfg.port,
                self.cfg.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ssl.SSLError) as exc:
            self.next_attempt = now + self.reconnect_delay
            log.warning(
                "mqtt_connect_failed",
                host=self.cfg.host,
                port=self.cfg.port,
                retry_in_s=self.reconnect_delay,
                error=str(exc)[:200],
            )
            self.reconnect_delay = min(RECONNECT_MAX_S, self.reconnect_delay * 2)

    def _disconnect(self) -> None:
        """End the connection cleanly: the session and its unacknowledged messages stay,
        unless this receiver retired and drained it, which ends the session too."""
        if self.client.socket() is None:
            return
        properties = None
        if self.drained:
            properties = Properties(PacketTypes.DISCONNECT)
            properties.SessionExpiryInterval = 0
        self.client.disconnect(properties=properties)
        deadline = time.monotonic() + 5
        while self.client.socket() is not None and time.monotonic() < deadline:
            self.client.loop_write()

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
        self.session += 1
        self.connected = True
        self.reconnect_delay = RECONNECT_MIN_S
        log.info(
            "mqtt_connected",
            host=self.cfg.host,
            port=self.cfg.port,
            session_present=flags.session_present,
            topic=self.cfg.topic,
        )
        if self.cfg.retire:
            client.unsubscribe(self.cfg.topic)
        else:
            client.subscribe(self.cfg.topic, options=SubscribeOptions(qos=1))
        self._state()

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
            log.error("mqtt_subscribe_refused", topic=self.cfg.topic, reasons=failures)
            return
        log.info("mqtt_subscribed", topic=self.cfg.topic)
        self.subscribed = True
        self._state()

    def _on_unsubscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reason_codes: list[Any],
        _properties: Any,
    ) -> None:
        log.info("mqtt_unsubscribed", topic=self.cfg.topic, reasons=[str(c) for c in reason_codes])
        self.unsubscribed_at = time.time()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason_code: Any, _props: Any
    ) -> None:
        self.connected = self.subscribed = False
        self.unsubscribed_at = None  # a retiring receiver unsubscribes again on reconnecting
        self.next_attempt = time.monotonic() + self.reconnect_delay
        if reason_code.is_failure:
            log.warning("mqtt_disconnected", reason=str(reason_code))
        else:
            log.info("mqtt_disconnected", reason=str(reason_code))
        self._state()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = repr(msg._topic)  # the broker should refuse such topics; keep it visible
        now = self.last_message_at = time.time()
        self.pending.append((topic, msg.payload, msg.mid, msg.qos, now, self.session))


if __name__ == "__main__":
    main()
