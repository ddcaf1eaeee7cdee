"""Stations ranked, worst first, for the bureau and the township supervisors: by peer index
or by equivalent hours on the last computed day, within a township, a segment and a state,
a page at a time."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.alertpages import PAGE_SIZE, Page
from api.deps import Context
from api.pages import HOME, Viewer, county_filter, problem_page, render, visible_townships
from api.params import CountyFilter
from api.routes import stations
from pvmon.domain import StationKind
from pvmon.registry.schema import StationRow

router = APIRouter(include_in_schema=False)

Order = Literal["peer_index", "yf"]
State = Literal["fault", "warning", "offline", "ok", "unknown"]


def ranked(rows: list[tuple[StationRow, str]], kpis: dict[str, dict], order: Order) -> list:
    """Worst first; stations without a figure (never computed) at the end."""

    def figure(row: tuple[StationRow, str]) -> float | None:
        return kpis.get(row[0].id, {}).get(order)

    with_figure = [r for r in rows if figure(r) is not None]
    without = [r for r in rows if figure(r) is None]
    return sorted(with_figure, key=lambda r: (figure(r), r[0].id)) + without


@router.get("/rankings")
def rankings(
    request: Request,
    who: Viewer,
    ctx: Context,
    order: Order = "peer_index",
    township: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z0-9_-]*$")] = None,
    county: CountyFilter = None,
    kind: StationKind | None = None,
    state: State | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    if not who.scope.reads_fleet:
        return RedirectResponse(HOME[who.scope.role], 303)
    narrowed, counties = county_filter(who, ctx, county)
    if narrowed is None:
        return problem_page(request, who, 404, "not_found")
    who = narrowed
    kpis = stations.station_kpis(ctx)
    rows = ranked(stations.chosen(who, ctx, kind, township or None, state), kpis, order)
    chosen = {
        "order": order,
        "county": county,
        "township": township,
        "kind": kind,
        "state": state,
    }

    def url(number: int) -> str:
        values = {k: str(v) for k, v in chosen.items() if v}
        return "/rankings?" + urlencode(values | {"page": number})

    first = (page - 1) * PAGE_SIZE
    return render(
        request,
        "rankings.html",
        who,
        rows=[
            stations.item(s, ctx, current, kpis.get(s.id))
            for s, current in rows[first : first + PAGE_SIZE]
        ],
        first=first,
        page=Page(page, max(1, -(-len(rows) // PAGE_SIZE)), len(rows)),
        url=url,
        chosen=chosen,
        townships=visible_townships(who, ctx),
        counties=counties,
        kinds=[str(k) for k in StationKind],
        states=["fault", "warning", "offline", "ok", "unknown"],
        day=next((kpis[s.id]["day"] for s, _ in rows if s.id in kpis), None),
    )
