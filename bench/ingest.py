"""Ingest against this machine's limits and against a widely used bridge (prints figures).

One Mosquitto, one influxd and PostgreSQL (SQLite when it is not reachable), the same
workload (bench/workload.py: realistic payloads for all the fleet's inverters) published at
QoS 1 by a separate process (bench/publisher.py), each consumer measured in its own
InfluxDB database:

a) the limits: one bare paho-mqtt subscriber (bench/bare_subscriber.py), live and draining a
   backlog; influxd's /write with batches of 5,000 points from one writer;
b) ``pvmon ingest``: live (first publish → last point stored) and draining a backlog, every
   point checked stored; publish→stored latency at a steady 2,000 messages/s; peak RSS;
c) HARDWARIO's mqtt2influxdb 1.5.2 in a virtual environment of its own, configured as its
   README shows (QoS 0 subscription, one point written per message), with its loss;
d) the ratios; and 1, 2 and 4 ingest workers on a shared subscription draining a backlog:
   aggregate rate, each worker's share and CPU seconds per 10,000 messages.

Run: .venv/bin/python -m bench.ingest [--messages 400000] [--skip-bridge] [--workers 1,2,4]
     [--scale-only]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import paho.mqtt.client as mqtt
import psycopg
from sqlalchemy import select

from bench.workload import fleet, messages
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.mosquitto import Mosquitto, MosquittoOptions
from launch.local.process import ManagedProcess, free_port
from pvmon.db import tables
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.migrate import upgrade
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.influx.schema import telemetry_line
from pvmon.registry.store import replace_registry

ROOT = Path(__file__).resolve().parent.parent
BRIDGE_VENV = ROOT / "bench" / ".mqtt2influxdb-venv"
BRIDGE_PINS = ["mqtt2influxdb==1.5.2", "paho-mqtt<2"]
"""1.5.2 calls ``paho.mqtt.client.Client()`` without a callback API version, which paho-mqtt
2.x refuses; its own requirement is unpinned, so the paho it was written for is pinned here."""
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
TICK_S = 0.05


def process_tree(pid: int) -> list[int]:
    """The process and its live descendants (a worker is two processes, see
    ingest/receiver_process.py)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return [pid, *(p for child in children for p in process_tree(child))]


def cpu_split(pid: int) -> np.ndarray:
    """User + system CPU seconds of the process and of each live descendant."""
    ticks = []
    for p in process_tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        ticks.append(int(fields[11]) + int(fields[12]))
    return np.array(ticks) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Sum of the peak resident sizes of the process and its live descendants."""
    total = 0
    for p in process_tree(pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


@dataclass
class WorkerRun:
    rate: float
    stored: int
    shares: list[int] = field(default_factory=list)
    cpu_per_10k: list[np.ndarray] = field(default_factory=list)
    """Per worker: CPU seconds per 10,000 messages of its parse/write process, its receiver."""
    peak_rss_mb: float = 0.0


@dataclass
class Publishing:
    process: subprocess.Popen
    times_file: Path

    def wait(self) -> np.ndarray:
        """Each message's publish time, once the publisher has finished."""
        self.process.wait()
        return np.load(self.times_file)


class Bench:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.registry = fleet()
        self.broker = Mosquitto(MosquittoOptions(port=free_port(), directory=tmp / "mosquitto"))
        self.broker.start()
        self.influxd = Influxd(
            InfluxdOptions(http_port=free_port(), rpc_port=free_port(), directory=tmp / "influxd")
        )
        self.influxd.start()
        self.db_url = self._database()
        self.engine = make_engine(self.db_url)
        upgrade(self.engine)
        with session_factory(self.engine).begin() as session:
            replace_registry(session, self.registry)
        self.newest_ts = int(time.time()) - 60

    def _database(self) -> str:
        try:
            with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3) as admin:
                name = f"pvmon_bench_{uuid.uuid4().hex[:8]}"
                admin.execute(f'CREATE DATABASE "{name}"')
            self.pg_name = name
            return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        except psycopg.OperationalError:
            self.pg_name = None
            return f"sqlite:///{self.tmp / 'pvmon.db'}"

    def close(self) -> None:
        self.engine.dispose()
        self.broker.stop()
        self.influxd.stop()
        if self.pg_name:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    # --- helpers ---------------------------------------------------------------------

    def influx(self, database: str) -> InfluxClient:
        return InfluxClient(self.influxd.url, database, timeout=60)

    def stored(self, database: str) -> int:
        with self.influx(database) as client:
            series = client.query('SELECT COUNT("W") FROM "telemetry"')
        return int(series[0]["values"][0][1]) if series else 0

    def publish(self, count: int, rate: float = 0) -> Publishing:
        times = self.tmp / f"publish-{uuid.uuid4().hex[:8]}.npy"
        argv = [sys.executable, "-m", "bench.publisher", self.broker.options.host]
        argv += [str(self.broker.options.port), str(count), str(self.newest_ts)]
        argv += ["--rate", str(rate), "--times", str(times)]
        return Publishing(subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE), times)

    def forget_session(self, client_id: str) -> None:
        """End a persistent session the measurement left behind. An offline session stays
        subscribed: the broker would keep queueing a copy of every later run's messages for
        it (and, in a shared group, route a share to it), slowing and skewing what follows."""
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        client.connect(self.broker.options.host, self.broker.options.port, clean_start=True)
        client.loop_start()
        time.sleep(0.2)
        client.disconnect()
        client.loop_stop()

    # --- a) limits -------------------------------------------------------------------

    def bare_subscriber(self, count: int) -> tuple[float, float]:
        """Messages/s one bare subscriber receives: live, and draining a backlog."""
        argv = [sys.executable, "-m", "bench.bare_subscriber", self.broker.options.host]
        argv += [str(self.broker.options.port), str(count)]
        sub = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert sub.stdout is not None
        sub.stdout.readline()  # subscribed
        began = self.publish(count).wait()[0]
        live = _times(sub.communicate()[0])
        live_rate = count / (live["last"] - began)
        subprocess.run([*argv, "--subscribe-only"], cwd=ROOT, capture_output=True, check=True)
        self.publish(count).wait()
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True)
        drained = _times(out.stdout)
        self.forget_session("bare-subscriber")
        return live_rate, count / (drained["last"] - drained["connected"])

    def influx_write_limit(self, count: int) -> float:
        """Points/s influxd accepts through /write in batches of 5,000, one writer."""
        index = {s.id: s for s in self.registry.stations}
        kinds = {i.id: index[i.station_id] for i in self.registry.inverters}
        lines = []
        for topic, payload in messages(self.registry, count, self.newest_ts):
            _, station, device, _ = topic.split("/")
            s = kinds[device]
            body = orjson.loads(payload)
            ts = body.pop("ts")
            lines.append(telemetry_line(station, device, s.kind, s.township_id, ts, body))
        with self.influx("limit") as client:
            provision(client, raw_days=400, generation="1")
            began = time.perf_counter()
            for i in range(0, len(lines), 5000):
                client.write(lines[i : i + 5000])
            return count / (time.perf_counter() - began)

    # --- b) pvmon ingest --------------------------------------------------------------

    def ingest_worker(self, database: str, worker_id: str, group: str | None) -> ManagedProcess:
        env = {
            **os.environ,
            "PVMON_MQTT_URL": self.broker.url,
            "PVMON_INFLUX_URL": self.influxd.url,
            "PVMON_INFLUX_DB": database,
            "PVMON_DATABASE_URL": self.db_url,
            "PVMON_DATA_DIR": str(self.tmp / "data"),
            "PVMON_INGEST__WORKER_ID": worker_id,
            "PVMON_INGEST__HEARTBEAT_S": "0.25",
            "PVMON_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "warning"),
        }
        if group:
            env["PVMON_INGEST__SHARED_GROUP"] = group
        log = self.tmp / f"{database}-{worker_id}.log"
        worker = ManagedProcess(worker_id, [sys.executable, "-m", "launch", "ingest"], log, env)
        worker.start()
        worker.wait_ready(lambda: self._connected(worker_id, worker.pid), timeout=60)
        return worker

    def _connected(self, worker_id: str, pid: int | None) -> bool:
        """The worker's heartbeat says its receiver is connected: both processes started."""
        with session_factory(self.engine)() as session:
            row = session.get(tables.IngestWorker, worker_id)
            return row is not None and row.pid == pid and bool(row.counters.get("connected"))

    def counters(self) -> dict[str, dict]:
        with session_factory(self.engine)() as session:
            rows = session.scalars(select(tables.IngestWorker))
            return {r.worker_id: dict(r.counters) for r in rows}

    def _written(self, ids: list[str]) -> tuple[int, int]:
        c = self.counters()
        return (
            sum(int(c.get(w, {}).get("received", 0)) for w in ids),
            sum(int(c.get(w, {}).get("points_written", 0)) for w in ids),
        )

    def ingest(self, count: int, workers: int, backlog: bool) -> WorkerRun:
        """Live: from the first publish to the last point stored. Backlog: queued while the
        workers were stopped, from the first batch they stored to the last."""
        database = f"ingest_{workers}w_{'backlog' if backlog else 'live'}"
        group = f"bench{workers}" if workers > 1 else None
        ids = [f"{database}-{n}" for n in range(workers)]
        procs = [self.ingest_worker(database, w, group) for w in ids]
        # What starting costs a worker (imports, the registry), read while it has nothing
        # to do: a restarted worker drains its share at once, before it could be read again.
        startup = [cpu_split(p.pid) for p in procs]  # type: ignore[arg-type]
        publishing = None
        if backlog:
            for p in procs:
                p.stop()
            self.publish(count).wait()
            procs = [self.ingest_worker(database, w, group) for w in ids]
            cpu0 = startup
            while (written := self._written(ids)[1]) == 0:
                time.sleep(TICK_S / 5)
            began, owed = time.time(), count - written
        else:
            cpu0 = [cpu_split(p.pid) for p in procs]  # type: ignore[arg-type]
            publishing, owed = self.publish(count), count
        deadline = time.time() + 600
        while self._written(ids)[1] < count and time.time() < deadline:
            time.sleep(TICK_S)
        ended = time.time()
        if publishing:
            began = publishing.wait()[0]
        c = self.counters()
        run = WorkerRun(rate=owed / (ended - began), stored=self.stored(database))
        for w, p, before in zip(ids, procs, cpu0, strict=True):
            n = int(c[w].get("received", 0))
            run.shares.append(n)
            used = cpu_split(p.pid) - before  # type: ignore[arg-type]
            run.cpu_per_10k.append(used / max(n, 1) * 10_000)
            run.peak_rss_mb = max(run.peak_rss_mb, peak_rss_mb(p.pid))  # type: ignore[arg-type]
        for p in procs:
            p.stop()
        for w in ids:
            self.forget_session(f"pvmon-{w}")
        return run

    def latency(self, rate: float, seconds: int) -> tuple[float, float, float]:
        """Publish→stored p50/p99 at a steady rate, from polling the worker's count of points
        written (its heartbeat, every 0.25 s; cheaper for influxd than counting the points):
        with one worker taking messages in order, the n-th is stored when the count passes n.
        The heartbeat's period bounds how late a point can be seen, so figures err high."""
        database = "ingest_latency"
        worker = self.ingest_worker(database, "latency", None)
        time.sleep(1.0)
        count = int(rate * seconds)
        publishing = self.publish(count, rate)
        seen: list[tuple[float, int]] = []
        deadline = time.time() + seconds + 120
        while time.time() < deadline:
            n = self._written(["latency"])[1]
            seen.append((time.time(), n))
            if n >= count:
                break
            time.sleep(TICK_S)
        published = publishing.wait()
        rss = peak_rss_mb(worker.pid)  # type: ignore[arg-type]
        worker.stop()
        self.forget_session("pvmon-latency")
        at, counts = np.array([t for t, _ in seen]), np.array([n for _, n in seen])
        stored_at = at[np.searchsorted(counts, np.arange(count) + 1)]
        delays = stored_at - published
        return float(np.percentile(delays, 50)), float(np.percentile(delays, 99)), rss

    # --- c) the bridge ----------------------------------------------------------------

    def bridge(self, count: int) -> tuple[float, int]:
        """mqtt2influxdb's rate (first publish → last point stored) and its loss."""
        if not (BRIDGE_VENV / "bin" / "mqtt2influxdb").exists():
            subprocess.run([sys.executable, "-m", "venv", str(BRIDGE_VENV)], check=True)
            pip = [str(BRIDGE_VENV / "bin" / "pip"), "install", "-q", *BRIDGE_PINS]
            subprocess.run(pip, check=True)
        database = "bridge"
        config = self.tmp / "mqtt2influxdb.yml"
        config.write_text(
            f"""mqtt:
  host: {self.broker.options.host}
  port: {self.broker.options.port}
influxdb:
  host: 127.0.0.1
  port: {self.influxd.options.http_port}
  database: {database}
points:
  - measurement: telemetry
    topic: pv/+/+/telemetry
    fields:
      W: $.payload.W
      WH: $.payload.WH
      DCV: $.payload.DCV
      DCA: $.payload.DCA
      Hz: $.payload.Hz
      TmpCab: $.payload.TmpCab
      St: $.payload.St
      Evt1: $.payload.Evt1
    tags:
      station: $.topic[1]
      device: $.topic[2]
      ts: $.payload.ts
"""
        )
        # The bridge stamps each point with its arrival second; tagging the reading's own
        # time keeps every message a point of its own, so that stored = delivered.
        log = self.tmp / "bridge.log"
        bridge = ManagedProcess(
            "mqtt2influxdb", [str(BRIDGE_VENV / "bin" / "mqtt2influxdb"), "-c", str(config)], log
        )
        bridge.start()
        bridge.wait_ready(lambda: "subscribe" in log.read_text(), timeout=60)
        time.sleep(1.0)
        publishing = self.publish(count)
        last, last_change = -1, time.time()
        while time.time() - last_change < 5:
            n = self.stored(database)
            if n != last:
                last, last_change = n, time.time()
            time.sleep(0.5)
        began = publishing.wait()[0]
        bridge.stop()
        return last / (last_change - began), count - last


def _times(output: str) -> dict[str, float]:
    line = output.strip().splitlines()[-1]
    return {k: float(v) for k, v in (part.split("=") for part in line.split())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400_000)
    parser.add_argument("--bridge-messages", type=int, default=30_000)
    parser.add_argument("--skip-bridge", action="store_true")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--scale-only", action="store_true", help="only the table of 1, 2 and 4 workers"
    )
    args = parser.parse_args()
    n = args.messages
    with tempfile.TemporaryDirectory(prefix="pvmon-bench-") as tmp:
        bench = Bench(Path(tmp))
        try:
            report(bench, n, args)
        finally:
            bench.close()


def report(bench: Bench, n: int, args: argparse.Namespace) -> None:
    print(f"workload: {n:,} messages over {len(bench.registry.inverters):,} inverters", flush=True)
    one = bench.ingest(n, 1, backlog=True) if args.scale_only else limits_and_bridge(bench, n, args)
    print(
        "\nworkers | aggregate msg/s (backlog) | share of messages | "
        "CPU s per 10,000 msgs (parse/write + receiver)"
    )
    worst = 0.0
    for k in (int(x) for x in args.workers.split(",")):
        run = one if k == 1 else bench.ingest(n, k, backlog=True)
        shares = " / ".join(f"{s / n:.0%}" for s in run.shares)
        cpu = " / ".join(f"{c.sum():.2f} ({c[0]:.2f} + {c[1]:.2f})" for c in run.cpu_per_10k)
        print(f"{k} | {run.rate:,.0f} (stored {run.stored:,}) | {shares} | {cpu}", flush=True)
        worst = max([worst, *(c.sum() for c in run.cpu_per_10k)])
    baseline = one.cpu_per_10k[0].sum()
    print(f"\nmost CPU per 10k of any worker against one worker's: {worst / baseline - 1:+.0%}")


def limits_and_bridge(bench: Bench, n: int, args: argparse.Namespace) -> WorkerRun:
    """a) to d); returns the one-worker backlog run, the scaling table's first row."""
    bare_live, bare_backlog = bench.bare_subscriber(n)
    print(
        f"a) bare paho subscriber, QoS 1: live {bare_live:,.0f} msg/s, "
        f"backlog {bare_backlog:,.0f} msg/s",
        flush=True,
    )
    influx_limit = bench.influx_write_limit(n)
    print(f"a) influxd /write, batches of 5,000: {influx_limit:,.0f} points/s", flush=True)
    live = bench.ingest(n, 1, backlog=False)
    backlog = bench.ingest(n, 1, backlog=True)
    print(
        f"b) pvmon ingest: live {live.rate:,.0f} msg/s (stored {live.stored:,}/{n:,}), "
        f"backlog {backlog.rate:,.0f} msg/s (stored {backlog.stored:,}/{n:,}); "
        f"peak RSS {max(live.peak_rss_mb, backlog.peak_rss_mb):.0f} MB (both processes)",
        flush=True,
    )
    p50, p99, rss = bench.latency(2000, 30)
    print(
        f"b) publish→stored at 2,000 msg/s for 30 s: p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms; peak RSS {rss:.0f} MB",
        flush=True,
    )
    if not args.skip_bridge:
        rate, lost = bench.bridge(args.bridge_messages)
        print(
            f"c) mqtt2influxdb 1.5.2: {rate:,.0f} msg/s, lost {lost:,} of {args.bridge_messages:,}",
            flush=True,
        )
        print(f"d) ingest/bridge: live {live.rate / rate:.1f}×, backlog {backlog.rate / rate:.1f}×")
    print(
        f"d) ingest/bare subscriber: live {live.rate / bare_live:.0%}, "
        f"backlog {backlog.rate / bare_backlog:.0%}"
    )
    return backlog


if __name__ == "__main__":
    main()
