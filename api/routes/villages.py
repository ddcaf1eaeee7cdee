"""Village collectives: revenue by month and year, stations and shares, income against
the target, and the village's household arrays."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response
from sqlalchemy import select

from api import queries
from api.deps import Context, Db, Who, not_found
from api.models import ForecastOut, Household, Statement, VillageDetail, VillageItem
from api.params import Paging, VillageId, Year
from api.responses import problems
from pvmon.db import tables
from pvmon.domain import StationKind
from pvmon.registry.schema import VillageRow

router = APIRouter(tags=["villages"])


def _item(v: VillageRow, ctx: Context, net: float | None) -> VillageItem:
    return VillageItem(
        id=v.id,
        name=v.name,
        township_id=v.township_id,
        township=ctx.view().township_names.get(v.township_id, v.township_id),
        category=str(v.category),
        year_net_yuan=net,
        target_yuan=ctx.settings.targets.village_income_yuan,
    )


@router.get("/villages", response_model=list[VillageItem], summary="Villages")
def villages_page(
    who: Who, ctx: Context, session: Db, response: Response, page: Paging, year: Year = None
) -> list[VillageItem]:
    """The caller's villages with the collective's distributable income this year."""
    return page.of(villages(who, ctx, session, year), response)


def villages(who: Who, ctx: Context, session: Db, year: int | None) -> list[VillageItem]:
    """Every village of the caller's with its income this year (the pages list them all)."""
    period = str(year or ctx.today().year)
    s = tables.VillageStatement
    asked = select(s.village_id, s.net_yuan).where(s.period == period)
    if (mine := who.scope.village_filter(s.village_id)) is not None:
        asked = asked.where(mine)  # not a province's 6,500 for a township's page
    net = dict(session.execute(asked).all())  # type: ignore[arg-type]
    return [
        _item(v, ctx, net.get(v.id))
        for v in ctx.view().villages.values()
        if who.scope.sees_village(v.id)
    ]


def village_of(who: Who, ctx: Context, village_id: str) -> VillageRow:
    """The village, if the caller may see it (404 otherwise)."""
    v = ctx.view().villages.get(village_id)
    if v is None or not who.scope.sees_village(village_id):
        raise not_found("village")
    return v  # type: ignore[return-value]


def statement(row: tables.VillageStatement) -> Statement:
    return Statement(
        period=row.period,
        energy_kwh=row.energy_kwh,
        export_kwh=row.export_kwh,
        grid_yuan=row.grid_yuan,
        subsidy_yuan=row.subsidy_yuan,
        costs_yuan=row.costs_yuan,
        net_yuan=row.net_yuan,
        estimated=row.estimated,
        sources=row.sources,
    )


@router.get(
    "/villages/{village_id}",
    response_model=VillageDetail,
    summary="A village's income",
    responses=problems(404),
)
def village(
    village_id: VillageId,
    who: Who,
    ctx: Context,
    session: Db,
    year: Year = None,
) -> VillageDetail:
    """Revenue by month and for the year (estimated until settled), where it comes from
    (stations and shares), and the year-end forecast against 200,000 yuan."""
    v = village_of(who, ctx, village_id)
    chosen = year or ctx.today().year
    rows = session.scalars(
        select(tables.VillageStatement)
        .where(
            tables.VillageStatement.village_id == village_id,
            tables.VillageStatement.period.like(f"{chosen}%"),
        )
        .order_by(tables.VillageStatement.period)
    ).all()
    months = [statement(r) for r in rows if len(r.period) == 7]
    annual = next((statement(r) for r in rows if r.period == str(chosen)), None)
    forecast = None
    if chosen == ctx.today().year:
        day = ctx.today() - dt.timedelta(days=1)
        report = queries.target_report(ctx, day)
        found = report.villages.get(village_id)
        forecast = ForecastOut(**found.as_dict()) if found else None
    return VillageDetail(
        **_item(v, ctx, annual.net_yuan if annual else None).model_dump(),
        year=chosen,
        months=months,
        annual=annual,
        stations=ctx.view().holdings_on(village_id, min(ctx.today(), dt.date(chosen, 12, 31))),
        forecast=forecast,
    )


@router.get(
    "/villages/{village_id}/households",
    response_model=list[Household],
    summary="A village's household arrays",
    responses=problems(404),
)
def households_page(
    village_id: VillageId, who: Who, ctx: Context, response: Response, page: Paging
) -> list[Household]:
    """Each household array in the village with its income forecast against ~3,000 yuan."""
    return page.of(households(village_id, who, ctx), response)


def households(village_id: str, who: Who, ctx: Context) -> list[Household]:
    """Every household array of the village (the pages and the disclosure list them all)."""
    v = village_of(who, ctx, village_id)
    day = ctx.today() - dt.timedelta(days=1)
    found = queries.household_forecasts(ctx, day, v.township_id)
    view = ctx.view()
    out = []
    for s in (view.stations[i] for i in view.in_village.get(village_id, ())):
        if s.kind != StationKind.HOUSEHOLD:
            continue
        person = view.people.get(s.household_id or "")
        f = found.get(s.id)
        out.append(
            Household(
                station_id=s.id,
                household_id=s.household_id,
                household=person.name if person else None,
                capacity_kwp=s.capacity_kwp,
                forecast=ForecastOut(**f.as_dict()) if f else None,
            )
        )
    return out
