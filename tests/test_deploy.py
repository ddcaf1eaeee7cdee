"""``pvmon deploy systemd``: a unit per process that systemd accepts (``systemd-analyze
verify``, which runs here without systemd as PID 1), templates for ingest workers and
gateways, the backup on a timer, and an environment file for secrets that only its owner
reads and that a second run never overwrites."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from launch.cli import app
from tests.support.services import missing_service

runner = CliRunner()
PVMON = Path(sys.executable).absolute().with_name("pvmon")


def deploy(tmp_path: Path, *more: str) -> tuple[Path, Path, object]:
    out, etc = tmp_path / "units", tmp_path / "etc"
    args = ["deploy", "systemd", "--out", str(out), "--config-dir", str(etc), *more]
    return out, etc, runner.invoke(app, args)


def verify(unit: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        missing_service("systemd-analyze not installed (Debian's systemd package; ./setup.sh)")
    return subprocess.run(
        [tool, "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False
    )


def test_every_generated_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    out, _, result = deploy(tmp_path)
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "pvmon-alerts.service", "pvmon-analytics.service", "pvmon-api.service",
        "pvmon-backup.service", "pvmon-backup.timer", "pvmon-finance.service",
        "pvmon-gateway@.service", "pvmon-ingest@.service", "pvmon-maintenance.service",
        "pvmon-reports.service", "pvmon.target",
    ]  # fmt: skip
    for template, instance in (("ingest", "w1"), ("gateway", "north")):
        shutil.copy(
            out / f"pvmon-{template}@.service", out / f"pvmon-{template}@{instance}.service"
        )
    for unit in sorted(out.iterdir()):
        checked = verify(unit)
        assert (unit.name, checked.returncode, checked.stderr) == (unit.name, 0, "")


def test_a_unit_systemd_would_not_accept_is_caught_by_the_check(tmp_path: Path) -> None:
    """The check above can fail: a misspelt restart policy is reported."""
    out, _, _ = deploy(tmp_path)
    api = out / "pvmon-api.service"
    api.write_text(api.read_text().replace("Restart=always", "Restart=sometimes"))
    assert "Failed to parse service restart specifier" in verify(api).stderr


def test_units_run_the_processes_as_the_dedicated_user_and_restart_them(tmp_path: Path) -> None:
    out, etc, _ = deploy(tmp_path, "--user", "pvmon-svc", "--data-dir", "/srv/pvmon")
    ingest = (out / "pvmon-ingest@.service").read_text()
    assert f"ExecStart={PVMON} ingest --worker-id %i\n" in ingest
    for line in ("User=pvmon-svc", "Restart=always", "StandardOutput=journal",
                 f"EnvironmentFile={etc / 'pvmon.env'}", "Environment=PVMON_DATA_DIR=/srv/pvmon",
                 "ReadWritePaths=/srv/pvmon", "PartOf=pvmon.target"):  # fmt: skip
        assert f"\n{line}\n" in ingest
    gateway = (out / "pvmon-gateway@.service").read_text()
    assert f"EnvironmentFile={etc / 'gateway'}/%i.env\n" in gateway
    assert "gateway --stations ${PVMON_GATEWAY_STATIONS}\n" in gateway
    backup = (out / "pvmon-backup.service").read_text()
    assert f"ExecStart={PVMON} backup /var/backups/pvmon --dated --keep 14\n" in backup
    assert "OnCalendar=*-*-* 02:30:00\n" in (out / "pvmon-backup.timer").read_text()


def test_the_environment_file_is_private_and_a_filled_one_is_kept(tmp_path: Path) -> None:
    _, etc, _ = deploy(tmp_path)
    env = etc / "pvmon.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert "PVMON_DATABASE_URL=\n" in env.read_text()
    env.write_text("PVMON_DATABASE_URL=postgresql://pvmon:s3cr3t@db/pvmon\n")
    _, _, again = deploy(tmp_path)
    assert again.exit_code == 0
    assert env.read_text() == "PVMON_DATABASE_URL=postgresql://pvmon:s3cr3t@db/pvmon\n"


def test_a_program_that_is_not_there_or_a_place_that_cannot_be_written_is_refused(
    tmp_path: Path,
) -> None:
    _, _, missing = deploy(tmp_path, "--pvmon", str(tmp_path / "nowhere" / "pvmon"))
    assert missing.exit_code == 1
    assert "is not an executable pvmon program" in missing.output
    (tmp_path / "file").write_text("")
    _, _, refused = deploy(tmp_path / "file")
    assert refused.exit_code == 1
    assert "cannot write the units" in refused.output
