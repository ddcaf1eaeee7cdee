"""``pvmon up`` end to end: the whole fleet arrives, and Ctrl-C leaves nothing running."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from api.users import DEMO_PASSWORD
from launch.local.influxd import Influxd
from launch.local.mosquitto import Mosquitto
from pvmon.influx.client import InfluxClient
from tests.support.waiting import wait_for

STATIONS = 2240


TZ = ZoneInfo("Asia/Shanghai")


def children_of(pid: int) -> set[int]:
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        try:
            text = Path(f"/proc/{parent}/task/{parent}/children").read_text()
        except OSError:
            continue
        kids = {int(k) for k in text.split()}
        found |= kids
        pending += kids
    return found


def programs(pids: set[int]) -> set[str]:
    """The executable or pvmon subcommand each process runs."""
    names: set[str] = set()
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode() for a in argv if a]
        if "launch" in args:  # python -m launch <subcommand>
            names.add(args[args.index("launch") + 1])
        elif args:
            names.add(Path(args[0]).name)
    return names


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_up_brings_every_station_in_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    history_from = dt.date.today() - dt.timedelta(days=2)
    env = {
        **os.environ,
        "PVMON_DATA_DIR": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
        "PVMON_SIMULATOR__HISTORY_FROM": history_from.isoformat(),
    }
    out = (tmp_path / "up.out").open("w+")
    up = subprocess.Popen(
        [sys.executable, "-m", "launch", "up"],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        wait_for(
            lambda: re.search(r"influxd +(http://\S+)", Path(out.name).read_text()), timeout=60
        )
        url = re.search(r"influxd +(http://\S+)", Path(out.name).read_text()).group(1)
        with InfluxClient(url, "pvmon") as influx:

            def all_stations() -> bool:
                try:
                    return (
                        len(influx.query('SELECT COUNT("W") FROM "telemetry" GROUP BY "station"'))
                        == STATIONS
                    )
                except Exception:  # the database appears a moment after influxd
                    return False

            wait_for(all_stations, timeout=180)
            wait_for(lambda: "history: done" in Path(out.name).read_text(), timeout=180)
            first = int(dt.datetime.combine(history_from, dt.time(0), TZ).timestamp())
            history = influx.query(
                f'SELECT COUNT("W") FROM "telemetry" WHERE time >= {first}s AND '
                f'time < {first + 86400}s GROUP BY "station"'
            )
            assert len(history) == STATIONS, "the history reached back to its first day"
        started = children_of(up.pid)
        direct = Path(f"/proc/{up.pid}/task/{up.pid}/children").read_text().split()
        assert programs({int(pid) for pid in direct}) == {
            "mosquitto",
            "influxd",
            "ingest",
            "simulate",
            "analytics",
            "alerts",
            "maintenance",
            "finance",
            "reports",
            "api",
        }
        conf = (tmp_path / "data" / "mosquitto" / "mosquitto.conf").read_text()
        assert "allow_anonymous false" in conf, "only the registry's loggers and ingest"
        assert (tmp_path / "data" / "broker" / "credentials.csv").exists()
        dashboard = re.search(r"dashboard +(http://\S+)/", Path(out.name).read_text()).group(1)
        wait_for(lambda: _answers(f"{dashboard}/healthz"), timeout=60)
        signed_in = httpx.post(  # ten processes starting on two cores: it may take a while
            f"{dashboard}/api/v1/auth/login",
            json={"username": "bureau", "password": DEMO_PASSWORD},
            timeout=60,
        )
        assert signed_in.status_code == 200
        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0
    finally:
        if up.poll() is None:
            up.kill()
    wait_for(lambda: not any(alive(pid) for pid in started), timeout=15)
    assert "stopping" in Path(out.name).read_text()


def test_up_uses_the_configured_broker_and_influxdb(
    tmp_path: Path, broker: Mosquitto, influxd: Influxd
) -> None:
    env = {
        **os.environ,
        "PVMON_DATA_DIR": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
        "PVMON_MQTT_URL": broker.url,
        "PVMON_INFLUX_URL": influxd.url,
        "PVMON_INFLUX_DB": "configured",
    }
    out = tmp_path / "up.out"
    with out.open("w") as sink:
        up = subprocess.Popen(
            [sys.executable, "-m", "launch", "up", "--no-history"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    try:
        with InfluxClient(influxd.url, "configured") as influx:

            def stored() -> bool:
                try:
                    return bool(influx.query('SELECT COUNT("W") FROM "telemetry"'))
                except Exception:  # the database appears once up has provisioned it
                    return False

            wait_for(stored, timeout=120)
        direct = Path(f"/proc/{up.pid}/task/{up.pid}/children").read_text().split()
        running = programs({int(pid) for pid in direct})
        assert running == {
            "ingest",
            "simulate",
            "analytics",
            "alerts",
            "maintenance",
            "finance",
            "reports",
            "api",
        }, "no broker, no influxd"
        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0
    finally:
        if up.poll() is None:
            up.kill()
    text = out.read_text()
    assert f"broker     {broker.url} (configured)" in text
    assert f"influxdb   {influxd.url} (configured)" in text
