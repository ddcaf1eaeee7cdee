"""Units of work that any of several analytics processes may take: row leases in the
relational store.

A unit is a row of ``work_leases`` (job, period, part) — a county's day, say. A process
takes an ``open`` unit, or a ``held`` one whose lease has run out (its holder died), by
raising the row's ``token``; it keeps the lease alive while it works (``Heartbeat``) and
completes the unit only if the token is still its own, so a process that lost its lease
(stalled past it) cannot complete a unit another has taken over.

Why row leases and not Dask or Celery (DESIGN §5): every analytics process already holds a
connection to the relational store, which keeps the job bookkeeping; PostgreSQL's
``SELECT … FOR UPDATE SKIP LOCKED`` hands each waiting process a different row without
blocking, and a lease that expires needs no broker, scheduler process or result backend
to deploy, watch and back up. A unit is minutes of work at most, taken a few hundred
times a day: far below what a table of leases serves. On SQLite (one process) the same
statements run without ``SKIP LOCKED``, and the token makes a take safe all the same.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from pvmon.db import tables
from pvmon.db.upsert import insert_missing
from pvmon.localtime import utc_now

log = structlog.get_logger(__name__)

OPEN = "open"
HELD = "held"
DONE = "done"
WHOLE = "*"
"""The part of a unit that is not partitioned (a day's totals, a fleet-wide job)."""

W = tables.WorkLease


@dataclass(frozen=True)
class Lease:
    job: str
    period: str
    part: str
    token: int
    again: bool = False
    """Taken before: an earlier holder may have stored part of its work."""

    def key(self) -> Any:
        return and_(W.job == self.job, W.period == self.period, W.part == self.part)


def plan(
    session: Session,
    job: str,
    units: Iterable[tuple[str, str]],
    redo_before: Mapping[str, dt.datetime] | None = None,
) -> None:
    """Make each (period, part) a unit of ``job``; a done unit whose computation began
    before ``redo_before[period]`` (data for it arrived since) is open again."""
    rows = [
        {
            "job": job,
            "period": period,
            "part": part,
            "state": OPEN,
            "token": 0,
            "attempts": 0,
            "completions": 0,
        }
        for period, part in units
    ]
    insert_missing(session, W.__table__, rows, ["job", "period", "part"])
    for period, since in (redo_before or {}).items():
        session.execute(
            update(W)
            .where(W.job == job, W.period == period, W.state == DONE, W.started_at < since)
            .values(state=OPEN)
        )


def _claimable(now: dt.datetime) -> Any:
    return or_(W.state == OPEN, and_(W.state == HELD, W.expires_at < now))


def take(
    session: Session,
    job: str,
    holder: str,
    lease: dt.timedelta,
    *,
    periods: Sequence[str] | None = None,
    most: int = 1,
) -> list[Lease]:
    """Take the newest claimable unit of ``job`` (among ``periods``, if given) and up to
    ``most - 1`` older ones of the same part; none if every unit is done or held."""
    now = utc_now()
    first = _candidates(session, job, now, periods, None, 1)
    if not first:
        return []
    more = _candidates(session, job, now, periods, first[0], most - 1) if most > 1 else []
    taken = [_take_row(session, row, holder, now + lease) for row in [*first, *more]]
    return [t for t in taken if t is not None]


def _candidates(
    session: Session,
    job: str,
    now: dt.datetime,
    periods: Sequence[str] | None,
    after: tables.WorkLease | None,
    limit: int,
) -> list[tables.WorkLease]:
    q = select(W).where(W.job == job, _claimable(now))
    if periods is not None:
        q = q.where(W.period.in_(list(periods)))
    if after is not None:
        q = q.where(W.part == after.part, W.period < after.period)
    q = q.order_by(W.period.desc(), W.part).limit(limit).with_for_update(skip_locked=True)
    return list(session.scalars(q))


def _take_row(
    session: Session, row: tables.WorkLease, holder: str, until: dt.datetime
) -> Lease | None:
    """Raise the row's token if it is still the one read (another process may have taken
    the row in between, where the database has no row locks)."""
    done = session.execute(
        update(W)
        .where(W.job == row.job, W.period == row.period, W.part == row.part)
        .where(W.token == row.token, W.state != DONE)
        .values(
            state=HELD,
            token=row.token + 1,
            holder=holder,
            expires_at=until,
            attempts=W.attempts + 1,
            started_at=utc_now(),
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        return None
    return Lease(row.job, row.period, row.part, row.token + 1, row.attempts > 0)


def take_unit(
    session: Session, job: str, period: str, holder: str, lease: dt.timedelta
) -> Lease | None:
    """Take the one unit (job, period, ``WHOLE``) — done or not — unless another process
    holds it now: a job that runs again and again (the month's running statements), once
    at a time across processes."""
    plan(session, job, [(period, WHOLE)])
    session.execute(
        update(W)
        .where(W.job == job, W.period == period, W.part == WHOLE, W.state == DONE)
        .values(state=OPEN)
    )
    return next(iter(take(session, job, holder, lease, periods=[period])), None)


def renew(session: Session, leases: Sequence[Lease], lease: dt.timedelta) -> list[Lease]:
    """Extend the leases still held; those taken over by another are returned."""
    lost = []
    until = utc_now() + lease
    for held in leases:
        result = session.execute(
            update(W)
            .where(held.key(), W.token == held.token, W.state == HELD)
            .values(expires_at=until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            lost.append(held)
    return lost


def complete(session: Session, held: Lease, detail: dict[str, Any]) -> bool:
    """Mark the unit done, if the lease is still this holder's; False if it was lost."""
    result = session.execute(
        update(W)
        .where(held.key(), W.token == held.token, W.state == HELD)
        .values(
            state=DONE,
            holder=None,
            expires_at=None,
            finished_at=utc_now(),
            completions=W.completions + 1,
            detail=detail,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        log.warning("lease_lost", job=held.job, period=held.period, part=held.part)
        return False
    return True


def release(session: Session, held: Lease, detail: dict[str, Any]) -> None:
    """Give the unit back undone (its computation failed): any process may take it."""
    session.execute(
        update(W)
        .where(held.key(), W.token == held.token, W.state == HELD)
        .values(state=OPEN, holder=None, expires_at=None, detail=detail)
        .execution_options(synchronize_session=False)
    )


def units(session: Session, job: str, periods: Sequence[str]) -> dict[str, list[tables.WorkLease]]:
    """period → its units"""
    out: dict[str, list[tables.WorkLease]] = {p: [] for p in periods}
    rows = session.scalars(select(W).where(W.job == job, W.period.in_(list(periods))))
    for row in rows:
        out[row.period].append(row)
    return out


class Heartbeat:
    """Renews leases from a thread while the holder works, every third of the lease."""

    def __init__(self, sessions: sessionmaker[Session], lease: dt.timedelta) -> None:
        self.sessions = sessions
        self.lease = lease
        self.held: list[Lease] = []
        self.lost: list[Lease] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.lease.total_seconds() / 3):
            held = list(self.held)
            if not held:
                continue
            try:
                with self.sessions.begin() as session:
                    self.lost.extend(renew(session, held, self.lease))
            except Exception as exc:
                log.warning("lease_renewal_failed", error=str(exc)[:300])

    @contextmanager
    def running(self) -> Iterator[Heartbeat]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
