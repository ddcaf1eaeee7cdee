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
from collections.abc import Callable

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
    """The tokens whose slow hash was checked, by the SHA-256 of the whole token and the
    stored hash it was checked against. Checking Argon2 on every call would cost ~50 ms of
    CPU a request; the answer cannot change while the stored hash stays, so it is kept
    without a time limit (the token's row is still read on every call: revoking it takes
    effect at once). One caller at a time checks a given token; the others wait for its
    answer. A token's use is written at most once per ``record_every_s`` per process.

    Kept for a minute before, every busy client's token expired for all its requests at
    once: each checked Argon2 and wrote ``last_used_at`` on the same row, one commit
    waiting for the other, and every request of both API processes stood still for up to
    four seconds (``bench.api`` at 20 clients, ``docs/scaling.md``)."""

    MAX_KEPT = 10_000

    def __init__(
        self, record_every_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.record_every_s = record_every_s
        self.clock = clock
        self._checked: set[tuple[str, str]] = set()
        self._recorded: dict[str, float] = {}
        self._checking: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def check(self, token: str, secret: str, stored_hash: str) -> bool:
        """Whether ``secret`` is the token's (``token`` whole, ``stored_hash`` its row's)."""
        key = (_digest(token), stored_hash)
        if key in self._checked:
            return True
        with self._lock:
            if len(self._checking) >= self.MAX_KEPT:
                self._checking.clear()  # a holder keeps its lock; the next caller makes one
            checking = self._checking.setdefault(key[0], threading.Lock())
        with checking:
            if key in self._checked:
                return True
            if not verify_secret(stored_hash, secret):
                return False
            with self._lock:
                if len(self._checked) >= self.MAX_KEPT:
                    self._checked.clear()
                self._checked.add(key)
        return True

    def use_to_record(self, token_id: str) -> bool:
        """True for the one caller that should write the token's use now."""
        now = self.clock()
        with self._lock:
            last = self._recorded.get(token_id)
            if last is not None and now - last < self.record_every_s:
                return False
            if len(self._recorded) >= self.MAX_KEPT:
                self._recorded.clear()
            self._recorded[token_id] = now
        return True


def user_for_token(
    session: Session, token: str, now: dt.datetime, verified: VerifiedTokens
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
    if not verified.check(token, secret, row.secret_hash):
        return None
    if verified.use_to_record(token_id):
        row.last_used_at = now
        session.commit()
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
    found = session.execute(
        select(tables.WebSession.expires_at, tables.User)
        .join(tables.User, tables.User.id == tables.WebSession.user_id)
        .where(tables.WebSession.id_hash == _digest(cookie))
    ).first()  # one query for both: every page asks it
    if found is None or found[0] <= now:
        return None
    return found[1] if found[1].active else None


def close_session(session: Session, cookie: str) -> None:
    row = session.get(tables.WebSession, _digest(cookie))
    if row is not None:
        session.delete(row)
