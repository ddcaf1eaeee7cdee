"""The MQTT side of ingest as the parse/write loop sees it: batches in, acknowledgements out.

The MQTT session itself runs in a receiver process (ingest/receiver_process.py). This handle starts
it, turns its pipe into batches, connection state and counts, and starts a new receiver
(with fresh session numbers) if one dies; the broker redelivers whatever the dead one had
not acknowledged, because its session is persistent.
"""

from __future__ import annotations

import contextlib
import functools
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable
from multiprocessing.connection import Connection

import structlog

from ingest import receiver_process
from ingest.batch import Inbound
from ingest.counters import Counters
from pvmon.settings import MqttEndpoint

log = structlog.get_logger(__name__)
RESTART_DELAY_S = 1.0
STOP_TIMEOUT_S = 10.0
SESSIONS_PER_RECEIVER = 1 << 32


def subscription(shared_group: str | None) -> str:
    return f"$share/{shared_group}/pv/#" if shared_group else "pv/#"


class ReceiverHandle:
    """Receives QoS 1 messages with manual acknowledgement, in whole batches.

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
        batch_size: int,
        batch_max_wait_s: float,
        counters: Counters,
        log_level: str = "info",
        retire: bool = False,
    ) -> None:
        self.topic = topic
        self.counters = counters
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.drained = threading.Event()
        """Retiring: the session holds nothing more (ingest/receiver_process.py)."""
        self.waiting = 0
        """Messages the receiver held after handing over its last batch."""
        self._config = functools.partial(
            receiver_process.ReceiverConfig,
            host=endpoint.host,
            port=endpoint.port,
            username=endpoint.username,
            password=endpoint.password,
            tls=endpoint.tls,
            client_id=client_id,
            topic=topic,
            receive_maximum=receive_maximum,
            session_expiry_s=session_expiry_s,
            keepalive_s=keepalive_s,
            batch_size=batch_size,
            batch_max_wait_s=batch_max_wait_s,
            log_level=log_level,
            retire=retire,
        )
        self._batches: queue.Queue[list[Inbound]] = queue.Queue()
        self._stopping = threading.Event()
        self._send_lock = threading.Lock()
        self._generation = 0
        self._conn: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pump = threading.Thread(target=self._supervise, name="ingest-receiver", daemon=True)

    # --- what the loop uses ----------------------------------------------------------

    def start(self) -> None:
        """Start the receiver and ask for the first batch."""
        self._spawn()
        self._pump.start()
        self.request(())

    def take(self, timeout: float) -> list[Inbound]:
        """The next batch, or an empty list when none came within ``timeout``."""
        try:
            return self._batches.get(timeout=timeout)
        except queue.Empty:
            return []

    def request(self, stored: Iterable[Inbound]) -> None:
        """Acknowledge ``stored`` (QoS 0 needs none) and ask for the next batch. A message
        whose connection is gone is not acknowledged: the broker sends it again on the
        session's next connection, and rewriting it is harmless."""
        acks = [(m.mid, m.qos, m.session) for m in stored if m.qos]
        with self._send_lock:
            if self._conn is None:
                return
            try:
                self._conn.send(acks)
            except OSError as exc:  # the receiver died; the pump restarts it and asks again
                log.warning("mqtt_receiver_unreachable", error=str(exc)[:200])

    def stop(self) -> None:
        """Disconnect cleanly; unacknowledged messages stay in the broker's session."""
        self._stopping.set()
        with self._send_lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(None)
        if self._process is not None:
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("mqtt_receiver_killed", pid=self._process.pid)
                self._process.kill()
                self._process.wait()
        if self._pump.is_alive():
            self._pump.join(STOP_TIMEOUT_S)
        self.connected.clear()

    # --- the receiver process --------------------------------------------------------

    def _spawn(self) -> None:
        """Start ``python -m ingest.receiver_process`` on one end of a socket pair. A plain
        subprocess rather than multiprocessing's spawn, which would re-import this
        program's ``__main__`` (the whole CLI) in the child; the pipe speaks
        multiprocessing's ``Connection`` protocol all the same."""
        config = self._config(session_base=self._generation * SESSIONS_PER_RECEIVER)
        self._generation += 1
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", "ingest.receiver_process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
            )
        conn = Connection(ours.detach())
        try:
            conn.send(config)
        except OSError as exc:  # it died at once: reading its pipe ends, and it is restarted
            log.warning("mqtt_receiver_unreachable", error=str(exc)[:200])
        with self._send_lock:
            self._conn, self._process = conn, process
        log.info("mqtt_receiver_started", pid=process.pid, generation=self._generation)

    def _supervise(self) -> None:
        while True:
            assert self._conn is not None
            assert self._process is not None
            self._read_until_closed(self._conn)
            if self._stopping.is_set():
                return
            with self._send_lock:
                self._conn.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(STOP_TIMEOUT_S)
            log.error(
                "mqtt_receiver_died",
                pid=self._process.pid,
                exitcode=self._process.returncode,
                restart_in_s=RESTART_DELAY_S,
            )
            self.connected.clear()
            self.counters.add(receiver_restarts=1)
            if self._stopping.wait(RESTART_DELAY_S):
                return
            self._spawn()
            self.request(())

    def _read_until_closed(self, conn: Connection) -> None:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            kind = message[0]
            if kind == "batch":
                _, rows, self.waiting, held_back = message
                if held_back:
                    self.counters.add(queue_full_waits=held_back)
                self._batches.put([Inbound(*row) for row in rows])
            elif kind == "acked":
                self.counters.add(acked=message[1], acks_for_lost_connections=message[2])
            elif kind == "drained":
                self.drained.set()
            elif kind == "state":
                _, connected, subscribed = message
                (self.connected.set if connected else self.connected.clear)()
                (self.subscribed.set if subscribed else self.subscribed.clear)()
