"""``pvmon finance``: the finance service, and the money by hand — statement and receipt
files, closing villages' months, reconciliation and receivables once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from launch.clitools import cli_actor, fail, settings_of_command

finance_app = typer.Typer(
    help="Money: settlement statements, receipts, month close, reconciliation, receivables."
)
MONEY_FILES = ("settlements", "receipts")


@finance_app.callback(invoke_without_command=True)
def finance(ctx: typer.Context) -> None:
    """Run the finance service: reconcile settled months with the estimate and look for
    overdue statements, on a schedule (findings for the bureau)."""
    if ctx.invoked_subcommand is None:
        from finance.service import serve

        serve(settings_of_command())


@finance_app.command("import")
def finance_import(
    kind: Annotated[str, typer.Argument(help="settlements | receipts")],
    path: Annotated[Path, typer.Argument(help="A .csv or .xlsx file.")],
) -> None:
    """Import settlement statements or receipts; any bad row and nothing is written."""
    from finance.importing import MoneyInvalid, import_money
    from pvmon.db.engine import session_factory
    from pvmon.localtime import local_day, utc_now
    from pvmon.registry.store import load_registry
    from pvmon.stores import open_database

    if kind not in MONEY_FILES:
        raise typer.BadParameter(f"{kind!r}: one of {', '.join(MONEY_FILES)}")
    settings = settings_of_command()
    now = utc_now()
    sessions = session_factory(open_database(settings))
    try:
        with sessions.begin() as session:
            done = import_money(
                session,
                load_registry(session),
                kind,
                path,
                path.name,
                settings.finance.settled_kinds,
                cli_actor(),
                now,
                local_day(now, ZoneInfo(settings.timezone)),
            )
    except MoneyInvalid as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"imported {path.name}: {done.added} added, {done.changed} corrected, "
        f"{done.unchanged} unchanged"
    )


@finance_app.command("close")
def finance_close(
    month: Annotated[str, typer.Option(help="The month to close, YYYY-MM.")],
    village: Annotated[
        list[str] | None, typer.Option(help="Only these villages (default: every settled one).")
    ] = None,
) -> None:
    """Close the month of every village whose month is settled (or of those named)."""
    from finance import actions
    from pvmon.db.engine import session_factory
    from pvmon.localtime import MONTH_PATTERN, local_day, utc_now
    from pvmon.registry.store import load_registry
    from pvmon.stores import open_database

    if not re.match(MONTH_PATTERN, month):
        raise typer.BadParameter(f"not a month (YYYY-MM): {month!r}")
    settings = settings_of_command()
    now = utc_now()
    today = local_day(now, ZoneInfo(settings.timezone))
    with session_factory(open_database(settings)).begin() as session:
        registry = load_registry(session)
        chosen = village or [v.id for v in registry.villages]
        try:
            closed = actions.close_months(
                session, registry, chosen, month, cli_actor(), now, today, every=bool(village)
            )
        except actions.MoneyRefused as exc:
            raise fail(str(exc)) from None
    typer.echo(f"closed {month} for {len(closed)} village(s); the others are not settled")


@finance_app.command("reconcile")
def finance_reconcile() -> None:
    """Reconcile once: settled months against the estimate, overdue statements."""
    from finance.service import tick
    from pvmon.db.engine import session_factory
    from pvmon.localtime import utc_now
    from pvmon.stores import open_database, open_influx

    settings = settings_of_command()
    with session_factory(open_database(settings)).begin() as session:
        counts = tick(session, settings, open_influx(settings), utc_now())
    typer.echo(
        f"{counts['deviations']} station(s) settled beyond "
        f"{settings.finance.deviation_share:.0%} of the estimate; "
        f"{counts['missing']} with overdue statements"
    )


@finance_app.command("receivables")
def finance_receivables(
    as_of: Annotated[str | None, typer.Option(help="Age the debts as of this day.")] = None,
) -> None:
    """What the grid company and the subsidy fund still owe, by age."""
    from finance import receivables
    from finance.books import read_books
    from pvmon.db.engine import session_factory
    from pvmon.localtime import local_day, utc_now
    from pvmon.registry.store import load_registry
    from pvmon.stores import open_database

    settings = settings_of_command()
    day = (
        dt.date.fromisoformat(as_of) if as_of else local_day(utc_now(), ZoneInfo(settings.timezone))
    )
    with session_factory(open_database(settings))() as session:
        books = read_books(session, load_registry(session), day)
    rows = books.station_ledger.assign(county="county")
    totals = receivables.aged_totals(rows, ["county"])
    typer.echo(f"receivables as of {day} (yuan): kind, due, received, outstanding, by age")
    for r in totals.to_dict("records"):
        ages = ", ".join(f"{b} {r[b]:,.2f}" for b in receivables.BUCKETS)
        typer.echo(
            f"  {r['kind']:8} {r['due_yuan']:14,.2f} {r['received_yuan']:14,.2f} "
            f"{r['outstanding_yuan']:14,.2f}  ({ages})"
        )


@finance_app.command("demo")
def finance_demo() -> None:
    """Enter the simulated county's statements and payments (three years to last month,
    from the simulated grid meters) unless statements exist: what pvmon up shows."""
    from launch.demo_money import demo_books

    entered = demo_books(settings_of_command())
    typer.echo(f"demo: {entered} statements entered" if entered else "demo: statements exist")
