"""A new user's first ``pvmon up`` on a fresh data directory (prints figures; asserts nothing).

Starts ``pvmon up`` (with its history) as a user would, in its own process on a new data
directory, and reads what a user would see, every second, until the year is computed:
when the dashboard first answers, when every logger is online, when the dashboard's
year figure is no longer zero, and when the last 30 days and the whole year so far are
computed (from the same store ``pvmon up``'s status line reads). Prints one line per
milestone as it comes, then the table, then ``pvmon up``'s own lines.

Run: .venv/bin/python -m bench.first_run [--timeout 1800] [--history-from 2026-11-01]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from api.users import DEMO_PASSWORD
from launch.local.process import free_port
from launch.progress import RECENT_DAYS, snapshot
from pvmon.localtime import local_day
from pvmon.settings import load_settings
from pvmon.stores import open_database

STATIONS = 2240


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _year_energy(client: httpx.Client, base: str) -> float:
    try:
        summary = client.get(f"{base}/api/v1/fleet/summary", timeout=5)
    except httpx.HTTPError:
        return 0.0
    if summary.status_code != 200:
        return 0.0
    return float(summary.json().get("year", {}).get("energy_kwh") or 0.0)


def _signed_in(base: str) -> httpx.Client:
    client = httpx.Client()
    client.post(
        f"{base}/api/v1/auth/login",
        json={"username": "bureau", "password": DEMO_PASSWORD},
        timeout=5,
    )
    return client


def _milestones(up: subprocess.Popen[bytes], base: str, data: Path, args: argparse.Namespace):
    """Each milestone's seconds since ``began``, printed as it comes."""
    began = time.monotonic()
    seen: dict[str, float] = {}
    client: httpx.Client | None = None

    def reached(name: str) -> None:
        if name not in seen:
            seen[name] = time.monotonic() - began
            print(f"{seen[name]:7.0f} s  {name}", flush=True)

    settings = load_settings(data_dir=data)
    tz = ZoneInfo(settings.timezone)
    first = dt.date.fromisoformat(args.history_from) if args.history_from else None
    while time.monotonic() - began < args.timeout and up.poll() is None:
        time.sleep(1.0)
        if client is None:
            if _answers(f"{base}/healthz"):
                reached("dashboard answers")
                client = _signed_in(base)
                engine = open_database(settings)
            continue
        s = snapshot(engine, local_day(dt.datetime.now(dt.UTC), tz), first)
        recent = min(RECENT_DAYS, s.elapsed_days)
        if s.loggers_online >= STATIONS:
            reached(f"all {STATIONS:,} loggers online")
        if _year_energy(client, base) > 0:
            reached("year energy on the dashboard > 0")
        if s.recent_computed >= recent:
            reached(f"last {recent} days computed")
        if s.history_days >= s.elapsed_days:
            reached(f"history written ({s.elapsed_days} days)")
        if s.computed_days >= s.elapsed_days:
            reached(f"year so far computed ({s.elapsed_days} days)")
            break
    return seen


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--history-from", default=None)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="pvmon-first-run-")) / "data"
    port = free_port()
    env = {
        **os.environ,
        "PVMON_DATA_DIR": str(data),
        "PVMON_API_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    if args.history_from:
        env["PVMON_SIMULATOR__HISTORY_FROM"] = args.history_from
    out = data.parent / "up.out"
    with out.open("w") as sink:
        up = subprocess.Popen(
            [sys.executable, "-m", "launch", "up"], stdout=sink, stderr=subprocess.STDOUT, env=env
        )
    try:
        seen = _milestones(up, f"http://127.0.0.1:{port}", data, args)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(120)
        except subprocess.TimeoutExpired:
            up.kill()
    print("\n| milestone | seconds after `pvmon up` |\n|---|---|")
    for name, seconds in seen.items():
        print(f"| {name} | {seconds:.0f} |")
    print(f"\npvmon up's output ({out}):")
    print(out.read_text())


if __name__ == "__main__":
    main()
