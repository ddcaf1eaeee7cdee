"""Users: adding them, and the demo users ``pvmon up`` creates (one per role)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.scope import Role
from api.security import hash_secret, verify_secret
from pvmon.db import tables
from pvmon.domain import PersonRole
from pvmon.registry.schema import PersonRow, Registry
from pvmon.registry.store import load_registry

DEMO_PASSWORD = "yonghe-demo"
"""The demo users' password: for the local demo only."""


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class NewUser:
    username: str
    role: Role
    display_name: str = ""
    person_id: str | None = None
    township_id: str | None = None
    village_id: str | None = None
    county_id: str | None = None
    """A bureau user's county (none: the whole deployment)."""


def add_user(session: Session, new: NewUser, password: str, now: dt.datetime) -> tables.User:
    """Add a user, checking that what scopes them exists in the registry."""
    if len(password) < 8:
        raise UserError("the password needs at least 8 characters")
    if session.scalar(select(tables.User).where(tables.User.username == new.username)):
        raise UserError(f"user {new.username!r} exists")
    _check_scope(session, new)
    user = tables.User(
        username=new.username,
        display_name=new.display_name or new.username,
        password_hash=hash_secret(password),
        role=str(new.role),
        person_id=new.person_id,
        county_id=new.county_id,
        township_id=new.township_id,
        village_id=new.village_id,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def _check_scope(session: Session, new: NewUser) -> None:
    needs = {
        Role.SUPERVISOR: ("township_id", tables.Township),
        Role.MAINTAINER: ("person_id", tables.Person),
        Role.COLLECTIVE: ("village_id", tables.Village),
    }
    if new.county_id is not None:
        if new.role != Role.BUREAU:
            raise UserError("only a bureau user is scoped to a county")
        if session.get(tables.County, new.county_id) is None:
            raise UserError(f"no county {new.county_id!r} in the registry")
    if new.role not in needs:
        return
    field, table = needs[new.role]
    value = getattr(new, field)
    if not value:
        raise UserError(f"a {new.role} user needs --{field.removesuffix('_id')}")
    if session.get(table, value) is None:
        raise UserError(f"no {field.removesuffix('_id')} {value!r} in the registry")


def users_with_demo_password(session: Session) -> list[str]:
    """Active users whose password is the published demo one."""
    return [
        u.username
        for u in session.scalars(select(tables.User).where(tables.User.active.is_(True)))
        if verify_secret(u.password_hash, DEMO_PASSWORD)
    ]


def demo_maintainer(registry: Registry) -> PersonRow:
    """The person the demo's ``maintainer`` user signs in as: the first village maintainer."""
    return next(p for p in registry.people if p.role == PersonRole.MAINTAINER and p.village_id)


def demo_users(session: Session, now: dt.datetime) -> list[NewUser]:
    """One user per role, chosen from the registry; creates those missing."""
    registry = load_registry(session)
    maintainer = demo_maintainer(registry)
    village = next(v for v in registry.villages if v.id == maintainer.village_id)
    wanted = [
        NewUser("bureau", Role.BUREAU, "县能源局值班员"),
        NewUser("supervisor", Role.SUPERVISOR, "乡镇监管员", township_id=village.township_id),
        NewUser("maintainer", Role.MAINTAINER, maintainer.name, person_id=maintainer.id),
        NewUser("collective", Role.COLLECTIVE, f"{village.name}村集体", village_id=village.id),
    ]
    for new in wanted:
        if session.scalar(select(tables.User).where(tables.User.username == new.username)) is None:
            add_user(session, new, DEMO_PASSWORD, now)
    return wanted
