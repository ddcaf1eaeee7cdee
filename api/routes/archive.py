"""The reports produced (the bureau's monthly report, villages' quarterly statements): the
list, and each file as it was kept. The reports service makes them; this reads the
``reports`` table and the files where the core says they are."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import Caller, Context, Db, Who, forbidden, not_found
from api.params import Paging
from api.responses import files, problems
from api.state import ApiState
from pvmon.datapaths import report_file
from pvmon.db import tables

router = APIRouter(prefix="/reports", tags=["reports"])
ReportId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The report's number")]
FileName = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,120}$")]


class ReportFile(BaseModel):
    name: str
    media_type: str
    size_bytes: int
    sha256: str
    url: str


class ReportOut(BaseModel):
    id: int
    kind: Literal["monthly", "quarterly"]
    period: str
    subject: str
    version: int
    made_at: dt.datetime
    made_by: str
    files: list[ReportFile]
    delivered_at: dt.datetime | None
    deliveries: list[dict[str, Any]]


def sees(who: Caller, r: tables.Report) -> bool:
    """The county's report: whoever reads the fleet; a village's: whoever sees the village
    (its collective, its township's supervisor, the bureau) — not a maintainer."""
    if r.subject == "county":
        return who.scope.reads_fleet
    return who.scope.role != "maintainer" and who.scope.sees_village(r.subject)


def report_out(r: tables.Report) -> ReportOut:
    return ReportOut(
        id=r.id,
        kind=r.kind,  # type: ignore[arg-type]
        period=r.period,
        subject=r.subject,
        version=r.version,
        made_at=r.made_at,
        made_by=r.made_by,
        files=[ReportFile(**f, url=f"/api/v1/reports/{r.id}/files/{f['name']}") for f in r.files],
        delivered_at=r.delivered_at,
        deliveries=r.deliveries,
    )


def listed(
    session: Session, who: Caller, kind: str | None, period: str | None
) -> list[tables.Report]:
    q = select(tables.Report).order_by(tables.Report.made_at.desc(), tables.Report.id.desc())
    if kind:
        q = q.where(tables.Report.kind == kind)
    if period:
        q = q.where(tables.Report.period == period)
    return [r for r in session.scalars(q) if sees(who, r)]


@router.get("", response_model=list[ReportOut], summary="The reports produced")
def reports(
    who: Who,
    session: Db,
    kind: Literal["monthly", "quarterly"] | None = None,
    period: Annotated[str | None, Query(pattern=r"^20\d\d(-(0[1-9]|1[0-2])|Q[1-4])$")] = None,
    *,
    response: Response,
    page: Paging,
) -> list[ReportOut]:
    """Newest first: the monthly reports for those who read the fleet, the quarterly
    statements of the villages the caller sees."""
    if who.scope.role == "maintainer":
        raise forbidden()
    return [report_out(r) for r in page.of(listed(session, who, kind, period), response)]


def one(session: Session, who: Caller, report_id: int) -> tables.Report:
    r = session.get(tables.Report, report_id)
    if r is None or not sees(who, r):
        raise not_found("report")
    return r


def file_of(ctx: ApiState, r: tables.Report, name: str) -> Response:
    """The file as it was kept (503 if it is gone or no longer matches its hash)."""
    entry = next((f for f in r.files if f["name"] == name), None)
    if entry is None:
        raise not_found("file")
    try:
        data = report_file(ctx.settings, r.kind, r.period, name).read_bytes()
    except OSError:
        raise HTTPException(503, f"{name} is missing from the archive") from None
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise HTTPException(503, f"{name} no longer matches its SHA-256")
    return Response(
        data,
        media_type=entry["media_type"],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-SHA256": entry["sha256"],
        },
    )


@router.get(
    "/{report_id}/files/{name}",
    response_class=Response,
    summary="A report's file, as it was made",
    responses={**files("application/pdf"), **problems(404, 503)},
)
def report_file_route(
    report_id: ReportId, name: FileName, who: Who, ctx: Context, session: Db
) -> Response:
    return file_of(ctx, one(session, who, report_id), name)
