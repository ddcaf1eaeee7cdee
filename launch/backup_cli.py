"""``pvmon backup`` and ``pvmon restore`` (the work is in ``backup.run``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from backup.run import Restored, backup, dated, prune, read_manifest, restore
from backup.stores import BackupError
from launch.clitools import fail, settings_of_command
from launch.local.influxd import Influxd, InfluxdOptions
from launch.local.process import ServiceError, free_port
from pvmon.datapaths import local_influxdb
from pvmon.influx.client import InfluxClient, InfluxError
from pvmon.settings import Settings
from pvmon.stores import open_influx


def backup_command(
    directory: Annotated[Path, typer.Argument(help="A new (or empty) directory.")],
    dated_: Annotated[
        bool, typer.Option("--dated", help="Back up into DIRECTORY/<UTC time> instead.")
    ] = False,
    keep: Annotated[int, typer.Option(min=1, help="With --dated: how many backups to keep.")] = 14,
) -> None:
    """Back up InfluxDB, the relational store and the data directory's declared paths
    while everything runs."""
    settings = settings_of_command()
    now = dt.datetime.now(dt.UTC)
    target = dated(directory, now) if dated_ else directory
    try:
        manifest = backup(settings, target, now)
    except (BackupError, OSError) as exc:
        raise fail(f"backup failed, nothing kept: {exc}") from None
    size = sum(f.bytes for f in manifest.files)
    typer.echo(
        f"backed up to {target}: {sum(manifest.rows.values()):,} rows in "
        f"{len(manifest.rows)} tables (schema {manifest.schema_revision}), InfluxDB database "
        f"{manifest.influx_db!r}, {sum(p.present for p in manifest.paths)} data paths; "
        f"{len(manifest.files)} files, {size / 1e6:.1f} MB"
    )
    if dated_:
        for gone in prune(directory, keep):
            typer.echo(f"removed the older backup {gone}")


def restore_command(
    directory: Annotated[Path, typer.Argument(help="A backup made by pvmon backup.")],
) -> None:
    """Restore a backup into an empty relational store, InfluxDB and data directory (after
    a lost disk, on a new server), with the processes stopped. Where no InfluxDB is
    configured, the local one ``pvmon up`` uses is started for the restore."""
    settings = settings_of_command()
    try:
        read_manifest(directory)
        with _influx_for_restore(settings) as (restoring, influx):
            done = restore(restoring, directory, influx)
    except (BackupError, ServiceError, InfluxError, OSError) as exc:
        raise fail(f"restore failed: {exc}") from None
    _said(done)


def _said(done: Restored) -> None:
    m = done.manifest
    typer.echo(
        f"restored the backup of {m.created_at:%Y-%m-%d %H:%M:%S} UTC (schema "
        f"{m.schema_revision}): {sum(done.rows.values()):,} rows in {len(done.rows)} tables, "
        f"InfluxDB database {m.influx_db!r}, {len(done.paths)} data paths. Start the "
        "processes: their first start upgrades the schema if the backup is older."
    )


@contextmanager
def _influx_for_restore(settings: Settings) -> Iterator[tuple[Settings, InfluxClient]]:
    if settings.influx_url is not None:
        with open_influx(settings) as influx:
            yield settings, influx
        return
    influxd = Influxd(
        InfluxdOptions(
            http_port=free_port(), rpc_port=free_port(), directory=local_influxdb(settings)
        ),
        settings.local.influxd_bin,
    )
    influxd.start()
    try:
        local = settings.model_copy(
            update={
                "influx_url": influxd.url,
                "influx_rpc": f"{influxd.options.host}:{influxd.options.rpc_port}",
            }
        )
        with open_influx(local) as influx:
            yield local, influx
    finally:
        influxd.stop()
