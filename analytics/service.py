"""The analytics process: catch up on whatever is due, on a schedule (APScheduler).

The triggers only wake the service up; what to compute is decided by ``catch_up`` from the
clock and the job bookkeeping, so a restart after days away computes each missed day once.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import structlog
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from analytics import evaluation, leases, live, longterm, statements
from analytics.context import Analytics
from analytics.parallel import work_parallel
from analytics.records import done_periods, late_days, record_run
from analytics.schedule import daily_due, monthly_due
from analytics.work import DAILY, holder_name, lease_length, plan_days, total_days, work
from pvmon.influx.client import InfluxError
from pvmon.localtime import day_start, local_day, utc_now

log = structlog.get_logger(__name__)

MONTHLY = "monthly"
EVALUATE = "evaluate"
FREQUENT = "frequent"
CERTIFICATION = "certification"
LONGTERM = "longterm"
SOILING = "soiling"


PARALLEL_FROM = 14
"""At least this many units of work (county-days) are spread over the worker processes."""


@dataclass
class CatchUp:
    days: list[dt.date] = field(default_factory=list)
    months: list[tuple[int, int]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    evaluation: dict[str, object] = field(default_factory=dict)


class AnalyticsService:
    def __init__(self, analytics: Analytics, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.a = analytics
        self.clock = clock
        self.holder = holder_name()
        self._first_day: dt.date | None = None

    def history_start(self, now: dt.datetime) -> dt.date:
        """The first day to catch up from: as configured, else the first day with telemetry
        this year (a fresh store has nothing to compute for the months before)."""
        configured = self.a.settings.analytics.history_start
        if configured is not None:
            return configured
        if self._first_day is None:
            local = now.astimezone(self.a.tz)
            new_year = day_start(dt.date(local.year, 1, 1), self.a.tz)
            first = self.a.reader.first_time(new_year)
            if first is None:
                return local.date()
            self._first_day = local_day(first, self.a.tz)
        return self._first_day

    def catch_up(
        self, now: dt.datetime | None = None, progress: Callable[[dt.date], None] | None = None
    ) -> CatchUp:
        """Compute every day and month that is due as of ``now``, then evaluate findings."""
        now = now or self.clock()
        local = now.astimezone(self.a.tz)
        result = CatchUp()
        self.a.reload_registry()  # the county may have imported a new one
        with self.a.sessions() as session:
            done_days = done_periods(session, DAILY)
            late = late_days(session)
            done_months = done_periods(session, MONTHLY)
        first = self.history_start(now)
        due = daily_due(local, self.a.settings.analytics.daily_at, first, done_days, late)
        for day, detail, _error in self._compute(due, late):
            if detail is None:
                result.failed.append(day.isoformat())
                continue
            result.days.append(day)
            if progress:
                progress(day)
        touched = {(d.year, d.month) for d in result.days}
        over = {(y, m) for y, m in touched if (y, m) < (local.year, local.month)}
        for year, month in sorted(set(monthly_due(local, first, done_months)) | over):
            if (
                self.run_recorded(
                    MONTHLY,
                    f"{year}-{month:02d}",
                    lambda y=year, m=month: {"villages": statements.statements(self.a, y, m, now)},
                )
                is not None
            ):
                result.months.append((year, month))
        if result.days:
            self._after_days(max(result.days), now, result)
        today = local.date()
        with self.a.sessions() as session:
            certified_today = today.isoformat() in done_periods(session, CERTIFICATION)
        if not certified_today:
            self.run_recorded(
                CERTIFICATION, today.isoformat(), lambda: evaluation.certify(self.a, today, now)
            )
        return result

    def _compute(
        self, due: list[dt.date], late: dict[dt.date, dt.datetime]
    ) -> Iterator[tuple[dt.date, dict | None, str | None]]:
        """Plan the due days' county units, take and compute them (in several processes
        when there are many), then total each day whose counties are all computed. A
        failed unit makes its day's run failed until a wake-up computes it."""
        if not due:
            return
        plan_days(self.a, due, late)
        workers = self.a.settings.analytics.workers
        units = len(due) * len(self.a.registry.counties)
        if units >= PARALLEL_FROM and workers > 1:
            parts = work_parallel(self.a.settings, due, workers)
        else:
            parts = work(self.a, self.holder, due)
        for part in parts:
            if part.detail is None:
                with self.a.sessions.begin() as session:
                    record_run(
                        session,
                        DAILY,
                        part.day.isoformat(),
                        status="failed",
                        started=utc_now(),
                        finished=utc_now(),
                        detail={"county": part.county, "error": part.error},
                    )
                yield part.day, None, part.error
        for total in total_days(self.a, self.holder, due):
            yield total.day, total.detail, total.error

    def _after_days(self, last: dt.date, now: dt.datetime, result: CatchUp) -> None:
        """Statements of the month and year so far, and the findings, as of ``last``; the
        stations' degradation once a month, their soiling once a week."""
        self.run_recorded(
            MONTHLY,
            f"{last.year}-{last.month:02d}-running",
            lambda: {"villages": statements.statements(self.a, last.year, last.month, now)},
        )
        self.run_recorded(
            MONTHLY,
            str(last.year),
            lambda: {"villages": statements.statements(self.a, last.year, None, now)},
        )
        result.evaluation = (
            self.run_recorded(
                EVALUATE, last.isoformat(), lambda: evaluation.evaluate(self.a, last, now)
            )
            or {}
        )
        year, week, _ = last.isocalendar()
        for job, period, action in (
            (LONGTERM, f"{last.year}-{last.month:02d}", longterm.degradation),
            (SOILING, f"{year}-W{week:02d}", longterm.soiling),
        ):
            with self.a.sessions() as session:
                estimated = period in done_periods(session, job)
            if not estimated:
                self.run_recorded(job, period, lambda f=action: f(self.a, last, now))

    def frequent(self, now: dt.datetime | None = None) -> dict[str, object]:
        now = now or self.clock()
        slot = now.astimezone(self.a.tz).strftime("%Y-%m-%dT%H:%M")
        return self.run_recorded(FREQUENT, slot, lambda: live.frequent(self.a, now)) or {}

    def run_recorded(self, job: str, period: str, action: Callable[[], dict]) -> dict | None:
        """Run and record one job for one period, unless another analytics process is
        running it now (one unit: ``analytics.leases``); its detail, or None if it failed
        or ran elsewhere."""
        lease = lease_length(self.a)
        with self.a.sessions.begin() as session:
            held = leases.take_unit(session, job, period, self.holder, lease)
        if held is None:
            log.info("job_running_elsewhere", job=job, period=period)
            return None
        started = utc_now()
        clock = time.monotonic()
        beat = leases.Heartbeat(self.a.sessions, lease)
        beat.held = [held]
        with beat.running():
            try:
                detail = action()
                status = "ok"
            except (InfluxError, OSError) as exc:
                detail, status = {"error": str(exc)[:500]}, "failed"
                log.warning("job_failed", job=job, period=period, error=str(exc)[:300])
        finished = utc_now()
        with self.a.sessions.begin() as session:
            if status == "ok":
                leases.complete(session, held, {"seconds": round(time.monotonic() - clock, 2)})
            else:
                leases.release(session, held, detail)
            record_run(
                session,
                job,
                period,
                status=status,
                started=started,
                finished=finished,
                detail=detail,
            )
        log.info(
            "job_run",
            job=job,
            period=period,
            status=status,
            seconds=round(time.monotonic() - clock, 2),
        )
        return detail if status == "ok" else None

    def serve(self) -> None:
        """Run on a schedule until interrupted."""
        cfg = self.a.settings.analytics
        scheduler = BlockingScheduler(timezone=self.a.tz)
        scheduler.add_job(
            self.frequent,
            IntervalTrigger(minutes=cfg.frequent_minutes),
            id=FREQUENT,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=120,
            next_run_time=dt.datetime.now(self.a.tz),
        )
        scheduler.add_job(
            self.catch_up,
            CronTrigger(hour=cfg.daily_at.hour, minute=cfg.daily_at.minute),
            id=DAILY,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=6 * 3600,
        )
        # Frequent wake-ups pick up late data (a logger's backlog, the demo's history, day
        # by day as it is written) and anything missed while stopped; with nothing due, a
        # wake-up costs a few queries.
        scheduler.add_job(
            self.catch_up,
            IntervalTrigger(seconds=cfg.catch_up_s),
            id="catch-up",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            next_run_time=dt.datetime.now(self.a.tz),
        )
        log.info(
            "analytics_started",
            daily_at=str(cfg.daily_at),
            frequent_minutes=cfg.frequent_minutes,
        )
        scheduler.start()
