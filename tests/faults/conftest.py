"""The fault suite's rig: a real Mosquitto (persistence on), a real influxd, the relational
store, and ``pvmon ingest`` as separate processes that a test can kill, stop and restart.

Each case publishes a known set of messages — valid readings, each a distinct (device, ts),
with a malformed message mixed in every ``INVALID_EVERY`` — and counts what arrived. The
outcome rows are printed as one table at the end of the run (and written as JSON to
``$FAULTS_REPORT`` when set), so the figures a note quotes are the ones a run produced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import Engine

from launch.broker import generate
from launch.local.influxd import Influxd
from launch.local.mosquitto import Mosquitto
from pvmon.registry.schema import Registry
from tests.support.faultrig import RESULTS, Rig


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    terminalreporter.section("fault suite: what arrived")
    terminalreporter.write_line(
        "| fault | sent (valid + malformed) | stored | dead-lettered | lost | note |"
    )
    terminalreporter.write_line("|---|---|---|---|---|---|")
    for r in RESULTS:
        terminalreporter.write_line(
            f"| {r.fault} | {r.sent_valid + r.sent_invalid:,} ({r.sent_valid:,} + "
            f"{r.sent_invalid:,}) | {r.stored:,} | {r.dead_lettered:,} | {r.lost:,} | {r.note} |"
        )
    if report := os.environ.get("FAULTS_REPORT"):
        Path(report).write_text(
            json.dumps([{**asdict(r), "lost": r.lost} for r in RESULTS], indent=2)
        )


@pytest.fixture
def rig(
    tmp_path: Path,
    broker_factory: Callable[..., Mosquitto],
    influxd_factory: Callable[[], Influxd],
    loaded_engine: Engine,
    default_registry: Registry,
) -> Iterator[Rig]:
    rig = Rig(tmp_path, broker_factory(), influxd_factory(), loaded_engine, default_registry)
    yield rig
    rig.stop_all()


@pytest.fixture
def secure_rig(
    tmp_path: Path,
    broker_factory: Callable[..., Mosquitto],
    influxd_factory: Callable[[], Influxd],
    loaded_engine: Engine,
    default_registry: Registry,
) -> Iterator[Rig]:
    """The rig with the broker as ``pvmon up`` and production run it: credentials per logger
    and for ingest, each logger only under its own station (``pvmon broker config``)."""
    files = generate(
        [s.id for s in default_registry.stations],
        tmp_path / "broker",
        ingest_workers=("ingest-1", "ingest-a", "ingest-b"),
    )
    broker = broker_factory(password_file=files.passwd, acl_file=files.acl)
    rig = Rig(tmp_path, broker, influxd_factory(), loaded_engine, default_registry, files)
    yield rig
    rig.stop_all()
