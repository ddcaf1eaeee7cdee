"""Exports as CSV (UTF-8 with a byte-order mark, so that Excel shows Chinese) or XLSX:
village statements, the township summary, alerts."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from openpyxl import Workbook
from sqlalchemy import select

from alerts import actions
from api.deps import Context, Db, Who, checked_day, forbidden
from api.responses import XLSX, files, problems
from api.routes import fleet
from pvmon.db import tables

router = APIRouter(prefix="/exports", tags=["exports"])

Format = Literal["csv", "xlsx"]
EXPORT_MAX = 100_000
"""Rows in one alerts export (the county raises a few thousand a year)."""
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


def table(rows: Sequence[Sequence[Any]], header: Sequence[str], fmt: Format, name: str) -> Response:
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        body = ("\ufeff" + text.getvalue()).encode()
    else:
        book = Workbook()
        sheet = book.active
        sheet.title = name[:31]
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        buffer = io.BytesIO()
        book.save(buffer)
        body = buffer.getvalue()
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


STATEMENT_COLUMNS = [
    "village_id",
    "village",
    "period",
    "energy_kwh",
    "export_kwh",
    "grid_yuan",
    "subsidy_yuan",
    "costs_yuan",
    "net_yuan",
    "estimated",
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
) -> Response:
    chosen = year or ctx.today().year
    q = select(tables.VillageStatement).where(tables.VillageStatement.period.like(f"{chosen}%"))
    if village_id:
        q = q.where(tables.VillageStatement.village_id == village_id)
    villages = ctx.view().villages
    rows = [
        [
            s.village_id,
            villages[s.village_id].name if s.village_id in villages else "",
            s.period,
            round(s.energy_kwh, 1),
            round(s.export_kwh, 1),
            round(s.grid_yuan, 2),
            round(s.subsidy_yuan, 2),
            round(s.costs_yuan, 2),
            round(s.net_yuan, 2),
            s.estimated,
        ]
        for s in session.scalars(
            q.order_by(tables.VillageStatement.village_id, tables.VillageStatement.period)
        )
        if who.scope.sees_village(s.village_id)
    ]
    return table(rows, STATEMENT_COLUMNS, fmt, f"statements-{chosen}")


@router.get(
    "/summary.{fmt}",
    summary="Generation and revenue by township",
    response_class=Response,
    responses={**files(*MEDIA.values()), **problems(400)},
)
def summary(fmt: Format, who: Who, ctx: Context) -> Response:
    data = fleet.summary(who, ctx)
    rows = [
        [t.id, t.name, t.today_kwh, t.month_kwh, t.year_kwh, t.year_yuan] for t in data.townships
    ]
    header = ["township_id", "township", "today_kwh", "month_kwh", "year_kwh", "year_yuan"]
    return table(rows, header, fmt, f"summary-{checked_day(ctx.today(), ctx).isoformat()}")


ALERT_COLUMNS = [
    "id",
    "rule",
    "severity",
    "state",
    "subject_type",
    "subject_id",
    "station_id",
    "township_id",
    "since",
    "opened_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
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
    session: Db,
    state: Literal["open", "acknowledged", "resolved", "active"] | None = None,
) -> Response:
    if who.scope.role == "collective":
        raise forbidden()
    listed = actions.list_alerts(
        session, actions.AlertFilter(state=state, limit=EXPORT_MAX), who.scope.alert_filter()
    )
    rows = [
        [
            a.id,
            a.rule,
            a.severity,
            a.state,
            a.subject_type,
            a.subject_id,
            a.station_id,
            a.township_id,
            a.since.isoformat(),
            a.opened_at.isoformat(),
            a.acknowledged_by,
            a.resolved_at.isoformat() if a.resolved_at else None,
            a.resolved_by,
        ]
        for a in listed
    ]
    return table(rows, ALERT_COLUMNS, fmt, "alerts")
