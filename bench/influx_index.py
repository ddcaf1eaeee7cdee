"""InfluxDB's series index at a province's size: ``inmem`` against ``tsi1`` (issue 21).

For N counties like Yonghe (the default registry, its ids prefixed by the county), one
point of every series the system writes — raw telemetry per inverter, and the daily rollups
per device, station, village, township, segment and the fleet, the stations' hour profiles
and today's energy, with the tags ``analytics/rollups.py`` gives them (events, which only
alarming devices have, are left out) — is written into a fresh influxd with each index.
Printed per index: the series cardinality influxd counts, the time to write, influxd's
resident memory after the writes, and after a restart (the index loaded or rebuilt from
disk) with the time the restart took.

Run: .venv/bin/python -m bench.influx_index [--counties 10,100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import free_port
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.registry.schema import Registry
from simulators.demo_registry import GenerationOptions, generate_registry

TS = 1_764_950_400
BATCH = 5_000


def county_lines(registry: Registry, county: int) -> list[str]:
    """One point of each series a county's data makes."""
    c = f"C{county:03d}"
    kind = {s.id: str(s.kind) for s in registry.stations}
    town = {s.id: f"{c}{s.township_id}" for s in registry.stations}
    out = []
    for i in registry.inverters:
        tags = f"device={c}{i.id},kind={kind[i.station_id]},station={c}{i.station_id}"
        out.append(f"{schema.TELEMETRY},{tags},township={town[i.station_id]} W=1 {TS}")
        out.append(f"{schema.DEVICE_DAILY},{tags},township={town[i.station_id]} e=1 {TS}")
    for s in registry.stations:
        tags = f"station={c}{s.id},kind={kind[s.id]},township={town[s.id]}"
        for measurement in (schema.STATION_DAILY, schema.STATION_HOURS, schema.STATION_TODAY):
            out.append(f"{measurement},{tags} e=1 {TS}")
    for v in registry.villages:
        out.append(f"{schema.VILLAGE_DAILY},village={c}{v.id},township={c}{v.township_id} e=1 {TS}")
    for t in registry.townships:
        for k in sorted(set(kind.values())):
            for measurement in (schema.TOWNSHIP_DAILY, schema.TOWNSHIP_TODAY):
                out.append(f"{measurement},township={c}{t.id},kind={k} e=1 {TS}")
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(index: str, lines: list[str], root: Path) -> dict[str, float]:
    options = InfluxdOptions(free_port(), free_port(), root / index, index=index)
    server = Influxd(options)
    server.start()
    client = InfluxClient(server.url, "pvmon", timeout=300)
    provision(client, raw_days=400, generation="1")
    began = time.perf_counter()
    for n in range(0, len(lines), BATCH):
        client.write(lines[n : n + BATCH])
    written = time.perf_counter() - began
    time.sleep(2)
    series = client.query("SHOW SERIES CARDINALITY")
    cardinality = sum(v[0] for s in series for v in s.get("values", []))
    after_write = rss_mb(server.pid or 0)
    server.stop()
    began = time.perf_counter()
    server.start()
    restart = time.perf_counter() - began
    client.query("SHOW MEASUREMENTS")
    after_restart = rss_mb(server.pid or 0)
    server.stop()
    client.close()
    return {"series": cardinality, "write_s": written, "rss_write": after_write,
            "restart_s": restart, "rss_restart": after_restart}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counties", default="10,100")
    args = parser.parse_args()
    registry = generate_registry(GenerationOptions(seed=2021))
    print(
        f"one county: {len(registry.stations):,} stations, {len(registry.inverters):,} "
        f"inverters, {len(county_lines(registry, 0)):,} series"
    )
    print(f"{'counties':>8} {'index':>6} {'series':>10} {'write s':>8} {'RSS MB':>8} "
          f"{'restart s':>10} {'RSS MB after':>13}")  # fmt: skip
    for counties in (int(c) for c in args.counties.split(",")):
        lines = [line for c in range(counties) for line in county_lines(registry, c)]
        for index in ("inmem", "tsi1"):
            with tempfile.TemporaryDirectory(prefix="pvmon-index-") as root:
                m = measure(index, lines, Path(root))
            row = (
                f"{counties:>8} {index:>6} {m['series']:>10,.0f} {m['write_s']:>8.1f} "
                f"{m['rss_write']:>8.0f} {m['restart_s']:>10.1f} {m['rss_restart']:>13.0f}"
            )
            print(row)


if __name__ == "__main__":
    main()
