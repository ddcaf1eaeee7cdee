"""The servers a running ``pvmon up`` started for its data directory (a local Mosquitto
and influxd on free ports), recorded in ``<data dir>/services.json`` while it runs, so that
other commands on the same data directory (``pvmon analytics targets``, ``pvmon alerts
list``, …) find them without being told."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FILE = "services.json"


@dataclass(frozen=True)
class LocalServices:
    pid: int
    """The ``pvmon up`` process."""
    mqtt_url: str | None
    influx_url: str | None
    api_url: str | None = None
    influx_rpc: str | None = None
    """The local influxd's RPC address (backups)."""


def record(data_dir: Path, services: LocalServices) -> None:
    path = data_dir / FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(services)), encoding="utf-8")
    tmp.replace(path)


def forget(data_dir: Path) -> None:
    (data_dir / FILE).unlink(missing_ok=True)


def running(data_dir: Path) -> LocalServices | None:
    """The services of a live ``pvmon up`` for ``data_dir``, if one runs."""
    try:
        found = LocalServices(**json.loads((data_dir / FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return found
    return found
