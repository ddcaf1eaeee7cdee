"""Work orders: list, one with its history, open (by hand or from an alert), assign, and
the maintainer's steps — accept, arrive, note, done."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from api.deps import Caller, Context, Db, Who, forbidden, not_found
from api.models import (
    AssignOrder,
    NewWorkOrder,
    OrderStep,
    WorkOrderDetail,
    WorkOrderOut,
    WorkOrderStepOut,
)
from api.params import AlertId
from api.responses import problems
from maintenance import actions
from maintenance.workflow import InvalidStep, OrderKind, Step
from pvmon.db import tables
from pvmon.findings import Severity

router = APIRouter(prefix="/orders", tags=["work orders"])
OrderId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The order's number")]
WorkStep = Literal["accept", "arrive", "note", "done"]


def out(o: tables.WorkOrder) -> WorkOrderOut:
    return WorkOrderOut.model_validate(o, from_attributes=True)


def actor(who: Caller) -> str:
    return who.user.person_id or f"user:{who.user.username}"


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
def order(order_id: OrderId, who: Who, session: Db) -> WorkOrderDetail:
    o = _order(who, session, order_id)
    steps = [
        WorkOrderStepOut.model_validate(s, from_attributes=True)
        for s in actions.history(session, o.id)
    ]
    return WorkOrderDetail(**out(o).model_dump(), history=steps)


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
        actor=actor(who),
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
    o = actions.open_from_alert(session, ctx.settings, alert_id, actor(who), "api", ctx.now())
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
            session, ctx.settings, o.id, body.person_id, actor(who), "api", ctx.now()
        ),
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
            session, o.id, Step(step), actor(who), "api", ctx.now(), note=given.note, parts=parts
        ),
    )


def _commit(session: Db, change: Callable[[], tables.WorkOrder]) -> WorkOrderOut:
    try:
        o = change()
    except InvalidStep as exc:
        raise HTTPException(409, str(exc)) from None
    except actions.NotTheirs as exc:
        raise forbidden(str(exc)) from None
    except actions.AssignmentRefused as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return out(o)
