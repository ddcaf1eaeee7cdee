"""Request dependencies: the context, a database session, and the caller with their scope.

A caller is known by an ``Authorization: Bearer pvm_…`` token or by the dashboard's session
cookie; without either, 401.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api import security
from api.scope import Scope, county_scope, scope_for, township_scope
from api.state import VIEW_FIGURES_TTL_S, ApiState
from pvmon.audit import Actor
from pvmon.db import tables
from pvmon.registry.lookup import FleetLookup

SESSION_COOKIE = "pvmon_session"
bearer = HTTPBearer(auto_error=False, description="An API token: pvm_<id>_<secret>")


async def context(request: Request) -> ApiState:
    """The application's state. A coroutine, so that FastAPI hands it over on the event
    loop: as a plain function it took a trip to a worker thread on every request."""
    return request.app.state.context  # type: ignore[no-any-return]


Context = Annotated[ApiState, Depends(context)]


def db(ctx: Context) -> Iterator[Session]:
    with ctx.sessions() as session:
        yield session


Db = Annotated[Session, Depends(db)]


@dataclass(frozen=True)
class Caller:
    user: tables.User
    scope: Scope

    @property
    def actor(self) -> str:
        """Who did it, in histories and the audit log: the user's person, or the user."""
        return self.user.person_id or f"user:{self.user.username}"

    def by(self, channel: str) -> Actor:
        """The caller as the audit log names them, acting through ``channel``."""
        return Actor(self.actor, channel)


def caller(
    request: Request,
    ctx: Context,
    session: Db,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    now = ctx.now()
    user = None
    if credentials is not None:
        user = security.user_for_token(session, credentials.credentials, now, ctx.tokens)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        user = security.user_for_session(session, cookie, now)
    # Give the connection back between the dependencies and the route: a request waiting
    # for a worker thread must not hold one (with the pool sized to the threads, nothing
    # then waits for a connection held by someone who waits).
    session.commit()
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "not signed in",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Caller(user, scope_of(ctx, user))


def scope_of(ctx: ApiState, user: tables.User) -> Scope:
    """The user's scope, kept while the registry view and the user's role and place stay
    (making it passes over a province's stations)."""
    view = ctx.view()
    place = (user.id, user.role, user.person_id, user.county_id, user.township_id, user.village_id)
    return ctx.cached(
        ("scope", view.serial, place), lambda: scope_for(user, view), VIEW_FIGURES_TTL_S
    )


Who = Annotated[Caller, Depends(caller)]


def caller_address(request: Request) -> str:
    """The caller's address: the connection's, or a configured proxy's ``X-Forwarded-For``
    (uvicorn rewrites it only for ``trusted_proxies``, api/main.py)."""
    return request.client.host if request.client else "unknown"


FIRST_YEAR = 2000
"""The fleet was built from 2016; days before 2000 or far in the future are mistakes."""


def checked_day(day: dt.date, ctx: ApiState) -> dt.date:
    if not dt.date(FIRST_YEAR, 1, 1) <= day <= ctx.today() + dt.timedelta(days=366):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"no data for {day.isoformat()}")
    return day


def checked_time(at: dt.datetime, ctx: ApiState) -> dt.datetime:
    if at.tzinfo is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "times need an offset (e.g. 2026-11-28T08:00:00+08:00)"
        )
    try:
        local = at.astimezone(ctx.tz)
    except OverflowError:  # 9999-12-31T23:59:59-12:00 is beyond year 9999 in UTC
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"no data for {at.isoformat()}") from None
    checked_day(local.date(), ctx)
    return at


def not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} not found")


def forbidden(why: str = "not allowed for your role") -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, why)


def within_township(who: Caller, township: str, ctx: ApiState) -> Caller:
    """The caller seeing only one township (its page, its map); 404 outside their scope."""
    return _narrowed(who, ctx, "township", township, township_scope)


def within_county(who: Caller, county: str, ctx: ApiState) -> Caller:
    """The caller seeing only one county of a province (the lists' county filter); 404
    outside their scope."""
    return _narrowed(who, ctx, "county", county, county_scope)


def _narrowed(
    who: Caller,
    ctx: ApiState,
    what: str,
    place: str,
    narrow: Callable[[Scope, str, FleetLookup], Scope | None],
) -> Caller:
    """The caller's scope narrowed to ``place``, kept with the view like their scope (making it
    passes over a province's stations)."""
    view = ctx.view()
    scope = ctx.cached(
        (what, view.serial, who.scope, place),
        lambda: narrow(who.scope, place, view),
        VIEW_FIGURES_TTL_S,
    )
    if scope is None:
        raise not_found(what)
    return replace(who, scope=scope)
