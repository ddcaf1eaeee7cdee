"""The reports' archive on the pages: every report the caller may see, newest first, with
its files and where it went."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.deps import Context, Db
from api.pages import Viewer, problem_page, render
from api.routes import archive

router = APIRouter(include_in_schema=False)


@router.get("/reports")
def reports_page(
    request: Request,
    who: Viewer,
    session: Db,
    kind: Literal["monthly", "quarterly"] | None = None,
    period: str | None = None,
) -> Response:
    if who.scope.role == "maintainer":
        return problem_page(request, who, 403, "money.not_yours")
    rows = archive.listed(session, who, kind, (period or "")[:8] or None)
    return render(request, "reports.html", who, rows=rows[:300], kind=kind, period=period)


@router.get("/reports/{report_id}")
def report_page(
    report_id: archive.ReportId, request: Request, who: Viewer, session: Db
) -> Response:
    try:
        found = archive.one(session, who, report_id)
    except HTTPException:
        return problem_page(request, who, 404, "not_found")
    return render(request, "reports.html", who, rows=[found], kind=None, period=None)


@router.get("/reports/{report_id}/files/{name}")
def report_file_page(
    report_id: archive.ReportId,
    name: archive.FileName,
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
) -> Response:
    try:
        return archive.file_of(ctx, archive.one(session, who, report_id), name)
    except HTTPException as exc:
        return problem_page(request, who, exc.status_code, "not_found")
