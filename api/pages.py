"""The dashboards, rendered on the server (Jinja2), Chinese first: the bureau's overview, a
maintainer's phone page and alert pages, a collective's revenue page and its printable
disclosure sheet (公示). Pages get their data from the same functions as the API, so the
same scopes apply."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from alerts import actions, messages
from api import assessment, formatting, money, queries, security
from api.assessment import MonthLosses
from api.deps import (
    SESSION_COOKIE,
    Caller,
    Context,
    Db,
    caller,
    caller_address,
    within_county,
    within_township,
)
from api.models import ComplianceOut, ForecastOut, VillageItem
from api.money import YearMoney
from api.params import AlertId, CountyFilter, TownshipId
from api.rendering import html_of
from api.routes import fleet, stations, villages
from api.routes.auth import start_session
from api.scope import Role
from api.state import ApiState
from maintenance import actions as order_actions
from pvmon.db import tables
from pvmon.db.together import one_row_each
from pvmon.domain import PersonRole
from pvmon.i18n import Lang, text

router = APIRouter(include_in_schema=False)
LANG_COOKIE = "pvmon_lang"
"""Remembers a page's ``?lang=`` choice."""
PROGRESS_TTL_S = 30.0
"""The filling-in banner follows the computed days within half a minute."""
HOME = {
    Role.BUREAU: "/overview",
    Role.SUPERVISOR: "/overview",
    Role.MAINTAINER: "/my",
    Role.COLLECTIVE: "/village",
}


class SignIn(Exception):
    """The page needs a signed-in user: go to the login page, then come back."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page_caller(request: Request, ctx: Context, session: Db) -> Caller:
    try:
        return caller(request, ctx, session, None)
    except HTTPException:
        raise SignIn(request.url.path) from None


Viewer = Annotated[Caller, Depends(page_caller)]


def lang_of(request: Request) -> Lang:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return "en" if chosen == "en" else "zh"


def render(request: Request, name: str, who: Caller | None, **data: Any) -> HTMLResponse:
    ctx: ApiState = request.app.state.context
    progress = _year_progress(request) if who is not None else None
    return html_response(request, html_of(ctx, name, lang_of(request), who, progress, **data))


def html_response(request: Request, html: str) -> HTMLResponse:
    """A page, remembering its ``?lang=`` choice."""
    response = HTMLResponse(html)
    if "lang" in request.query_params:
        response.set_cookie(LANG_COOKIE, lang_of(request), max_age=365 * 86400, samesite="lax")
    return response


def _year_progress(request: Request) -> queries.YearProgress:
    ctx: ApiState = request.app.state.context
    return ctx.cached("year_progress", lambda: queries.year_progress(ctx), PROGRESS_TTL_S)


def visible_townships(who: Caller, ctx: ApiState) -> list[tuple[str, str]]:
    """The townships a filter may offer the caller: (id, name) by id."""
    names = ctx.view().township_names
    return sorted((t, name) for t, name in names.items() if who.scope.sees_township(t))


def county_filter(
    who: Caller, ctx: ApiState, county: str | None
) -> tuple[Caller | None, list[tuple[str, str]]]:
    """A list page's county filter: the caller narrowed to ``county`` (None: a county they
    do not see), and the counties the filter offers them."""
    counties = visible_counties(who, ctx) if who.scope.reads_fleet else []
    if not county:
        return who, counties
    try:
        return within_county(who, county, ctx), counties
    except HTTPException:
        return None, counties


def visible_counties(who: Caller, ctx: ApiState) -> list[tuple[str, str]]:
    """The counties a filter may offer the caller: (id, name) in the registry's order, none
    unless they see townships of several."""
    registry = ctx.view().registry
    townships = registry.county_townships()
    seen = [
        (c.id, c.name)
        for c in registry.counties
        if any(who.scope.sees_township(t) for t in townships.get(c.id, ()))
    ]
    return seen if len(seen) > 1 else []


def problem_page(request: Request, who: Caller | None, status: int, key: str) -> HTMLResponse:
    """A page that says what went wrong, in the page's language, with its status code."""
    page = render(request, "message.html", who, message=text(key, lang_of(request)))
    page.status_code = status
    return page


@router.get("/")
def home(request: Request, ctx: Context, session: Db) -> Response:
    try:
        who = caller(request, ctx, session, None)
    except HTTPException:
        return RedirectResponse("/login", 303)
    return RedirectResponse(HOME[who.scope.role], 303)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", None, next=_local(next), failed=False)


def _local(url: str) -> str:
    """Only paths of this site: no open redirect through ``next``."""
    return url if url.startswith("/") and not url.startswith("//") else "/"


@router.post("/login")
def login_form(
    request: Request,
    ctx: Context,
    session: Db,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    address = caller_address(request)
    try:
        user = security.sign_in(session, username, password, address, ctx.now())
    except security.TooManyAttempts as exc:
        page = render(request, "login.html", None, next=_local(next), failed="too_many")
        page.status_code = 429
        page.headers["Retry-After"] = str(exc.wait_s)
        return page
    if user is None:
        page = render(request, "login.html", None, next=_local(next), failed="wrong")
        page.status_code = 401
        return page
    target = _local(next)
    if target == "/":
        target = HOME[Role(user.role)]
    response = RedirectResponse(target, 303)
    start_session(session, user, ctx, request, response)
    return response


@router.post("/logout")
def logout_form(request: Request, session: Db) -> Response:
    if cookie := request.cookies.get(SESSION_COOKIE):
        security.close_session(session, cookie)
        session.commit()
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/overview")
def overview(request: Request, who: Viewer, ctx: Context, session: Db) -> Response:
    """The bureau's county (a province's: its counties; a county's bureau: its county); a
    supervisor's home is their township's page."""
    if not who.scope.reads_fleet:
        return RedirectResponse(HOME[who.scope.role], 303)
    if who.scope.role == Role.SUPERVISOR:
        township = min(who.scope.townships or {""})
        return RedirectResponse(f"/townships/{quote(township)}", 303)
    return fleet_page(request, who, who, ctx, session, None)


@router.get("/townships/{township_id}")
def township_page(
    township_id: TownshipId, request: Request, who: Viewer, ctx: Context, session: Db
) -> Response:
    """One township as the overview shows the county, with its villages and supervisor."""
    try:
        inside = within_township(who, township_id, ctx)
    except HTTPException:
        return problem_page(request, who, 404, "not_found")
    return fleet_page(request, who, inside, ctx, session, township_id)


def fleet_page(
    request: Request,
    who: Caller,
    inside: Caller,
    ctx: ApiState,
    session: Session,
    township: str | None,
) -> HTMLResponse:
    """The overview of the county (township None) or of one township: ``inside`` is the
    caller narrowed to what the page covers, ``who`` the caller as signed in. Its figures
    are asked on every request; the page made from them is kept while they stay (at a
    province's size, its alert list, charts and rendering were most of a request's work)."""
    (open_count, *alerts_changed), orders, books = one_row_each(
        session,
        fleet.open_alerts_changes_query(inside),
        order_actions.open_and_late_query(ctx.now(), inside.scope.order_filter()),
        money.books_version_query(),
    )
    covered = inside.scope.townships  # what the figures kept below are of
    today = ctx.today()
    month = today.strftime("%Y-%m")
    figures = FleetFigures(
        summary=fleet.summary_parts(inside, ctx, lambda: open_count),
        target=fleet.targets(inside, ctx, None),
        compliance=fleet.certification(inside, ctx, None),
        orders=tuple(orders),
        alerts_changed=tuple(alerts_changed),
        month_lost=ctx.cached(
            ("month_lost", covered, month),
            lambda: assessment.month_losses(session, ctx, inside, month),
        ),
        year_money=ctx.cached(
            ("year_money", covered, today),
            lambda: money.year_money(ctx, session, inside),
            money.BOOKS_TTL_S,
            version=books,
        ),
        villages=None if township is None else villages.villages(inside, ctx, session, None),
        progress=_year_progress(request),
        view=ctx.view().serial,
    )
    lang = lang_of(request)
    html = ctx.cached(
        ("fleet_page", who.user.id, who.scope, inside.scope, township, lang),
        lambda: html_of(
            ctx,
            "overview.html",
            lang,
            who,
            figures.progress,
            **_fleet_page_data(figures, who, inside, ctx, session, township, lang),
        ),
        version=figures,
    )
    return html_response(request, html)


@dataclass(frozen=True, eq=False)
class FleetFigures:
    """What an overview page shows, as asked for one request: the page is made again
    when any of it differs."""

    summary: fleet.SummaryParts
    target: ForecastOut
    compliance: ComplianceOut
    orders: tuple[int, ...]
    alerts_changed: tuple[object, ...]
    """When the open alerts last changed and their ids' sum (their count is the summary's)."""
    month_lost: MonthLosses
    year_money: YearMoney
    villages: list[VillageItem] | None
    progress: queries.YearProgress
    view: int

    KEPT = ("compliance", "month_lost", "year_money", "progress")
    """Figures kept in the process: the same while they are the same objects (a loss
    report holds data frames, which do not compare as one value)."""

    __hash__ = None  # type: ignore[assignment]  # compared, never a key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FleetFigures):
            return NotImplemented
        return all(getattr(self, f) is getattr(other, f) for f in self.KEPT) and (
            self.asked() == other.asked()
        )

    def asked(self) -> tuple[object, ...]:
        """The figures asked for the request, compared by value: all but the kept ones."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name not in self.KEPT)


def _fleet_page_data(
    figures: FleetFigures,
    who: Caller,
    inside: Caller,
    ctx: ApiState,
    session: Session,
    township: str | None,
    lang: Lang,
) -> dict[str, Any]:
    """The overview template's data from ``figures``, with the open alerts' first page."""
    summary = fleet.summary_of(figures.summary)
    charts = overview_charts(summary, figures.target, lang, township)
    if figures.villages is None:
        extra: dict[str, Any] = {"places": places(ctx, who, inside.scope.townships, summary, lang)}
    else:
        charts["villages"] = village_income_chart(figures.villages, lang)
        extra = {
            "villages": figures.villages,
            "supervisors": sorted(
                p.id
                for p in ctx.view().people.values()
                if p.role == PersonRole.SUPERVISOR and p.township_id == township
            ),
            "share": summary.year.by_segment.get("village", 0.0) / figures.target.target_kwh
            if figures.target.target_kwh
            else None,
        }
    lost = figures.month_lost.stations.values()
    return {
        "township": township,
        "summary": summary,
        "target": figures.target,
        "compliance": figures.compliance,
        "charts": charts,
        "alerts": actions.list_alerts(
            session,
            actions.AlertFilter(state="active", limit=20, order="severity"),
            inside.scope.alert_filter(),
        ),
        "orders": figures.orders,
        "lost_kwh": sum(s.kwh for s in lost),
        "lost_yuan": sum(s.yuan for s in lost),
        "year_money": figures.year_money,
        **extra,
    }


def places(ctx: ApiState, who: Caller, covered: Any, summary: Any, lang: Lang) -> Markup:
    """The overview's tables of counties and townships, rendered once per caller's scope
    and language while the summary's figures stay: a province's 700 townships' rows were
    four fifths of the page's time (py-spy, 20 clients)."""
    key = ("places", who.scope.townships, covered, lang)
    return ctx.cached(
        key,
        lambda: Markup(html_of(ctx, "places.html", lang, who, s=summary)),
        version=summary.as_of,
    )


def village_income_chart(listed: list[Any], lang: Lang) -> dict[str, Any] | None:
    """A township's villages by the collective's distributable income this year."""
    if not any(v.year_net_yuan for v in listed):
        return None
    return formatting.bars(
        f"{text('villages', lang)} · {text('distributable', lang)} · {text('year_so_far', lang)}",
        text("yuan", lang),
        [v.name for v in listed],
        {text("distributable", lang): [round(v.year_net_yuan or 0) for v in listed]},
        horizontal=True,
    )


def overview_charts(summary: Any, target: Any, lang: Lang, township: str | None) -> dict[str, Any]:
    """The overview's charts: the target as two charts (energy, money: never one axis),
    the year by segment and by township, the map (fetched by the page; one township's
    on its page)."""
    labels = [text(k, lang) for k in ("actual", "forecast", "target")]
    year = text("year_so_far", lang)
    segment = text("village", lang)
    if township is not None:  # the target is the county's: say so on a township's page
        segment, year = text("county_village", lang), text("year", lang)
    has_year = summary.year.energy_kwh > 0
    # a province's bureau compares its counties (their townships' names repeat)
    several = len(summary.counties) > 1
    level, places = ("counties", summary.counties) if several else ("townships", summary.townships)
    return {
        "target_energy": formatting.bars(
            f"{segment} · {text('generation', lang)} · {year}",
            text("wan_kwh", lang),
            labels,
            {
                text("generation", lang): [
                    formatting.in_wan(v)
                    for v in (target.actual_kwh, target.forecast_kwh, target.target_kwh or 0)
                ]
            },
        ),
        "target_revenue": formatting.bars(
            f"{segment} · {text('revenue', lang)} · {year}",
            text("wan_yuan", lang),
            labels,
            {
                text("revenue", lang): [
                    formatting.in_wan(v)
                    for v in (target.actual_yuan, target.forecast_yuan, target.target_yuan)
                ]
            },
        ),
        "segments": formatting.pie(
            f"{text('segments', lang)} · {text('generation', lang)} · {year}",
            text("wan_kwh", lang),
            [
                (text(k, lang), formatting.in_wan(v))
                for k, v in summary.year.by_segment.items()
                if v
            ],
        )
        if has_year
        else None,
        "townships": formatting.bars(
            f"{text(level, lang)} · {text('generation', lang)} · {year}",
            text("wan_kwh", lang),
            [r.name for r in places],
            {text("generation", lang): [formatting.in_wan(r.year_kwh) for r in places]},
            horizontal=True,
        )
        if has_year and township is None
        else None,
        "map": formatting.station_map(
            text("map", lang),
            "/api/v1/fleet/map" + (f"?township={quote(township)}" if township else ""),
            {s: text(f"state_{s}", lang) for s in queries.STATE_ORDER},
            text("map_share_not_ok", lang),
        ),
    }


@router.get("/my")
def my_page(request: Request, who: Viewer, ctx: Context, session: Db) -> HTMLResponse:
    listed = stations.stations(who, ctx, None, None, None)
    mine = actions.list_alerts(
        session,
        actions.AlertFilter(state="active", limit=100, order="severity"),
        who.scope.alert_filter(),
    )
    households = [
        h
        for village in sorted(who.scope.villages or ())
        for h in villages.households(village, who, ctx)
    ]
    now = ctx.now()
    return render(
        request,
        "my.html",
        who,
        orders=order_actions.orders(
            session,
            order_actions.OrderFilter(state="open", assignee=who.user.person_id or "-"),
            who.scope.order_filter(),
        ),
        late=lambda o: order_actions.late(o, now),
        households=households,
        stations=sorted(listed, key=lambda s: (s.state == "ok", s.id)),
        alerts=mine,
    )


@router.get("/a/{alert_id}")
def alert_page(
    alert_id: AlertId, request: Request, who: Viewer, session: Db, ctx: Context
) -> Response:
    alert = session.get(tables.Alert, alert_id)
    if alert is None or not who.scope.sees_alert(alert):
        return problem_page(request, who, 404, "not_found")
    names = queries.place_names(ctx)
    lang = lang_of(request)
    return render(
        request,
        "alert.html",
        who,
        alert=alert,
        history=[
            (e.at, messages.history_line(e.action, e.actor, e.channel, e.detail, lang, names))
            for e in actions.history(session, alert.id)
        ],
        may_act=who.scope.acts_on_alert(alert),
        order=order_actions.for_alert(session, alert.id) if alert.station_id else None,
        may_order=alert.station_id is not None and who.scope.runs_orders(alert.station_id),
    )


@router.post("/a/{alert_id}/{how}")
def alert_action(
    alert_id: AlertId,
    how: str,
    who: Viewer,
    ctx: Context,
    session: Db,
    note: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    alert = session.get(tables.Alert, alert_id)
    if alert is None or not who.scope.sees_alert(alert) or how not in ("ack", "resolve"):
        raise HTTPException(404, "alert not found")
    if not who.scope.acts_on_alert(alert):
        raise HTTPException(403, "this alert is the bureau's to act on")
    change = actions.acknowledge if how == "ack" else actions.resolve_by_hand
    actor = who.actor
    # Acted on already (a second tap, or a colleague): the page then shows the state.
    with contextlib.suppress(actions.InvalidTransition):
        change(session, alert_id, actor, "web", ctx.now(), note or None)
    session.commit()
    return RedirectResponse(f"/a/{alert_id}", 303)


@router.get("/village")
def own_village(who: Viewer) -> Response:
    if who.scope.role != Role.COLLECTIVE or not who.user.village_id:
        return RedirectResponse("/villages", 303)
    return RedirectResponse(f"/villages/{quote(who.user.village_id)}", 303)


@router.get("/villages")
def village_list(
    request: Request, who: Viewer, ctx: Context, session: Db, county: CountyFilter = None
) -> HTMLResponse:
    """The caller's villages with their income, a province's one county at a time."""
    narrowed, counties = county_filter(who, ctx, county)
    if narrowed is None:
        return problem_page(request, who, 404, "not_found")
    listed = villages.villages(narrowed, ctx, session, None)
    return render(request, "villages.html", who, villages=listed, counties=counties, county=county)
