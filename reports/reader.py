"""Who a report reads the figures as: the bureau (the whole county), or one village's
collective — a caller of the API's data functions with that scope, signed in as nobody."""

from __future__ import annotations

from api.deps import Caller
from api.scope import Role, scope_for
from api.state import ApiState
from pvmon.db import tables


def county(ctx: ApiState) -> Caller:
    return _caller(ctx, Role.BUREAU, village=None)


def village(ctx: ApiState, village_id: str) -> Caller:
    return _caller(ctx, Role.COLLECTIVE, village=village_id)


def _caller(ctx: ApiState, role: Role, village: str | None) -> Caller:
    user = tables.User(
        id=0,
        username="reports",
        display_name="reports",
        role=str(role),
        village_id=village,
        active=True,
    )
    return Caller(user, scope_for(user, ctx.view()))
