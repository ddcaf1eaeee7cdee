"""The county's (or a township's) picture: totals, targets and forecast, certification."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import Select
from sqlalchemy.orm import Session

from alerts import actions
from api import geography, queries
from api.deps import Context, Db, Who, checked_day, forbidden, within_township
from api.models import (
    ComplianceOut,
    FleetSummary,
    ForecastOut,
    MaintainerOut,
    StationMap,
    TownshipArea,
)
from api.params import Paging, TownshipFilter
from api.responses import json_of, problems
from api.state import REGISTRY_REFRESH_S, VIEW_FIGURES_TTL_S
from pvmon.certification import Requirement
from pvmon.registry.lookup import FleetLookup
from pvmon.registry.schema import StationRow

router = APIRouter(tags=["fleet"])


@router.get("/fleet/summary", response_model=FleetSummary, summary="Generation and revenue")
def summary(who: Who, ctx: Context, session: Db) -> Response:
    """Today (live), this month and this year, by segment and township; stations by state;
    open alerts. A supervisor sees their township's figures."""
    parts = summary_parts(who, ctx, lambda: _open_alerts(who, session))
    return json_of(
        ctx.cached(
            ("summary_json", who.scope.townships),
            lambda: summary_of(parts).model_dump_json(),
            version=parts,
        )
    )


def fleet_summary(who: Who, ctx: Context, session: Session) -> FleetSummary:
    """The summary as a model (for the pages and exports too)."""
    return summary_of(summary_parts(who, ctx, lambda: _open_alerts(who, session)))


SummaryParts = tuple[FleetSummary, dict[str, int], int]


def summary_parts(who: Who, ctx: Context, open_alerts: Callable[[], int]) -> SummaryParts:
    """The scope's kept figures, its stations by state and its open alerts as
    ``open_alerts()`` counts them (a page asks that together with its other figures): what
    a summary is made of. What is made from a summary is kept while these stay (a
    province's summary JSON is 88 KB, whose writing was a fifth of a request's work at 20
    clients)."""
    if not who.scope.reads_fleet:
        raise forbidden()
    townships = who.scope.townships
    figures = ctx.cached(("summary", townships), lambda: _figures(ctx, townships))
    return figures, _states(who, ctx), open_alerts()


def summary_of(parts: SummaryParts) -> FleetSummary:
    figures, states, open_alerts = parts
    return figures.model_copy(update={"stations_by_state": states, "open_alerts": open_alerts})


def _figures(ctx: Context, townships: frozenset[str] | None) -> FleetSummary:
    """The summary's figures as a model, made once while they are kept: a province's has
    some 700 township and county rows, whose validation cost more than the rest of a
    request. The caller's counts are set on a copy of it."""
    return FleetSummary(**queries.summary(ctx, townships), stations_by_state={}, open_alerts=0)


def _states(who: Who, ctx: Context) -> dict[str, int]:
    """How many of the caller's stations are in each state: the sums of their townships'
    counts (kept a minute, as the states they count are), summed once per scope while
    those counts stay."""
    by_township = ctx.cached("states_by_township", lambda: queries.states_by_township(ctx))

    def summed() -> dict[str, int]:
        total: Counter[str] = Counter()
        for township, counts in by_township.items():
            if who.scope.sees_township(township):
                total.update(counts)
        return queries.in_state_order(total)

    return ctx.cached(("states", who.scope.townships), summed, version=by_township)


@router.get(
    "/fleet/map",
    response_model=StationMap,
    summary="Stations by state, on the map",
    responses=problems(404),
)
def station_map(who: Who, ctx: Context, township: TownshipFilter = None) -> Response:
    """Each station in the caller's scope (or in one township of it) with its position and
    state, and each of their townships as an outline around its stations with its
    stations' counts by state (for the maps of the overview and the township pages). Past
    the setting ``api_map_stations`` (a province) only the townships come: a browser
    cannot draw a province's stations one by one, and their counts say where to look."""
    if township is not None:
        who = within_township(who, township, ctx)
    view = ctx.view()
    scope = who.scope
    ids = view.stations.keys() if scope.stations is None else scope.stations
    if len(ids) > ctx.settings.api_map_stations and scope.reads_fleet:
        return json_of(_township_map(who, ctx, len(ids)))
    return json_of(_station_map(who, ctx, ids))


def _township_map(who: Who, ctx: Context, in_scope: int) -> str:
    """The caller's townships with their stations' counts by state, as JSON, made once
    per scope while the counts stay: building and writing a province's 700 outlines was
    most of a request."""
    by_township = ctx.cached("states_by_township", lambda: queries.states_by_township(ctx))

    def made() -> str:
        view = ctx.view()
        areas = ctx.cached("township_areas", lambda: _areas(view.stations.values(), view))
        return StationMap(
            townships=[
                a.model_copy(update={"states": by_township.get(a.id, {})})
                for a in areas
                if who.scope.sees_township(a.id)
            ],
            stations=[],
            stations_in_scope=in_scope,
        ).model_dump_json()

    key = ("township_map", who.scope.townships, in_scope)
    return ctx.cached(key, made, REGISTRY_REFRESH_S, version=by_township)


def _station_map(who: Who, ctx: Context, ids: Collection[str]) -> StationMap:
    view = ctx.view()
    seen = [view.stations[s] for s in sorted(ids) if s in view.stations]
    alerts = ctx.cached("alerts_by_station", lambda: queries.open_alerts_by_station(ctx))
    online = ctx.cached("loggers_online", lambda: queries.loggers_online(ctx))
    marks = [
        (s.lon, s.lat, s.id, s.name, queries.station_state(s.id, alerts, online)) for s in seen
    ]
    counts: dict[str, Counter[str]] = {}
    for s, mark in zip(seen, marks, strict=True):
        counts.setdefault(s.township_id, Counter())[mark[4]] += 1
    return StationMap(
        townships=[
            a.model_copy(update={"states": queries.in_state_order(counts[a.id])})
            for a in _areas(seen, view)
        ],
        stations=marks,
        stations_in_scope=len(seen),
    )


def _areas(stations: Iterable[StationRow], view: FleetLookup) -> list[TownshipArea]:
    """Each township of ``stations`` as an outline around them, with its label's place."""
    places: dict[str, list[tuple[float, float]]] = {}
    for s in stations:
        places.setdefault(s.township_id, []).append((s.lon, s.lat))
    return [
        TownshipArea(
            id=t,
            name=view.township_names.get(t, t),
            centre=geography.centre(points),
            outline=geography.outline(points),
        )
        for t, points in sorted(places.items())
    ]


def open_alerts_query(who: Who) -> Select[tuple[int]]:
    """Unresolved alerts the caller may see (stations', maintainers' and the fleet's)."""
    return actions.count_query(actions.AlertFilter(state="active"), who.scope.alert_filter())


def open_alerts_changes_query(who: Who) -> Select[tuple[int, dt.datetime | None, int]]:
    """The unresolved alerts the caller may see: how many, when the last of them changed
    and their ids' sum (``alerts.actions.changes_query``: a page keeps its list of them
    while this stays)."""
    return actions.changes_query(actions.AlertFilter(state="active"), who.scope.alert_filter())


def _open_alerts(who: Who, session: Session) -> int:
    return int(session.scalar(open_alerts_query(who)) or 0)


def last_day(ctx: Context, as_of: dt.date | None) -> dt.date:
    return as_of or ctx.today() - dt.timedelta(days=1)


@router.get(
    "/targets",
    response_model=ForecastOut,
    summary="Village stations against 21 GWh",
    responses=problems(400),
)
def targets(
    who: Who,
    ctx: Context,
    as_of: Annotated[
        dt.date | None, Query(description="Last day counted (default: yesterday)")
    ] = None,
) -> ForecastOut:
    """Year to date against the annual energy and revenue targets of the village stations,
    the year-end forecast, on track or at risk, and the performance the rest of the year
    needs: the caller's county's, in a province's deployment."""
    if not who.scope.reads_fleet:
        raise forbidden()
    day = checked_day(last_day(ctx, as_of), ctx)
    several = len(ctx.view().registry.counties) > 1
    report = queries.target_report(ctx, day, who.scope.county if several else None)
    return ForecastOut(**report.segment.as_dict())


def maintainer_out(r: Requirement, ctx: Context) -> MaintainerOut:
    person = ctx.view().people.get(r.person_id)
    return MaintainerOut(
        id=r.person_id,
        name=r.name,
        township_id=person.township_id if person else None,
        village_id=person.village_id if person else None,
        cert_type=str(r.cert_type),
        state=str(r.state) if r.state else None,
        expires_on=r.expires_on,
        review_due_on=r.review_due_on,
        due=r.due,
    )


@router.get(
    "/compliance",
    response_model=ComplianceOut,
    summary="Certification (持证上岗)",
    responses=problems(400),
)
def certification(
    who: Who,
    ctx: Context,
    on: Annotated[dt.date | None, Query(description="Default: today")] = None,
) -> ComplianceOut:
    """The certification rate (target 100 %), maintainers not validly certified, those due
    within 60 days, and stations without a validly certified responsible maintainer."""
    if not who.scope.reads_fleet:
        raise forbidden()
    day = checked_day(on or ctx.today(), ctx)
    return ctx.cached(
        ("compliance", who.scope, ctx.view().serial, day),
        lambda: _compliance(who, ctx, day),
        VIEW_FIGURES_TTL_S,
    )


def _compliance(who: Who, ctx: Context, day: dt.date) -> ComplianceOut:
    """The caller's part of the certification report (a pass over the province's people
    and stations: kept with the registry view, per scope)."""
    report = queries.certification(ctx, day)
    mine = [r for r in report.requirements if _in_scope(r, who, ctx)]
    invalid = {r.person_id for r in mine if not r.valid}
    people = {r.person_id for r in mine}
    return ComplianceOut(
        on=day,
        maintainers=len(people),
        certified=len(people - invalid),
        rate=round((len(people) - len(invalid)) / len(people), 4) if people else 1.0,
        invalid=[maintainer_out(r, ctx) for r in mine if not r.valid],
        due_soon=[maintainer_out(r, ctx) for r in mine if r.valid and r.due],
        uncovered_stations={
            s: crew for s, crew in report.uncovered_stations.items() if who.scope.sees_station(s)
        },
    )


def _in_scope(r: Requirement, who: Who, ctx: Context) -> bool:
    person = ctx.view().people.get(r.person_id)
    return who.scope.everything or (
        person is not None and who.scope.sees_township(person.township_id)
    )


@router.get("/maintainers", response_model=list[MaintainerOut], summary="Maintainers")
def maintainers(who: Who, ctx: Context, response: Response, page: Paging) -> list[MaintainerOut]:
    """Maintainers in the caller's scope with the state of their required certificate. A
    maintainer sees themself."""
    report = queries.certification(ctx, ctx.today())
    if who.scope.reads_fleet:
        rows = [r for r in report.requirements if _in_scope(r, who, ctx)]
    elif who.scope.person_id:
        rows = [r for r in report.requirements if r.person_id == who.scope.person_id]
    else:
        raise forbidden()
    return [maintainer_out(r, ctx) for r in page.of(rows, response)]
