"""The simulation loop: the fleet's loggers publish what their inverters measure.

Every device reports on its logger's grid (ts ≡ phase mod interval) and once at start-up.
Its lifetime counter gathers the energy of each grid interval, so a run that continues an
earlier one (through the state file) publishes the same counter the earlier run would have.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import orjson
import structlog

from pvmon.domain import StationKind
from pvmon.settings import MqttEndpoint
from pvmon.telemetry import ALARM_CODE_BASE, Reason, event_topic, telemetry_topic
from simulators.clock import SimClock
from simulators.fleet_arrays import SimFleet
from simulators.logger import DataLogger, Outgoing
from simulators.malformed import Injection, make_injection
from simulators.model import FleetModel
from simulators.mqttpool import AsyncConnection
from simulators.readings import FAULT_EVENT_BIT, ReadingGenerator, next_on_grid
from simulators.report import Report, Sent
from simulators.scenario import (
    ActiveFault,
    FaultKind,
    PlannedInjection,
    Scenario,
    plan_injections,
    resolve_faults,
)
from simulators.sky import SkyModel
from simulators.state import initial_counters, load_state, save_state

log = structlog.get_logger(__name__)

TICK_S = 0.05
MAX_IN_FLIGHT = 50_000
"""Publishes awaiting the broker's acknowledgement before the simulation waits for it."""
FLUSH_PER_TICK = 2_000
STATE_EVERY_S = 60.0


@dataclass(frozen=True)
class SimOptions:
    mqtt: MqttEndpoint
    start: float
    speed: float = 1.0
    seed: int = 1
    duration_s: float | None = None
    scenario: Scenario | None = None
    late_window_s: float = 14 * 86400
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    state_path: Path | None = None
    report_path: Path | None = None
    publish_log_path: Path | None = None
    connect_concurrency: int = 64
    passwords: dict[str, str] = field(default_factory=dict)
    """Each logger's broker password, by station (none: anonymous)."""


class Simulation:
    def __init__(self, fleet: SimFleet, options: SimOptions) -> None:
        self.fleet = fleet
        self.o = options
        self.start = int(options.start)
        self.end = self.start + int(options.duration_s) if options.duration_s else None
        self.model = FleetModel(fleet, SkyModel(fleet.townships, options.tz, options.seed))
        scenario = options.scenario or Scenario()
        self.faults = resolve_faults(scenario, fleet, self.start, options.seed, options.tz)
        self.injections: list[PlannedInjection] = plan_injections(scenario, self.start)
        self.rng = random.Random(options.seed)
        self.report = Report(start=self.start)
        self.report.faults = [self._describe(f) for f in self.faults]
        self.loggers = [
            DataLogger(s.id, options.mqtt, self.report, options.passwords.get(s.id))
            for s in fleet.stations
        ]
        self.rogue: AsyncConnection | None = None
        self.next_due = np.full(fleet.size, self.start, dtype=np.int64)
        self._fault_started: set[int] = set()
        self._fault_ended: set[int] = set()
        self._rogue_pending: dict[int, Sent] = {}
        self._emitted_until = self.start
        """Every grid point up to here is in the counters (the initial ones cover ``start``)."""

    # --- lifecycle -------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> Report:
        clock = SimClock(self.start, self.o.speed)
        saved = load_state(self.o.state_path, self.o.seed)
        counters = initial_counters(self.fleet, self.model, saved, self.start)
        self.generator = ReadingGenerator(self.fleet, self.model, self.faults, counters, self.start)
        if self.o.publish_log_path:
            self.o.publish_log_path.parent.mkdir(parents=True, exist_ok=True)
            self.report.publish_log = self.o.publish_log_path.open("w", encoding="utf-8")
        try:
            await self._connect_all()
            log.info(
                "simulation_started",
                stations=len(self.loggers),
                devices=self.fleet.size,
                start=dt.datetime.fromtimestamp(self.start, self.o.tz).isoformat(),
                speed=self.o.speed,
                faults=len(self.faults),
                malformed=len(self.injections),
            )
            await self._loop(clock, stop)
            await self._drain()
        finally:
            await self._close_all()
            self.report.end = self._emitted_until
            self._save_state()
            if self.report.publish_log:
                self.report.publish_log.close()
            if self.o.report_path:
                self.report.write(self.o.report_path)
        return self.report

    async def _connect_all(self) -> None:
        gate = asyncio.Semaphore(self.o.connect_concurrency)

        async def one(logger: DataLogger) -> None:
            async with gate:
                await logger.connect()

        await asyncio.gather(*(one(logger) for logger in self.loggers))
        if any(p.reason == Reason.UNKNOWN_STATION for p in self.injections):
            # A client that is no logger at all publishes for a station nobody registered.
            self.rogue = AsyncConnection(f"rogue-{self.o.seed}", on_ack=self._rogue_acked)
            await self.rogue.connect(self.o.mqtt.host, self.o.mqtt.port)

    async def _loop(self, clock: SimClock, stop: asyncio.Event) -> None:
        last_misc = last_state = time.monotonic()
        while not stop.is_set():
            now = int(clock.now())
            horizon = now if self.end is None else min(now, self.end)
            await self._link_faults(horizon)
            if self._in_flight() < MAX_IN_FLIGHT:
                self._fault_events(horizon)
                self._emit_due(horizon)
                self._inject(horizon)
            for logger in self.loggers:
                if logger.backlog:
                    logger.flush(FLUSH_PER_TICK)
            if time.monotonic() - last_misc >= 1:
                for logger in self.loggers:
                    logger.tick()
                if self.rogue is not None:
                    self.rogue.tick()
                last_misc = time.monotonic()
            if time.monotonic() - last_state >= STATE_EVERY_S:
                self._save_state()
                last_state = time.monotonic()
            if self.end is not None and now >= self.end and not self._due_before(self.end):
                return
            await asyncio.sleep(TICK_S)

    async def _drain(self, timeout: float = 60.0) -> None:
        """Let stored backlogs go out and the broker acknowledge what is in flight."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for logger in self.loggers:
                logger.flush(FLUSH_PER_TICK)
            if not self._in_flight() and not any(lg.backlog and lg.online for lg in self.loggers):
                return
            await asyncio.sleep(TICK_S)
        log.warning("drain_timeout", in_flight=self._in_flight())

    async def _close_all(self, timeout: float = 10.0) -> None:
        """Sign every logger off, wait for the broker to confirm, then disconnect."""
        for logger in self.loggers:
            logger.sign_off()
        deadline = time.monotonic() + timeout
        while self._in_flight() and time.monotonic() < deadline:
            await asyncio.sleep(TICK_S)
        self.report.unconfirmed += self._in_flight()
        for logger in self.loggers:
            logger.close()
        if self.rogue is not None:
            self.rogue.close()
        while time.monotonic() < deadline and any(lg.online for lg in self.loggers):
            await asyncio.sleep(TICK_S)

    def _in_flight(self) -> int:
        return sum(len(lg.pending) for lg in self.loggers) + len(self._rogue_pending)

    def _due_before(self, moment: int) -> bool:
        return bool((self.next_due <= moment).any())

    # --- readings ----------------------------------------------------------------------

    def _emit_due(self, horizon: int) -> None:
        while True:
            idx = np.nonzero(self.next_due <= horizon)[0]
            if not idx.size:
                self._emitted_until = max(self._emitted_until, horizon)
                return
            ts = self.next_due[idx]
            self._emit(idx, ts)
            self.next_due[idx] = next_on_grid(self.fleet, idx, ts)

    def _emit(self, idx: np.ndarray, ts: np.ndarray) -> None:
        batch = self.generator.readings(idx, ts)
        self.report.dropped_at_source += int(batch.lost.sum())
        for row in batch.rows():
            values = {k: v[row] for k, v in batch.fields.items()}
            self._publish_reading(int(idx[row]), int(ts[row]), int(batch.stamped[row]), values)

    def _publish_reading(
        self, device: int, ts: int, stamped: int, values: dict[str, np.generic]
    ) -> None:
        """A reading taken at ``ts``, stamped by its logger's clock with ``stamped``."""
        station = self.fleet.stations[int(self.fleet.station_of[device])]
        body: dict[str, object] = {"ts": self._timestamp(station.kind, stamped)}
        body.update({k: v.item() for k, v in values.items()})
        device_id = self.fleet.device_ids[device]
        record = {
            "station": station.id,
            "device": device_id,
            "ts": stamped,
            "W": body["W"],
            "WH": body["WH"],
            "St": body["St"],
        }
        message = Outgoing(
            telemetry_topic(station.id, device_id),
            orjson.dumps(body),
            Sent("telemetry", station.id, record),
        )
        self._route(int(self.fleet.station_of[device]), ts, message)

    def _timestamp(self, kind: StationKind, ts: int) -> int | str:
        """Household loggers (another vendor) send RFC 3339 local time; the others epoch s."""
        if kind == StationKind.HOUSEHOLD:
            return dt.datetime.fromtimestamp(ts, self.o.tz).isoformat()
        return ts

    def _route(self, station: int, ts: int, message: Outgoing) -> None:
        for fault in self.faults:
            if station in fault.stations and fault.covers(ts):
                if fault.kind == FaultKind.COMM_LOSS:
                    self.report.dropped_at_source += 1
                    return
                if fault.kind == FaultKind.BACKLOG:
                    self.loggers[station].hold(message)
                    return
        self.loggers[station].send(message)

    # --- faults and injections ---------------------------------------------------------

    async def _link_faults(self, horizon: int) -> None:
        for fault in self.faults:
            if fault.kind not in (FaultKind.COMM_LOSS, FaultKind.BACKLOG):
                continue
            key = id(fault)
            if key not in self._fault_started and fault.start <= horizon:
                self._fault_started.add(key)
                await asyncio.gather(*(self.loggers[s].drop_link() for s in fault.stations))
                log.info("link_lost", kind=str(fault.kind), stations=len(fault.stations))
            if (
                key in self._fault_started
                and key not in self._fault_ended
                and fault.end is not None
                and fault.end <= horizon
            ):
                self._fault_ended.add(key)
                await asyncio.gather(*(self.loggers[s].reconnect() for s in fault.stations))
                log.info("link_restored", kind=str(fault.kind), stations=len(fault.stations))

    def _fault_events(self, horizon: int) -> None:
        for fault in self.faults:
            key = id(fault)
            if fault.kind != FaultKind.FAULT or key in self._fault_started:
                continue
            if fault.start > horizon:
                continue
            self._fault_started.add(key)
            for device in fault.devices:
                station = int(self.fleet.station_of[device])
                sid, did = self.fleet.stations[station].id, self.fleet.device_ids[device]
                body = {
                    "ts": fault.start,
                    "code": ALARM_CODE_BASE + FAULT_EVENT_BIT,
                    "Evt1": 1 << FAULT_EVENT_BIT,
                    "text": "ground fault / 接地故障",
                }
                self._route(
                    station,
                    fault.start,
                    Outgoing(event_topic(sid, did), orjson.dumps(body), Sent("event", sid)),
                )

    def _inject(self, horizon: int) -> None:
        while self.injections and self.injections[0].at <= horizon:
            planned = self.injections.pop(0)
            injection = make_injection(
                planned.reason, self.fleet, self.rng, planned.at, time.time(), self.o.late_window_s
            )
            self._send_injection(injection)

    def _send_injection(self, injection: Injection) -> None:
        sent = Sent(
            f"malformed:{injection.reason}",
            self.fleet.stations[injection.station].id if injection.station is not None else "rogue",
        )
        if injection.station is not None:
            self.loggers[injection.station].send(Outgoing(injection.topic, injection.payload, sent))
            return
        assert self.rogue is not None
        self._rogue_pending[self.rogue.publish(injection.topic, injection.payload)] = sent

    def _rogue_acked(self, mid: int) -> None:
        sent = self._rogue_pending.pop(mid, None)
        if sent is not None:
            self.report.confirm(sent)

    def _save_state(self) -> None:
        save_state(
            self.o.state_path, self.o.seed, self.fleet, self.generator.counters, self._emitted_until
        )

    def _describe(self, fault: ActiveFault) -> dict[str, object]:
        return {
            "kind": str(fault.kind),
            "stations": [self.fleet.stations[s].id for s in fault.stations],
            "devices": [self.fleet.device_ids[d] for d in fault.devices],
            "start": fault.start,
            "end": fault.end,
            "factor": fault.factor,
        }
