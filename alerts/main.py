"""``pvmon alerts``: the engine as a service, and what people do with alerts by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table

from alerts import actions
from alerts.actions import AlertFilter
from alerts.service import AlertService
from pvmon.db.engine import session_factory
from pvmon.localtime import utc_now
from pvmon.settings import Settings
from pvmon.stores import open_database, opened_stores


@contextmanager
def opened(settings: Settings) -> Iterator[AlertService]:
    with opened_stores(settings, influx="optional") as stores:
        service = AlertService(settings, stores.engine, stores.influx)
        try:
            yield service
        finally:
            service.close()


def serve(settings: Settings) -> None:
    with opened(settings) as service:
        service.serve()


def show_list(settings: Settings, f: AlertFilter, console: Console) -> None:
    engine = open_database(settings)
    with session_factory(engine)() as session:
        rows = actions.list_alerts(session, f)
        table = Table("id", "state", "severity", "rule", "subject", "station", "opened (UTC)")
        for a in rows:
            table.add_row(
                str(a.id),
                a.state + (" (flapping)" if a.flapping else ""),
                a.severity,
                a.rule,
                f"{a.subject_type}:{a.subject_id}",
                a.station_id or "",
                a.opened_at.strftime("%Y-%m-%d %H:%M"),
            )
    engine.dispose()
    console.print(table)
    console.print(f"{len(rows)} alert(s)")


def show_one(settings: Settings, alert_id: int, console: Console) -> None:
    engine = open_database(settings)
    with session_factory(engine)() as session:
        a = actions.get_alert(session, alert_id)
        console.print(
            f"alert {a.id}: {a.rule} on {a.subject_type} {a.subject_id} — {a.state}, "
            f"{a.severity}, escalation level {a.escalation_level}\nevidence: {a.evidence}"
        )
        events = Table("at (UTC)", "action", "actor", "channel", "detail", title="history")
        for e in actions.history(session, alert_id):
            events.add_row(
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.action,
                e.actor,
                e.channel or "",
                str(e.detail),
            )
        console.print(events)
        sent = Table(
            "id", "purpose", "channel", "to", "status", "attempts", "error", title="deliveries"
        )
        for d in actions.deliveries(session, alert_id):
            sent.add_row(
                str(d.id),
                d.purpose,
                d.channel,
                d.destination,
                d.status,
                str(d.attempts),
                d.last_error or "",
            )
        console.print(sent)
    engine.dispose()


def act(settings: Settings, alert_id: int, person: str, note: str | None, how: str) -> str:
    """Acknowledge or resolve from the command line; returns the new state."""
    engine = open_database(settings)
    try:
        with session_factory(engine).begin() as session:
            change = actions.acknowledge if how == "ack" else actions.resolve_by_hand
            return change(session, alert_id, person, "cli", utc_now(), note).state
    finally:
        engine.dispose()


def run_once(settings: Settings, now: dt.datetime | None, console: Console) -> None:
    with opened(settings) as service:
        evaluation, dispatched = service.tick(now)
    console.print(evaluation)
    console.print(dispatched)
