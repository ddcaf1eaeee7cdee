"""Several one-row figures asked in one statement give what each gives asked alone, on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.db.together import one_row_each
from pvmon.registry.schema import Registry


def test_figures_asked_together_are_those_asked_one_by_one(
    loaded_engine: Engine, default_registry: Registry
) -> None:
    s = tables.Station
    households = select(func.count()).where(s.kind == "household")
    sizes = select(func.min(s.capacity_kwp), func.max(s.capacity_kwp)).where(s.kind == "village")
    nothing = select(func.count(), func.max(s.id)).where(s.kind == "no such kind")
    with session_factory(loaded_engine)() as session:
        together = one_row_each(session, households, sizes, nothing)
        alone = [tuple(session.execute(q).one()) for q in (households, sizes, nothing)]
    assert together == alone
    village_kwp = [x.capacity_kwp for x in default_registry.stations if x.kind == "village"]
    assert together[0] == (sum(x.kind == "household" for x in default_registry.stations),)
    assert together[1] == pytest.approx((min(village_kwp), max(village_kwp)))
    assert together[2] == (0, None), "a query matching nothing still gives its one row"
