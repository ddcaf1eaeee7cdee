"""The pages of one station, one inverter and one person — what the portals people know
(FusionSolar, iSolarCloud) open on: a day's power curve against the clear-sky curve and
the township peers, daily and monthly energy, the KPIs of the last computed day, the
inverters, the alerts, and, for those who may see money, ownership and revenue."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import and_

from alerts import actions
from analytics.quality import LABELS
from api import formatting, queries, stationdata
from api.deps import Context, Db
from api.pages import Viewer, lang_of, problem_page, render
from api.params import DeviceId, StationId
from api.routes import stations
from api.state import ApiState
from maintenance import actions as order_actions
from pvmon.db import tables
from pvmon.i18n import text
from pvmon.localtime import day_start

router = APIRouter(include_in_schema=False)
PAST_ALERTS = 20

Day = Annotated[dt.date | None, Query(ge=dt.date(2000, 1, 1), le=dt.date(2100, 12, 31))]


def _offset(ctx: ApiState, day: dt.date) -> int:
    moment = dt.datetime.fromtimestamp(day_start(day, ctx.tz), ctx.tz)
    offset = moment.utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _has_values(points: list[tuple[int, float | None]]) -> bool:
    return any(v for _, v in points)


def _curve_chart(
    ctx: ApiState, curve: stationdata.DayCurve, day: dt.date, lang: str
) -> dict | None:
    if not _has_values(curve.station) and not _has_values(curve.peers):
        return None
    series = {text("this_station", lang): curve.station}
    if curve.peers:
        series[text("peers_median", lang)] = curve.peers
    series[text("clear_sky", lang)] = curve.clear_sky
    return formatting.lines(
        f"{text('power_curve', lang)} · {day.isoformat()}",
        text("power_kw", lang),
        {name: [(t * 1000, v) for t, v in points] for name, points in series.items()},
        tz_offset_s=_offset(ctx, day),
    )


@router.get("/stations/{station_id}")
def station_page(
    station_id: StationId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    day: Day = None,
) -> Response:
    s = ctx.view().stations.get(station_id)
    if s is None or not who.scope.sees_station(station_id):
        return problem_page(request, who, 404, "not_found")
    lang = lang_of(request)
    shown = day or ctx.today()
    detail = stations.station(station_id, who, ctx, session)
    curve = stationdata.day_curve(ctx, s, shown)
    months = stationdata.year_months(ctx, station_id, shown.year)
    days = detail.days
    last = days[-1] if days else None
    daily = (
        formatting.bars(
            text("daily_energy_30", lang),
            text("kwh", lang),
            [d["day"][5:] for d in days],
            {text("generation", lang): [round(d["energy_kwh"] or 0, 1) for d in days]},
        )
        if days
        else None
    )
    monthly = (
        formatting.bars(
            text("monthly_energy", lang, year=shown.year),
            text("kwh", lang),
            [text("month_n", lang, n=m) for m in range(1, 13)],
            {
                text("generation", lang): [
                    round(months[m], 0) if m in months else None for m in range(1, 13)
                ]
            },
        )
        if months
        else None
    )
    past = actions.list_alerts(
        session,
        actions.AlertFilter(station_id=station_id, limit=PAST_ALERTS),
        who.scope.alert_filter(),
    )
    return render(
        request,
        "station.html",
        who,
        s=detail,
        row=s,
        day=shown,
        curve_chart=_curve_chart(ctx, curve, shown, lang),
        peer_count=curve.peer_count,
        daily_chart=daily,
        monthly_chart=monthly,
        last=last,
        inverters=stationdata.inverters_now(ctx, station_id),
        replaced=ctx.view().retired(station_id, ctx.today()),
        quality=stationdata.data_quality(ctx, station_id),
        degradation=stationdata.latest_estimate(session, tables.StationDegradation, station_id),
        soiling=stationdata.latest_estimate(session, tables.StationSoiling, station_id),
        quality_days=stationdata.QUALITY_DAYS,
        quality_labels=LABELS,
        bad_share=ctx.settings.analytics.bad_data_share,
        alerts=past,
        orders=order_actions.orders(
            session,
            order_actions.OrderFilter(station_id=station_id, limit=PAST_ALERTS),
            who.scope.order_filter(),
        ),
        late=lambda o: order_actions.late(o, ctx.now()),
        money=who.scope.sees_money(station_id),
        day_before=shown - dt.timedelta(days=1),
        day_after=shown + dt.timedelta(days=1) if shown < ctx.today() else None,
        revenue_30=_revenue(days),
    )


def _revenue(days: list[dict]) -> tuple[float, float] | None:
    """(grid, subsidy) yuan over the days shown, estimated from telemetry."""
    if not days:
        return None
    return (
        sum(d.get("grid_yuan") or 0.0 for d in days),
        sum(d.get("subsidy_yuan") or 0.0 for d in days),
    )


@router.get("/devices/{device_id}")
def device_page(
    device_id: DeviceId, request: Request, who: Viewer, ctx: Context, day: Day = None
) -> Response:
    view = ctx.view()
    station_id = view.station_of.get(device_id)
    if station_id is None or not who.scope.sees_station(station_id):
        return problem_page(request, who, 404, "not_found")
    lang = lang_of(request)
    shown = day or ctx.today()
    points = stationdata.device_curve(ctx, device_id, shown)
    chart = (
        formatting.lines(
            f"{text('power_curve', lang)} · {shown.isoformat()}",
            text("power_kw", lang),
            {device_id: [(t * 1000, v) for t, v in points]},
            tz_offset_s=_offset(ctx, shown),
        )
        if _has_values(points)
        else None
    )
    row = view.inverter_rows[device_id]
    (now,) = stationdata.inverters_now(ctx, station_id, [row])
    return render(
        request,
        "device.html",
        who,
        device=now,
        row=row,
        station_id=station_id,
        day=shown,
        day_before=shown - dt.timedelta(days=1),
        day_after=shown + dt.timedelta(days=1) if shown < ctx.today() else None,
        chart_spec=chart,
        events=stationdata.device_events(ctx, device_id),
    )


@router.get("/people/{person_id}")
def person_page(
    person_id: StationId, request: Request, who: Viewer, ctx: Context, session: Db
) -> Response:
    view = ctx.view()
    person = view.people.get(person_id)
    own = view.duties.get(person_id, frozenset())
    villages = sorted(view.village_duties.get(person_id, ()))
    if person is None or not who.scope.sees_person(person_id, own):
        return problem_page(request, who, 404, "not_found")
    report = queries.certification(ctx, ctx.today())
    requirement = next((r for r in report.requirements if r.person_id == person_id), None)
    certificates = [c for c in view.registry.certificates if c.person_id == person_id]
    listed = stations.stations(who, ctx, None, None, None, only=own)
    scoped = who.scope.alert_filter()
    concerning = actions.concerning(person_id, own)
    mine = actions.list_alerts(
        session,
        actions.AlertFilter(state="active", limit=100, order="severity"),
        concerning if scoped is None else and_(scoped, concerning),
    )
    return render(
        request,
        "person.html",
        who,
        person=person,
        requirement=requirement,
        certificates=certificates,
        stations=listed,
        villages=villages,
        alerts=mine,
    )
