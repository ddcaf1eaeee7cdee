"""A local influxd (InfluxDB 1.x, Debian's ``influxdb`` package)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx

from launch.local.process import ManagedProcess, ServiceError

START_TIMEOUT_S = 300.0
"""influxd answers only once it has opened every shard: a year of the county's data took
longer than 30 s here. One that dies is noticed at once; this bounds one that hangs."""


@dataclass(frozen=True)
class InfluxdOptions:
    http_port: int
    rpc_port: int
    """influxd also binds an RPC port (default 8088): every instance needs its own."""
    directory: Path
    host: str = "127.0.0.1"
    index: str = "inmem"
    """The series index. For a county (``pvmon up``) ``inmem``: it wrote 116,553 points/s here
    against ~102,000 with ``tsi1``, which took ingest's backlog rate from 76 % to 69 % of a
    bare subscriber's (bench/ingest.py), and a county's 12,000 series are small either way.
    A province's deployment sets ``tsi1``: at 1.19 million series it held 0.67 GB after a
    restart against 1.73 GB (bench/influx_index.py, docs/scaling.md, docs/deploy.md)."""


def render_config(o: InfluxdOptions) -> str:
    d = o.directory
    return f"""\
reporting-disabled = true
bind-address = "{o.host}:{o.rpc_port}"

[meta]
  dir = "{d / "meta"}"
  logging-enabled = false

[data]
  dir = "{d / "data"}"
  wal-dir = "{d / "wal"}"
  index-version = "{o.index}"
  query-log-enabled = false
  max-series-per-database = 0
  max-values-per-tag = 0

[coordinator]
  write-timeout = "10s"

[http]
  enabled = true
  bind-address = "{o.host}:{o.http_port}"
  auth-enabled = false
  log-enabled = false

[logging]
  level = "warn"

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
"""


class Influxd(ManagedProcess):
    def __init__(self, options: InfluxdOptions, binary: str = "influxd") -> None:
        path = shutil.which(binary)
        if path is None:
            raise ServiceError(
                f"{binary} not found: install Debian's 'influxdb' package "
                "(./setup.sh does) or set PVMON_INFLUX_URL to an existing server"
            )
        options.directory.mkdir(parents=True, exist_ok=True)
        self.options = options
        self.config_path = options.directory / "influxdb.conf"
        super().__init__(
            "influxd", [path, "-config", str(self.config_path)], options.directory / "influxd.log"
        )

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.http_port}"

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        self.config_path.write_text(render_config(self.options))
        super().start()
        self.wait_ready(self._answers, timeout)

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/ping", timeout=0.5).status_code == 204
        except httpx.HTTPError:
            return False
