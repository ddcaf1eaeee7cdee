"""Each store's own backup and restore, run while the system runs.

- InfluxDB 1.x: ``influxd backup -portable`` and ``influxd restore -portable`` through the
  server's RPC address (2.x and 3.x have their own tools, ``influx backup``; not driven here).
- SQLite: the online backup API (a consistent copy while others write), restored by copying
  the file into place under a temporary name and renaming it.
- PostgreSQL: ``pg_dump --format=custom`` (one snapshot), restored with ``pg_restore`` in one
  transaction into an empty database.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from pvmon.influx.client import InfluxClient, InfluxError

INFLUX_DIR = "influxdb"
SQLITE_FILE = "pvmon.db"
PG_DUMP = "pvmon.pgdump"
TOOL_TIMEOUT_S = 6 * 3600
RPC_TIMEOUT_S = 5.0


class BackupError(Exception):
    """A backup or restore refused or failed, with the reason an operator can act on."""


def run_tool(args: list[str], what: str, env: dict[str, str] | None = None) -> None:
    """Run a store's own tool; ``env``: variables added to the environment (secrets, kept
    off the command line that any user of the machine can read)."""
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed ({what}; ./setup.sh installs it)")
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
            env={**os.environ, **env} if env else None,
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what}: {args[0]} did not finish in {TOOL_TIMEOUT_S} s") from None
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise BackupError(f"{what} failed ({args[0]} exit {done.returncode}): {' '.join(detail)}")


def rpc_answers(rpc: str) -> None:
    """Refuse at once when influxd's RPC address does not answer: its backup and restore
    tools retry a refused connection for many minutes."""
    host, _, port = rpc.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=RPC_TIMEOUT_S).close()
    except OSError as exc:
        raise BackupError(
            f"InfluxDB's RPC address {rpc} does not answer ({exc}): set PVMON_INFLUX_RPC to "
            "influxd's bind-address (default 127.0.0.1:8088)"
        ) from None


def influx_backup(rpc: str, database: str, into: Path) -> None:
    rpc_answers(rpc)
    run_tool(
        ["influxd", "backup", "-portable", "-host", rpc, "-db", database, str(into)],
        f"backing up InfluxDB database {database!r} from {rpc}",
    )


def influx_restore(rpc: str, database: str, source: Path) -> None:
    """Into a server that does not have ``database`` (influxd refuses to overwrite one)."""
    rpc_answers(rpc)
    run_tool(
        ["influxd", "restore", "-portable", "-host", rpc, "-db", database, str(source)],
        f"restoring InfluxDB database {database!r} to {rpc}",
    )


SETTLE_S = 120.0
"""How long a restored database may take to come back into service."""


def influx_settled(
    influx: InfluxClient, database: str, source: Path, settle_s: float = SETTLE_S
) -> None:
    """Wait until the restored shards are in service and hold data. ``influxd restore``
    returns while the server still reopens each imported shard ("engine is closed" for a
    moment, longer under load): a server stopped then loses the import, which the restore
    drill saw as a restore reported whole with nothing in it."""
    holds_data = any(f.get("size", 0) > 0 for f in _portable_files(source))
    deadline = time.monotonic() + settle_s
    while True:
        try:
            found = influx.query("SELECT * FROM /.*/ LIMIT 1", database=database)
            if found or not holds_data:
                return
            problem = "no data visible"
        except InfluxError as exc:
            problem = str(exc)[:200]
        if time.monotonic() > deadline:
            raise BackupError(f"the restored InfluxDB database {database!r} is not in service "
                              f"after {settle_s:g} s: {problem}")  # fmt: skip
        time.sleep(0.1)


def _portable_files(source: Path) -> list[dict]:
    """The shard files a portable backup lists in its ``.manifest``."""
    files: list[dict] = []
    for manifest in source.glob("*.manifest"):
        files += json.loads(manifest.read_text()).get("files", [])
    return files


def pg_target(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq's tools take it (no SQLAlchemy driver name, no password) and the
    environment that carries the password (``PGPASSWORD``)."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    bare = URL.create("postgresql", parsed.username, None, parsed.host, parsed.port,
                      parsed.database, parsed.query)  # fmt: skip
    return bare.render_as_string(hide_password=False), env


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"not a SQLite file: {url}")
    return Path(database)


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (its online backup API)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def relational_is_empty(engine: sa.Engine) -> bool:
    return not sa.inspect(engine).get_table_names()


def relational_restore(url: str, source: Path) -> None:
    """Into an empty database (the caller checks); all of it or nothing."""
    if make_url(url).get_backend_name() == "sqlite":
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(source / SQLITE_FILE, partial)
        for stale in (target.with_name(target.name + s) for s in ("-wal", "-shm")):
            stale.unlink(missing_ok=True)
        os.replace(partial, target)
        return
    target, env = pg_target(url)
    run_tool(
        ["pg_restore", "--exit-on-error", "--single-transaction", "--no-owner",
         f"--dbname={target}", str(source / PG_DUMP)],
        "restoring the PostgreSQL database",
        env,
    )  # fmt: skip
