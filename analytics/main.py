"""``pvmon analytics``: the scheduled service, and its jobs run by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from analytics import evaluation, forecasts, longterm, statements
from analytics.context import Analytics
from analytics.rollups import compute_day
from analytics.schedule import days
from analytics.service import AnalyticsService
from pvmon.localtime import day_start, local_day, utc, utc_now
from pvmon.settings import Settings
from pvmon.stores import opened_stores


@contextmanager
def opened(settings: Settings) -> Iterator[Analytics]:
    with opened_stores(settings, provisioned=True) as stores:
        assert stores.influx is not None
        yield Analytics.open(settings, stores.engine, stores.influx)


def serve(settings: Settings) -> None:
    with opened(settings) as a:
        AnalyticsService(a).serve()


def run_days(settings: Settings, first: dt.date, last: dt.date, console: Console) -> None:
    """Recompute the rollups of every day in the range, each day's findings as of that
    day's end (so that weeks of history replay as the service would have lived them), then
    the statements."""
    with opened(settings) as a:
        service = AnalyticsService(a)
        span = list(days(first, last))
        found: dict[str, object] = {}
        with Progress(console=console, transient=False) as progress:
            task = progress.add_task("daily rollups and findings", total=len(span))
            for day in span:
                service.run_recorded(
                    "daily", day.isoformat(), lambda d=day: {"points": compute_day(a, d).points}
                )
                found = evaluation.evaluate(a, day, day_end(day, a.tz))
                progress.advance(task)
        aged = longterm.run(a, last, day_end(last, a.tz))
        now = utc_now()
        months = sorted({(d.year, d.month) for d in span})
        for year, month in months:
            statements.statements(a, year, month, now)
        for year in sorted({y for y, _ in months}):
            statements.statements(a, year, None, now)
    console.print(
        f"computed {len(span)} day(s), {len(months)} month(s) of statements; "
        f"findings as of {last}: {found}; the long view: {aged}"
    )


def run_longterm(settings: Settings, console: Console, last: dt.date | None) -> None:
    """Every station's degradation and soiling from its rollups up to ``last`` (default:
    yesterday)."""
    with opened(settings) as a:
        day = last or (local_day(utc_now(), a.tz) - dt.timedelta(days=1))
        console.print(longterm.run(a, day, utc_now()))


def day_end(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The moment a local day ends (the next day's local midnight), in UTC."""
    return utc(day_start(day + dt.timedelta(days=1), tz))


def run_frequent(settings: Settings, console: Console, at: dt.datetime | None = None) -> None:
    """The live check now, or as of ``at`` (replaying a past day's minutes)."""
    with opened(settings) as a:
        console.print(AnalyticsService(a).frequent(at))


def show_targets(settings: Settings, as_of: dt.date | None, console: Console) -> None:
    with opened(settings) as a:
        day = as_of or (local_day(utc_now(), a.tz) - dt.timedelta(days=1))
        report = forecasts.targets(a, day)
        households = forecasts.household_targets(a, day)
    s = report.segment
    table = Table(
        title=f"村级电站 {s.year} 年目标 / village stations, target {s.year} (as of {s.as_of})"
    )
    for column in ("", "actual", "forecast", "target", "status"):
        table.add_column(column)
    table.add_row(
        "发电量 energy (MWh)",
        f"{s.actual_kwh / 1000:,.0f}",
        f"{s.forecast_kwh / 1000:,.0f}",
        f"{(s.target_kwh or 0) / 1000:,.0f}",
        str(s.status),
    )
    table.add_row(
        "收益 revenue (万元)",
        f"{s.actual_yuan / 1e4:,.1f}",
        f"{s.forecast_yuan / 1e4:,.1f}",
        f"{s.target_yuan / 1e4:,.0f}",
        "",
    )
    console.print(table)
    required = f"{s.required_performance:.1%}" if s.required_performance is not None else "—"
    console.print(
        f"recent performance against typical: {s.performance:.1%}; needed for the "
        f"rest of the year: {required}"
    )
    short = [v for v, f in report.villages.items() if f.status != "on_track"]
    console.print(
        f"villages forecast below {settings.targets.village_income_yuan:,.0f} yuan: "
        f"{len(short)} of {len(report.villages)}"
    )
    homes = [h for h, f in households.items() if f.status != "on_track"]
    console.print(
        f"households forecast below {settings.targets.household_income_yuan:,.0f} "
        f"yuan: {len(homes)} of {len(households)}"
    )


def show_compliance(settings: Settings, on: dt.date | None, console: Console) -> None:
    with opened(settings) as a:
        day = on or local_day(utc_now(), a.tz)
        report = evaluation.certification(a, day)
    console.print(
        f"持证率 certification rate on {day}: {report.rate:.1%} "
        f"({report.certified} of {report.maintainers} maintainers)"
    )
    table = Table(title="invalid or due within 60 days")
    for column in ("maintainer", "name", "type", "state", "expires", "review due", "due"):
        table.add_column(column)
    for r in [*report.invalid(), *report.due_soon()]:
        table.add_row(
            r.person_id,
            r.name,
            str(r.cert_type),
            str(r.state or "missing"),
            str(r.expires_on or "—"),
            str(r.review_due_on or "—"),
            str(r.due or ""),
        )
    console.print(table)
    console.print(
        f"stations without a validly certified maintainer: "
        f"{', '.join(report.uncovered_stations) or 'none'}"
    )
