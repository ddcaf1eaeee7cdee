"""API latency under load (prints figures; asserts nothing).

A year of daily rollups for the whole fleet (as in ``bench.analytics``) and the village
statements computed from them; ``pvmon api`` in its own process; 20 client threads asking
for the fleet summary and for a village's yearly revenue (each client a different
village), as the bureau with an API token; then the dashboard's pages as the bureau signed
in (the county overview, a township, the rankings, the alert list, a village, a station).
Prints p50/p95/p99 per endpoint and page. The store holds rollups only, so a station page's
day curve reads an empty raw series: its figure is a lower bound.

With ``--counties N`` the registry is a province of N counties (Yonghe and N-1 generated
like it) on PostgreSQL. Every run also measures the station list (a page of 100) and the
overview's map (``/api/v1/fleet/map``); influxd's resident memory after the year of
rollups is printed.

Writing a year of rollups for 100 counties takes about 40 minutes here: ``--store DIR``
keeps the prepared store (influxd's files in DIR, a PostgreSQL database named for the
county count) and later runs with the same ``--counties`` measure it again without
writing it.

The load is wrk's (Debian's ``wrk``, which ``setup.sh`` installs): ``CLIENTS`` connections,
each sending its next request when the last is answered, for ``--seconds`` per endpoint.

Run: .venv/bin/python -m bench.api [--seconds 20] [--counties 100] [--store DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx

from analytics import statements
from analytics.context import Analytics
from api.deps import SESSION_COOKIE
from api.security import create_token
from api.users import DEMO_PASSWORD, demo_users
from bench.analytics import year_of_rollups
from bench.influx_index import rss_mb
from bench.scratchdb import kept_postgres, scratch_postgres
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import free_port
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.registry.store import replace_registry
from pvmon.settings import load_settings
from pvmon.stores import open_database, provision_influx
from simulators.demo_registry import GenerationOptions, generate_registry

CLIENTS = 20
PREPARED = "prepared.json"


def prepare(
    tmp: Path, url: str, counties: int, database: str | None
) -> tuple[str, list[str], list[str]]:
    """The store with a year of rollups and statements; returns a token, the village ids
    and the village stations' ids."""
    chosen = {"database_url": database} if database else {}
    settings = load_settings(data_dir=tmp, influx_url=url, **chosen)
    engine = open_database(settings)
    today = dt.date.today()
    registry = generate_registry(GenerationOptions(as_of=today, counties=counties))
    with session_factory(engine).begin() as session:
        replace_registry(session, registry)
    influx = InfluxClient(url, settings.influx_db, timeout=60)
    provision_influx(influx, settings)
    a = Analytics.open(settings, engine, influx)
    last = today - dt.timedelta(days=1)
    began = time.perf_counter()
    points = year_of_rollups(influx, a, today.year, last)
    now = dt.datetime.now(dt.UTC)
    for month in range(1, today.month + 1):
        statements.statements(a, today.year, month, now)
    statements.statements(a, today.year, None, now)
    print(f"store: {points:,} rollup points and statements in {time.perf_counter() - began:.0f} s")
    with session_factory(engine).begin() as session:
        demo_users(session, now)
        bureau = session.query(tables.User).filter_by(username="bureau").one()
        token = create_token(session, bureau, "bench", now)
    engine.dispose()
    influx.close()
    villages = [v.id for v in registry.villages]
    return token, villages, [s.id for s in registry.stations if s.kind == "village"]


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"p50 {q[49] * 1000:6.1f} ms  p95 {q[94] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms"


PAGES = {
    "county overview": "/overview",
    "township page": "/townships/T03",
    "rankings": "/rankings?kind=village",
    "alert list": "/alerts",
    "village page": "/villages/{village}",
    "station page": "/stations/{station}",
}


WRK_SCRIPT = """
paths = {%(paths)s}
wrk.headers["%(header)s"] = "%(value)s"
local n = 0
response = function(status, headers, body)
  if status >= 400 then io.write(string.format("status %%d\\n", status)) end
end
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("errors %%d\\n", e.connect + e.read + e.write + e.status + e.timeout))
  for i = 1, #latency do
    local value, count = latency(i)
    io.write(string.format("latency %%d %%d\\n", value, count))
  end
end
"""


def load(
    bases: list[str], auth: dict[str, str], paths: list[str], seconds: int, tmp: Path
) -> list[float]:
    """``CLIENTS`` connections asking ``paths`` in turn for ``seconds``, spread evenly
    over the API processes (as a load balancer spreads them); every latency [s], and a
    line with the failed requests by status, if any, printed before the figures. wrk
    makes the load: in C, it leaves the machine's two cores to the server (Python clients
    took a third of them). Each process has answered each path once before (its caches
    warm: first calls are printed apart)."""
    for base in bases:
        for path in sorted(set(paths)):
            httpx.get(f"{base}{path}", headers=auth, timeout=300).raise_for_status()
    ((header, value),) = auth.items()
    script = tmp / "load.lua"
    quoted = ", ".join(f'"{p}"' for p in paths)
    script.write_text(WRK_SCRIPT % {"paths": quoted, "header": header, "value": value})
    options = ["-t", "1", "-c", str(CLIENTS // len(bases)), "-d", f"{seconds}s"]
    runs = [
        subprocess.Popen(
            ["wrk", *options, "--timeout", "120s", "-s", str(script), base],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for base in bases
    ]
    samples: list[float] = []
    failed: Counter[str] = Counter()
    for run in runs:
        out, err = run.communicate()
        if run.returncode != 0:
            raise RuntimeError(f"wrk failed ({run.returncode}): {err.strip()}")
        for line in out.splitlines():
            word, *numbers = line.split()
            if word == "status":
                failed[f"HTTP {numbers[0]}"] += 1
            if word == "errors" and int(numbers[0]):
                failed["wrk errors (non-2xx/3xx included)"] += int(numbers[0])
            if word == "latency":
                samples += [int(numbers[0]) / 1e6] * int(numbers[1])
    if failed:
        print(f"  failed, of {len(samples)}: {dict(failed)}")
    return samples


def pages(
    bases: list[str], villages: list[str], stations: list[str], seconds: int, tmp: Path
) -> None:
    """The dashboard's pages as the signed-in bureau: the first call of each (its caches
    cold), then ``CLIENTS`` at a time."""
    signed = httpx.post(
        f"{bases[0]}/login",
        data={"username": "bureau", "password": DEMO_PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    cookie = {"Cookie": f"{SESSION_COOKIE}={signed.cookies[SESSION_COOKIE]}"}
    for name, path in PAGES.items():
        paths = [
            path.format(village=v, station=s) for v, s in zip(villages, stations, strict=False)
        ][:CLIENTS]
        began = time.perf_counter()
        httpx.get(f"{bases[0]}{paths[0]}", headers=cookie, timeout=120).raise_for_status()
        cold = time.perf_counter() - began
        warm = percentiles(load(bases, cookie, paths, seconds, tmp))
        print(f"{name}: first call {cold * 1000:.0f} ms; {CLIENTS} clients, {seconds} s: {warm}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20, help="of load per endpoint")
    parser.add_argument("--counties", type=int, default=1, help="a province of N counties")
    parser.add_argument("--api-processes", type=int, default=1, help="pvmon api processes")
    parser.add_argument("--store", type=Path, help="keep the prepared store here; reuse it later")
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.store:
            tmp, prepared = kept_store(args.store, args.counties)
            name = f"pvmon_bench_api_{args.counties}"
            database = kept_postgres(name, fresh=not prepared) if args.counties > 1 else None
        else:
            tmp, prepared = Path(stack.enter_context(tempfile.TemporaryDirectory())), None
            database = stack.enter_context(scratch_postgres()) if args.counties > 1 else None
        run(args, tmp, database, prepared)


def kept_store(directory: Path, counties: int) -> tuple[Path, dict | None]:
    """``directory`` and what a finished preparation of ``counties`` left there, or the
    directory emptied when none did (a run stopped while writing leaves no record)."""
    record = directory / PREPARED
    if record.exists():
        prepared = json.loads(record.read_text())
        if prepared["counties"] == counties:
            print(f"store: kept in {directory}, prepared {prepared['on']}")
            return directory, prepared
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory, None


def run(args: argparse.Namespace, tmp: Path, database: str | None, prepared: dict | None) -> None:
    server = Influxd(
        InfluxdOptions(http_port=free_port(), rpc_port=free_port(), directory=tmp / "influxd")
    )
    server.start()
    try:
        if prepared is None:
            token, villages, stations = prepare(tmp, server.url, args.counties, database)
            if args.store:
                record = {"counties": args.counties, "on": dt.date.today().isoformat()}
                record |= {"token": token, "villages": villages, "stations": stations}
                (tmp / PREPARED).write_text(json.dumps(record))
        else:
            token, villages, stations = (prepared[k] for k in ("token", "villages", "stations"))
        print(f"influxd resident with the year of rollups: {rss_mb(server.pid or 0):,.0f} MB")
        env = {
            **os.environ,
            **({"PVMON_DATABASE_URL": database} if database else {}),
            "PVMON_DATA_DIR": str(tmp),
            "PVMON_INFLUX_URL": server.url,
            "PVMON_LOG_LEVEL": "warning",
            "PVMON_DEMO": "true",  # its users have the demo password
        }
        ports = [free_port() for _ in range(args.api_processes)]
        apis = [
            subprocess.Popen(
                [sys.executable, "-m", "launch", "api"], env={**env, "PVMON_API_PORT": str(port)}
            )
            for port in ports
        ]
        try:
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base in bases:
                wait_healthy(base)
            measure(args, bases, token, villages, stations, tmp)
        finally:
            for api in apis:
                api.terminate()
                api.wait(30)
    finally:
        server.stop()


def wait_healthy(base: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def measure(
    args: argparse.Namespace,
    bases: list[str],
    token: str,
    villages: list[str],
    stations: list[str],
    tmp: Path,
) -> None:
    year = dt.date.today().year
    bearer = {"Authorization": f"Bearer {token}"}
    cold = time.perf_counter()
    httpx.get(f"{bases[0]}/api/v1/fleet/summary", headers=bearer, timeout=300).raise_for_status()
    print(f"fleet summary, first call (cache cold): {(time.perf_counter() - cold) * 1000:.0f} ms")
    print(f"{len(bases)} API process(es), {CLIENTS} clients, {args.seconds} s per endpoint:")
    summary = load(bases, bearer, ["/api/v1/fleet/summary"], args.seconds, tmp)
    print(f"fleet summary: {percentiles(summary)}")
    paths = [f"/api/v1/villages/{v}?year={year}" for v in villages[:CLIENTS]]
    print(f"village yearly revenue: {percentiles(load(bases, bearer, paths, args.seconds, tmp))}")
    listed = load(bases, bearer, ["/api/v1/stations?limit=100"], args.seconds, tmp)
    print(f"station list (a page of 100): {percentiles(listed)}")
    mapped = load(bases, bearer, ["/api/v1/fleet/map"], args.seconds, tmp)
    print(f"overview map: {percentiles(mapped)}")
    pages(bases, villages, stations, args.seconds, tmp)


if __name__ == "__main__":
    main()
