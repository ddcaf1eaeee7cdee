"""Passwords, API tokens and dashboard sessions.

Passwords and token secrets are kept only as Argon2id hashes (argon2-cffi). A token reads
``pvm_<id>_<secret>``: the id finds the row, the slow hash checks the secret. A session
cookie is 32 random bytes; the store keeps its SHA-256 (a random 256-bit value needs no
slow hash: there is nothing to guess).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pvmon.db import tables

_hasher = PasswordHasher()
TOKEN_PREFIX = "pvm"


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
"""Wrong passwords for one username from one address within the window."""
MAX_FAILURES_PER_ADDRESS = 20
"""Wrong passwords from one address, whatever the usernames (password spraying)."""


class TooManyAttempts(Exception):
    def __init__(self, wait_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {wait_s} s")
        self.wait_s = wait_s


def login_wait(session: Session, username: str, address: str, now: dt.datetime) -> int:
    """Seconds before this username may try again from this address (0: now)."""
    f = tables.LoginFailure
    rows = session.execute(
        select(f.at, f.username).where(f.address == address, f.at > now - LOGIN_WINDOW)
    ).all()
    by_address = sorted(at for at, _ in rows)
    by_user = sorted(at for at, name in rows if name == username)
    for failures, limit in (
        (by_user, MAX_FAILURES_PER_USER),
        (by_address, MAX_FAILURES_PER_ADDRESS),
    ):
        if len(failures) >= limit:
            oldest = failures[len(failures) - limit]
            return max(1, int((oldest + LOGIN_WINDOW - now).total_seconds()))
    return 0


def sign_in(
    session: Session, username: str, password: str, address: str, now: dt.datetime
) -> tables.User | None:
    """The user, or None for a wrong password (recorded); raises ``TooManyAttempts`` while
    this address has failed too often, without checking the password at all."""
    wait = login_wait(session, username, address, now)
    if wait:
        raise TooManyAttempts(wait)
    user = authenticate(session, username, password)
    if user is None:
        session.add(tables.LoginFailure(username=username[:64], address=address[:64], at=now))
        session.execute(
            delete(tables.LoginFailure).where(tables.LoginFailure.at < now - LOGIN_WINDOW)
        )
        session.commit()
    return user


def authenticate(session: Session, username: str, password: str) -> tables.User | None:
    user = session.scalar(select(tables.User).where(tables.User.username == username))
    if user is None or not user.active:
        _hasher.hash(password)  # the same work as a real check: no timing hint of who exists
        return None
    return user if verify_secret(user.password_hash, password) else None


def create_token(session: Session, user: tables.User, name: str, now: dt.datetime) -> str:
    """A new API token for ``user``; the only time its full value is seen."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(24)
    session.add(
        tables.ApiToken(
            id=token_id,
            user_id=user.id,
            name=name,
            secret_hash=hash_secret(secret),
            created_at=now,
            revoked=False,
        )
    )
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


class VerifiedTokens:
    """Tokens whose slow hash was checked in the last ``ttl_s`` seconds, by the SHA-256 of
    the whole token. Checking Argon2 on every call would cost ~50 ms of CPU a request. The
    token's row is still read on every call, so revoking it takes effect at once."""

    def __init__(self, ttl_s: float = 60.0) -> None:
        self.ttl_s = ttl_s
        self._seen: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> str | None:
        with self._lock:
            hit = self._seen.get(_digest(token))
        if hit is None or time.monotonic() - hit[1] > self.ttl_s:
            return None
        return hit[0]

    def put(self, token: str, token_id: str) -> None:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[_digest(token)] = (token_id, time.monotonic())


def user_for_token(
    session: Session, token: str, now: dt.datetime, verified: VerifiedTokens | None = None
) -> tables.User | None:
    prefix, _, rest = token.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != TOKEN_PREFIX or not token_id or not secret:
        return None
    found = session.execute(
        select(tables.ApiToken, tables.User)
        .join(tables.User, tables.User.id == tables.ApiToken.user_id)
        .where(tables.ApiToken.id == token_id)
    ).first()  # one query for both: every API request asks it
    if found is None or found[0].revoked:
        return None
    row, user = found
    if verified is None or verified.get(token) != token_id:
        if not verify_secret(row.secret_hash, secret):
            return None
        row.last_used_at = now
        session.commit()
        if verified is not None:
            verified.put(token, token_id)
    return user if user.active else None


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def open_session(session: Session, user: tables.User, now: dt.datetime, hours: float) -> str:
    """A new dashboard session; returns the cookie value."""
    value = secrets.token_urlsafe(32)
    session.add(
        tables.WebSession(
            id_hash=_digest(value),
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    return value


def user_for_session(session: Session, cookie: str, now: dt.datetime) -> tables.User | None:
    row = session.get(tables.WebSession, _digest(cookie))
    if row is None or row.expires_at <= now:
        return None
    user = session.get(tables.User, row.user_id)
    return user if user is not None and user.active else None


def close_session(session: Session, cookie: str) -> None:
    row = session.get(tables.WebSession, _digest(cookie))
    if row is not None:
        session.delete(row)
