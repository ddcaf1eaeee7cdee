"""Maintenance measured: each maintainer's monthly assessment (考核) and the month's lost
energy and revenue by station, for the bureau and the township's supervisor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import assessment
from api.deps import Context, Db, Who, forbidden
from api.models import AssessmentOut, LossOut, MonthLossesOut, StationLossOut, VillageLossOut
from api.params import Paging
from api.responses import problems

router = APIRouter(prefix="/maintenance", tags=["maintenance"])
MONTH_PATTERN = r"^20\d\d-(0[1-9]|1[0-2])$"
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="A local month, YYYY-MM")]


@router.get(
    "/assessment",
    response_model=list[AssessmentOut],
    summary="Each maintainer's month (考核)",
    responses=problems(403),
)
def maintainers_month_page(
    month: Month, who: Who, ctx: Context, session: Db, response: Response, page: Paging
) -> list[AssessmentOut]:
    """Orders created in the month — done, on time, late, median hours to accept, arrive and
    repair — the energy and money their faults cost, and the maintainer's certification."""
    return page.of(maintainers_month(month, who, ctx, session), response)


def maintainers_month(month: str, who: Who, ctx: Context, session: Db) -> list[AssessmentOut]:
    """Every maintainer's month in the caller's scope (the assessment page lists them all)."""
    if not who.scope.reads_fleet:
        raise forbidden()
    people = ctx.view().people
    return [
        AssessmentOut(
            **vars(row),
            name=people[row.person_id].name if row.person_id in people else row.person_id,
        )
        for row in assessment.assessment(session, ctx, who, month)
    ]


@router.get(
    "/losses",
    response_model=MonthLossesOut,
    summary="The month's lost energy and revenue by station and village",
    responses=problems(403),
)
def month_losses(month: Month, who: Who, ctx: Context, session: Db) -> MonthLossesOut:
    """Each station's faults' days in the month, counted once: expected minus actual energy,
    at the day's tariff (estimated)."""
    if not who.scope.reads_fleet:
        raise forbidden()
    stations = ctx.view().stations
    losses = assessment.month_losses(session, ctx, who, month)
    villages = losses.villages.sort_values("kwh", ascending=False)
    rows = [
        StationLossOut(
            station_id=s,
            village_id=stations[s].village_id,
            township_id=stations[s].township_id,
            loss=LossOut(**vars(loss)),
        )
        for s, loss in losses.stations.items()
        if s in stations
    ]
    return MonthLossesOut(
        month=month,
        stations=rows,
        villages=[
            VillageLossOut(village_id=str(v), kwh=round(p.kwh, 1), yuan=round(p.yuan, 2))
            for v, p in villages.iterrows()
        ],
        kwh=round(sum(r.loss.kwh for r in rows), 1),
        yuan=round(sum(r.loss.yuan for r in rows), 2),
    )
