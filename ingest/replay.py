"""Drain the spool into InfluxDB, oldest batch first, whenever InfluxDB answers."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy.orm import Session, sessionmaker

from ingest.counters import Counters
from ingest.deadletter import DeadLetterRows
from ingest.late import stamp_late
from ingest.sink import Stopping, retry_transient, write_splitting
from ingest.spool import Spool, SpoolEntry
from pvmon.db import tables
from pvmon.telemetry import Reason

log = structlog.get_logger(__name__)
IDLE_WAIT_S = 0.2


class Replayer:
    """A thread that writes spooled batches in order; a batch leaves the spool only after
    its points are in InfluxDB and its late days are recorded, so a crash at any moment
    replays at most one batch again (rewriting a point is harmless)."""

    def __init__(
        self,
        spool: Spool,
        influx_write: Callable[[Sequence[str]], None],
        sessions: sessionmaker[Session],
        dead_letters: DeadLetterRows,
        counters: Counters,
        stop: threading.Event,
        max_backoff_s: float,
    ) -> None:
        self.spool = spool
        self.influx_write = influx_write
        self.sessions = sessions
        self.dead_letters = dead_letters
        self.counters = counters
        self.stop = stop
        self.max_backoff_s = max_backoff_s
        self._thread = threading.Thread(target=self._run, name="ingest-replay", daemon=True)

    def start(self) -> None:
        if not self.spool.is_empty():
            log.info(
                "spool_found", batches=self.spool.depth.batches, points=self.spool.depth.points
            )
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        delay = 0.5
        while not self.stop.is_set():
            head = self.spool.oldest()
            if head is None:
                self.stop.wait(IDLE_WAIT_S)
                continue
            try:
                done = self._replay(*head)
            except Stopping:
                return
            if done:
                delay = 0.5
            elif self.stop.wait(delay):
                return
            else:
                delay = min(self.max_backoff_s, delay * 2)

    def _replay(self, seq: int, entry: SpoolEntry) -> bool:
        """Write one spooled batch; False when InfluxDB stopped answering part-way."""
        outcome = write_splitting(self.influx_write, entry.lines)
        refused = [(entry.topics[i], entry.lines[i], error) for i, error in outcome.refused]
        written = len(entry.lines) - len(outcome.unwritten) - len(refused)
        if outcome.error:
            self.counters.add(write_retries=1)
            log.warning("spool_replay_waiting", owed=len(outcome.unwritten), error=outcome.error)
            self._settle(refused, [])
            if refused or written:
                rest = SpoolEntry(
                    lines=[entry.lines[i] for i in outcome.unwritten],
                    topics=[entry.topics[i] for i in outcome.unwritten],
                    late_days=entry.late_days,
                )
                self.spool.replace(seq, rest)
        else:
            self._settle(refused, entry.late_days)
            self.spool.remove(seq)
        self.counters.add(points_written=written, points_replayed=written)
        self.counters.reject(Reason.STORE_REJECTED, len(refused))
        if not outcome.error and self.spool.is_empty():
            log.info("spool_drained")
        return outcome.error is None

    def _settle(
        self, refused: list[tuple[str, str, str]], late_days: list[tuple[str, dt.date, float]]
    ) -> None:
        """Dead-letter what InfluxDB refused for good; record the late days now stored."""

        def write() -> None:
            with self.sessions.begin() as session:
                if refused:
                    session.execute(
                        tables.DeadLetter.__table__.insert(),
                        [self._dead_letter(topic, line, error) for topic, line, error in refused],
                    )
                stamp_late(session, late_days)

        if refused or late_days:
            retry_transient("relational store", write, self.counters, self.stop, self.max_backoff_s)

    def _dead_letter(self, topic: str, line: str, error: str) -> dict[str, object]:
        return self.dead_letters.row(
            dt.datetime.now(dt.UTC),
            topic,
            line.encode(),
            str(Reason.STORE_REJECTED),
            f"refused when replayed from the spool: {error}",
        )
