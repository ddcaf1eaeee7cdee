"""Work orders on a page, for the maintainer's phone first: my orders, one order with its
steps as big buttons (accept, arrive, note, photos, parts, done), and for the bureau and
the township's supervisor the open and late orders and the assignment.

Plain forms and redirects, no script: each step is one small POST that works on a weak
connection, and a step sent twice (a retry) leaves the order as the first one did. A step
that cannot be taken shows the order again with the reason, in the page's language."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api import assessment
from api.alertpages import Page
from api.deps import Caller, Context, Db
from api.pages import Viewer, lang_of, problem_page, render
from api.params import AlertId
from api.routes import assessment as routes_assessment
from api.routes.assessment import MONTH_PATTERN
from api.routes.orders import OrderId, commit_photo, photo_response, photo_status
from api.state import ApiState
from maintenance import actions, photos
from maintenance.replacement import Replacement, ReplacementRefused, replace_inverter
from maintenance.workflow import FROM, InvalidStep, OrderState, Step
from pvmon.certification import crew_of, why_not_maintainer
from pvmon.db import tables
from pvmon.i18n import Lang, text

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
PART_ROWS = 3
"""Empty rows for parts on the done form (more parts: a second done note is not needed —
the form comes back with the rows filled)."""
PageStep = Literal["accept", "arrive", "note", "done"]
Listed = Literal["open", "late", "done", "verified", "all"]


@router.get("/orders")
def order_list(
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
    state: Listed = "open",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """A maintainer's own orders; the bureau's and a supervisor's every order they see."""
    if who.scope.role == "collective":
        return problem_page(request, who, 404, "not_found")
    mine = who.scope.role == "maintainer"
    now = ctx.now()
    f = actions.OrderFilter(
        state={"all": None, "late": "open"}.get(state, state),
        assignee=(who.user.person_id or "-") if mine else None,
        late_at=now if state == "late" else None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    where = who.scope.order_filter()
    total = actions.count(session, f, where)

    def url(number: int) -> str:
        return "/orders?" + urlencode({"state": state, "page": number})

    return render(
        request,
        "orders.html",
        who,
        orders=actions.orders(session, f, where),
        late=lambda o: actions.late(o, now),
        chosen=state,
        mine=mine,
        page=Page(page, max(1, -(-total // PAGE_SIZE)), total),
        url=url,
    )


@router.get("/orders/{order_id}")
def order_page(
    order_id: OrderId, request: Request, who: Viewer, session: Db, ctx: Context
) -> Response:
    order = _seen(session, who, order_id)
    if order is None:
        return problem_page(request, who, 404, "not_found")
    return _show(request, who, session, ctx, order)


def _seen(session: Session, who: Caller, order_id: int) -> tables.WorkOrder | None:
    order = session.get(tables.WorkOrder, order_id)
    return order if order is not None and who.scope.sees_order(order) else None


def _show(
    request: Request,
    who: Caller,
    session: Session,
    ctx: ApiState,
    order: tables.WorkOrder,
    problem: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    me = who.actor
    state = OrderState(order.state)
    page = render(
        request,
        "order.html",
        who,
        order=order,
        late=actions.late(order, ctx.now()),
        history=actions.history(session, order.id),
        figures=assessment.figures_of(session, ctx, [order])[0],
        photos=photos.photos(session, order.id),
        steps=[s for s in (Step.ACCEPT, Step.ARRIVE, Step.DONE) if _may(order, s, me)],
        may_note=state in FROM[Step.NOTE],
        may_photo=_may(order, Step.PHOTO, me),
        replaceable=(
            ctx.view().station_inverters(order.station_id, ctx.today())
            if _may(order, Step.REPLACE, me)
            else []
        ),
        now_local=ctx.now().astimezone(ctx.tz).strftime("%Y-%m-%dT%H:%M"),
        crew=_crew(who, ctx, order, lang_of(request)),
        part_rows=PART_ROWS,
        photo_max_mb=round(ctx.settings.maintenance.photo_max_bytes / 1e6),
        problem=problem,
    )
    page.status_code = status
    return page


def _may(order: tables.WorkOrder, step: Step, me: str) -> bool:
    try:
        actions.may_take(order, step, me)
    except (InvalidStep, actions.NotTheirs):
        return False
    return True


def _crew(
    who: Caller, ctx: ApiState, order: tables.WorkOrder, lang: Lang
) -> list[tuple[str, str | None]]:
    """Whom the caller may assign the order to: the station's responsible maintainers, each
    with the reason they may not take it (None: they may). Empty when the caller does not
    assign orders or the order is past assigning."""
    if (
        not who.scope.runs_orders(order.station_id)
        or OrderState(order.state) not in FROM[Step.ASSIGN]
    ):
        return []
    registry, required = ctx.view().registry, ctx.settings.registry.required_cert
    day = ctx.today()
    crew = []
    for person in sorted(crew_of(registry, order.station_id)):
        why = why_not_maintainer(registry, order.station_id, person, day, required)
        crew.append((person, None if why is None else why.say(lang)))
    return crew


@router.post("/orders/{order_id}/assign")
def assign_form(
    order_id: OrderId,
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
    person_id: Annotated[str, Form(max_length=32)],
) -> Response:
    order = _seen(session, who, order_id)
    if order is None:
        return problem_page(request, who, 404, "not_found")
    if not who.scope.runs_orders(order.station_id):
        return problem_page(request, who, 403, "order.not_yours_to_assign")
    try:
        actions.assign(session, ctx.settings, order.id, person_id, who.actor, "web", ctx.now())
    except actions.AssignmentRefused as exc:
        session.rollback()
        return _show(request, who, session, ctx, order, exc.refusal.say(lang_of(request)), 422)
    except InvalidStep:
        session.rollback()
    session.commit()
    return RedirectResponse(f"/orders/{order.id}", 303)


@router.post("/orders/{order_id}/photos")
def photo_form(
    order_id: OrderId,
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
    photo: Annotated[UploadFile, File()],
) -> Response:
    order = _seen(session, who, order_id)
    if order is None:
        return problem_page(request, who, 404, "not_found")
    data = photo.file.read(ctx.settings.maintenance.photo_max_bytes + 1)
    try:
        saved = photos.attach(
            session,
            ctx.settings,
            order.id,
            data,
            photo.filename or "",
            who.actor,
            "web",
            ctx.now(),
        )
    except photos.PhotoRefused as exc:
        session.rollback()
        words = text(exc.key, lang_of(request), **exc.values)
        return _show(request, who, session, ctx, order, words, photo_status(exc))
    except (InvalidStep, actions.NotTheirs):
        session.rollback()
        return _show(
            request, who, session, ctx, order, text("order.photo_not_now", lang_of(request)), 409
        )
    commit_photo(session, ctx.settings, saved)
    return RedirectResponse(f"/orders/{order.id}#photos", 303)


@router.post("/orders/{order_id}/replacement")
def replacement_form(
    order_id: OrderId,
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
    old: Annotated[str, Form(max_length=32)],
    new: Annotated[str, Form(max_length=64)],
    at: Annotated[str, Form(max_length=32)],
    model: Annotated[str | None, Form(max_length=128)] = None,
    rated_kw: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    """The order's maintainer records the inverter replaced on site (the time as the page
    shows it: the county's local time)."""
    order = _seen(session, who, order_id)
    if order is None:
        return problem_page(request, who, 404, "not_found")
    lang = lang_of(request)
    try:
        change = Replacement(
            old=old.strip(),
            new=new.strip(),
            at=_local_time(at, ctx),
            model=(model or "").strip() or None,
            rated_ac_w=_kw(rated_kw),
        )
        replace_inverter(session, ctx.settings, order.id, change, who.actor, "web", ctx.now())
    except ReplacementRefused as exc:
        session.rollback()
        return _show(request, who, session, ctx, order, text(exc.key, lang, **exc.values), 422)
    except (InvalidStep, actions.NotTheirs):
        session.rollback()
        return _show(request, who, session, ctx, order, text("order.replace_not_now", lang), 409)
    session.commit()
    ctx.forget()
    return RedirectResponse(f"/orders/{order.id}", 303)


def _local_time(value: str, ctx: ApiState) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ReplacementRefused("replace.bad_time", value=value[:32]) from None
    return moment.replace(tzinfo=ctx.tz) if moment.tzinfo is None else moment


def _kw(value: str | None) -> float | None:
    """A rating in kW as typed (blank: the old inverter's) → W."""
    typed = (value or "").strip()
    if not typed:
        return None
    with contextlib.suppress(ValueError):
        kw = float(typed)
        if 0 < kw <= 10_000:
            return kw * 1000
    raise ReplacementRefused("replace.bad_rating", value=typed[:20])


@router.get("/orders/{order_id}/photos/{photo_id}")
def photo_file(
    order_id: OrderId,
    photo_id: OrderId,
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
    thumb: bool = False,
) -> Response:
    order = _seen(session, who, order_id)
    found = (
        None if order is None else photos.file_of(session, ctx.settings, order.id, photo_id, thumb)
    )
    if found is None:
        return problem_page(request, who, 404, "not_found")
    return photo_response(*found)


@router.post("/orders/{order_id}/{step}")
def step_form(
    order_id: OrderId,
    step: PageStep,
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
    note: Annotated[str | None, Form(max_length=2000)] = None,
    part_name: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 (FastAPI copies it)
    part_qty: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
) -> Response:
    order = _seen(session, who, order_id)
    if order is None:
        return problem_page(request, who, 404, "not_found")
    parts = _parts(part_name, part_qty)
    if parts is None:
        return _show(
            request, who, session, ctx, order, text("order.bad_parts", lang_of(request)), 422
        )
    try:
        actions.work(
            session,
            order.id,
            Step(step),
            who.actor,
            "web",
            ctx.now(),
            note=note or None,
            parts=parts,
        )
    except actions.NotTheirs:
        session.rollback()
        return _show(
            request, who, session, ctx, order, text("order.not_yours", lang_of(request)), 403
        )
    except InvalidStep:
        # Taken already (a second tap or a retry): the page shows where the order is.
        session.rollback()
        return RedirectResponse(f"/orders/{order.id}", 303)
    session.commit()
    return RedirectResponse(f"/orders/{order.id}", 303)


def _parts(names: list[str], quantities: list[str]) -> list[actions.Part] | None:
    """The parts rows filled in (a row with neither name nor quantity is left out); None
    when a row has one without the other or a quantity that is not a positive number."""
    if len(names) != len(quantities):
        return None
    parts = []
    for row in zip(names, quantities, strict=True):
        name, qty = (v.strip() for v in row)
        if not name and not qty:
            continue
        with contextlib.suppress(ValueError):
            amount = float(qty)
            if name and 0 < amount <= 10_000:
                parts.append(actions.Part(name, amount))
                continue
        return None
    return parts


@router.get("/assessment")
def assessment_page(
    request: Request,
    who: Viewer,
    session: Db,
    ctx: Context,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN)] = None,
) -> Response:
    """The bureau's monthly assessment of the maintainers, and where the month's energy was
    lost."""
    if not who.scope.reads_fleet:
        return problem_page(request, who, 404, "not_found")
    chosen = month or ctx.today().strftime("%Y-%m")
    losses = routes_assessment.month_losses(chosen, who, ctx, session)
    by_township: dict[str, list[float]] = {}
    for row in losses.stations:
        kwh_yuan = by_township.setdefault(row.township_id, [0.0, 0.0])
        kwh_yuan[0] += row.loss.kwh
        kwh_yuan[1] += row.loss.yuan
    return render(
        request,
        "assessment.html",
        who,
        month=chosen,
        rows=routes_assessment.maintainers_month(chosen, who, ctx, session),
        losses=losses,
        worst=sorted(losses.stations, key=lambda r: -r.loss.kwh)[:20],
        by_township=sorted(by_township.items(), key=lambda kv: -kv[1][0]),
    )


@router.post("/a/{alert_id}/order")
def order_from_alert(
    alert_id: AlertId, request: Request, who: Viewer, session: Db, ctx: Context
) -> Response:
    """The one action that turns an alert about a station into its work order."""
    alert = session.get(tables.Alert, alert_id)
    if alert is None or alert.station_id is None or not who.scope.sees_alert(alert):
        return problem_page(request, who, 404, "not_found")
    if not who.scope.runs_orders(alert.station_id):
        return problem_page(request, who, 403, "order.not_yours_to_assign")
    order = actions.open_from_alert(session, ctx.settings, alert.id, who.actor, "web", ctx.now())
    session.commit()
    return RedirectResponse(f"/orders/{order.id}", 303)
