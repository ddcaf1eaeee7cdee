"""The alert list people work from: most severe first and longest-standing first within a
severity, filtered, paged, with names instead of ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from alerts import actions
from api.deps import Context, Db
from api.pages import Viewer, county_filter, problem_page, render, visible_townships
from api.params import CountyFilter, TownshipFilter

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    number: int
    pages: int
    total: int


State = Literal["active", "open", "acknowledged", "resolved"]
Severity = Literal["critical", "warning", "info"]
Rule = Literal[actions.RULES]  # type: ignore[valid-type]


@router.get("/alerts")
def alert_list(
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    state: State = "active",
    severity: Severity | None = None,
    rule: Rule | None = None,
    township: TownshipFilter = None,
    county: CountyFilter = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    narrowed, counties = county_filter(who, ctx, county)
    if narrowed is None:
        return problem_page(request, who, 404, "not_found")
    who = narrowed
    f = actions.AlertFilter(
        state=state,
        severity=severity,
        rule=rule,
        township_id=township,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        order="severity",
    )
    where = who.scope.alert_filter()
    total = actions.count_alerts(session, f, where)
    chosen = {
        "state": state,
        "severity": severity,
        "rule": rule,
        "county": county,
        "township": township,
    }

    def url(number: int) -> str:
        return "/alerts?" + urlencode({k: v for k, v in chosen.items() if v} | {"page": number})

    return render(
        request,
        "alerts.html",
        who,
        alerts=actions.list_alerts(session, f, where),
        page=Page(page, max(1, -(-total // PAGE_SIZE)), total),
        url=url,
        chosen=chosen,
        rules=actions.RULES,
        townships=visible_townships(who, ctx) if who.scope.reads_fleet else [],
        counties=counties,
    )
