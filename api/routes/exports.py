"""Exports as CSV (UTF-8 with a byte-order mark, so that Excel shows Chinese) or XLSX:
village statements, the township summary, alerts, the assessment, the money's statements,
receipts and receivables, and the audit log.

Chinese headers by default (``?lang=en`` for English), a first row that says what the
table is, its period, that telemetry figures are estimates, and when it was made; local
times with their offset; names beside ids; and in XLSX, numbers as numbers with formats."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from openpyxl import Workbook
from sqlalchemy import select

from alerts import actions, messages
from api import queries, rendering
from api.deps import Caller, Context, Db, Who, checked_day, forbidden
from api.responses import XLSX, files, problems
from api.routes import assessment, audit, fleet, money
from api.routes.assessment import Month
from pvmon.db import tables
from pvmon.i18n import Lang, text

router = APIRouter(prefix="/exports", tags=["exports"])

Format = Literal["csv", "xlsx"]
Language = Literal["zh", "en"]
EXPORT_MAX = 100_000
"""Rows in one alerts export (the county raises a few thousand a year)."""
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}
NUMBER_FORMATS = {"kwh": "#,##0.0", "yuan": "#,##0.00", "count": "#,##0", "hours": "0.0"}


@dataclass(frozen=True)
class Column:
    key: str
    """Its header is the catalog's ``col.<key>``."""
    kind: str = "text"
    """``text``, or a number kind of ``NUMBER_FORMATS``."""


def table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[Column],
    fmt: Format,
    name: str,
    title: str,
    lang: Lang,
) -> Response:
    header = [text(f"col.{c.key}", lang) for c in columns]
    body = _csv(title, header, rows) if fmt == "csv" else _xlsx(title, header, rows, columns, name)
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def _csv(title: str, header: list[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title])
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def _xlsx(
    title: str,
    header: list[str],
    rows: Sequence[Sequence[Any]],
    columns: Sequence[Column],
    name: str,
) -> bytes:
    book = Workbook()
    book.remove(book.active)
    add_sheet(book, name, title, header, rows, columns)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def add_sheet(
    book: Workbook,
    name: str,
    title: str,
    header: list[str],
    rows: Sequence[Sequence[Any]],
    columns: Sequence[Column],
) -> None:
    """A sheet as every export has it: the title row, the header, the rows, numbers with
    their formats, the header frozen (a report's workbook has several)."""
    sheet = book.create_sheet(name[:31])
    sheet.append([title])
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    for index, column in enumerate(columns, start=1):
        number_format = NUMBER_FORMATS.get(column.kind)
        width = max(len(header[index - 1]) * 2, 12)
        sheet.column_dimensions[sheet.cell(2, index).column_letter].width = width
        if number_format:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "A3"


def _title(
    ctx: Context, who: Caller, what: str, period: str, lang: Lang, estimated: bool = True
) -> str:
    made = ctx.now().astimezone(ctx.tz).isoformat(timespec="minutes")
    parts = [rendering.deployment_title(ctx, lang, who), what, period]
    if estimated:
        parts.append(text("export_estimated", lang))
    parts.append(text("exported_at", lang, at=made))
    return " · ".join(parts)


def _local(moment: dt.datetime | None, ctx: Context) -> str | None:
    """A moment in the county's time with its offset, e.g. 2026-12-02T12:48+08:00."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ctx.tz).isoformat(timespec="minutes")


STATEMENT_COLUMNS = [
    Column("village_id"),
    Column("village"),
    Column("township"),
    Column("period"),
    Column("energy_kwh", "kwh"),
    Column("export_kwh", "kwh"),
    Column("grid_yuan", "yuan"),
    Column("subsidy_yuan", "yuan"),
    Column("costs_yuan", "yuan"),
    Column("net_yuan", "yuan"),
    Column("basis"),
]


@router.get(
    "/statements.{fmt}",
    summary="Village statements (monthly and annual)",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(400)},
)
def statements(
    fmt: Format,
    who: Who,
    ctx: Context,
    session: Db,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    village_id: Annotated[str | None, Query(max_length=16)] = None,
    lang: Language = "zh",
) -> Response:
    chosen = year or ctx.today().year
    q = select(tables.VillageStatement).where(tables.VillageStatement.period.like(f"{chosen}%"))
    if village_id:
        q = q.where(tables.VillageStatement.village_id == village_id)
    view = ctx.view()
    rows = []
    for s in session.scalars(
        q.order_by(tables.VillageStatement.village_id, tables.VillageStatement.period)
    ):
        if not who.scope.sees_village(s.village_id):
            continue
        village = view.villages.get(s.village_id)
        rows.append(
            [
                s.village_id,
                village.name if village else "",
                view.township_names.get(village.township_id, "") if village else "",
                s.period,
                round(s.energy_kwh, 1),
                round(s.export_kwh, 1),
                round(s.grid_yuan, 2),
                round(s.subsidy_yuan, 2),
                round(s.costs_yuan, 2),
                round(s.net_yuan, 2),
                text("estimated_word" if s.estimated else "settled_word", lang),
            ]
        )
    title = _title(ctx, who, text("export_statements", lang), str(chosen), lang)
    return table(rows, STATEMENT_COLUMNS, fmt, f"statements-{chosen}", title, lang)


SUMMARY_COLUMNS = [
    Column("township_id"),
    Column("township"),
    Column("today_kwh", "kwh"),
    Column("month_kwh", "kwh"),
    Column("year_kwh", "kwh"),
    Column("year_yuan", "yuan"),
]


@router.get(
    "/summary.{fmt}",
    summary="Generation and revenue by township",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(400)},
)
def summary(fmt: Format, who: Who, ctx: Context, session: Db, lang: Language = "zh") -> Response:
    data = fleet.fleet_summary(who, ctx, session)
    rows = [
        [t.id, t.name, t.today_kwh, t.month_kwh, t.year_kwh, t.year_yuan] for t in data.townships
    ]
    day = checked_day(ctx.today(), ctx).isoformat()
    title = _title(ctx, who, text("export_summary", lang), day, lang)
    return table(rows, SUMMARY_COLUMNS, fmt, f"summary-{day}", title, lang)


ASSESSMENT_COLUMNS = [
    Column("person_id"),
    Column("person"),
    Column("cert_state"),
    Column("orders", "count"),
    Column("orders_done", "count"),
    Column("orders_on_time", "count"),
    Column("orders_late", "count"),
    Column("hours_to_accept", "hours"),
    Column("hours_to_arrive", "hours"),
    Column("hours_to_repair", "hours"),
    Column("lost_kwh", "kwh"),
    Column("lost_yuan", "yuan"),
]


@router.get(
    "/assessment.{fmt}",
    summary="Each maintainer's month (考核)",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(403)},
)
def assessment_table(
    fmt: Format, month: Month, who: Who, ctx: Context, session: Db, lang: Language = "zh"
) -> Response:
    rows = [
        [
            r.person_id,
            r.name,
            text(f"cert_state.{r.cert_state or 'none'}", lang),
            r.orders,
            r.done,
            r.on_time,
            r.late,
            r.median_hours_to_accept,
            r.median_hours_to_arrive,
            r.median_hours_to_repair,
            r.lost_kwh,
            r.lost_yuan,
        ]
        for r in assessment.maintainers_month(month, who, ctx, session)
    ]
    title = _title(ctx, who, text("export_assessment", lang), month, lang)
    return table(rows, ASSESSMENT_COLUMNS, fmt, f"assessment-{month}", title, lang)


ALERT_COLUMNS = [
    Column("alert_id", "count"),
    Column("rule"),
    Column("severity"),
    Column("state"),
    Column("subject"),
    Column("subject_id"),
    Column("station"),
    Column("station_id"),
    Column("township"),
    Column("since"),
    Column("opened_at"),
    Column("acknowledged_by"),
    Column("resolved_at"),
    Column("resolved_by"),
]


@router.get(
    "/alerts.{fmt}",
    summary="Alerts",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(400)},
)
def alerts(
    fmt: Format,
    who: Who,
    ctx: Context,
    session: Db,
    state: Literal["open", "acknowledged", "resolved", "active"] | None = None,
    lang: Language = "zh",
) -> Response:
    if who.scope.role == "collective":
        raise forbidden()
    listed = actions.list_alerts(
        session,
        actions.AlertFilter(state=state, limit=EXPORT_MAX, order="severity"),
        who.scope.alert_filter(),
    )
    view = ctx.view()
    names = queries.place_names(ctx)
    rows = [
        [
            a.id,
            messages.rule_title(a.rule, lang),
            messages.severity_word(a.severity, lang),
            text(a.state, lang),
            names.get(a.subject_id, text(f"subject_{a.subject_type}", lang)),
            a.subject_id,
            names.get(a.station_id or "", ""),
            a.station_id,
            view.township_names.get(a.township_id or "", ""),
            _local(a.since, ctx),
            _local(a.opened_at, ctx),
            messages.actor_name(a.acknowledged_by, lang, names) if a.acknowledged_by else None,
            _local(a.resolved_at, ctx),
            messages.actor_name(a.resolved_by, lang, names) if a.resolved_by else None,
        ]
        for a in listed
    ]
    what = text("export_alerts", lang)
    title = _title(
        ctx, who, what, text(f"state_filter.{state or 'all'}", lang), lang, estimated=False
    )
    return table(rows, ALERT_COLUMNS, fmt, "alerts", title, lang)


SETTLEMENT_COLUMNS = [
    Column("station_id"),
    Column("station"),
    Column("period"),
    Column("export_kwh", "kwh"),
    Column("grid_yuan", "yuan"),
    Column("subsidy_yuan", "yuan"),
    Column("subsidy_due_yuan", "yuan"),
    Column("number"),
    Column("settled_on"),
]


@router.get(
    "/settlements.{fmt}",
    summary="Settlement statements (imports back as they are)",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(403)},
)
def settlements_table(
    fmt: Format,
    who: Who,
    ctx: Context,
    session: Db,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    lang: Language = "zh",
) -> Response:
    """The year's statements of the caller's stations; the subsidy column holds what the
    statement stated (empty: computed by the rule, shown beside it as due)."""
    chosen = year or ctx.today().year
    names = queries.place_names(ctx)
    rows = [
        [
            s.station_id,
            names.get(s.station_id, ""),
            s.period,
            s.export_kwh,
            s.grid_yuan,
            s.subsidy_yuan if s.subsidy_stated else None,
            s.subsidy_yuan,
            s.number,
            s.settled_on.isoformat() if s.settled_on else None,
        ]
        for s in money.settlements(who, ctx, session, None, None, EXPORT_MAX, 0)
        if s.period.startswith(str(chosen))
    ]
    title = _title(ctx, who, text("export_settlements", lang), str(chosen), lang, estimated=False)
    return table(rows, SETTLEMENT_COLUMNS, fmt, f"settlements-{chosen}", title, lang)


RECEIPT_COLUMNS = [
    Column("station_id"),
    Column("station"),
    Column("kind"),
    Column("covers_from"),
    Column("covers_to"),
    Column("amount_yuan", "yuan"),
    Column("received_on"),
    Column("reference"),
]


@router.get(
    "/receipts.{fmt}",
    summary="Receipts (imports back as they are)",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(403)},
)
def receipts_table(
    fmt: Format, who: Who, ctx: Context, session: Db, lang: Language = "zh"
) -> Response:
    names = queries.place_names(ctx)
    rows = [
        [
            r.station_id,
            names.get(r.station_id, ""),
            text(f"receipt_kind.{r.kind}", lang),
            r.covers_from,
            r.covers_to,
            r.amount_yuan,
            r.received_on.isoformat(),
            r.reference,
        ]
        for r in money.receipts(who, session, None, EXPORT_MAX, 0)
    ]
    day = ctx.today().isoformat()
    title = _title(ctx, who, text("export_receipts", lang), day, lang, estimated=False)
    return table(rows, RECEIPT_COLUMNS, fmt, f"receipts-{day}", title, lang)


AGEING_COLUMNS = [
    Column("due_yuan", "yuan"),
    Column("received_yuan", "yuan"),
    Column("outstanding_yuan", "yuan"),
    Column("under_1y", "yuan"),
    Column("from_1y_to_2y", "yuan"),
    Column("over_2y", "yuan"),
]
"""Money due, received, outstanding and its ageing: every receivables table's figures."""
RECEIVABLE_COLUMNS = [Column("station_id"), Column("station"), Column("kind"), *AGEING_COLUMNS]


@router.get(
    "/receivables.{fmt}",
    summary="What is still owed per station, by age",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(403)},
)
def receivables_table(
    fmt: Format, who: Who, ctx: Context, session: Db, lang: Language = "zh"
) -> Response:
    found = money.receivables(who, ctx, session)
    names = queries.place_names(ctx)
    rows = [
        [
            r.station_id,
            names.get(r.station_id, ""),
            text(f"receipt_kind.{r.kind}", lang),
            *(round(getattr(r, c.key), 2) for c in AGEING_COLUMNS),
        ]
        for r in found.stations
    ]
    day = found.as_of.isoformat()
    title = _title(ctx, who, text("export_receivables", lang), day, lang, estimated=False)
    return table(rows, RECEIVABLE_COLUMNS, fmt, f"receivables-{day}", title, lang)


AUDIT_COLUMNS = [
    Column("at"),
    Column("actor"),
    Column("channel"),
    Column("entity"),
    Column("key"),
    Column("action"),
    Column("before"),
    Column("after"),
    Column("reason"),
]


@router.get(
    "/audit.{fmt}",
    summary="The audit log",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(403)},
)
def audit_table(
    fmt: Format,
    who: Who,
    ctx: Context,
    session: Db,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    key: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    lang: Language = "zh",
) -> Response:
    """The entries the filter finds, newest first (at most 100,000), records as JSON."""
    audit.auditor(who)
    found, _ = audit.entries(session, ctx, audit.AuditFilter(entity, key, actor), EXPORT_MAX, 0)
    names = queries.place_names(ctx)
    rows = [
        [
            _local(e.at, ctx),
            messages.actor_name(e.actor, lang, names),
            text(f"channel.{e.channel}", lang),
            text(f"entity.{e.entity}", lang),
            e.key,
            text(f"audit_action.{e.action}", lang),
            _json(e.before),
            _json(e.after),
            e.reason,
        ]
        for e in found
    ]
    title = _title(
        ctx, who, text("export_audit", lang), ctx.today().isoformat(), lang, estimated=False
    )
    return table(rows, AUDIT_COLUMNS, fmt, "audit", title, lang)


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
