"""What every command shares: its settings, who runs it (for the audit log), and how it
fails."""

from __future__ import annotations

import getpass
import os

import typer

from pvmon import localservices as local_services
from pvmon.audit import Actor
from pvmon.logs import configure_logging
from pvmon.settings import Settings, SettingsError, load_settings


def settings_of_command() -> Settings:
    """The settings; where they name no broker or InfluxDB, those of a ``pvmon up`` running
    for the same data directory."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    configure_logging(settings.log_level)
    up = local_services.running(settings.data_dir)
    if up is not None and up.pid != os.getpid():
        settings = settings.model_copy(
            update={
                "mqtt_url": settings.mqtt_url or up.mqtt_url,
                "influx_url": settings.influx_url or up.influx_url,
                "influx_rpc": up.influx_rpc
                if settings.influx_url is None and up.influx_rpc
                else settings.influx_rpc,
            }
        )
    return settings


def cli_actor() -> Actor:
    """Whoever runs the command, as the audit log names them."""
    return Actor(f"cli:{getpass.getuser()}", "cli")


def fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)
