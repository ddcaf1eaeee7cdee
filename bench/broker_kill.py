"""What a Mosquitto killed with SIGKILL loses, for each persistence setting (prints figures).

Mosquitto acknowledges a QoS 1 message to its publisher once the message is in memory and
writes its state to disk only at autosave; a SIGKILL (or power loss) loses what arrived
since. Two cases per setting, on a real broker, influxd and ``pvmon ingest``:

- live: ingest keeping up with 2,000 messages/s; the broker is killed 4 s in and
  restarted at once; the publisher goes on (re-sending what the broker had not acked);
- backlog: ingest stopped (its session kept), 20,000 messages queued, the broker killed 2 s
  after the last one was acked, restarted, ingest restarted.

Lost = acknowledged to the publisher but never stored. Also prints the rate at which the
broker accepted the backlog, which is what frequent saving costs, and (``--deep``) that
rate for a backlog of 200,000 messages, where each save writes a large file.

Run: .venv/bin/python -m bench.broker_kill [--deep]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.mosquitto import Mosquitto, MosquittoOptions
from launch.local.process import free_port
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import upgrade
from pvmon.registry.store import replace_registry
from simulators.demo_registry import GenerationOptions, generate_registry
from tests.support.faultrig import Rig
from tests.support.traffic import Publisher

SETTINGS: dict[str, dict[str, object]] = {
    "persistence off": {"persistence": False},
    "autosave every 30 s": {"autosave_interval": 30, "autosave_on_changes": False},
    "autosave every 1,000 changes": {"autosave_interval": 1000, "autosave_on_changes": True},
    "autosave every 100 changes": {"autosave_interval": 100, "autosave_on_changes": True},
    "autosave every change": {"autosave_interval": 1, "autosave_on_changes": True},
}


@dataclass
class Row:
    setting: str
    case: str
    sent: int
    stored: int
    accept_rate: float = 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.stored


def kill_and_restart(broker: Mosquitto) -> None:
    broker.kill()
    broker.start()


def rig_for(tmp: Path, options: dict[str, object], registry) -> Rig:
    broker = Mosquitto(MosquittoOptions(port=free_port(), directory=tmp / "mosquitto", **options))
    broker.start()
    influxd = Influxd(
        InfluxdOptions(http_port=free_port(), rpc_port=free_port(), directory=tmp / "influxd")
    )
    influxd.start()
    engine = make_engine(f"sqlite:///{tmp / 'pvmon.db'}")
    upgrade(engine)
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    return Rig(tmp, broker, influxd, engine, registry)


def live(name: str, rig: Rig) -> Row:
    rig.ingest()
    messages = rig.traffic(16_000)
    publisher = rig.publisher("live")
    stream = rig.publish_in_background(messages, 2000, publisher)
    time.sleep(4)
    kill_and_restart(rig.broker)
    stream.join()
    out = rig.settle(name, publisher.sent, messages, timeout=30)
    publisher.close()
    rig.stop_all()
    return Row(name, "live", out.sent_valid + out.sent_invalid, out.stored + out.dead_lettered)


def queue_backlog(rig: Rig, count: int) -> tuple[Publisher, list, float]:
    """Queue ``count`` messages for a stopped ingest; returns the broker's accept rate."""
    rig.ingest().stop()  # its persistent session stays on the broker
    messages = rig.traffic(count)
    publisher = rig.publisher("backlog")
    began = time.perf_counter()
    publisher.publish(messages)
    return publisher, messages, len(publisher.sent) / (time.perf_counter() - began)


def deep(name: str, rig: Rig) -> Row:
    publisher, _, rate = queue_backlog(rig, 200_000)
    publisher.close()
    return Row(name, "deep backlog, no kill", len(publisher.sent), len(publisher.sent), rate)


def backlog(name: str, rig: Rig) -> Row:
    publisher, messages, rate = queue_backlog(rig, 20_000)
    time.sleep(2)
    kill_and_restart(rig.broker)
    rig.ingest()
    out = rig.settle(name, publisher.sent, messages, timeout=30)
    publisher.close()
    rig.stop_all()
    sent = out.sent_valid + out.sent_invalid
    return Row(name, "backlog", sent, out.stored + out.dead_lettered, rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deep", action="store_true", help="only the 200,000-message backlog")
    deep_only = parser.parse_args().deep
    registry = generate_registry(GenerationOptions())
    rows = []
    for name, options in SETTINGS.items():
        if deep_only and name in ("persistence off", "autosave every change"):
            continue
        for case in (deep,) if deep_only else (live, backlog):
            with tempfile.TemporaryDirectory(prefix="pvmon-kill-") as tmp:
                rig = rig_for(Path(tmp), options, registry)
                try:
                    rows.append(case(name, rig))
                finally:
                    rig.stop_all()
                    rig.broker.stop()
                    rig.influxd.stop()
            print(rows[-1], flush=True)
    print("\n| setting | case | acked to publisher | stored | lost | backlog accepted/s |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        rate = f"{r.accept_rate:,.0f}" if r.accept_rate else ""
        print(f"| {r.setting} | {r.case} | {r.sent:,} | {r.stored:,} | {r.lost:,} | {rate} |")


if __name__ == "__main__":
    main()
