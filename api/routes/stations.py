"""Stations: the list with state and KPIs, one station in full, and time series."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Literal

from fastapi import APIRouter, HTTPException, Response

from alerts import actions
from api import queries
from api.deps import Context, Db, Who, checked_time, not_found
from api.models import PersonOut, Series, SeriesPoint, StationDetail, StationItem
from api.params import DeviceId, Paging, StationId
from api.responses import problems
from pvmon.domain import StationKind
from pvmon.influx import schema
from pvmon.influx.client import series_values
from pvmon.influx.provision import ROLLUP_RP
from pvmon.localtime import utc
from pvmon.registry.schema import StationRow

router = APIRouter(tags=["stations"])

MAX_POINTS = 20_000
Resolution = Literal["raw", "5m", "1h", "1d"]
Field = Literal["W", "WH", "DCV", "DCA", "Hz", "TmpCab"]
STEP_S = {"raw": 60, "5m": 300, "1h": 3600, "1d": 86400}


def item(s: StationRow, ctx: Context, state: str, kpis: dict | None) -> StationItem:
    return StationItem(
        id=s.id,
        name=s.name,
        kind=str(s.kind),
        township_id=s.township_id,
        township=ctx.view().township_names.get(s.township_id, s.township_id),
        village_id=s.village_id,
        capacity_kwp=s.capacity_kwp,
        lat=s.lat,
        lon=s.lon,
        state=state,
        kpis=kpis,
    )


@router.get("/stations", response_model=list[StationItem], summary="Stations with state")
def stations_page(
    who: Who,
    ctx: Context,
    response: Response,
    page: Paging,
    kind: StationKind | None = None,
    township: str | None = None,
    state: StationState | None = None,
) -> list[StationItem]:
    """The caller's stations: state (fault, warning, offline, ok, unknown) and the KPIs of
    the last computed day (energy, specific yield, clear-sky index, peer index,
    availability)."""
    listed = chosen(who, ctx, kind, township, state)
    kpis = station_kpis(ctx)
    return [item(s, ctx, current, kpis.get(s.id)) for s, current in page.of(listed, response)]


StationState = Literal["fault", "warning", "offline", "ok", "unknown"]


def stations(
    who: Who,
    ctx: Context,
    kind: StationKind | None,
    township: str | None,
    state: StationState | None,
    only: Collection[str] | None = None,
) -> list[StationItem]:
    """Every station of the caller's that passes the filters (the pages list them all),
    or those of them in ``only`` (items are built for the stations listed alone)."""
    kpis = station_kpis(ctx)
    return [
        item(s, ctx, current, kpis.get(s.id))
        for s, current in chosen(who, ctx, kind, township, state)
        if only is None or s.id in only
    ]


STATION_KPIS_TTL_S = 86_400.0
"""The stations' figures are read again when the fleet's last rollup changes, at the latest
after a day."""
ROLLUP_CHECK_S = 60.0
"""How often the fleet's last rollup is asked whether it changed."""


def station_kpis(ctx: Context) -> dict[str, dict]:
    """Each station's figures of the last computed day: a province's 224,000 rows, read
    again only when the fleet's last rollup changed (a day computed, or computed again),
    which one small query asks each minute. Read every minute, they held an API process
    for seconds each time."""
    last = ctx.cached("last_fleet_rollup", lambda: queries.last_fleet_rollup(ctx), ROLLUP_CHECK_S)
    return ctx.cached(
        "station_kpis",
        lambda: queries.station_kpis_on(ctx, last),
        STATION_KPIS_TTL_S,
        version=last,
    )


def chosen(
    who: Who,
    ctx: Context,
    kind: StationKind | None,
    township: str | None,
    state: StationState | None,
) -> list[tuple[StationRow, str]]:
    """The caller's stations that pass the filters, each with its state, kept a minute per
    scope and filters: a page of a province's list then costs its own items, not a pass
    over every station."""
    return ctx.cached(
        ("station_list", who.scope, kind, township, state),
        lambda: _chosen(who, ctx, kind, township, state),
    )


def _chosen(
    who: Who,
    ctx: Context,
    kind: StationKind | None,
    township: str | None,
    state: StationState | None,
) -> list[tuple[StationRow, str]]:
    """The caller's stations that pass the filters, each with its state."""
    alerts = ctx.cached("alerts_by_station", lambda: queries.open_alerts_by_station(ctx))
    online = ctx.cached("loggers_online", lambda: queries.loggers_online(ctx))
    out = []
    for s in ctx.view().stations.values():
        if not who.scope.sees_station(s.id):
            continue
        if (kind and s.kind != kind) or (township and s.township_id != township):
            continue
        current = queries.station_state(s.id, alerts, online)
        if state and current != state:
            continue
        out.append((s, current))
    return out


def _station(who: Who, ctx: Context, station_id: str) -> StationRow:
    s = ctx.view().stations.get(station_id)
    if s is None or not who.scope.sees_station(station_id):
        raise not_found("station")
    return s


@router.get(
    "/stations/{station_id}",
    response_model=StationDetail,
    summary="One station",
    responses=problems(404),
)
def station(station_id: StationId, who: Who, ctx: Context, session: Db) -> StationDetail:
    s = _station(who, ctx, station_id)
    view = ctx.view()
    report = queries.certification(ctx, ctx.today())
    valid = {r.person_id for r in report.requirements if r.valid}
    crew = (
        view.crews.get(s.id, [])
        if s.kind != StationKind.HOUSEHOLD
        else (view.village_crews.get(s.village_id or "", []))
    )
    rows = actions.list_alerts(session, actions.AlertFilter(state="active", station_id=s.id))
    base = item(s, ctx, queries.one_station_state(session, s.id), None)
    return StationDetail(
        **base.model_dump(),
        tilt_deg=s.tilt_deg,
        azimuth_deg=s.azimuth_deg,
        commissioned_on=s.commissioned_on,
        inverters=[i.id for i in view.station_inverters(s.id, ctx.today())],
        owners=view.owners_on(s.id, ctx.today()),
        maintainers=[
            PersonOut(
                id=p,
                name=view.people[p].name,
                role=str(view.people[p].role),
                mobile=view.people[p].mobile,
                certified=p in valid,
            )
            for p in crew
            if p in view.people
        ],
        days=queries.station_days(ctx, s.id, 30),
        open_alerts=[
            {"id": a.id, "rule": a.rule, "severity": a.severity, "state": a.state} for a in rows
        ],
    )


def _range(
    ctx: Context, start: dt.datetime | None, end: dt.datetime | None, resolution: str
) -> tuple[int, int]:
    stop = checked_time(end or ctx.now(), ctx)
    begin = checked_time(start or stop - dt.timedelta(days=1), ctx)
    first, last = int(begin.timestamp()), int(stop.timestamp())
    if last <= first:
        raise HTTPException(400, "end is not after start")
    if (last - first) / STEP_S[resolution] > MAX_POINTS:
        raise HTTPException(400, f"more than {MAX_POINTS} points: choose a coarser resolution")
    return first, last


def _points(series: list[dict]) -> list[SeriesPoint]:
    return [SeriesPoint(t=utc(r["time"]), value=r["value"]) for r in series_values(series)]


def _telemetry(
    ctx: Context, tag: str, value: str, field: str, resolution: str, first: int, last: int
) -> list[SeriesPoint]:
    where = f"time >= {first}s AND time < {last}s AND \"{tag}\" = '{value}'"
    if resolution == "raw":
        q = f'SELECT "{field}" AS value FROM "{schema.TELEMETRY}" WHERE {where}'
        if tag == "station":
            q = (
                f'SELECT SUM("{field}") AS value FROM "{schema.TELEMETRY}" WHERE {where} '
                "GROUP BY time(1m) fill(none)"
            )
    else:
        agg = "SUM" if tag == "station" and field == "W" else "MEAN"
        inner = (
            f'SELECT MEAN("{field}") AS v FROM "{schema.TELEMETRY}" WHERE {where} '
            f'GROUP BY time({resolution}), "device" fill(none)'
        )
        q = (
            f'SELECT {agg}("v") AS value FROM ({inner}) WHERE time >= {first}s AND '
            f"time < {last}s GROUP BY time({resolution}) fill(none)"
        )
    return _points(ctx.influx.query(q))


@router.get(
    "/stations/{station_id}/series",
    response_model=Series,
    summary="A station's time series",
    responses=problems(400, 404),
)
def station_series(
    station_id: StationId,
    who: Who,
    ctx: Context,
    field: Field = "W",
    resolution: Resolution = "5m",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Series:
    """AC power (summed over the inverters) or another field averaged per interval; at
    ``1d``, the daily energy (kWh) from the rollups. Default: the last 24 hours."""
    _station(who, ctx, station_id)
    first, last = _range(ctx, start, end, resolution)
    if resolution == "1d":
        q = (
            f'SELECT "energy_kwh" AS value FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" '
            f"WHERE time >= {first}s AND time < {last}s AND \"station\" = '{station_id}'"
        )
        return Series(
            subject=station_id,
            field="energy_kwh",
            resolution="1d",
            points=_points(ctx.influx.query(q)),
        )
    points = _telemetry(ctx, "station", station_id, field, resolution, first, last)
    return Series(subject=station_id, field=field, resolution=resolution, points=points)


@router.get(
    "/devices/{device_id}/series",
    response_model=Series,
    summary="An inverter's series",
    responses=problems(400, 404),
)
def device_series(
    device_id: DeviceId,
    who: Who,
    ctx: Context,
    field: Field = "W",
    resolution: Literal["raw", "5m", "1h"] = "5m",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Series:
    station_of = {i.id: i.station_id for i in ctx.view().registry.inverters}
    if device_id not in station_of or not who.scope.sees_station(station_of[device_id]):
        raise not_found("device")
    first, last = _range(ctx, start, end, resolution)
    points = _telemetry(ctx, "device", device_id, field, resolution, first, last)
    return Series(subject=device_id, field=field, resolution=resolution, points=points)
