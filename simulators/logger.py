"""A station's data logger: one MQTT connection, its last will, store-and-forward."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from pvmon.settings import MqttEndpoint
from pvmon.telemetry import status_topic
from simulators.mqttpool import AsyncConnection, MqttLinkError
from simulators.report import Report, Sent

BACKLOG_LIMIT = 200_000
"""Readings a logger can store while offline (a real logger's flash is finite)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    topic: str
    payload: bytes
    sent: Sent


class DataLogger:
    def __init__(
        self, station_id: str, endpoint: MqttEndpoint, report: Report, password: str | None = None
    ) -> None:
        self.station_id = station_id
        self.endpoint = endpoint
        self.report = report
        self.password = password
        self.connection: AsyncConnection | None = None
        self.pending: dict[int, Sent] = {}
        self.backlog: deque[Outgoing] = deque()
        self.link_lost = False

    @property
    def online(self) -> bool:
        return self.connection is not None and self.connection.is_connected

    async def connect(self) -> None:
        self.pending.clear()
        connection = AsyncConnection(
            f"logger-{self.station_id}",
            username=self.station_id,
            password=self.password,
            will=(status_topic(self.station_id), b"offline", 1, True),
            on_ack=self._acked,
        )
        await connection.connect(self.endpoint.host, self.endpoint.port)
        self.connection = connection
        self.link_lost = False
        self._publish(
            Outgoing(status_topic(self.station_id), b"online", Sent("status", self.station_id)),
            retain=True,
        )

    def send(self, message: Outgoing) -> None:
        """Publish now, or keep it for later if the link is down or a backlog is waiting."""
        if self.online and not self.link_lost and not self.backlog:
            self._publish(message)
        else:
            self.hold(message)

    def hold(self, message: Outgoing) -> None:
        if len(self.backlog) >= BACKLOG_LIMIT:
            self.backlog.popleft()
            self.report.dropped_at_source += 1
        self.backlog.append(message)

    def flush(self, limit: int) -> int:
        """Publish up to ``limit`` stored messages, oldest first."""
        sent = 0
        while self.backlog and self.online and not self.link_lost and sent < limit:
            self._publish(self.backlog.popleft())
            self.report.backlog_published += 1
            sent += 1
        return sent

    async def drop_link(self, settle_s: float = 5.0) -> None:
        """Lose the link once what is in flight is acknowledged, so every message is either
        confirmed or still held here (the broker sends the last will)."""
        if self.connection is None or not self.online:
            return
        self.link_lost = True
        deadline = asyncio.get_running_loop().time() + settle_s
        while self.pending and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        self._abandon_pending()
        self.connection.drop_link()

    async def reconnect(self) -> None:
        try:
            await self.connect()
        except MqttLinkError:
            self.link_lost = True

    def sign_off(self) -> None:
        """A clean shutdown says offline itself (the broker sends no will then)."""
        if self.connection is not None and self.online and not self.link_lost:
            message = Outgoing(
                status_topic(self.station_id), b"offline", Sent("status", self.station_id)
            )
            self._publish(message, retain=True)

    def close(self) -> None:
        if self.connection is not None and self.online:
            self.connection.close()

    def tick(self) -> None:
        if self.connection is not None:
            self.connection.tick()

    def _publish(self, message: Outgoing, retain: bool = False) -> None:
        assert self.connection is not None
        try:
            mid = self.connection.publish(message.topic, message.payload, retain=retain)
        except MqttLinkError:
            self.hold(message)
            return
        self.pending[mid] = message.sent

    def _acked(self, mid: int) -> None:
        sent = self.pending.pop(mid, None)
        if sent is not None:
            self.report.confirm(sent)

    def _abandon_pending(self) -> None:
        """Publishes in flight when the link drops are not known to have arrived."""
        self.report.unconfirmed += len(self.pending)
        self.pending.clear()
