"""The bureau's monthly report (月报): the month and the year so far, made of the figures
the dashboards show.

Generation against the target and the forecast; the segments and the townships; the best
and worst village stations by peer index; availability; faults and work orders (times,
lost energy); certification; revenue estimated and settled; what is owed; the long view
(the modules' degradation and the dust, as last estimated by the month's end).
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import assessment, money, queries
from api.routes import fleet
from api.state import ApiState
from finance.books import read_books
from pvmon.db import tables
from pvmon.influx import schema
from pvmon.influx.client import series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import day_start, month_bounds
from reports import reader

RANKED = 10
"""Stations named at each end of the peer-index ranking."""


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    month_kwh: float
    year_kwh: float
    month_yuan: float
    year_yuan: float
    availability: float | None = None


@dataclass(frozen=True)
class Ranked:
    station_id: str
    name: str
    township: str
    peer_index: float
    days: int


@dataclass
class MonthlyReport:
    month: str
    first: dt.date
    last: dt.date
    made_at: dt.datetime
    computed_days: int
    target: dict[str, Any]
    """The village stations' year against 21 GWh / 17 M yuan (``Forecast.as_dict``)."""
    fleet: Place
    segments: list[Place]
    townships: list[Place]
    best: list[Ranked]
    worst: list[Ranked]
    orders: dict[str, Any]
    maintainers: list[dict[str, Any]]
    certification: dict[str, Any]
    revenue: dict[str, Any]
    receivables: list[dict[str, Any]]
    longterm: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def monthly(ctx: ApiState, session: Session, month: str) -> MonthlyReport:
    """The report of ``month`` (YYYY-MM), as the county's figures stand now."""
    first, last = month_bounds(month)
    who = reader.county(ctx)
    start, end = day_start(first, ctx.tz), day_start(last + dt.timedelta(days=1), ctx.tz)
    in_month = queries.rollup_totals(ctx, start, end)
    in_year = queries.rollup_totals(ctx, day_start(dt.date(first.year, 1, 1), ctx.tz), end)
    availability = _availability(ctx, start, end)
    names = ctx.view().township_names
    townships = sorted({t for t, _ in in_year})
    return MonthlyReport(
        month=month,
        first=first,
        last=last,
        made_at=ctx.now(),
        computed_days=queries.computed_days(ctx, start, end),
        target=queries.target_report(ctx, last).segment.as_dict(),
        fleet=_place("all", "", in_month, in_year, lambda t, k: True, availability.get("all")),
        segments=[
            _place(k, k, in_month, in_year, lambda t, k2, k=k: k2 == k) for k in queries.SEGMENTS
        ],
        townships=[
            _place(
                t,
                names.get(t, t),
                in_month,
                in_year,
                lambda t2, k, t=t: t2 == t,
                availability.get(t),
            )
            for t in townships
        ],
        **_ranking(ctx, first, last),
        **_orders(ctx, session, who, month),
        certification=_certification(ctx, who, last),
        revenue=_revenue(ctx, session, month, in_month),
        receivables=money.aged(ctx, session, who)
        .totals.drop(columns="everything")
        .to_dict("records"),
        longterm=_longterm(ctx, session, last),
    )


def _place(
    key: str,
    name: str,
    month: dict[tuple[str, str], tuple[float, float]],
    year: dict[tuple[str, str], tuple[float, float]],
    chosen: Any,
    availability: float | None = None,
) -> Place:
    def sums(totals: dict[tuple[str, str], tuple[float, float]]) -> tuple[float, float]:
        rows = [v for (t, k), v in totals.items() if chosen(t, k)]
        return sum(r[0] for r in rows), sum(r[1] for r in rows)

    (mk, my), (yk, yy) = sums(month), sums(year)
    return Place(key, name, round(mk, 1), round(yk, 1), round(my, 2), round(yy, 2), availability)


def _availability(ctx: ApiState, start: int, end: int) -> dict[str, float]:
    """Capacity-weighted availability over the month: each township's and the fleet's."""
    series = ctx.influx.query(
        f'SELECT "availability", "capacity_kwp" FROM "{ROLLUP_RP}"."{schema.TOWNSHIP_DAILY}" '
        f'WHERE time >= {start}s AND time < {end}s GROUP BY "township"'
    )
    frame = pd.DataFrame(series_values(series))
    if frame.empty:
        return {}
    frame = frame.dropna(subset=["availability", "capacity_kwp"])
    frame["weighted"] = frame["availability"] * frame["capacity_kwp"]
    by = frame.groupby("township")[["weighted", "capacity_kwp"]].sum()
    out = (by["weighted"] / by["capacity_kwp"]).round(4).to_dict()
    out["all"] = round(float(frame["weighted"].sum() / frame["capacity_kwp"].sum()), 4)
    return out


def _ranking(ctx: ApiState, first: dt.date, last: dt.date) -> dict[str, list[Ranked]]:
    """The village stations by their mean peer index over the month's usable days."""
    view = ctx.view()
    villages = {s for s, row in view.stations.items() if row.kind == "village"}
    days = assessment.station_days(ctx, first, last)
    days = days[days["station"].isin(villages) & (days["usable"] > 0) & days["peer_index"].notna()]
    if days.empty:
        return {"best": [], "worst": []}
    mean = days.groupby("station")["peer_index"].agg(["mean", "count"]).sort_values("mean")
    names = queries.place_names(ctx)

    def ranked(rows: pd.DataFrame) -> list[Ranked]:
        return [
            Ranked(
                str(s),
                names.get(str(s), str(s)),
                view.township_names.get(view.stations[str(s)].township_id, ""),
                round(float(r["mean"]), 3),
                int(r["count"]),
            )
            for s, r in rows.iterrows()
        ]

    return {"best": ranked(mean.iloc[::-1].head(RANKED)), "worst": ranked(mean.head(RANKED))}


def _orders(ctx: ApiState, session: Session, who: Any, month: str) -> dict[str, Any]:
    rows = assessment.assessment(session, ctx, who, month)
    losses = assessment.month_losses(session, ctx, who, month)
    repairs = [r.median_hours_to_repair for r in rows if r.median_hours_to_repair is not None]
    names = ctx.view().people
    return {
        "orders": {
            "created": sum(r.orders for r in rows),
            "done": sum(r.done for r in rows),
            "on_time": sum(r.on_time for r in rows),
            "late": sum(r.late for r in rows),
            "median_hours_to_repair": round(statistics.median(repairs), 1) if repairs else None,
            "lost_kwh": round(sum(x.kwh for x in losses.stations.values()), 1),
            "lost_yuan": round(sum(x.yuan for x in losses.stations.values()), 2),
            "faults": len(losses.stations),
        },
        "maintainers": [
            {
                "person_id": r.person_id,
                "name": names[r.person_id].name if r.person_id in names else r.person_id,
                "orders": r.orders,
                "done": r.done,
                "late": r.late,
                "lost_kwh": r.lost_kwh,
            }
            for r in sorted(rows, key=lambda r: (-r.orders, r.person_id))
            if r.orders
        ],
    }


def _certification(ctx: ApiState, who: Any, on: dt.date) -> dict[str, Any]:
    found = fleet.certification(who, ctx, on)
    return {
        "rate": found.rate,
        "maintainers": found.maintainers,
        "certified": found.certified,
        "invalid": len(found.invalid),
        "due_soon": len(found.due_soon),
        "uncovered": len(found.uncovered_stations),
    }


def _revenue(
    ctx: ApiState,
    session: Session,
    month: str,
    in_month: dict[tuple[str, str], tuple[float, float]],
) -> dict[str, Any]:
    """The month's revenue estimated from telemetry, and as far as it is settled."""
    kinds = {str(k) for k in ctx.settings.finance.settled_kinds}
    estimated = sum(y for (_, k), (_, y) in in_month.items() if k in kinds)
    settled = read_books(session, ctx.view().registry, ctx.today()).settled
    settled = settled[settled["period"] == month]
    expected = sum(1 for s in ctx.view().stations.values() if s.kind in kinds)
    return {
        "estimated_yuan": round(estimated, 2),
        "settled_yuan": round(float((settled["grid_yuan"] + settled["subsidy_yuan"]).sum()), 2),
        "settled_kwh": round(float(settled["export_kwh"].sum()), 1),
        "statements": len(settled),
        "stations": expected,
    }


def _latest(session: Session, table: type, last: dt.date) -> pd.DataFrame:
    """Each station's latest estimate made as of ``last`` or before."""
    rows = session.scalars(select(table).where(table.as_of <= last)).all()
    columns = [c.name for c in table.__table__.columns]
    frame = pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)
    return frame.sort_values("as_of").groupby("station_id").tail(1).set_index("station_id")


def _longterm(ctx: ApiState, session: Session, last: dt.date) -> dict[str, Any]:
    """The fleet's degradation and soiling as last estimated by ``last``: how many stations,
    the median, those beyond the limit or worth a cleaning, the fastest and dustiest named."""
    aged = _latest(session, tables.StationDegradation, last)
    dusty = _latest(session, tables.StationSoiling, last)
    limit = ctx.settings.analytics.degradation_limit_pct
    names = queries.place_names(ctx)
    fast = aged[aged["high_pct"] < -limit].sort_values("rate_pct")
    worth = dusty[dusty["lost_yuan"] > dusty["cleaning_yuan"]].sort_values(
        "lost_yuan", ascending=False
    )
    return {
        "degradation": {
            "stations": len(aged),
            "median_pct": round(float(aged["rate_pct"].median()), 2) if len(aged) else None,
            "beyond_limit": len(fast),
            "limit_pct": limit,
            "as_of": aged["as_of"].max() if len(aged) else None,
        },
        "soiling": {
            "stations": len(dusty),
            "median_loss_pct": round(100 * (1 - float(dusty["ratio"].median())), 2)
            if len(dusty)
            else None,
            "lost_yuan": round(float(dusty["lost_yuan"].sum()), 2),
            "worth_cleaning": len(worth),
            "window_days": ctx.settings.analytics.soiling_window_days,
            "as_of": dusty["as_of"].max() if len(dusty) else None,
        },
        "fastest": [
            {
                "station_id": s,
                "name": names.get(str(s), str(s)),
                **r[["rate_pct", "low_pct", "high_pct"]].round(2).to_dict(),
            }
            for s, r in fast.head(RANKED).iterrows()
        ],
        "dustiest": [
            {
                "station_id": s,
                "name": names.get(str(s), str(s)),
                "loss_now_pct": round(r["loss_now_pct"], 1),
                "lost_yuan": round(r["lost_yuan"], 2),
                "cleaning_yuan": round(r["cleaning_yuan"], 2),
            }
            for s, r in worth.head(RANKED).iterrows()
        ],
    }
