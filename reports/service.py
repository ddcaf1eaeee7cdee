"""Making the reports: by hand (``pvmon reports run``) and on schedule (``pvmon reports``,
started by ``pvmon up``), catching up like the analytics jobs — what is due is decided from
the clock and the job bookkeeping (``job_runs``), so a report missed while the service was
down is made when it comes back, once.

A month's report is due from ``reports.monthly_day`` of the next month at
``reports.at_hour``; a quarter's village statements from ``reports.quarterly_day`` of the
month after it. With ``reports.since`` unset only the latest due period is made.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

import structlog

from analytics.records import done_periods, record_run
from api.state import ApiState
from pvmon.db import tables
from pvmon.i18n import Lang, text
from pvmon.localtime import month_add, month_of, months_between
from pvmon.registry.schema import Registry
from pvmon.settings import Settings
from reports import archive, delivery, documents
from reports.monthly import monthly
from reports.quarterly import quarter_of, quarterly

log = structlog.get_logger("reports")
MONTHLY, QUARTERLY = "report-monthly", "report-quarterly"
SYSTEM = "system"


def due_months(
    local: dt.datetime, since: str | None, day: int, hour: int, done: set[str]
) -> list[str]:
    """The months whose report is due at ``local`` and not made."""
    last = _last_due(local, day, hour)
    return [m for m in months_between(since or last, last) if m not in done]


def due_quarters(
    local: dt.datetime, since: str | None, day: int, hour: int, done: set[str]
) -> list[str]:
    """The quarters whose village statements are due at ``local`` and not made."""
    last = _last_due(local, day, hour)
    ended = month_add(last, -(int(last[5:]) % 3))  # the last month ending a quarter by then
    quarters = dict.fromkeys(
        quarter_of(dt.date(int(m[:4]), int(m[5:]), 1))
        for m in months_between(since or ended, ended)
    )
    return [q for q in quarters if q not in done]


def _last_due(local: dt.datetime, day: int, hour: int) -> str:
    """The last month whose documents are due at ``local`` (from ``day`` at ``hour`` of
    the month after it)."""
    last = month_add(month_of(local.date()), -1)
    return last if (local.day, local.hour) >= (day, hour) else month_add(last, -1)


def make_monthly(ctx: ApiState, month: str, by: str, deliver: bool = True) -> tables.Report:
    """Make, keep and (``deliver``) send the monthly report of ``month``. The figures are
    read, the files made and the report sent outside any write; only keeping and
    recording the delivery write, each briefly."""
    lang = ctx.settings.alerts.language
    with ctx.sessions() as session:
        report = monthly(ctx, session, month)
    files = [
        archive.File("pdf", documents.PDF, documents.monthly_pdf(ctx, report, lang)),
        archive.File("xlsx", documents.XLSX, documents.monthly_xlsx(report, lang)),
    ]
    with ctx.sessions.begin() as session:
        row = archive.keep(session, ctx.settings, "monthly", month, "county", files, by, ctx.now())
    if deliver:
        title = text("report.monthly_title", lang, month=month)
        link = f"{ctx.settings.alert_base_url}/reports/{row.id}"
        to = _bureau_addresses(ctx.view().registry) + list(ctx.settings.reports.email_to)
        sent = delivery.mail(
            ctx.settings,
            to,
            text("report.mail_subject", lang, title=title),
            text("report.mail_body", lang, title=title, link=link),
            [
                delivery.Attachment(f["name"], f["media_type"], x.data)
                for f, x in zip(row.files, files, strict=True)
            ],
        )
        sent += delivery.robots(ctx.settings, text("report.robot", lang, title=title, link=link))
        _delivered(ctx, [row], sent)
    return row


def make_quarterly(
    ctx: ApiState,
    quarter: str,
    by: str,
    villages: list[str] | None = None,
    deliver: bool = True,
) -> list[tables.Report]:
    """Make, keep and send each village's statement of ``quarter``: to each township's
    supervisor with their villages' files, and a link to the robots."""
    lang = ctx.settings.alerts.language
    registry = ctx.view().registry
    chosen = villages or [v.id for v in registry.villages]
    with ctx.sessions() as session:
        statements = [quarterly(ctx, session, village, quarter) for village in chosen]
    pdfs = [documents.village_pdf(ctx, q, lang) for q in statements]
    with ctx.sessions.begin() as session:
        rows = [
            archive.keep(
                session,
                ctx.settings,
                "quarterly",
                quarter,
                q.village_id,
                [archive.File("pdf", documents.PDF, pdf)],
                by,
                ctx.now(),
            )
            for q, pdf in zip(statements, pdfs, strict=True)
        ]
    if deliver and rows:
        _delivered(
            ctx,
            rows,
            _send_quarter(ctx, registry, quarter, list(zip(rows, pdfs, strict=True)), lang),
        )
    return rows


def _send_quarter(
    ctx: ApiState,
    registry: Registry,
    quarter: str,
    made: list[tuple[tables.Report, bytes]],
    lang: Lang,
) -> list[delivery.Sent]:
    link = f"{ctx.settings.alert_base_url}/reports?period={quarter}"
    township_of = {v.id: v.township_id for v in registry.villages}
    by_township: dict[str, list[tuple[tables.Report, bytes]]] = defaultdict(list)
    for row, pdf in made:
        by_township[township_of[row.subject]].append((row, pdf))
    names = {t.id: t.name for t in registry.townships}
    sent = []
    for township, items in sorted(by_township.items()):
        to = [
            p.email
            for p in registry.people
            if p.role == "supervisor" and p.township_id == township and p.email
        ]
        sent += delivery.mail(
            ctx.settings,
            to,
            text("report.village_mail_subject", lang, quarter=quarter),
            text(
                "report.village_mail_body",
                lang,
                township=names.get(township, township),
                quarter=quarter,
                link=link,
            ),
            [delivery.Attachment(r.files[0]["name"], documents.PDF, pdf) for r, pdf in items],
        )
    title = text("report.village_mail_subject", lang, quarter=quarter)
    return sent + delivery.robots(ctx.settings, text("report.robot", lang, title=title, link=link))


def _delivered(ctx: ApiState, rows: list[tables.Report], sent: list[delivery.Sent]) -> None:
    """Where the reports went, recorded beside them."""
    deliveries = [s.as_dict() for s in sent]
    at = ctx.now() if any(s.ok for s in sent) else None
    with ctx.sessions.begin() as session:
        for row in rows:
            stored = session.get(tables.Report, row.id)
            if stored is not None:
                stored.deliveries, stored.delivered_at = deliveries, at
            row.deliveries, row.delivered_at = deliveries, at


def _bureau_addresses(registry: Registry) -> list[str]:
    return [p.email for p in registry.people if p.role == "bureau" and p.email]


def tick(ctx: ApiState, now: dt.datetime) -> dict[str, int]:
    """Make what is due as of ``now``; the numbers made."""
    cfg = ctx.settings.reports
    local = now.astimezone(ctx.tz)
    with ctx.sessions() as session:
        made_months = set(done_periods(session, MONTHLY))
        made_quarters = set(done_periods(session, QUARTERLY))
    months = due_months(local, cfg.since, cfg.monthly_day, cfg.at_hour, made_months)
    quarters = due_quarters(local, cfg.since, cfg.quarterly_day, cfg.at_hour, made_quarters)
    for month in months:
        _run(ctx, MONTHLY, month, lambda m=month: {"report": make_monthly(ctx, m, SYSTEM).id})
    for quarter in quarters:
        _run(
            ctx,
            QUARTERLY,
            quarter,
            lambda q=quarter: {"villages": len(make_quarterly(ctx, q, SYSTEM))},
        )
    return {"monthly": len(months), "quarterly": len(quarters)}


def _run(ctx: ApiState, job: str, period: str, make: Callable[[], dict[str, object]]) -> None:
    """Make a due report and record it done (made again if the process dies between)."""
    started = ctx.now()
    detail = make()
    with ctx.sessions.begin() as session:
        record_run(
            session, job, period, status="ok", started=started, finished=ctx.now(), detail=detail
        )
    log.info("report_made", job=job, period=period, **detail)


def serve(settings: Settings) -> None:
    """Tick on a schedule until interrupted (``pvmon reports``)."""
    from pvmon.localtime import utc_now
    from pvmon.stores import open_database, open_influx
    from pvmon.ticking import tick_forever

    ctx = ApiState(settings, open_database(settings), open_influx(settings))

    def run() -> None:
        try:
            made = tick(ctx, utc_now())
        except OSError as exc:
            log.warning("reports_tick_failed", error=str(exc)[:300])
            return
        if any(made.values()):
            log.info("reports_tick", **made)

    tick_forever("reports", settings.reports.tick_s, settings.timezone, run)
