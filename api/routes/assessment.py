"""Maintenance measured: each maintainer's monthly assessment (考核) and the month's lost
energy and revenue by station, for the bureau and the township's supervisor."""

from __future__ import annotations

from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query

from api import assessment
from api.deps import Context, Db, Who, forbidden
from api.models import AssessmentOut, LossOut, MonthLossesOut, StationLossOut, VillageLossOut
from api.responses import problems
from api.state import ApiState
from pvmon.shares import by_village

router = APIRouter(prefix="/maintenance", tags=["maintenance"])
MONTH_PATTERN = r"^20\d\d-(0[1-9]|1[0-2])$"
Month = Annotated[str, Query(pattern=MONTH_PATTERN, description="A local month, YYYY-MM")]


@router.get(
    "/assessment",
    response_model=list[AssessmentOut],
    summary="Each maintainer's month (考核)",
    responses=problems(403),
)
def maintainers_month(month: Month, who: Who, ctx: Context, session: Db) -> list[AssessmentOut]:
    """Orders created in the month — done, on time, late, median hours to accept, arrive and
    repair — the energy and money their faults cost, and the maintainer's certification."""
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


def village_losses(rows: list[StationLossOut], ctx: ApiState) -> list[VillageLossOut]:
    """Each village's part of the stations' losses, most first."""
    if not rows:
        return []
    figures = pd.DataFrame(
        {"kwh": [r.loss.kwh for r in rows], "yuan": [r.loss.yuan for r in rows]},
        index=[r.station_id for r in rows],
    )
    shares = pd.DataFrame([s.model_dump() for s in ctx.view().registry.station_shares])
    parts = by_village(figures, shares[shares["station_id"].isin(figures.index)])
    return [
        VillageLossOut(village_id=str(v), kwh=round(p.kwh, 1), yuan=round(p.yuan, 2))
        for v, p in parts.sort_values("kwh", ascending=False).iterrows()
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
    rows = [
        StationLossOut(
            station_id=s,
            village_id=stations[s].village_id,
            township_id=stations[s].township_id,
            loss=LossOut(**vars(loss)),
        )
        for s, loss in losses.items()
        if s in stations
    ]
    return MonthLossesOut(
        month=month,
        stations=rows,
        villages=village_losses(rows, ctx),
        kwh=round(sum(r.loss.kwh for r in rows), 1),
        yuan=round(sum(r.loss.yuan for r in rows), 2),
    )
