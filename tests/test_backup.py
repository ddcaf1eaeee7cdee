"""``pvmon backup`` and ``pvmon restore`` on real stores: influxd (its own backup through the
RPC port), SQLite and PostgreSQL, and the data directory's declared paths. A backup taken
and restored on a new server gives back every point, row and file; a damaged backup, a
place that is not empty, or a restore that fails halfway leaves nothing behind."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from typer.testing import CliRunner

from backup.run import backup, dated, prune, restore
from backup.stores import BackupError, influx_settled, pg_target
from launch.cli import app
from launch.local.influxd import Influxd
from pvmon.datapaths import declared
from pvmon.db.engine import make_engine
from pvmon.diskqueue import DiskQueue
from pvmon.influx.client import InfluxClient
from pvmon.influx.provision import provision
from pvmon.settings import Settings, load_settings

NOW = dt.datetime(2026, 12, 6, 18, 30, tzinfo=dt.UTC)
DB = "pvmon"


def settings_on(data: Path, url: str, influxd: Influxd) -> Settings:
    return load_settings(
        data_dir=data,
        database_url=url.replace("postgresql+psycopg", "postgresql"),
        influx_url=influxd.url,
        influx_rpc=f"127.0.0.1:{influxd.options.rpc_port}",
        influx_db=DB,
    )


def fill(settings: Settings, loaded_engine: Engine, influx: InfluxClient) -> dict[str, bytes]:
    """Points in InfluxDB and a file in each declared path; returns the files' contents."""
    provision(influx, raw_days=400, generation="1")
    influx.write(
        [
            f"telemetry,station=VS001,device=INV{d} W={w} {1_764_900_000 + 60 * w}"
            for d in range(3)
            for w in range(200)
        ]
    )
    files = {}
    for p in declared(settings):
        if p.name == "settings":
            continue
        path = p.path / "kept" / "one.bin" if p.name != "spool" else p.path / "w1.db"
        if p.name == "spool":
            queue = DiskQueue(path, 1 << 20)
            queue.append(b"batch-1", 5)
            queue.close()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(os.urandom(64) + p.name.encode())
        files[p.name] = path.read_bytes()
    return files


def points(influx: InfluxClient) -> int:
    series = influx.query('SELECT count("W") FROM telemetry', database=DB)
    return series[0]["values"][0][1] if series else 0


def rows(engine: Engine) -> dict[str, int]:
    names = sa.inspect(engine).get_table_names()
    with engine.connect() as c:
        return {n: c.execute(sa.text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


@pytest.fixture
def source(
    tmp_path: Path, db_url: str, loaded_engine: Engine, influxd_factory: Callable[[], Influxd]
) -> tuple[Settings, dict[str, bytes], Influxd]:
    server = influxd_factory()
    settings = settings_on(tmp_path / "data", db_url, server)
    with InfluxClient(server.url, DB) as influx:
        files = fill(settings, loaded_engine, influx)
    return settings, files, server


def empty_target(tmp_path: Path, settings: Settings, server: Influxd) -> Settings:
    """A new server: a fresh data directory and influxd; PostgreSQL: the database emptied."""
    if settings.effective_database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'new' / 'pvmon.db'}"
    else:
        url = settings.effective_database_url
        engine = make_engine(settings.sqlalchemy_url)
        with engine.begin() as c:
            c.execute(sa.text("DROP SCHEMA public CASCADE"))
            c.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    return settings_on(tmp_path / "new", url, server)


def test_a_backup_restored_on_a_new_server_gives_back_every_point_row_and_file(
    tmp_path: Path,
    source: tuple[Settings, dict[str, bytes], Influxd],
    loaded_engine: Engine,
    influxd_factory: Callable[[], Influxd],
) -> None:
    settings, files, _ = source
    before = rows(loaded_engine)
    manifest = backup(settings, tmp_path / "b1", NOW)
    assert manifest.rows == before
    assert before["stations"] == 2240
    assert not (tmp_path / "b1.partial").exists()
    new = empty_target(tmp_path, settings, influxd_factory())
    loaded_engine.dispose()
    with InfluxClient(new.influx_url or "", DB) as influx:
        done = restore(new, tmp_path / "b1", influx)
        assert points(influx) == 600
    engine = make_engine(new.sqlalchemy_url)
    assert rows(engine) == before == done.rows
    engine.dispose()
    restored = {p.name: p.path for p in declared(new)}
    assert (restored["photos"] / "kept" / "one.bin").read_bytes() == files["photos"]
    assert (restored["reports"] / "kept" / "one.bin").read_bytes() == files["reports"]
    assert (restored["broker"] / "kept" / "one.bin").read_bytes() == files["broker"]
    queue = DiskQueue(restored["spool"] / "w1.db", 1 << 20)
    assert [data for _, data in queue.oldest(10)] == [b"batch-1"]
    queue.close()


def test_a_damaged_backup_is_refused_before_anything_is_restored(
    tmp_path: Path,
    source: tuple[Settings, dict[str, bytes], Influxd],
    influxd_factory: Callable[[], Influxd],
) -> None:
    settings, _, _ = source
    backup(settings, tmp_path / "b1", NOW)
    photo = tmp_path / "b1" / "files" / "photos" / "kept" / "one.bin"
    photo.write_bytes(b"x" + photo.read_bytes()[1:])
    new = empty_target(tmp_path, settings, influxd_factory())
    with InfluxClient(new.influx_url or "", DB) as influx:
        with pytest.raises(BackupError, match=r"damaged.*photos/kept/one.bin: differs"):
            restore(new, tmp_path / "b1", influx)
        assert influx.query("SHOW DATABASES", database=DB)[0].get("values") is None
    assert not (tmp_path / "new" / "photos").exists()
    engine = make_engine(new.sqlalchemy_url)
    assert rows(engine) == {}
    engine.dispose()


def test_a_restore_onto_stores_that_hold_data_is_refused_and_changes_nothing(
    tmp_path: Path,
    source: tuple[Settings, dict[str, bytes], Influxd],
    loaded_engine: Engine,
) -> None:
    settings, _, server = source
    backup(settings, tmp_path / "b1", NOW)
    before = rows(loaded_engine)
    with InfluxClient(server.url, DB) as influx:
        with pytest.raises(BackupError, match="empty places only") as refused:
            restore(settings, tmp_path / "b1", influx)
        assert points(influx) == 600
    message = str(refused.value)
    assert "has tables" in message
    assert "InfluxDB has a database 'pvmon'" in message
    assert f"{settings.data_dir / 'photos'} is not empty" in message
    assert rows(loaded_engine) == before


def test_a_restore_that_fails_halfway_takes_back_what_it_restored(
    tmp_path: Path,
    source: tuple[Settings, dict[str, bytes], Influxd],
    influxd_factory: Callable[[], Influxd],
) -> None:
    """The relational store is restored, then InfluxDB's restore fails (its RPC port does
    not answer): the relational store is empty again and no file was placed."""
    settings, _, _ = source
    backup(settings, tmp_path / "b1", NOW)
    new = empty_target(tmp_path, settings, influxd_factory())
    broken = new.model_copy(update={"influx_rpc": "127.0.0.1:9"})
    with (
        InfluxClient(new.influx_url or "", DB) as influx,
        pytest.raises(BackupError, match=r"RPC address 127\.0\.0\.1:9 does not answer"),
    ):
        restore(broken, tmp_path / "b1", influx)
    engine = make_engine(new.sqlalchemy_url)
    assert rows(engine) == {}
    engine.dispose()
    assert not (tmp_path / "new" / "photos").exists()


def test_a_backup_that_fails_leaves_no_directory_that_could_pass_for_one(
    tmp_path: Path, source: tuple[Settings, dict[str, bytes], Influxd]
) -> None:
    settings, _, _ = source
    with pytest.raises(BackupError, match=r"RPC address 127\.0\.0\.1:9 does not answer"):
        backup(settings.model_copy(update={"influx_rpc": "127.0.0.1:9"}), tmp_path / "b1", NOW)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("b1")) == []
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(BackupError, match="is not empty"):
        backup(settings, tmp_path / "full", NOW)


def test_dated_backups_keep_the_newest(
    tmp_path: Path, source: tuple[Settings, dict[str, bytes], Influxd]
) -> None:
    settings, _, _ = source
    root = tmp_path / "backups"
    made = [dated(root, NOW + dt.timedelta(days=d)) for d in range(3)]
    for d, path in enumerate(made):
        backup(settings, path, NOW + dt.timedelta(days=d))
    (root / "notes").mkdir()
    assert prune(root, 2) == [made[0]]
    assert sorted(p.name for p in root.iterdir()) == ["20261207T183000Z", "20261208T183000Z",
                                                       "notes"]  # fmt: skip
    manifest = json.loads((made[2] / "manifest.json").read_text())
    assert manifest["created_at"].startswith("2026-12-08T18:30:00")


def test_the_commands_say_what_is_wrong_and_exit_with_an_error(tmp_path: Path) -> None:
    runner = CliRunner()
    not_a_backup = runner.invoke(app, ["restore", str(tmp_path)])
    assert not_a_backup.exit_code == 1
    assert f"restore failed: {tmp_path} is not a backup: it has no manifest.json" in (
        not_a_backup.output
    )
    (tmp_path / "manifest.json").write_text("{not json")
    unreadable = runner.invoke(app, ["restore", str(tmp_path)])
    assert unreadable.exit_code == 1
    assert "manifest.json cannot be read" in unreadable.output
    taken = runner.invoke(app, ["backup", str(tmp_path)])
    assert taken.exit_code == 1
    assert f"backup failed, nothing kept: {tmp_path} is not empty" in taken.output


def test_a_settings_file_already_on_the_new_server_stays_and_the_backups_goes_beside_it(
    tmp_path: Path,
    source: tuple[Settings, dict[str, bytes], Influxd],
    influxd_factory: Callable[[], Influxd],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings, _, _ = source
    config = tmp_path / "etc" / "pvmon.toml"
    config.parent.mkdir()
    config.write_text('log_level = "info"\n')
    monkeypatch.setenv("PVMON_CONFIG", str(config))
    backup(settings, tmp_path / "b1", NOW)
    config.write_text('log_level = "warning"\n')
    new = empty_target(tmp_path, settings, influxd_factory())
    with InfluxClient(new.influx_url or "", DB) as influx:
        done = restore(new, tmp_path / "b1", influx)
    assert config.read_text() == 'log_level = "warning"\n'
    assert (tmp_path / "etc" / "pvmon.toml.from-backup").read_text() == 'log_level = "info"\n'
    assert str(tmp_path / "etc" / "pvmon.toml.from-backup") in done.paths


def test_the_postgresql_password_goes_to_the_tools_environment_not_their_command_line() -> None:
    """Any user of the machine can read a process's command line (``ps``)."""
    target, env = pg_target("postgresql+psycopg://pvmon:s%40cret@db:5432/pvmon?sslmode=require")
    assert target == "postgresql://pvmon@db:5432/pvmon?sslmode=require"
    assert env == {"PGPASSWORD": "s@cret"}
    assert pg_target("postgresql://postgres@127.0.0.1/pvmon")[1] == {}


def test_a_restored_database_that_does_not_come_into_service_is_an_error(
    tmp_path: Path, influxd_factory: Callable[[], Influxd]
) -> None:
    """``influxd restore`` returns while the server still reopens the imported shards; the
    restore waits for them, and says so when a database holding data never answers."""
    server = influxd_factory()
    source = tmp_path / "influxdb"
    source.mkdir()
    shard = {"database": DB, "policy": "raw", "shardID": 1, "fileName": "x.tar.gz", "size": 10}
    (source / "x.manifest").write_text(json.dumps({"files": [shard]}))
    with InfluxClient(server.url, DB) as influx:
        with pytest.raises(BackupError, match=r"not in service after 0\.5 s: .*database not found"):
            influx_settled(influx, DB, source, settle_s=0.5)
        provision(influx, raw_days=400)
        with pytest.raises(BackupError, match=r"not in service after 0\.5 s: no data visible"):
            influx_settled(influx, DB, source, settle_s=0.5)
        influx.write([f"telemetry,device=d1 W=1 {int(NOW.timestamp())}"], rp="raw")
        influx_settled(influx, DB, source, settle_s=0.5)
