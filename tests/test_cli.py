"""The ``pvmon`` command line: help everywhere, clear errors, registry round trips."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from api.users import demo_maintainer
from launch.cli import app
from launch.demo import demo_scenario
from launch.local.influxd import Influxd
from pvmon import localservices as local_services
from pvmon.db import tables
from pvmon.db.engine import make_engine, session_factory
from pvmon.db.findings import sync_findings
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.localservices import LocalServices
from pvmon.registry.schema import Registry
from simulators.scenario import Scenario

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["up"],
        ["ingest"],
        ["simulate"],
        ["registry"],
        ["registry", "generate"],
        ["registry", "export"],
        ["registry", "import"],
        ["analytics"],
        ["alerts"],
        ["alerts", "list"],
        ["alerts", "show"],
        ["alerts", "ack"],
        ["alerts", "resolve"],
        ["alerts", "run"],
        ["broker", "config"],
        ["api"],
        ["users", "add"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_bad_settings_stop_with_exit_code_2_and_say_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVMON_MQTT_URL", "ftp://nowhere")
    result = runner.invoke(app, ["ingest"])
    assert result.exit_code == 2
    assert "PVMON_MQTT_URL" in result.output
    assert "mqtt://" in result.output


def test_registry_generate_export_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["registry", "generate", "--as-of", "2026-11-28"])
    assert result.exit_code == 0, result.output
    assert "2240 stations" in result.output
    again = runner.invoke(app, ["registry", "generate"])
    assert again.exit_code == 1
    assert "--replace" in again.output
    quiet = runner.invoke(app, ["registry", "generate", "--if-empty"])
    assert quiet.exit_code == 0
    assert "leaving it" in quiet.output
    exported = runner.invoke(app, ["registry", "export", str(tmp_path / "fleet.xlsx")])
    assert exported.exit_code == 0, exported.output
    imported = runner.invoke(app, ["registry", "import", str(tmp_path / "fleet.xlsx")])
    assert imported.exit_code == 0, imported.output
    assert "2569 inverters" in imported.output


def test_importing_a_bad_file_names_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    assert runner.invoke(app, ["registry", "generate"]).exit_code == 0
    folder = tmp_path / "csv"
    assert runner.invoke(app, ["registry", "export", str(folder)]).exit_code == 0
    shares = folder / "station_shares.csv"
    shares.write_text(
        shares.read_text(encoding="utf-8-sig").replace(",1.0,", ",0.9,", 1), encoding="utf-8-sig"
    )
    result = runner.invoke(app, ["registry", "import", str(folder)])
    assert result.exit_code == 1
    assert "sum to 0.9, not 1" in result.output


def test_simulate_without_a_broker_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["simulate"])
    assert result.exit_code == 1
    assert "PVMON_MQTT_URL" in result.output


def test_alerts_are_listed_acknowledged_and_resolved_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    assert runner.invoke(app, ["registry", "generate", "--as-of", "2026-11-28"]).exit_code == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'pvmon.db'}")
    now = dt.datetime(2026, 11, 28, 6, tzinfo=dt.UTC)
    with session_factory(engine).begin() as session:
        sync_findings(
            session,
            [
                Finding(
                    FindingKind.ZERO_OUTPUT,
                    Subject.STATION,
                    "VS001",
                    Severity.CRITICAL,
                    now,
                    {"output_share": 0.0, "peer_median_share": 0.6},
                    "VS001",
                )
            ],
            set(),
            now,
        )
    ran = runner.invoke(app, ["alerts", "run"])
    assert ran.exit_code == 0, ran.output
    listed = runner.invoke(app, ["alerts", "list"])
    assert "zero_output" in listed.output
    assert "1 alert(s)" in listed.output
    with session_factory(engine)() as session:
        alert_id = session.scalars(select(tables.Alert.id)).one()
    acked = runner.invoke(app, ["alerts", "ack", str(alert_id), "--by", "M001", "--note", "去现场"])
    assert acked.exit_code == 0, acked.output
    assert f"alert {alert_id}: acknowledged" in acked.output
    resolved = runner.invoke(app, ["alerts", "resolve", str(alert_id), "--by", "M001"])
    assert f"alert {alert_id}: resolved" in resolved.output
    again = runner.invoke(app, ["alerts", "ack", str(alert_id), "--by", "M001"])
    assert again.exit_code == 1
    assert "already resolved" in again.output
    shown = runner.invoke(app, ["alerts", "show", str(alert_id)])
    for action in ("opened", "acknowledged", "resolved"):
        assert action in shown.output
    missing = runner.invoke(app, ["alerts", "show", "999999"])
    assert missing.exit_code == 1
    assert "no alert 999999" in missing.output
    engine.dispose()


def test_broker_config_writes_credentials_for_every_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    empty = runner.invoke(app, ["broker", "config"])
    assert empty.exit_code == 1
    assert "registry is empty" in empty.output
    assert runner.invoke(app, ["registry", "generate", "--as-of", "2026-11-28"]).exit_code == 0
    made = runner.invoke(app, ["broker", "config"])
    assert made.exit_code == 0, made.output
    assert "2240 logger credentials" in made.output
    lines = (tmp_path / "broker" / "credentials.csv").read_text().splitlines()
    assert len(lines) == 1 + 1 + 2240


def targets_command() -> subprocess.CompletedProcess[str]:
    """``pvmon analytics targets`` in its own process, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "launch", "analytics", "targets"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
        check=False,
    )


def test_a_command_finds_the_influxdb_pvmon_up_runs_for_its_data_dir_or_says_what_to_set(
    tmp_path: Path, influxd: Influxd, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    lost = targets_command()
    assert lost.returncode == 2
    assert lost.stderr.strip().splitlines() == [
        f"error: no InfluxDB: set PVMON_INFLUX_URL, or run `pvmon up` for this data "
        f"directory ({tmp_path})"
    ], "one line, no traceback"
    # A pvmon up running for this data directory (this process stands in for it).
    local_services.record(tmp_path, LocalServices(os.getpid(), None, influxd.url))
    empty = targets_command()
    assert (empty.returncode, empty.stderr.strip()) == (
        2,
        "error: the registry is empty: `pvmon registry generate` (or `pvmon registry import`)",
    )
    assert runner.invoke(app, ["registry", "generate"]).exit_code == 0
    found = targets_command()
    assert found.returncode == 0, found.stderr[-2000:]
    assert "village stations" in found.stdout


def test_the_demo_gives_the_demo_maintainers_station_a_fault(
    tmp_path: Path, loaded_engine: Engine, default_registry: Registry
) -> None:
    scenario = Scenario.load(demo_scenario(loaded_engine, tmp_path))
    (fault,) = scenario.faults
    maintainer = demo_maintainer(default_registry)
    assert fault.kind == "fault"
    assert fault.stations[0] in default_registry.crews(), "a station with a crew"
    assert maintainer.id in default_registry.crews()[fault.stations[0]], "the demo maintainer's"
