"""The alert engine: evaluate the rules into alerts, and dispatch the outbox, on a schedule.

Both steps take the clock as an argument, so tests move time instead of sleeping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import httpx
import structlog
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from alerts import describe, rules, sources
from alerts.deliveries import enqueue
from alerts.lifecycle import apply
from alerts.notifiers import Item, Notifier, Style, notifiers
from alerts.routing import Directory
from alerts.sending import Sender, SendResult
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient, InfluxError
from pvmon.localtime import local_day, utc_now
from pvmon.registry.store import load_registry
from pvmon.settings import Settings

log = structlog.get_logger("alerts")


@dataclass
class Evaluation:
    alerts_opened: int = 0
    notices: int = 0
    deliveries: int = 0
    skipped_rules: list[str] = field(default_factory=list)
    """Rules not judged this time (their source was unreachable); their alerts stay as they are."""


class AlertService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        influx: InfluxClient | None,
        channels: dict[str, Notifier] | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.cfg = settings.alerts
        self.sessions = session_factory(engine)
        self.influx = influx
        self.tz = ZoneInfo(settings.timezone)
        self.clock = clock
        self.http = httpx.Client(timeout=self.cfg.send_timeout_s)
        self.channels = channels if channels is not None else notifiers(self.cfg, self.http)
        self.directory = self._directory(clock())
        self.dispatcher = Sender(self.sessions, self.cfg, self.channels, self._item, self._style)

    def close(self) -> None:
        self.http.close()

    def _directory(self, now: dt.datetime) -> Directory:
        with self.sessions() as session:
            registry = load_registry(session)
        return Directory.build(
            registry, local_day(now, self.tz), self.settings.registry.required_cert
        )

    def evaluate(self, now: dt.datetime | None = None) -> Evaluation:
        """Turn what holds now into alerts, and queue who must hear of it."""
        now = now or self.clock()
        self.directory = self._directory(now)  # the county may have imported a new registry
        result = Evaluation()
        conditions, evaluated = self._conditions(now, result)
        with self.sessions.begin() as session:
            notices = apply(session, conditions, evaluated, now, self.cfg, self.directory)
            result.notices = len(notices)
            result.alerts_opened = sum(n.purpose == "new" for n in notices)
            result.deliveries = enqueue(session, notices, self.directory, self.cfg, now, self.tz)
        if notices:
            log.info("alerts_evaluated", **result.__dict__)
        return result

    def _conditions(
        self, now: dt.datetime, result: Evaluation
    ) -> tuple[list[rules.Condition], set[str]]:
        evaluated = set(rules.ALL_RULES)
        station_of = self.directory.station_of
        with self.sessions() as session:
            found = rules.from_findings(sources.active_findings(session))
            serving = self.directory.in_service(local_day(now, self.tz))
            last_seen, watching = sources.liveness(session, serving)
            if watching is None:
                evaluated.discard(rules.DataRule.DEVICE_SILENT_DAYS)
            else:
                found += rules.silent_for_days(last_seen, watching, now, self.cfg.silent_days)
            try:
                if self.influx is None:
                    raise InfluxError("no InfluxDB configured")
                traffic = sources.traffic(session, self.influx, station_of, now)
                found += rules.mostly_rejected(traffic, self.cfg.reject_share, self.cfg.reject_min)
            except InfluxError as exc:
                evaluated.discard(rules.DataRule.INGEST_REJECTS)
                log.warning("rule_skipped", rule=rules.DataRule.INGEST_REJECTS, error=str(exc))
        result.skipped_rules = sorted(rules.ALL_RULES - evaluated)
        return found, evaluated

    def dispatch(self, now: dt.datetime | None = None) -> SendResult:
        return self.dispatcher.run(now or self.clock())

    def tick(self, now: dt.datetime | None = None) -> tuple[Evaluation, SendResult]:
        now = now or self.clock()
        return self.evaluate(now), self.dispatch(now)

    def _item(self, delivery: tables.Delivery, alert: tables.Alert) -> Item:
        base = self.settings.alert_base_url
        return Item(
            describe.text_of(alert, self.directory, base, self.cfg.language),
            delivery.purpose,
            tuple(delivery.mentions),
            describe.record(alert, base),
        )

    def _style(self, now: dt.datetime) -> Style:
        return Style(self.cfg.language, self.tz, f"{self.settings.alert_base_url}/alerts", now)

    def serve(self) -> None:
        """Evaluate and dispatch on a schedule until interrupted."""
        scheduler = BlockingScheduler(timezone=self.tz)
        jobs = ((self.evaluate, self.cfg.evaluate_s), (self.dispatch, self.cfg.dispatch_s))
        for job, seconds in jobs:
            scheduler.add_job(
                job,
                IntervalTrigger(seconds=seconds),
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(max(60, seconds * 2)),
                next_run_time=dt.datetime.now(self.tz),
            )
        log.info("alerts_started", channels=sorted(self.channels), evaluate_s=self.cfg.evaluate_s)
        scheduler.start()
