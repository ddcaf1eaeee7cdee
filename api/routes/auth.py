"""Signing in and out of the dashboard, and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.orm import Session

from api import security
from api.deps import SESSION_COOKIE, Context, Db, Who, caller_address
from api.models import Login, Me, TokenCreated, TokenRequest
from api.responses import problems
from api.state import ApiState
from pvmon.db import tables

router = APIRouter(prefix="/auth", tags=["auth"])

SESSION_HOURS = 12.0


def me_of(user: tables.User) -> Me:
    return Me(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        person_id=user.person_id,
        township_id=user.township_id,
        village_id=user.village_id,
    )


@router.post(
    "/login",
    response_model=Me,
    summary="Sign in; sets the session cookie",
    responses=problems(401, 429, 503),
)
def login(body: Login, request: Request, response: Response, ctx: Context, session: Db) -> Me:
    address = caller_address(request)
    try:
        user = security.sign_in(session, body.username, body.password, address, ctx.now())
    except security.TooManyAttempts as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, str(exc), headers={"Retry-After": str(exc.wait_s)}
        ) from None
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    start_session(session, user, ctx, request, response)
    return me_of(user)


def start_session(
    session: Session, user: tables.User, ctx: ApiState, request: Request, response: Response
) -> None:
    """A new dashboard session for ``user``, its cookie set on ``response`` (HttpOnly,
    SameSite=Lax, Secure over HTTPS) — for the API's sign-in and the login page alike."""
    cookie = security.open_session(session, user, ctx.now(), SESSION_HOURS)
    session.commit()
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_HOURS * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@router.post("/logout", status_code=204, summary="Sign out")
def logout(request: Request, response: Response, session: Db) -> Response:
    if cookie := request.cookies.get(SESSION_COOKIE):
        security.close_session(session, cookie)
        session.commit()
    response.delete_cookie(SESSION_COOKIE)
    response.status_code = 204
    return response


@router.get("/me", response_model=Me, summary="Who is calling", responses=problems(401))
def me(who: Who) -> Me:
    return me_of(who.user)


@router.post(
    "/tokens",
    response_model=TokenCreated,
    status_code=201,
    summary="New API token",
    responses=problems(401),
)
def new_token(body: TokenRequest, who: Who, ctx: Context, session: Db) -> TokenCreated:
    user = session.merge(who.user)
    token = security.create_token(session, user, body.name, ctx.now())
    session.commit()
    return TokenCreated(token=token)
