"""Units of work shared by analytics processes: each taken by one, taken over when its
holder stops renewing it, completed once."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import Engine, select

from analytics import leases
from pvmon.db import tables
from pvmon.db.engine import session_factory

LONG = dt.timedelta(minutes=5)
SHORT = dt.timedelta(seconds=1)


def units(engine: Engine) -> dict[tuple[str, str], tables.WorkLease]:
    with session_factory(engine)() as session:
        rows = session.scalars(select(tables.WorkLease).where(tables.WorkLease.job == "daily"))
        return {(r.period, r.part): r for r in rows}


def test_two_processes_take_different_units_newest_first_and_each_completes_once(
    engine: Engine,
) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        leases.plan(session, "daily", [(d, c) for d in ("2026-06-01", "2026-06-02") for c in "AB"])
        leases.plan(session, "daily", [("2026-06-02", "A")])  # planned twice: one unit
    with sessions.begin() as session:
        first = leases.take(session, "daily", "one", LONG)
    with sessions.begin() as session:
        second = leases.take(session, "daily", "two", LONG, most=2)
    assert [(u.period, u.part) for u in first] == [("2026-06-02", "A")]
    assert [(u.period, u.part) for u in second] == [("2026-06-02", "B"), ("2026-06-01", "B")]
    with sessions.begin() as session:
        assert all(leases.complete(session, u, {"ok": 1}) for u in [*first, *second])
    with sessions.begin() as session:
        last = leases.take(session, "daily", "one", LONG, most=4)
    assert [(u.period, u.part) for u in last] == [("2026-06-01", "A")]
    with sessions.begin() as session:
        assert leases.take(session, "daily", "two", LONG) == []
        assert leases.complete(session, last[0], {"ok": 1})
    done = units(engine)
    assert len(done) == 4
    assert {(u.state, u.completions, u.attempts) for u in done.values()} == {("done", 1, 1)}


def test_a_unit_whose_holder_stopped_renewing_is_taken_over_and_the_old_holder_cannot_complete_it(
    engine: Engine,
) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        leases.plan(session, "daily", [("2026-06-01", "A")])
    with sessions.begin() as session:
        (stalled,) = leases.take(session, "daily", "stalled", SHORT)
    with sessions.begin() as session:
        assert leases.take(session, "daily", "other", LONG) == [], "held: not to be taken"
    time.sleep(1.2)
    with sessions.begin() as session:
        (taken,) = leases.take(session, "daily", "other", LONG)
    assert taken.again
    assert not stalled.again
    with sessions.begin() as session:
        assert leases.renew(session, [stalled], LONG) == [stalled]
        assert not leases.complete(session, stalled, {"by": "stalled"})
        assert leases.complete(session, taken, {"by": "other"})
    unit = units(engine)[("2026-06-01", "A")]
    assert (unit.state, unit.attempts, unit.completions, unit.detail) == (
        "done",
        2,
        1,
        {"by": "other"},
    )


def test_a_heartbeat_keeps_a_unit_while_its_holder_works(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        leases.plan(session, "daily", [("2026-06-01", "A")])
    with sessions.begin() as session:
        (held,) = leases.take(session, "daily", "busy", SHORT)
    beat = leases.Heartbeat(sessions, SHORT)
    beat.held = [held]
    with beat.running():
        time.sleep(2.5)  # more than twice the lease
        with sessions.begin() as session:
            assert leases.take(session, "daily", "other", LONG) == []
    with sessions.begin() as session:
        assert leases.complete(session, held, {})
    assert beat.lost == []


def test_a_unit_given_back_or_with_data_arrived_since_is_taken_again(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        leases.plan(session, "daily", [("2026-06-01", "A"), ("2026-06-02", "A")])
    with sessions.begin() as session:
        newer, older = leases.take(session, "daily", "one", LONG, most=2)
        leases.release(session, newer, {"error": "influxdb away"})
        leases.complete(session, older, {})
    began = units(engine)[("2026-06-01", "A")].started_at
    with sessions.begin() as session:
        leases.plan(session, "daily", [("2026-06-01", "A")], {"2026-06-01": began})
    with sessions.begin() as session:
        assert [u.period for u in leases.take(session, "daily", "two", LONG, most=2)] == [
            "2026-06-02"
        ], "data stored before the computation began: done"
    arrived = began + dt.timedelta(microseconds=1)
    with sessions.begin() as session:
        leases.plan(session, "daily", [("2026-06-01", "A")], {"2026-06-01": arrived})
    with sessions.begin() as session:
        again = leases.take(session, "daily", "two", LONG)
    assert [(u.period, u.again) for u in again] == [("2026-06-01", True)]
    assert units(engine)[("2026-06-02", "A")].detail == {"error": "influxdb away"}


def test_a_job_runs_again_and_again_but_never_in_two_processes_at_once(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions.begin() as session:
        held = leases.take_unit(session, "monthly", "2026-06-running", "one", LONG)
    assert held is not None
    with sessions.begin() as session:
        assert leases.take_unit(session, "monthly", "2026-06-running", "two", LONG) is None
        assert leases.complete(session, held, {})
    with sessions.begin() as session:
        again = leases.take_unit(session, "monthly", "2026-06-running", "two", LONG)
    assert again is not None
    assert again.token == held.token + 1
