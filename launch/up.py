"""``pvmon up``: the whole system on one machine, with a live status line.

Starts Mosquitto and influxd when none is configured, prepares the stores (and the demo
registry and users), then runs the simulator, ingest, analytics, the alert engine and the API
as child processes — the same ``pvmon`` commands production runs. Ctrl-C stops every process
it started, newest first.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import Engine, select

from launch.broker import generate
from launch.demo import demo_scenario, ensure_registry
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.mosquitto import Mosquitto, MosquittoOptions
from launch.local.process import ManagedProcess, ServiceError, free_port
from launch.progress import Rate, milestones, snapshot, status_line
from pvmon import localservices as local_services
from pvmon.brokerauth import ingest_client_id
from pvmon.datapaths import broker_files, local_influxdb
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.localservices import LocalServices
from pvmon.localtime import local_day
from pvmon.settings import Settings
from pvmon.stores import open_database, open_influx, provision_influx
from simulators.main import live_start

log = structlog.get_logger(__name__)
STATUS_EVERY_S = 10.0
"""Without a terminal, the status line is printed this often."""


@dataclass
class Fleet:
    """Everything ``pvmon up`` started, in start order."""

    processes: list[ManagedProcess] = field(default_factory=list)
    finishing: set[str] = field(default_factory=set)
    """Processes that end by themselves when their work is done (the history)."""

    def stop(self) -> None:
        for process in reversed(self.processes):
            code = process.stop()
            log.info("stopped", process=process.name, exit_code=code)

    def exited(self) -> list[ManagedProcess]:
        """Processes that stopped and should not have."""
        return [p for p in self.processes if not p.running() and p.name not in self.finishing]

    def finished(self) -> list[ManagedProcess]:
        return [p for p in self.processes if not p.running() and p.name in self.finishing]


@dataclass
class UpOptions:
    speed: float | None = None
    scenario: Path | None = None
    start: str = "auto"
    history: bool = True
    """Write the simulated year so far behind the live fleet (newest day first)."""
    demo_fault: bool = True
    """Without a scenario: a fault at the demo maintainer's station (``launch/demo.py``)."""


def run_up(settings: Settings, options: UpOptions, out: Callable[[str], None] = print) -> int:
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    fleet = Fleet()
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    other = local_services.running(data_dir)
    if other is not None and other.pid != os.getpid():
        out(f"error: pvmon up already runs for {data_dir} (process {other.pid})")
        return 1
    try:
        local = settings.model_copy(update={"data_dir": data_dir})
        engine = open_database(local)
        if ensure_registry(engine, local):
            out("generated the default registry of the Yonghe fleet (2,240 stations)")
        env = _start_services(settings, data_dir, fleet, out, _station_ids(engine))
        env["PVMON_API_PORT"] = str(_api_port(settings.api_port, out))
        local_services.record(
            data_dir,
            LocalServices(
                os.getpid(),
                _without_credentials(env["PVMON_MQTT_URL"]),
                env["PVMON_INFLUX_URL"],
                f"http://localhost:{env['PVMON_API_PORT']}",
                env.get("PVMON_INFLUX_RPC"),
            ),
        )
        children = settings.model_copy(
            update={
                "mqtt_url": env["PVMON_MQTT_URL"],
                "influx_url": env["PVMON_INFLUX_URL"],
                "data_dir": data_dir,
                "api_port": int(env["PVMON_API_PORT"]),
            }
        )
        with open_influx(children) as influx:
            provision_influx(influx, children)
        _start_pvmon(fleet, "ingest", ["ingest"], env, children.log_dir)
        handover = dt.datetime.fromtimestamp(live_start(children, options.start), dt.UTC)
        sim_args = ["simulate", "--start", handover.isoformat()]
        if options.speed:
            sim_args += ["--speed", str(options.speed)]
        scenario = options.scenario.resolve() if options.scenario else None
        if scenario is None and options.demo_fault:
            scenario = demo_scenario(engine, data_dir / "simulator")
        if scenario:
            sim_args += ["--scenario", str(scenario)]
        _start_pvmon(fleet, "simulate", sim_args, env, children.log_dir)
        if options.history:
            # The history hangs from where the live fleet starts (simulators/history.py).
            backfill = ["backfill", "--until", handover.isoformat()]
            if children.simulator.history_from:
                backfill += ["--from", children.simulator.history_from.isoformat()]
            _start_pvmon(fleet, "history", backfill, env, children.log_dir, finishes=True)
            out("history    the year so far is written behind the live fleet, newest day first")
            _start_pvmon(fleet, "books", ["finance", "demo"], env, children.log_dir, finishes=True)
        for service in ("analytics", "alerts", "maintenance", "finance", "reports"):
            _start_pvmon(fleet, service, [service], env, children.log_dir)
        out(_channels(children))
        _start_pvmon(fleet, "api", ["api"], env, children.log_dir)
        _demo_users(engine, children, out)
        out(f"logs in {children.log_dir}; press Ctrl-C to stop")
        return _watch(
            fleet,
            engine,
            stopping,
            out,
            tz=ZoneInfo(settings.timezone),
            history=options.history,
            first=settings.simulator.history_from,
        )
    except ServiceError as exc:
        out(f"error: {exc}")
        return 1
    finally:
        out("\nstopping …")
        fleet.stop()
        local_services.forget(data_dir)


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")).geturl()


def _station_ids(engine: Engine) -> list[str]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(tables.Station.id)))


def _start_services(
    settings: Settings,
    data_dir: Path,
    fleet: Fleet,
    out: Callable[[str], None],
    stations: list[str],
) -> dict[str, str]:
    env = dict(os.environ)
    env["PVMON_DATA_DIR"] = str(data_dir)
    env["PVMON_DATABASE_URL"] = settings.effective_database_url
    env["PVMON_DEMO"] = "true"  # the demo users' published password is allowed here
    if settings.mqtt_url is None:
        worker = settings.ingest.worker_id
        files = (
            generate(stations, broker_files(settings).resolve(), ingest_workers=(worker,))
            if settings.local.broker_auth
            else None
        )
        broker = Mosquitto(
            MosquittoOptions(
                port=settings.local.mqtt_port or free_port(),
                directory=data_dir / "mosquitto",
                max_queued_messages=settings.local.max_queued_messages,
                max_queued_bytes=settings.local.max_queued_bytes,
                password_file=files.passwd if files else None,
                acl_file=files.acl if files else None,
            ),
            settings.local.mosquitto_bin,
        )
        broker.start()
        fleet.processes.append(broker)
        env["PVMON_MQTT_URL"] = broker.url
        if files:
            user = ingest_client_id(worker)
            password = quote(files.password_of(user), safe="")
            env["PVMON_MQTT_URL"] = broker.url.replace("://", f"://{user}:{password}@")
            env["PVMON_SIMULATOR__CREDENTIALS"] = str(files.credentials)
        auth = f"; logger credentials in {files.credentials}" if files else ""
        out(f"mosquitto  {broker.url}  (data in {broker.options.directory}{auth})")
    else:
        env["PVMON_MQTT_URL"] = settings.mqtt_url
        out(f"broker     {settings.mqtt_url} (configured)")
    if settings.influx_url is None:
        influxd = Influxd(
            InfluxdOptions(
                http_port=settings.local.influx_port or free_port(),
                rpc_port=free_port(),
                directory=local_influxdb(settings).resolve(),
            ),
            settings.local.influxd_bin,
        )
        influxd.start()
        fleet.processes.append(influxd)
        env["PVMON_INFLUX_URL"] = influxd.url
        env["PVMON_INFLUX_RPC"] = f"{influxd.options.host}:{influxd.options.rpc_port}"
        out(
            f"influxd    {influxd.url}  database {settings.influx_db!r}  "
            f"(query: influx -port {influxd.options.http_port} -database {settings.influx_db})"
        )
    else:
        env["PVMON_INFLUX_URL"] = settings.influx_url
        out(f"influxdb   {settings.influx_url} (configured)")
    return env


def _channels(settings: Settings) -> str:
    a = settings.alerts
    names = [
        name
        for name, on in (
            ("WeCom", a.wecom),
            ("DingTalk", a.dingtalk),
            ("e-mail", a.smtp),
            ("SMS", a.sms),
            ("webhook", a.webhooks),
        )
        if on
    ]
    if names:
        return f"alerts     sent by {', '.join(names)}; links to {settings.alert_base_url}"
    return (
        "alerts     no channel configured (see README, Alerts): alerts are kept and listed "
        "by `pvmon alerts list`"
    )


def _api_port(wanted: int, out: Callable[[str], None]) -> int:
    """The configured API port, or a free one when something else holds it."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", wanted))
            return wanted
        except OSError:
            pass
    port = free_port()
    out(f"port {wanted} is taken; the API listens on {port}")
    return port


def _demo_users(engine: Engine, settings: Settings, out: Callable[[str], None]) -> None:
    from api.users import DEMO_PASSWORD, demo_users

    with session_factory(engine).begin() as session:
        users = demo_users(session, dt.datetime.now(dt.UTC))
    out(f"dashboard  http://localhost:{settings.api_port}/  (API docs at /docs)")
    out(
        "           demo users (password "
        f"{DEMO_PASSWORD!r}): " + ", ".join(f"{u.username} ({u.role})" for u in users)
    )


def _start_pvmon(
    fleet: Fleet,
    name: str,
    args: list[str],
    env: dict[str, str],
    log_dir: Path,
    *,
    finishes: bool = False,
) -> None:
    process = ManagedProcess(
        name, [sys.executable, "-m", "launch", *args], log_dir / f"{name}.log", env=env
    )
    process.start()
    fleet.processes.append(process)
    if finishes:
        fleet.finishing.add(name)


def _watch(
    fleet: Fleet,
    engine: Engine,
    stopping: threading.Event,
    out: Callable[[str], None],
    *,
    tz: dt.tzinfo,
    history: bool,
    first: dt.date | None,
) -> int:
    """The status line (rewritten in place on a terminal, a line every ``STATUS_EVERY_S``
    otherwise) and a line for each milestone, until Ctrl-C or a process dies."""
    tty = sys.stdout.isatty()
    rate = Rate()
    said: set[str] = set()
    last_print = 0.0
    began = time.monotonic()
    while not stopping.wait(1.0):
        dead = fleet.exited()
        if dead:
            for process in dead:
                out(
                    f"\n{process.name} exited with code {process.returncode()}; "
                    f"last lines of {process.log_path}:\n{process.log_tail()}"
                )
            return 1
        for process in fleet.finished():
            if process.name not in said:
                said.add(process.name)
                code = process.returncode()
                took = time.monotonic() - began
                out(
                    f"\n{process.name}: done ({took:.0f} s)"
                    if code == 0
                    else f"\n{process.name} failed (exit code {code}); see {process.log_path}"
                )
        now = time.monotonic()
        s = snapshot(engine, local_day(dt.datetime.now(dt.UTC), tz), first)
        line = status_line(s, rate.add(s.received, now), history)
        for milestone in milestones(s, history):
            if milestone not in said:
                said.add(milestone)
                out(("\n" if tty else "") + f"{milestone} ({now - began:.0f} s)")
        if tty:
            sys.stdout.write("\r" + line + "   ")
            sys.stdout.flush()
        elif now - last_print >= STATUS_EVERY_S:
            out(line)
            last_print = now
    return 0
