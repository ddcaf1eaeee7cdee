"""Alerts: list and filter, one with its history and deliveries, acknowledge, resolve."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query

from alerts import actions
from api.deps import Context, Db, Who, forbidden, not_found
from api.models import AlertAction, AlertDetail, AlertEventOut, AlertOut, DeliveryOut
from api.params import AlertId
from api.responses import problems
from pvmon.db import tables

router = APIRouter(prefix="/alerts", tags=["alerts"])


def out(a: tables.Alert) -> AlertOut:
    return AlertOut.model_validate(a, from_attributes=True)


@router.get("", response_model=list[AlertOut], summary="Alerts, newest first")
def list_alerts(
    who: Who,
    session: Db,
    state: Literal["open", "acknowledged", "resolved", "active"] | None = "active",
    rule: str | None = Query(None, max_length=32),
    station_id: str | None = Query(None, max_length=16),
    severity: Literal["info", "warning", "critical"] | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> list[AlertOut]:
    """The alerts the caller may see (a collective sees none)."""
    if who.scope.role == "collective":
        raise forbidden()
    f = actions.AlertFilter(
        state=state, rule=rule, station_id=station_id, severity=severity, limit=limit, offset=offset
    )
    return [out(a) for a in actions.list_alerts(session, f, who.scope.alert_filter())]


def _alert(who: Who, session: Db, alert_id: int) -> tables.Alert:
    a = session.get(tables.Alert, alert_id)
    if a is None or not who.scope.sees_alert(a):
        raise not_found("alert")
    return a


@router.get(
    "/{alert_id}",
    response_model=AlertDetail,
    summary="One alert, with its history",
    responses=problems(404),
)
def alert(alert_id: AlertId, who: Who, session: Db) -> AlertDetail:
    a = _alert(who, session, alert_id)
    return AlertDetail(
        **out(a).model_dump(),
        history=[
            AlertEventOut.model_validate(e, from_attributes=True)
            for e in actions.history(session, a.id)
        ],
        deliveries=[
            DeliveryOut.model_validate(d, from_attributes=True)
            for d in actions.deliveries(session, a.id)
        ],
    )


def _act(
    alert_id: int, who: Who, ctx: Context, session: Db, body: AlertAction | None, how: str
) -> AlertOut:
    a = _alert(who, session, alert_id)
    if not who.scope.acts_on_alert(a):
        raise forbidden("this alert is the bureau's to act on")
    actor = who.actor
    change = actions.acknowledge if how == "ack" else actions.resolve_by_hand
    try:
        changed = change(session, a.id, actor, "api", ctx.now(), body.note if body else None)
    except actions.InvalidTransition as exc:
        raise HTTPException(409, str(exc)) from None
    session.commit()
    return out(changed)


@router.post(
    "/{alert_id}/ack",
    response_model=AlertOut,
    summary="Acknowledge: I am on it",
    responses=problems(404, 409),
)
def acknowledge(
    alert_id: AlertId, who: Who, ctx: Context, session: Db, body: AlertAction | None = None
) -> AlertOut:
    return _act(alert_id, who, ctx, session, body, "ack")


@router.post(
    "/{alert_id}/resolve",
    response_model=AlertOut,
    summary="Resolve by hand",
    responses=problems(404, 409),
)
def resolve(
    alert_id: AlertId, who: Who, ctx: Context, session: Db, body: AlertAction | None = None
) -> AlertOut:
    """Fixed. If the condition still holds at the next evaluation, the alert reopens."""
    return _act(alert_id, who, ctx, session, body, "resolve")
