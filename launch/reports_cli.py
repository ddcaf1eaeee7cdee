"""``pvmon reports``: the reports service, and a report made by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from launch.clitools import cli_actor, fail, settings_of_command

if TYPE_CHECKING:
    from api.state import ApiState

reports_app = typer.Typer(
    help="Reports: the bureau's monthly report, villages' quarterly statements."
)
run_app = typer.Typer(help="Make a report now.", no_args_is_help=True)
reports_app.add_typer(run_app, name="run")


@reports_app.callback(invoke_without_command=True)
def reports(ctx: typer.Context) -> None:
    """Run the reports service: each report made and delivered when it falls due, catching
    up on what was missed."""
    if ctx.invoked_subcommand is None:
        from reports.service import serve

        serve(settings_of_command())


@run_app.command("monthly")
def run_monthly(
    month: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
    deliver: Annotated[bool, typer.Option(help="Send it as the schedule would.")] = True,
) -> None:
    """The bureau's monthly report of a month: made, archived and (unless --no-deliver)
    sent."""
    from pvmon.localtime import MONTH_PATTERN

    if not re.match(MONTH_PATTERN, month):
        raise typer.BadParameter(f"not a month (YYYY-MM): {month!r}")
    from reports.service import make_monthly

    with _context() as ctx:
        row = make_monthly(ctx, month, _who(), deliver)
        _said(row.id, row.files, row.deliveries)


@run_app.command("quarterly")
def run_quarterly(
    quarter: Annotated[str, typer.Option(help="The quarter, e.g. 2026Q3.")],
    village: Annotated[list[str] | None, typer.Option(help="Only these villages.")] = None,
    deliver: Annotated[bool, typer.Option(help="Send them as the schedule would.")] = True,
) -> None:
    """Each village's statement of a quarter: made, archived and (unless --no-deliver)
    sent."""
    from reports.quarterly import QUARTER_PATTERN
    from reports.service import make_quarterly

    if not re.match(QUARTER_PATTERN, quarter):
        raise typer.BadParameter(f"not a quarter (e.g. 2026Q3): {quarter!r}")
    with _context() as ctx:
        unknown = sorted(set(village or []) - set(ctx.view().villages))
        if unknown:
            raise fail(f"no such village: {', '.join(unknown)}")
        rows = make_quarterly(ctx, quarter.upper(), _who(), village, deliver)
        typer.echo(f"made {len(rows)} village statement(s) of {quarter.upper()}")


def _who() -> str:
    return cli_actor().who


@contextmanager
def _context() -> Iterator[ApiState]:
    """What the API would read the figures through, for this command."""
    from api.state import ApiState
    from pvmon.stores import open_database, open_influx

    settings = settings_of_command()
    with open_influx(settings) as influx:
        ctx = ApiState(settings, open_database(settings), influx)
        try:
            yield ctx
        finally:
            ctx.engine.dispose()


def _said(report_id: int, files: list[dict], deliveries: list[dict]) -> None:
    typer.echo(f"report {report_id}: " + ", ".join(f["name"] for f in files))
    for d in deliveries:
        state = "sent" if d["ok"] else f"failed: {d['error']}"
        typer.echo(f"  {d['channel']} {d['to']}: {state}")
