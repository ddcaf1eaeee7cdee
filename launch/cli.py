"""The ``pvmon`` command: one program, a subcommand per process or task."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from launch.backup_cli import backup_command, restore_command
from launch.clitools import cli_actor, fail, settings_of_command
from launch.deploy_cli import deploy_app
from launch.finance_cli import finance_app
from launch.reports_cli import reports_app
from pvmon.brokerauth import DEFAULT_INGEST_WORKER
from pvmon.datapaths import broker_files
from pvmon.localtime import moment_of
from pvmon.logs import configure_logging
from pvmon.stores import NotReady

app = typer.Typer(
    help="Yonghe PV operations monitor (永和县光伏扶贫电站运行监测).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
registry_app = typer.Typer(
    help="The fleet registry: generate, import, export.", no_args_is_help=True
)
app.add_typer(registry_app, name="registry")
analytics_app = typer.Typer(help="Rollups, findings, targets and statements.")
app.add_typer(analytics_app, name="analytics")
alerts_app = typer.Typer(help="Alerts: the engine, and acting on alerts by hand.")
app.add_typer(alerts_app, name="alerts")
users_app = typer.Typer(help="Users of the API and dashboards.", no_args_is_help=True)
app.add_typer(users_app, name="users")
import_app = typer.Typer(help="Data exported from elsewhere.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(finance_app, name="finance")
app.add_typer(reports_app, name="reports")
app.add_typer(deploy_app, name="deploy")
app.command("backup")(backup_command)
app.command("restore")(restore_command)


def _moment(text: str) -> dt.datetime:
    try:
        return moment_of(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {text!r}") from None


@app.command()
def up(
    speed: Annotated[float | None, typer.Option(help="Simulated seconds per second.")] = None,
    scenario: Annotated[Path | None, typer.Option(help="Fault scenario (TOML).")] = None,
    start: Annotated[str, typer.Option(help="auto | now | RFC 3339 time.")] = "auto",
    history: Annotated[
        bool,
        typer.Option(
            help="Write the simulated year so far (hourly, newest day first) behind the live "
            "fleet; --no-history starts with the live fleet alone."
        ),
    ] = True,
) -> None:
    """Run everything locally: broker, InfluxDB, simulator, ingest, analytics, alerts and
    the API, with a status line."""
    from launch.up import UpOptions, run_up

    settings = settings_of_command()
    configure_logging(settings.log_level, file=settings.log_dir / "up.log", console_level="warning")
    raise typer.Exit(
        run_up(settings, UpOptions(speed=speed, scenario=scenario, start=start, history=history))
    )


@app.command()
def ingest(
    worker_id: Annotated[str | None, typer.Option(help="Stable id of this worker.")] = None,
    shared_group: Annotated[
        str | None, typer.Option(help="Join the MQTT 5 shared subscription $share/<group>/pv/#.")
    ] = None,
    retire: Annotated[
        bool,
        typer.Option(
            help="Retire this (stopped) worker id: store what its session still holds and "
            "its spool, then end the session so the broker routes nothing more to it."
        ),
    ] = False,
) -> None:
    """Consume telemetry from MQTT into InfluxDB (acknowledging only what is stored)."""
    from ingest.main import run_ingest

    settings = settings_of_command()
    updates = {
        k: v
        for k, v in {"worker_id": worker_id, "shared_group": shared_group}.items()
        if v is not None
    }
    if updates:
        settings.ingest = settings.ingest.model_validate(
            {**settings.ingest.model_dump(), **updates}
        )
    try:
        run_ingest(settings, retire=retire)
    except ValueError as exc:
        raise fail(str(exc)) from None


@app.command()
def gateway(
    stations: Annotated[
        str | None,
        typer.Option(help="Comma-separated station ids (default: every station with addresses)."),
    ] = None,
) -> None:
    """Read the stations' inverters (device addresses in the registry) and publish their
    telemetry as each station's logger, buffering on disk while the broker is away."""
    from gateway.main import run_gateway

    try:
        run_gateway(settings_of_command(), stations.split(",") if stations else None)
    except ValueError as exc:
        raise fail(str(exc)) from None


@app.command()
def maintenance() -> None:
    """Run the maintenance service: open orders for critical alerts, verify done ones by
    the data, reopen those whose fault returns, escalate late ones."""
    from maintenance.service import serve

    serve(settings_of_command())


@import_app.command("telemetry")
def import_telemetry(
    path: Annotated[Path, typer.Argument(help="An inverter history export, .csv or .xlsx.")],
    layout: Annotated[
        str | None, typer.Option(help="pvmon | fusionsolar (default: found from the header).")
    ] = None,
) -> None:
    """Import inverter history, validated row by row as ingest validates; any bad row and
    nothing is written."""
    import time
    from zoneinfo import ZoneInfo

    from ingest.history_import import HistoryImportError, import_history
    from ingest.parse import Limits
    from pvmon.db.engine import session_factory
    from pvmon.stores import open_database, open_influx

    settings = settings_of_command()
    try:
        done = import_history(
            path,
            open_influx(settings),
            session_factory(open_database(settings)),
            Limits.of(settings.ingest),
            ZoneInfo(settings.timezone),
            time.time(),
            layout,
        )
    except HistoryImportError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"imported {path.name}: {done.readings} readings of {done.devices} devices "
        f"over {done.days} days (marked for analytics to recompute)"
    )


@app.command()
def simulate(
    start: Annotated[
        str,
        typer.Option(help="auto (now, or a replay of the latest daylight hours) | now | RFC 3339."),
    ] = "auto",
    speed: Annotated[float | None, typer.Option(help="Simulated seconds per second.")] = None,
    duration: Annotated[
        str | None, typer.Option(help="Stop after this much simulated time, e.g. 1h.")
    ] = None,
    scenario: Annotated[Path | None, typer.Option(help="Fault scenario (TOML).")] = None,
    stations: Annotated[str | None, typer.Option(help="Comma-separated station ids.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of weather and station spread.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write what was sent (JSON).")] = None,
    publish_log: Annotated[
        Path | None, typer.Option(help="Write each confirmed reading (JSON lines).")
    ] = None,
    state: Annotated[bool, typer.Option(help="Continue the counters of earlier runs.")] = True,
) -> None:
    """Publish the fleet's telemetry as its data loggers would."""
    from simulators.main import run_simulation

    settings = settings_of_command()
    if seed is not None:
        settings.simulator.seed = seed
    try:
        result = run_simulation(
            settings,
            start=start,
            speed=speed,
            duration=duration,
            scenario=scenario,
            stations=stations.split(",") if stations else None,
            report=report,
            publish_log=publish_log,
            keep_state=state,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    summary = result.as_dict()
    typer.echo(
        f"sent {summary['telemetry']} readings, {summary['events']} events, "
        f"{sum(summary['malformed'].values())} malformed"
    )


@registry_app.command("generate")
def registry_generate(
    seed: Annotated[int | None, typer.Option(help="Seed (default: settings).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Date certificates are relative to.")] = None,
    replace: Annotated[bool, typer.Option(help="Replace an existing registry.")] = False,
    if_empty: Annotated[bool, typer.Option(help="Do nothing if a registry exists.")] = False,
    counties: Annotated[
        int, typer.Option(min=1, max=999, help="A province of this many county-sized fleets.")
    ] = 1,
) -> None:
    """Generate the default registry of the whole fleet (or of a province) into the
    relational store."""
    from pvmon.db.engine import session_factory
    from pvmon.registry.store import registry_is_empty, replace_registry
    from pvmon.stores import open_database
    from simulators.demo_registry import GenerationOptions, generate_registry

    settings = settings_of_command()
    engine = open_database(settings)
    sessions = session_factory(engine)
    with sessions() as session:
        if not registry_is_empty(session):
            if if_empty:
                typer.echo("a registry exists; leaving it as it is")
                return
            if not replace:
                raise fail("a registry exists; pass --replace to overwrite it")
    registry = generate_registry(
        GenerationOptions(
            seed=seed if seed is not None else settings.registry.seed,
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            central_kwp=settings.registry.central_kwp,
            counties=counties,
        )
    )
    with sessions.begin() as session:
        replace_registry(session, registry, by=cli_actor(), reason="registry generate")
    typer.echo(_summary(registry))


COUNTY_OPTION = typer.Option(
    "--county", help="One county's part of a province's registry (its id, e.g. C002)."
)


@registry_app.command("export")
def registry_export(
    path: Annotated[Path, typer.Argument(help="A folder (CSV files) or a .xlsx workbook.")],
    county: Annotated[str | None, COUNTY_OPTION] = None,
) -> None:
    """Write the registry (or one county's part of it) to CSV files or an XLSX workbook."""
    from pvmon.db.engine import session_factory
    from pvmon.registry.files import RegistryFileError, write_registry
    from pvmon.registry.store import load_registry
    from pvmon.stores import open_database

    settings = settings_of_command()
    with session_factory(open_database(settings))() as session:
        registry = load_registry(session)
    if county is not None:
        if county not in {c.id for c in registry.counties}:
            raise fail(f"unknown county {county!r}")
        registry = registry.of_county(county)
    try:
        write_registry(registry, path)
    except RegistryFileError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {path}: {_summary(registry)}")


@registry_app.command("import")
def registry_import(
    path: Annotated[Path, typer.Argument(help="A folder of CSV files or a .xlsx workbook.")],
    county: Annotated[str | None, COUNTY_OPTION] = None,
) -> None:
    """Replace the registry (or one county's part of it) with a file's; any bad row and
    nothing changes."""
    from pvmon.db.engine import session_factory
    from pvmon.registry.importing import import_county, import_registry
    from pvmon.registry.validate import RegistryInvalid
    from pvmon.stores import open_database

    settings = settings_of_command()
    sessions = session_factory(open_database(settings))
    try:
        if county is None:
            registry = import_registry(sessions, path, by=cli_actor())
        else:
            registry = import_county(sessions, path, county, by=cli_actor()).of_county(county)
    except RegistryInvalid as exc:
        raise fail(str(exc)) from None
    typer.echo(f"imported {path}: {_summary(registry)}")


@analytics_app.callback(invoke_without_command=True)
def analytics(ctx: typer.Context) -> None:
    """Run the analytics service: the jobs on their schedule, catching up what is due."""
    if ctx.invoked_subcommand is None:
        from analytics.main import serve

        serve(settings_of_command())


@analytics_app.command("run")
def analytics_run(
    job: Annotated[str, typer.Argument(help="daily | frequent | longterm")],
    first: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day (default: --from).")] = None,
    at: Annotated[
        str | None, typer.Option(help="frequent: as of this moment (RFC 3339), not now.")
    ] = None,
) -> None:
    """Run a job by hand: recompute the daily rollups of a range of days (each day's
    findings as of that day's end, then the statements), the frequent live check now or
    as of a past moment (--at), or the stations' degradation from their rollups up to
    --to (default: yesterday)."""
    from rich.console import Console

    from analytics.main import run_days, run_frequent, run_longterm

    settings = settings_of_command()
    console = Console()
    if job == "frequent":
        run_frequent(settings, console, _moment(at) if at else None)
        return
    if job == "longterm":
        run_longterm(settings, console, _date(last))
        return
    if job != "daily":
        raise typer.BadParameter(f"unknown job {job!r}: daily, frequent or longterm")
    start = _date(first)
    if start is None:
        raise typer.BadParameter("daily needs --from")
    end = _date(last) or start
    if end < start:
        raise typer.BadParameter("--to is before --from")
    run_days(settings, start, end, console)


@analytics_app.command("targets")
def analytics_targets(
    as_of: Annotated[
        str | None, typer.Option(help="Last day counted (default: yesterday).")
    ] = None,
) -> None:
    """Year to date against 21 GWh and 17 million yuan, with the year-end forecast."""
    from rich.console import Console

    from analytics.main import show_targets

    show_targets(settings_of_command(), _date(as_of), Console())


@analytics_app.command("compliance")
def analytics_compliance(
    on: Annotated[str | None, typer.Option(help="Day (default: today).")] = None,
) -> None:
    """Certification compliance (持证上岗): the rate, who is not validly certified or is
    due within 60 days, and stations without a certified maintainer."""
    from rich.console import Console

    from analytics.main import show_compliance

    show_compliance(settings_of_command(), _date(on), Console())


@alerts_app.callback(invoke_without_command=True)
def alerts(ctx: typer.Context) -> None:
    """Run the alert engine: findings into alerts, routed, repeated, escalated, delivered."""
    if ctx.invoked_subcommand is None:
        from alerts.main import serve

        serve(settings_of_command())


@alerts_app.command("list")
def alerts_list(
    state: Annotated[
        str | None, typer.Option(help="open | acknowledged | resolved | active")
    ] = "active",
    station: Annotated[str | None, typer.Option(help="Station id.")] = None,
    rule: Annotated[str | None, typer.Option(help="Rule, e.g. comm_loss.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
) -> None:
    """The alerts, newest first."""
    from rich.console import Console

    from alerts.actions import AlertFilter
    from alerts.main import show_list

    show_list(
        settings_of_command(),
        AlertFilter(state=state, station_id=station, rule=rule, limit=limit),
        Console(width=160),
    )


@alerts_app.command("show")
def alerts_show(alert_id: int) -> None:
    """One alert with its history and deliveries."""
    from rich.console import Console

    from alerts.actions import AlertNotFound
    from alerts.main import show_one

    try:
        show_one(settings_of_command(), alert_id, Console(width=160))
    except AlertNotFound as exc:
        raise fail(str(exc)) from None


def _act(alert_id: int, person: str, note: str | None, how: str) -> None:
    from alerts.actions import AlertNotFound, InvalidTransition
    from alerts.main import act

    try:
        state = act(settings_of_command(), alert_id, person, note, how)
    except (AlertNotFound, InvalidTransition) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"alert {alert_id}: {state}")


@alerts_app.command("ack")
def alerts_ack(
    alert_id: int,
    by: Annotated[str, typer.Option("--by", help="Person id of who acknowledges.")],
    note: Annotated[str | None, typer.Option(help="A note for the history.")] = None,
) -> None:
    """Acknowledge an alert: someone is on it (no more repeats or escalation)."""
    _act(alert_id, by, note, "ack")


@alerts_app.command("resolve")
def alerts_resolve(
    alert_id: int,
    by: Annotated[str, typer.Option("--by", help="Person id of who resolves.")],
    note: Annotated[str | None, typer.Option(help="What was done.")] = None,
) -> None:
    """Resolve an alert by hand (it reopens if its condition still holds)."""
    _act(alert_id, by, note, "resolve")


@alerts_app.command("run")
def alerts_run() -> None:
    """Evaluate the rules and send what is due, once."""
    from rich.console import Console

    from alerts.main import run_once

    run_once(settings_of_command(), None, Console())


broker_app = typer.Typer(help="The MQTT broker's credentials and ACL.", no_args_is_help=True)
app.add_typer(broker_app, name="broker")


@broker_app.command("config")
def broker_config(
    out: Annotated[
        Path | None, typer.Option(help="Directory (default: <data dir>/broker).")
    ] = None,
    rotate: Annotated[bool, typer.Option(help="New passwords for everyone.")] = False,
    ingest_workers: Annotated[
        str,
        typer.Option(help="Ingest worker ids, comma-separated: a read-only credential each."),
    ] = DEFAULT_INGEST_WORKER,
) -> None:
    """Mosquitto password file and ACL from the registry: one credential per data logger
    (username = station id), publishing only under its own pv/<station>/…, and a read-only
    one per ingest worker (username = its client id, pvmon-<worker id>). The broker must use
    usernames as client ids (use_username_as_clientid). Keeps existing passwords unless
    --rotate."""
    from launch.broker import generate
    from pvmon.brokerauth import BrokerConfigError, ingest_client_id
    from pvmon.db import tables
    from pvmon.db.engine import session_factory
    from pvmon.stores import open_database

    settings = settings_of_command()
    engine = open_database(settings)
    with session_factory(engine)() as session:
        stations = list(session.scalars(select(tables.Station.id)))
    engine.dispose()
    if not stations:
        raise fail("the registry is empty: pvmon registry generate (or import) first")
    workers = tuple(w.strip() for w in ingest_workers.split(",") if w.strip())
    try:
        files = generate(
            stations, out or broker_files(settings), ingest_workers=workers, rotate=rotate
        )
    except BrokerConfigError as exc:
        raise fail(str(exc)) from None
    readers = ", ".join(ingest_client_id(w) for w in workers)
    typer.echo(
        f"{len(stations)} logger credentials and {len(workers)} for ingest ({readers}) in "
        f"{files.credentials}\nmosquitto.conf:\n  allow_anonymous false\n"
        f"  password_file {files.passwd}\n  acl_file {files.acl}\n"
        "  use_username_as_clientid true"
    )


@app.command()
def api(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Serve the API (/api/v1, documented at /docs) and the dashboards."""
    from api.main import InsecureStart, serve

    try:
        serve(settings_of_command(), host)
    except InsecureStart as exc:
        raise fail(str(exc)) from None


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="bureau | supervisor | maintainer | collective")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="At least 8 characters.")
    ],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    person: Annotated[str | None, typer.Option(help="Registry person (maintainer).")] = None,
    township: Annotated[str | None, typer.Option(help="Township id (supervisor).")] = None,
    village: Annotated[str | None, typer.Option(help="Village id (collective).")] = None,
    county: Annotated[
        str | None, typer.Option(help="County id (a county's bureau in a province).")
    ] = None,
) -> None:
    """Add a user; what scopes them (person, county, township, village) must be in the
    registry."""
    from api.scope import Role
    from api.users import NewUser, UserError, add_user
    from pvmon.db.engine import session_factory
    from pvmon.stores import open_database

    try:
        new = NewUser(username, Role(role), name, person, township, village, county)
    except ValueError:
        raise typer.BadParameter(f"unknown role {role!r}") from None
    engine = open_database(settings_of_command())
    try:
        with session_factory(engine).begin() as session:
            add_user(session, new, password, dt.datetime.now(dt.UTC))
    except UserError as exc:
        raise fail(str(exc)) from None
    finally:
        engine.dispose()
    typer.echo(f"added {role} user {username!r}")


@app.command()
def backfill(
    first: Annotated[
        str | None, typer.Option("--from", help="First day (default: 1 January this year).")
    ] = None,
    until: Annotated[
        str,
        typer.Option(help="Where the history ends: auto (where the live demo starts) or RFC 3339."),
    ] = "auto",
    stations: Annotated[str | None, typer.Option(help="Comma-separated station ids.")] = None,
    scenario: Annotated[
        Path | None,
        typer.Option(help="Replay a fault scenario (TOML): every reading, faults included."),
    ] = None,
) -> None:
    """Write the simulated fleet's history straight into InfluxDB, ending where the live
    data begin; each day is marked for analytics to compute as soon as it is stored.

    Without --scenario: hourly readings of the healthy fleet, newest day first (the demo's
    year so far). With --scenario: every reading the loggers would have sent, with the
    scenario's faults (relative times count from --from), oldest day first, into a span
    with no telemetry yet — the past that a detection benchmark replays."""
    from ingest.late import stamp_days
    from pvmon.db.engine import session_factory
    from pvmon.stores import open_database
    from simulators.main import resolve_until, run_backfill, run_replay

    settings = settings_of_command()
    start = _date(first) or dt.date(dt.date.today().year, 1, 1)
    sessions = session_factory(open_database(settings))
    chosen = stations.split(",") if stations else None

    def stored(day: dt.date, points: int) -> None:
        with sessions.begin() as session:
            stamp_days(session, [day])
        typer.echo(f"history: {day} stored ({points:,} readings)")

    try:
        if scenario is not None:
            points, seconds = run_replay(
                settings,
                scenario,
                first=start,
                until=resolve_until(until),
                stations=chosen,
                on_day=stored,
            )
        else:
            points, seconds = run_backfill(
                settings,
                first=start,
                until=resolve_until(until),
                stations=chosen,
                on_day=stored,
            )
    except ValueError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"history: wrote {points:,} readings in {seconds:.0f} s")


def _summary(registry: object) -> str:
    sheets = registry.sheets()  # type: ignore[attr-defined]
    return ", ".join(f"{len(rows)} {name}" for name, rows in sheets.items())


def main() -> None:
    try:
        app()
    except NotReady as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
