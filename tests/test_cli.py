"""The ``pvmon`` command line: help everywhere, clear errors, registry round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pvmon.cli import app

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
        shares.read_text(encoding="utf-8-sig").replace(",1.0\n", ",0.9\n", 1), encoding="utf-8-sig"
    )
    result = runner.invoke(app, ["registry", "import", str(folder)])
    assert result.exit_code == 1
    assert "sum to 0.9, not 1" in result.output


def test_simulate_without_a_broker_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    result = runner.invoke(app, ["simulate"])
    assert result.exit_code == 1
    assert "PVMON_MQTT_URL" in result.output
