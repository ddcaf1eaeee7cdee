"""The fault suite's rig: a real Mosquitto (persistence on), a real influxd, the relational
store, and ``pvmon ingest`` as separate processes that a test can kill, stop and restart.

Each case publishes a known set of messages — valid readings, each a distinct (device, ts),
with a malformed message mixed in every ``INVALID_EVERY`` — and counts what arrived; the
rows are printed as one table at the end of the run (tests/faults/conftest.py)."""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from launch.local.influxd import Influxd
from launch.local.mosquitto import Mosquitto
from launch.local.process import ManagedProcess
from pvmon.brokerauth import BrokerFiles, ingest_client_id
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.registry.schema import Registry
from tests.support.traffic import Key, Publisher, readings, stored_keys
from tests.support.waiting import wait_for

INVALID_EVERY = 100


RESULTS: list[Outcome] = []


@dataclass
class Outcome:
    fault: str
    sent_valid: int
    sent_invalid: int
    stored: int
    dead_lettered: int
    unexpected: int
    """Stored points nobody sent (must be 0)."""
    note: str = ""

    @property
    def lost(self) -> int:
        return (self.sent_valid - self.stored) + (self.sent_invalid - self.dead_lettered)


class Rig:
    def __init__(
        self,
        tmp_path: Path,
        broker: Mosquitto,
        influxd: Influxd,
        engine: Engine,
        registry: Registry,
        broker_files: BrokerFiles | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.broker_files = broker_files
        """With these, the broker admits only the registry's loggers and ingest."""
        self.broker = broker
        self.influxd = influxd
        self.engine = engine
        self.registry = registry
        self.influx = InfluxClient(influxd.url, "pvmon", timeout=5)
        provision(self.influx, raw_days=400)
        self.workers: list[ManagedProcess] = []
        self._offset = 0
        self._bad = itertools.count()

    # --- processes -------------------------------------------------------------------

    def ingest(
        self, worker_id: str = "ingest-1", *, shared_group: str | None = None, port: int = 0
    ) -> ManagedProcess:
        """Start ``pvmon ingest`` and return once it has subscribed."""
        env = self._env(worker_id, shared_group, port)
        log = self.tmp_path / f"{worker_id}.log"
        process = ManagedProcess(worker_id, [sys.executable, "-m", "launch", "ingest"], log, env)
        start = log.stat().st_size if log.exists() else 0
        process.start()
        process.wait_ready(lambda: "mqtt_subscribed" in log.read_text()[start:], timeout=60)
        self.workers.append(process)
        return process

    def retire(self, worker_id: str, *, shared_group: str) -> tuple[int | None, str]:
        """Run ``pvmon ingest --retire`` for a stopped worker id, to its end: its exit code
        (None if it ran for two minutes) and its log."""
        log = self.tmp_path / f"{worker_id}-retire.log"
        argv = [sys.executable, "-m", "launch", "ingest", "--retire"]
        env = self._env(worker_id, shared_group, 0)
        with log.open("w") as out:
            try:
                code = subprocess.run(
                    argv, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=120, check=False
                ).returncode
            except subprocess.TimeoutExpired:
                code = None
        return code, log.read_text()

    def command_env(self) -> dict[str, str]:
        """The environment a ``pvmon`` command on the rig's stores runs in."""
        return self._env("ingest-1", None, 0)

    def _env(self, worker_id: str, shared_group: str | None, port: int) -> dict[str, str]:
        credential = ""
        if self.broker_files:
            user = ingest_client_id(worker_id)
            credential = f"{user}:{self.broker_files.password_of(user)}@"
        env = {
            **os.environ,
            "PVMON_MQTT_URL": f"mqtt://{credential}127.0.0.1:{port or self.broker.options.port}",
            "PVMON_INFLUX_URL": self.influxd.url,
            "PVMON_INFLUX_DB": "pvmon",
            "PVMON_DATABASE_URL": self.engine.url.render_as_string(hide_password=False),
            "PVMON_DATA_DIR": str(self.tmp_path),
            "PVMON_INGEST__WORKER_ID": worker_id,
            "PVMON_INGEST__BATCH_SIZE": "500",
            "PVMON_INGEST__WRITE_TIMEOUT_S": "2",
            "PVMON_INGEST__RETRY_MAX_BACKOFF_S": "1",
            "PVMON_INGEST__HEARTBEAT_S": "0.5",
        }
        if shared_group:
            env["PVMON_INGEST__SHARED_GROUP"] = shared_group
        return env

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()

    def counters(self, worker_id: str) -> dict:
        with session_factory(self.engine)() as session:
            row = session.get(tables.IngestWorker, worker_id)
            return dict(row.counters) if row else {}

    # --- traffic ---------------------------------------------------------------------

    def traffic(
        self, count: int, stations: frozenset[str] | None = None
    ) -> list[tuple[str, bytes, Key]]:
        """``count`` messages (of ``stations``' inverters, or the fleet's), readings of times
        no earlier traffic used, one in ``INVALID_EVERY`` a malformed message (its key marks
        it invalid)."""
        valid = readings(self.registry, count, shift_s=self._offset, stations=stations)
        devices = len({key[0] for _, _, key in valid})
        self._offset += -(-count // devices) * 60
        out = []
        for n, (topic, payload, key) in enumerate(valid):
            if n % INVALID_EVERY == INVALID_EVERY - 1:
                bad = next(self._bad)
                out.append((topic, b'{"ts": %d, "W": ' % bad, ("bad", bad)))
            else:
                out.append((topic, payload, key))
        return out

    def publisher(self, name: str = "logger") -> Publisher:
        """A publisher; on an authenticating broker, the logger of station ``name``."""
        password = self.broker_files.password_of(name) if self.broker_files else None
        return Publisher(
            self.broker.options.host,
            self.broker.options.port,
            client_id=name,
            username=name if password else None,
            password=password,
        )

    def publish_in_background(
        self, messages: list[tuple[str, bytes, Key]], per_second: float, publisher: Publisher
    ) -> threading.Thread:
        thread = threading.Thread(target=publisher.publish, args=(messages, per_second))
        thread.start()
        return thread

    # --- counting --------------------------------------------------------------------

    def dead_letter_payloads(self) -> set[bytes]:
        with session_factory(self.engine)() as session:
            return set(session.scalars(select(tables.DeadLetter.payload)))

    def settle(
        self,
        fault: str,
        sent: set[Key],
        messages: list[tuple[str, bytes, Key]],
        note: str = "",
        timeout: float = 90,
    ) -> Outcome:
        """Wait until everything sent has arrived (or ``timeout`` has passed), then count
        it and record the row."""
        valid = {k for k in sent if k[0] != "bad"}
        invalid = {payload for _, payload, k in messages if k[0] == "bad" and k in sent}

        def arrived() -> bool:
            return valid <= stored_keys(self.influx) and invalid <= self.dead_letter_payloads()

        with contextlib.suppress(AssertionError):  # counted below: the row shows what is lost
            wait_for(arrived, timeout=timeout)
        time.sleep(1.0)  # anything still in flight would show up as unexpected
        stored = stored_keys(self.influx)
        outcome = Outcome(
            fault=fault,
            sent_valid=len(valid),
            sent_invalid=len(invalid),
            stored=len(stored & valid),
            dead_lettered=len(invalid & self.dead_letter_payloads()),
            unexpected=len(stored - valid),
            note=note,
        )
        RESULTS.append(outcome)
        return outcome
