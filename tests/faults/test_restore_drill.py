"""The restore drill, on real processes: readings flow from the loggers through Mosquitto and
``pvmon ingest`` into influxd and the relational store; ``pvmon backup`` runs while they
flow; they flow on; then the disk holding the data directory is lost — ingest and influxd
killed, the directory (InfluxDB's files, the SQLite store, the spool, every declared path)
deleted — while the loggers keep sending. ``pvmon restore`` puts the backup back, influxd
and ingest start again.

The broker is a service of its own with its own disk, as docs/deploy.md installs it, so its
persistent session for ingest holds what ingest had not acknowledged. Every reading stored
up to the backup is back; every reading the system had not stored when the disk was lost
arrives after the restart (lost: 0); what was stored between the backup and the loss is the
recovery-point gap, counted. The table is printed, and docs/reliability.md quotes it."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Engine

from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.mosquitto import Mosquitto
from launch.local.process import free_port
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import upgrade
from pvmon.registry.schema import Registry
from pvmon.registry.store import replace_registry
from tests.support.faultrig import Rig
from tests.support.traffic import Key, stored_keys
from tests.support.waiting import wait_for


def pvmon(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "launch", *args],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dead_letters(engine: Engine) -> int:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM dead_letters")).scalar_one()


def valid(keys: set[Key]) -> set[Key]:
    return {k for k in keys if k[0] != "bad"}


def test_a_lost_data_directory_is_restored_and_the_readings_not_yet_stored_arrive(
    tmp_path: Path,
    broker_factory: Callable[..., Mosquitto],
    default_registry: Registry,
) -> None:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'pvmon.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_factory(engine).begin() as session:
        replace_registry(session, default_registry)
    options = InfluxdOptions(free_port(), free_port(), data / "influxdb")
    influxd = Influxd(options)
    influxd.start()
    rig = Rig(data, broker_factory(), influxd, engine, default_registry)
    env = {**rig.command_env(), "PVMON_INFLUX_RPC": f"127.0.0.1:{options.rpc_port}"}
    try:
        ingest = rig.ingest()
        logger = rig.publisher("drill-logger")
        first = rig.traffic(3_000)
        logger.publish(first)
        wait_for(lambda: valid(logger.sent) <= stored_keys(rig.influx), timeout=60)

        flowing = rig.publish_in_background(rig.traffic(6_000), 150, logger)
        time.sleep(8)
        began = stored_keys(rig.influx)
        said = pvmon(env, "backup", str(tmp_path / "backup"))
        ended = stored_keys(rig.influx)
        time.sleep(10)

        ingest.kill()
        at_loss = stored_keys(rig.influx)
        letters_at_loss = dead_letters(engine)
        engine.dispose()
        influxd.kill()
        shutil.rmtree(data)

        time.sleep(3)
        restoring = {k: v for k, v in env.items() if k != "PVMON_INFLUX_URL"}
        restored_said = pvmon(restoring, "restore", str(tmp_path / "backup"))
        influxd = Influxd(options)
        influxd.start()
        rig.influxd = influxd
        restored = stored_keys(rig.influx)
        letters_restored = dead_letters(engine)
        rig.ingest()
        flowing.join(timeout=300)
        sent = valid(logger.sent)
        owed = sent - at_loss
        with contextlib.suppress(AssertionError):  # counted below as lost
            wait_for(lambda: owed <= stored_keys(rig.influx), timeout=120)
        final = stored_keys(rig.influx)
        letters_final = dead_letters(engine)
    finally:
        rig.stop_all()
        influxd.stop()
        engine.dispose()

    gap = at_loss - final
    lost = (sent - at_loss) - final
    rows = [
        ("readings sent by the loggers (acknowledged by the broker)", len(sent)),
        ("stored when the backup began", len(began)),
        ("stored when the backup ended", len(ended)),
        ("in the restored backup", len(restored)),
        ("stored when the data directory was lost", len(at_loss)),
        ("stored after the restart", len(final & sent)),
        ("recovery-point gap: stored after the backup, lost with the disk", len(gap)),
        ("not yet stored at the loss, arrived after the restart", len((sent - at_loss) & final)),
        ("lost", len(lost)),
        (
            "dead letters (rows) at the loss / restored / at the end",
            f"{letters_at_loss} / {letters_restored} / {letters_final}",
        ),
    ]
    print("\n| restore drill | readings |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value:,} |" if isinstance(value, int) else f"| {label} | {value} |")
    print(said.strip(), restored_said.strip(), sep="\n")

    assert began <= restored <= ended
    assert restored <= final
    assert len(lost) == 0
    assert gap, "the drill must lose something between the backup and the loss to show the gap"
    assert letters_restored <= letters_at_loss
