"""``pvmon backup DIR`` and ``pvmon restore DIR``.

A backup is written into ``DIR.partial`` and renamed to ``DIR`` when whole, its manifest
last, so that a backup cut short never passes for one. The relational store's rows are
counted in the same snapshot the copy is taken from (SQLite: the copy itself; PostgreSQL:
``pg_dump --snapshot`` of the transaction that counts them).

A restore reads the manifest and checks every file's SHA-256 before it touches anything; it
restores only into empty places (no tables in the relational store, no InfluxDB database of
that name, no files where the data paths go), so that it never mixes a backup with what is
there — except the settings file, which a new server has before its restore: the backup's
is put beside it (``pvmon.toml.from-backup``) for the operator to compare; and if any step
fails, it takes back the steps it made. Afterwards the relational store holds exactly the
rows the manifest counts, or the restore fails.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from pydantic import ValidationError

from backup.files import FILES_DIR, copy_back, copy_out, is_empty
from backup.manifest import MANIFEST, BackedPath, Manifest, damaged, file_entry
from backup.stores import (
    INFLUX_DIR,
    PG_DUMP,
    SQLITE_FILE,
    BackupError,
    influx_backup,
    influx_restore,
    influx_settled,
    pg_target,
    relational_is_empty,
    relational_restore,
    run_tool,
    sqlite_copy,
    sqlite_path,
)
from pvmon.datapaths import declared
from pvmon.db.engine import make_engine
from pvmon.durable import write_whole
from pvmon.influx.client import InfluxClient
from pvmon.settings import Settings

DATED = re.compile(r"^\d{8}T\d{6}Z$")
"""The names ``--dated`` gives backups (UTC): the only directories ``--keep`` removes."""


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    rows: dict[str, int]
    """Rows per table after the restore (equal to the manifest's)."""
    paths: list[str]


def backup(settings: Settings, into: Path, now: dt.datetime) -> Manifest:
    """Back up everything the system keeps into ``into`` (absent or empty)."""
    if not is_empty(into):
        raise BackupError(f"{into} is not empty: back up into a new directory")
    partial = into.with_name(into.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        revision, rows = _relational(settings, partial)
        influx_backup(settings.influx_rpc, settings.influx_db, partial / INFLUX_DIR)
        paths = _paths_out(settings, partial / FILES_DIR)
        files = [file_entry(partial, p) for p in sorted(partial.rglob("*")) if p.is_file()]
        manifest = Manifest(
            created_at=now,
            schema_revision=revision,
            dialect=sa.make_url(settings.sqlalchemy_url).get_backend_name(),
            influx_db=settings.influx_db,
            rows=rows,
            paths=paths,
            files=files,
        )
        os.sync()  # the files on disk before the manifest that vouches for them
        write_whole(partial / MANIFEST, manifest.model_dump_json(indent=1).encode())
        if into.exists():
            into.rmdir()
        os.replace(partial, into)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return manifest


def dated(root: Path, now: dt.datetime) -> Path:
    return root / now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def prune(root: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest dated backups under ``root``; returns the removed."""
    whole = sorted(p for p in root.iterdir() if DATED.match(p.name) and (p / MANIFEST).is_file())
    gone = whole[:-keep] if keep else whole
    for path in gone:
        shutil.rmtree(path)
    return gone


def _relational(settings: Settings, into: Path) -> tuple[str | None, dict[str, int]]:
    """Copy the relational store; its migration and rows per table, from the same snapshot."""
    url = settings.sqlalchemy_url
    if sa.make_url(url).get_backend_name() == "sqlite":
        copy = into / SQLITE_FILE
        sqlite_copy(sqlite_path(url), copy)
        engine = make_engine(f"sqlite:///{copy}")
        try:
            with engine.connect() as connection:
                return _revision(connection), _rows(connection)
        finally:
            engine.dispose()
    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
            snapshot = connection.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            found = _revision(connection), _rows(connection)
            target, env = pg_target(url)
            run_tool(
                ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}",
                 f"--file={into / PG_DUMP}", f"--dbname={target}"],
                "dumping the PostgreSQL database",
                env,
            )  # fmt: skip
            return found
    finally:
        engine.dispose()


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _rows(connection: sa.Connection) -> dict[str, int]:
    names = sorted(sa.inspect(connection).get_table_names())
    quote = connection.dialect.identifier_preparer.quote
    return {
        n: connection.execute(sa.text(f"SELECT count(*) FROM {quote(n)}")).scalar_one()
        for n in names
    }


def _paths_out(settings: Settings, into: Path) -> list[BackedPath]:
    out = []
    for p in declared(settings):
        present = p.path.exists()
        if present:
            copy_out(p.path, into / p.name)
        out.append(BackedPath(name=p.name, source=str(p.path), present=present,
                              is_file=p.path.is_file()))  # fmt: skip
    return out


def read_manifest(source: Path) -> Manifest:
    try:
        return Manifest.model_validate_json((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} is not a backup: it has no {MANIFEST}") from None
    except (OSError, ValidationError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read: {exc}") from None


def restore(settings: Settings, source: Path, influx: InfluxClient) -> Restored:
    """Restore the backup in ``source`` into empty stores and data paths; all or nothing."""
    manifest = read_manifest(source)
    problems = damaged(source, manifest)
    if problems:
        raise BackupError("the backup is damaged; nothing was restored: " + "; ".join(problems))
    dialect = sa.make_url(settings.sqlalchemy_url).get_backend_name()
    if dialect != manifest.dialect:
        raise BackupError(f"the backup is of a {manifest.dialect} store, this one is {dialect}")
    targets = {p.name: p.path for p in declared(settings)}
    engine = make_engine(settings.sqlalchemy_url)
    try:
        _check_empty(engine, influx, manifest, targets)
        with ExitStack() as undo:
            relational_restore(settings.sqlalchemy_url, source)
            undo.callback(_clear_relational, engine, settings.sqlalchemy_url)
            influx_restore(settings.influx_rpc, manifest.influx_db, source / INFLUX_DIR)
            undo.callback(influx.execute, f'DROP DATABASE "{manifest.influx_db}"')
            influx_settled(influx, manifest.influx_db, source / INFLUX_DIR)
            paths = _paths_back(source / FILES_DIR, manifest, targets, undo.callback)
            engine.dispose()
            with engine.connect() as connection:
                rows = _rows(connection)
            if rows != manifest.rows:
                raise BackupError(
                    f"restored rows differ from the backup's: {rows} != {manifest.rows}"
                )
            undo.pop_all()
    finally:
        engine.dispose()
    return Restored(manifest, rows, paths)


def _check_empty(
    engine: sa.Engine, influx: InfluxClient, manifest: Manifest, targets: dict[str, Path]
) -> None:
    busy = []
    if not relational_is_empty(engine):
        busy.append(f"the relational store {engine.url.render_as_string()} has tables")
    databases = influx.query("SHOW DATABASES")
    names = {row[0] for s in databases for row in s.get("values", [])}
    if manifest.influx_db in names:
        busy.append(f"InfluxDB has a database {manifest.influx_db!r}")
    for p in manifest.paths:
        if p.present and not p.is_file and p.name in targets and not is_empty(targets[p.name]):
            busy.append(f"{targets[p.name]} is not empty")
    if busy:
        raise BackupError(
            "a restore goes into empty places only, and nothing was restored: "
            + "; ".join(busy)
            + " (move them aside, or restore onto a fresh data directory and database)"
        )


def _clear_relational(engine: sa.Engine, url: str) -> None:
    engine.dispose()
    if engine.dialect.name == "sqlite":
        path = sqlite_path(url)
        for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
        return
    metadata = sa.MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)


def _paths_back(
    files: Path,
    manifest: Manifest,
    targets: dict[str, Path],
    on_undo: Callable[..., object],
) -> list[str]:
    out = []
    for p in manifest.paths:
        if not p.present or p.name not in targets:
            continue
        target = targets[p.name]
        if p.is_file and target.exists():
            target = target.with_name(target.name + ".from-backup")
        copy_back(files / p.name, target)
        on_undo(_remove, target)
        out.append(str(target))
    return out


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
