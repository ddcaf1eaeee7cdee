"""The data behind the money's pages and routes: the books read for a request (with the
telemetry estimate's daily export only where a month's ownership changes within it), and
their views narrowed to what the caller may see. The rules are ``finance``'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.deps import Caller
from api.state import ApiState
from finance import estimates, receivables, views
from finance.books import Books, read_books
from finance.service import reconciliation as reconcile_books
from pvmon.db import tables


def seen(frame: pd.DataFrame, column: str, sees: Callable[[str], bool]) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` the caller sees."""
    return frame[frame[column].map(sees).astype(bool)] if len(frame) else frame


def books(ctx: ApiState, session: Session, villages: Collection[str] | None = None) -> Books:
    """The books of the whole deployment, or of ``villages`` alone (what a village's views
    read: a province's whole books are large)."""

    def estimate(first: dt.date, last: dt.date, stations: Collection[str]) -> pd.DataFrame:
        return estimates.station_days(ctx.influx, ctx.tz, first, last, stations)

    view = ctx.view()
    registry = view.registry if villages is None else view.books_registry(villages)
    return read_books(session, registry, ctx.today(), estimate, villages)


def village_year(ctx: ApiState, session: Session, village: str, year: int) -> views.Year:
    """The village's year of books, kept while they stand as they are (a page of it asks
    again and again, and working it out takes a tenth of a second)."""
    return ctx.cached(
        ("village_year", village, year, ctx.today(), books_version(session, village)),
        lambda: views.year(books(ctx, session, [village]), village, year),
        BOOKS_TTL_S,
    )


BOOKS_TTL_S = 600.0
"""Figures of the books are kept this long at most; any change to the books shows at once
(``books_version``)."""


def books_version(
    session: Session, village: str | None = None
) -> tuple[int | None, dt.datetime | None]:
    """What a village's books (None: the whole deployment's) depend on that can change
    during a day: every change to the money and the registry writes an audit entry, and
    analytics rewrites the villages' estimated statements (with the telemetry estimate
    under them)."""
    last, computed = session.execute(books_version_query(village)).one()
    return last, computed


def books_version_query(
    village: str | None = None,
) -> Select[tuple[int | None, dt.datetime | None]]:
    """``books_version`` as one row (for a page that asks it together with other figures)."""
    s = tables.VillageStatement
    newest = select(func.max(s.computed_at))
    if village is not None:
        newest = newest.where(s.village_id == village)
    return select(
        select(func.max(tables.AuditEntry.id)).scalar_subquery(), newest.scalar_subquery()
    )


@dataclass(frozen=True)
class Receivables:
    as_of: dt.date
    totals: pd.DataFrame
    """By kind: due, received, outstanding and each age bucket (``finance.receivables``)."""
    stations: pd.DataFrame
    """By station and kind, the caller's stations, most outstanding first."""
    villages: pd.DataFrame
    """By village and kind: each village's part, the caller's villages."""


def aged(ctx: ApiState, session: Session, who: Caller) -> Receivables:
    b = books(ctx, session)
    rows = seen(b.station_ledger, "station_id", who.scope.sees_station)
    shares = seen(b.village_ledger, "village_id", who.scope.sees_village)
    stations = receivables.aged_totals(rows, ["station_id"])
    return Receivables(
        b.as_of,
        receivables.aged_totals(rows.assign(everything="all"), ["everything"]),
        stations.sort_values("outstanding_yuan", ascending=False),
        receivables.aged_totals(shares, ["village_id"]).sort_values(
            "outstanding_yuan", ascending=False
        ),
    )


def month_states(ctx: ApiState, session: Session, who: Caller, periods: list[str]) -> pd.DataFrame:
    """The caller's villages in each month: village_id, period, state, missing."""
    states = views.month_states(books(ctx, session), periods)
    return seen(states, "village_id", who.scope.sees_village)


def reconciliation(ctx: ApiState, session: Session, who: Caller) -> tuple[pd.DataFrame, dict]:
    """The settled months beside their estimate, and the overdue statements, of the
    caller's stations."""
    found = reconcile_books(session, ctx.view().registry, ctx.settings, ctx.influx, ctx.today())
    rows = seen(found.rows, "station_id", who.scope.sees_station)
    missing = {s: m for s, m in found.missing.items() if who.scope.sees_station(s)}
    return rows, missing


@dataclass(frozen=True)
class YearMoney:
    """The year's settled money beside the estimate of the same station-months, and what
    is owed: the money cards of the overview and the finance page."""

    year: int
    settled_yuan: float
    """Grid and subsidy of the station-months settled this year."""
    settled_months: int
    """Station-months settled."""
    estimated_yuan: float | None
    """The telemetry estimate of those same station-months (None: no estimate for them)."""
    grid_owed: float
    subsidy_owed: float
    deviations: int
    """Stations whose settled months differ from the estimate beyond the allowed share."""
    overdue: int
    """Stations with overdue statements."""


def year_money(
    ctx: ApiState,
    session: Session,
    who: Caller,
    reconciled: tuple[pd.DataFrame, dict] | None = None,
) -> YearMoney:
    """``reconciled``: the caller's ``reconciliation`` if the page has it already."""
    rows, missing = reconciled or reconciliation(ctx, session, who)
    year = str(ctx.today().year)
    this = rows[rows["period"].str.startswith(year)] if len(rows) else rows
    settled = float((this["grid_yuan"] + this["subsidy_yuan"]).sum()) if len(this) else 0.0
    estimated = this[["est_grid_yuan", "est_subsidy_yuan"]].sum(min_count=1).sum(min_count=1)
    owed = aged(ctx, session, who).totals.set_index("kind")["outstanding_yuan"]
    return YearMoney(
        int(year),
        round(settled, 2),
        len(this),
        None if pd.isna(estimated) else round(float(estimated), 2),
        round(float(owed.get("grid", 0.0)), 2),
        round(float(owed.get("subsidy", 0.0)), 2),
        int(rows[rows["flagged"]]["station_id"].nunique()) if len(rows) else 0,
        len(missing),
    )
