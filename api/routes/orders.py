"""Work orders: list, one with its history, open (by hand or from an alert), assign, and
the maintainer's steps — accept, arrive, note, photos, an inverter replaced, done."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path as PathLike
from typing import Annotated, Literal

from fastapi import APIRouter, File, HTTPException, Path, Query, UploadFile
from fastapi.responses import FileResponse

from api import assessment
from api.deps import Caller, Context, Db, Who, forbidden, not_found
from api.models import (
    AssignOrder,
    CleaningEffectOut,
    InverterReplacement,
    LossOut,
    NewWorkOrder,
    OrderFiguresOut,
    OrderStep,
    PhotoOut,
    WorkOrderDetail,
    WorkOrderOut,
    WorkOrderStepOut,
)
from api.params import AlertId
from api.responses import problems
from api.state import ApiState
from maintenance import actions, photos
from maintenance.replacement import Replacement, ReplacementRefused, replace_inverter
from maintenance.workflow import InvalidStep, Step
from pvmon.db import tables
from pvmon.db.tables.maintenance import OrderKind
from pvmon.findings import Severity
from pvmon.i18n import text
from pvmon.settings import Settings

router = APIRouter(prefix="/orders", tags=["work orders"])
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The order's number")]
WorkStep = Literal["accept", "arrive", "note", "done"]


def out(o: tables.WorkOrder) -> WorkOrderOut:
    return WorkOrderOut.model_validate(o, from_attributes=True)


@router.get("", response_model=list[WorkOrderOut], summary="Work orders, newest first")
def list_orders(
    who: Who,
    session: Db,
    state: Literal["open", "created", "assigned", "accepted", "on_site", "done", "verified"]
    | None = "open",
    station_id: str | None = Query(None, max_length=16),
    mine: bool = False,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list[WorkOrderOut]:
    """The orders of the stations the caller may see; ``mine``: those assigned to the
    caller."""
    if who.scope.role == "collective":
        raise forbidden()
    f = actions.OrderFilter(
        state=state,
        station_id=station_id,
        assignee=(who.user.person_id or "-") if mine else None,
        limit=limit,
        offset=offset,
    )
    return [out(o) for o in actions.orders(session, f, who.scope.order_filter())]


def _order(who: Caller, session: Db, order_id: int) -> tables.WorkOrder:
    try:
        order = actions.get(session, order_id)
    except actions.OrderNotFound:
        raise not_found("work order") from None
    if not who.scope.sees_order(order):
        raise not_found("work order")
    return order


@router.get(
    "/{order_id}",
    response_model=WorkOrderDetail,
    summary="One order, with its history",
    responses=problems(404),
)
def order(order_id: OrderId, who: Who, ctx: Context, session: Db) -> WorkOrderDetail:
    o = _order(who, session, order_id)
    steps = [
        WorkOrderStepOut.model_validate(s, from_attributes=True)
        for s in actions.history(session, o.id)
    ]
    shots = [PhotoOut.model_validate(p, from_attributes=True) for p in photos.photos(session, o.id)]
    return WorkOrderDetail(
        **out(o).model_dump(), history=steps, photos=shots, figures=figures_out(session, ctx, o)
    )


def figures_out(session: Db, ctx: ApiState, o: tables.WorkOrder) -> OrderFiguresOut:
    (f,) = assessment.figures_of(session, ctx, [o])
    loss = LossOut(**vars(f.loss)) if f.loss else None
    return OrderFiguresOut(
        hours_to_accept=f.hours_to_accept,
        hours_to_arrive=f.hours_to_arrive,
        hours_to_repair=f.hours_to_repair,
        on_time=f.on_time,
        loss=loss,
        cleaning=CleaningEffectOut(**vars(f.cleaning)) if f.cleaning else None,
    )


@router.post(
    "",
    response_model=WorkOrderOut,
    status_code=201,
    summary="Open an order by hand",
    responses=problems(403, 404),
)
def open_order(body: NewWorkOrder, who: Who, ctx: Context, session: Db) -> WorkOrderOut:
    if body.station_id not in ctx.view().stations or not who.scope.sees_station(body.station_id):
        raise not_found("station")
    if not who.scope.runs_orders(body.station_id):
        raise forbidden("orders are opened by the bureau and the township's supervisor")
    o = actions.open_order(
        session,
        ctx.settings,
        station_id=body.station_id,
        kind=OrderKind(body.kind),
        severity=Severity(body.severity),
        title=body.title,
        actor=who.actor,
        channel="api",
        now=ctx.now(),
    )
    session.commit()
    return out(o)


@router.post(
    "/from-alert/{alert_id}",
    response_model=WorkOrderOut,
    summary="The order for an alert",
    responses=problems(404),
)
def from_alert(alert_id: AlertId, who: Who, ctx: Context, session: Db) -> WorkOrderOut:
    """Opens it if the alert has none yet (critical alerts get theirs by themselves)."""
    alert = session.get(tables.Alert, alert_id)
    if alert is None or alert.station_id is None or not who.scope.acts_on_alert(alert):
        raise not_found("alert about a station")
    o = actions.open_from_alert(session, ctx.settings, alert_id, who.actor, "api", ctx.now())
    session.commit()
    return out(o)


@router.post(
    "/{order_id}/assign",
    response_model=WorkOrderOut,
    summary="Assign to a maintainer",
    responses=problems(403, 404, 409, 422),
)
def assign(
    order_id: OrderId, body: AssignOrder, who: Who, ctx: Context, session: Db
) -> WorkOrderOut:
    """Only to a responsible maintainer of the station holding a valid certificate of the
    type it requires (422 says why not)."""
    o = _order(who, session, order_id)
    if not who.scope.runs_orders(o.station_id):
        raise forbidden("orders are assigned by the bureau and the township's supervisor")
    return _commit(
        session,
        lambda: actions.assign(
            session, ctx.settings, o.id, body.person_id, who.actor, "api", ctx.now()
        ),
    )


@router.post(
    "/{order_id}/photos",
    response_model=PhotoOut,
    status_code=201,
    summary="Add a photo of the work",
    responses=problems(403, 404, 409, 413, 415),
)
def add_photo(
    order_id: OrderId, photo: Annotated[UploadFile, File()], who: Who, ctx: Context, session: Db
) -> PhotoOut:
    """JPEG, PNG or WebP (read from the file itself), within the size limit; the same photo
    sent again is the one already stored (200 would hide nothing: it answers 201 with it)."""
    o = _order(who, session, order_id)
    data = photo.file.read(ctx.settings.maintenance.photo_max_bytes + 1)
    try:
        saved = photos.attach(
            session, ctx.settings, o.id, data, photo.filename or "", who.actor, "api", ctx.now()
        )
    except photos.PhotoRefused as exc:
        raise HTTPException(photo_status(exc), text(exc.key, "en", **exc.values)) from None
    except InvalidStep as exc:
        raise HTTPException(409, str(exc)) from None
    except actions.NotTheirs as exc:
        raise forbidden(str(exc)) from None
    commit_photo(session, ctx.settings, saved)
    return PhotoOut.model_validate(saved, from_attributes=True)


@router.get(
    "/{order_id}/photos/{photo_id}",
    response_class=FileResponse,
    summary="A photo, or its thumbnail",
    responses={200: {"content": {m: {} for m in photos.SUFFIXES}}, **problems(404)},
)
def photo_file(
    order_id: OrderId, photo_id: OrderId, who: Who, ctx: Context, session: Db, thumb: bool = False
) -> FileResponse:
    o = _order(who, session, order_id)
    found = photos.file_of(session, ctx.settings, o.id, photo_id, thumb)
    if found is None:
        raise not_found("photo")
    return photo_response(*found)


def photo_status(exc: photos.PhotoRefused) -> int:
    """413 for a file too large, 409 for one photo too many, 415 for what is not an image
    we take."""
    return {"photo.too_large": 413, "photo.too_many": 409}.get(exc.key, 415)


def commit_photo(session: Db, settings: Settings, saved: tables.WorkOrderPhoto) -> None:
    """Commit the photo's row; its files go if the row does not make it."""
    try:
        session.commit()
    except Exception:
        photos.discard(settings, saved)
        raise


def photo_response(path: PathLike, media_type: str) -> FileResponse:
    """Photos never change once stored: the browser may keep them."""
    return FileResponse(
        path,
        media_type=media_type,
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


@router.post(
    "/{order_id}/replacement",
    response_model=WorkOrderOut,
    summary="Record an inverter replaced on site",
    responses=problems(403, 404, 409, 422),
)
def replacement(
    order_id: OrderId, body: InverterReplacement, who: Who, ctx: Context, session: Db
) -> WorkOrderOut:
    """The order's maintainer, on site: the old serial retires on the day of the change,
    the new one is in service from it, and readings the new inverter sent before are
    stored (422 says why a replacement cannot be recorded)."""
    o = _order(who, session, order_id)
    change = replacement_of(body, ctx.now())
    done = _commit(
        session,
        lambda: replace_inverter(session, ctx.settings, o.id, change, who.actor, "api", ctx.now()),
    )
    ctx.forget()
    return done


def replacement_of(body: InverterReplacement, now: dt.datetime) -> Replacement:
    return Replacement(
        old=body.old,
        new=body.new,
        at=body.at or now,
        model=body.model,
        rated_ac_w=body.rated_ac_w,
        wh_scale_exp=body.wh_scale_exp,
        cloud_id=body.cloud_id,
    )


@router.post(
    "/{order_id}/{step}",
    response_model=WorkOrderOut,
    summary="The maintainer's step",
    responses=problems(403, 404, 409),
)
def work(
    order_id: OrderId,
    step: WorkStep,
    who: Who,
    ctx: Context,
    session: Db,
    body: OrderStep | None = None,
) -> WorkOrderOut:
    """accept, arrive (on site now), note, done (with the parts used): the order's
    maintainer's; a note anyone who sees the order may add."""
    o = _order(who, session, order_id)
    given = body or OrderStep()
    parts = [actions.Part(p.name, p.quantity) for p in given.parts]
    return _commit(
        session,
        lambda: actions.work(
            session, o.id, Step(step), who.actor, "api", ctx.now(), note=given.note, parts=parts
        ),
    )


def _commit(session: Db, change: Callable[[], tables.WorkOrder]) -> WorkOrderOut:
    try:
        o = change()
    except InvalidStep as exc:
        raise HTTPException(409, str(exc)) from None
    except actions.NotTheirs as exc:
        raise forbidden(str(exc)) from None
    except (actions.AssignmentRefused, ReplacementRefused) as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return out(o)
