"""``pvmon deploy``: what a production server needs to run the processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from launch.clitools import fail
from launch.systemd import UnitOptions, environment_file, units

deploy_app = typer.Typer(help="Files for a production server.", no_args_is_help=True)


def _installed_pvmon() -> Path:
    """The ``pvmon`` program next to the running Python (the environment it is installed in)."""
    return Path(sys.executable).absolute().with_name("pvmon")


@deploy_app.command("systemd")
def systemd(
    out: Annotated[Path, typer.Option(help="Where the units go.")] = Path("/etc/systemd/system"),
    config_dir: Annotated[
        Path, typer.Option(help="Where the environment file is made (if missing).")
    ] = Path("/etc/pvmon"),
    data_dir: Annotated[Path, typer.Option(help="The data directory.")] = Path("/var/lib/pvmon"),
    backup_dir: Annotated[Path, typer.Option(help="Where backups go.")] = Path(
        "/var/backups/pvmon"
    ),
    user: Annotated[str, typer.Option(help="The dedicated user the units run as.")] = "pvmon",
    backup_at: Annotated[
        str, typer.Option(help="When the backup runs (systemd calendar).")
    ] = "*-*-* 02:30:00",
    keep: Annotated[int, typer.Option(min=1, help="Backups kept.")] = 14,
    pvmon: Annotated[
        Path | None, typer.Option(help="The installed pvmon program (default: this one).")
    ] = None,
) -> None:
    """Write a systemd unit per process (ingest and gateways as template units), a target
    that holds them, the backup's service and timer, and the environment file for secrets
    (mode 0600, never overwritten)."""
    program = (pvmon or _installed_pvmon()).absolute()
    if not os.access(program, os.X_OK):
        raise fail(f"{program} is not an executable pvmon program (give --pvmon)")
    options = UnitOptions(program, user, data_dir.absolute(), config_dir.absolute(),
                          backup_dir.absolute(), keep, backup_at)  # fmt: skip
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in units(options).items():
            (out / name).write_text(text, encoding="utf-8")
        env = _environment(options)
    except OSError as exc:
        raise fail(f"cannot write the units: {exc}") from None
    typer.echo(f"wrote {len(units(options))} units to {out}; secrets go in {env}")
    typer.echo(
        f"next: useradd --system --home-dir {options.data_dir} {user}; "
        f"install -d -o {user} {options.data_dir} {options.backup_dir}; fill in {env}; "
        "systemctl daemon-reload; systemctl enable --now pvmon.target "
        "pvmon-ingest@w1.service pvmon-backup.timer (docs/deploy.md)"
    )


def _environment(o: UnitOptions) -> Path:
    """The environment file, made with mode 0600 when there is none (a filled one stays)."""
    (o.config_dir / "gateway").mkdir(parents=True, exist_ok=True)
    path = o.env_file
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(environment_file(o))
    return path
