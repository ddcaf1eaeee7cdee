"""The county's money books: settlement statements and receipts (entered or imported by
the bureau), their reconciliation with the telemetry estimate, and what is still owed."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, UploadFile
from pydantic import ValidationError
from sqlalchemy import select

from api import money
from api.deps import Caller, Context, Db, Who, forbidden, not_found
from api.financemodels import (
    Aged,
    MoneyImported,
    ReceiptOut,
    Receivables,
    ReconciledMonth,
    Reconciliation,
    Saved,
    SettlementBody,
    SettlementOut,
    StationAged,
    VillageAged,
)
from api.params import MonthFilter, MonthPath, StationId
from api.responses import invalid_file, problems
from api.state import ApiState
from finance import actions
from finance.books import read_books
from finance.importing import MoneyInvalid, import_money
from finance.records import ReceiptIn, SettlementIn
from pvmon.db import tables
from pvmon.registry.validate import RowError, messages

router = APIRouter(prefix="/finance", tags=["money"])
FILE_SUFFIXES = (".csv", ".xlsx")


def reader(who: Caller) -> None:
    if not who.scope.reads_books:
        raise forbidden()


def keeper(who: Caller) -> None:
    if not who.scope.keeps_books:
        raise forbidden("the money's books are kept by the bureau")


def refused(exc: actions.MoneyRefused | ValidationError) -> HTTPException:
    """A refusal as the API answers it: 409 when a closed month stands in the way, else
    422 with the reason."""
    if isinstance(exc, ValidationError):
        return HTTPException(422, "; ".join(messages(exc)))
    return HTTPException(409 if exc.conflict else 422, exc.say("en"))


@router.get("/settlements", response_model=list[SettlementOut], summary="Settlement statements")
def settlements(
    who: Who,
    ctx: Context,
    session: Db,
    month: MonthFilter = None,
    station_id: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[SettlementOut]:
    """The statements of the caller's stations, newest month first, each with the subsidy
    it makes due (as stated, or by the rule)."""
    reader(who)
    q = select(tables.Settlement).order_by(
        tables.Settlement.period.desc(), tables.Settlement.station_id
    )
    if month:
        q = q.where(tables.Settlement.period == month)
    if station_id:
        q = q.where(tables.Settlement.station_id == station_id)
    rows = [r for r in session.scalars(q) if who.scope.sees_station(r.station_id)]
    rows = rows[offset : offset + limit]
    due = read_books(session, ctx.view().registry, ctx.today()).settled
    subsidy = {
        (s, p): (v, stated)
        for s, p, v, stated in zip(
            due["station_id"],
            due["period"],
            due["subsidy_yuan"],
            due["subsidy_stated"],
            strict=True,
        )
    }
    return [
        SettlementOut(
            station_id=r.station_id,
            period=r.period,
            export_kwh=r.export_kwh,
            grid_yuan=r.grid_yuan,
            subsidy_yuan=float(subsidy[(r.station_id, r.period)][0]),
            subsidy_stated=bool(subsidy[(r.station_id, r.period)][1]),
            number=r.number,
            settled_on=r.settled_on,
            entered_at=r.entered_at,
            entered_by=r.entered_by,
        )
        for r in rows
    ]


def _station(who: Caller, ctx: ApiState, station_id: str) -> None:
    if station_id not in ctx.view().stations or not who.scope.sees_station(station_id):
        raise not_found("station")


@router.put(
    "/settlements/{station_id}/{period}",
    response_model=Saved,
    summary="Enter or correct a statement",
    responses=problems(404, 409, 422),
)
def put_settlement(
    station_id: StationId,
    period: MonthPath,
    body: SettlementBody,
    who: Who,
    ctx: Context,
    session: Db,
) -> Saved:
    """The statement of one station's month; a second one for the same month corrects it
    (409 when a village holding the station has closed the month)."""
    _station(who, ctx, station_id)
    keeper(who)
    try:
        record = SettlementIn(station_id=station_id, period=period, **body.model_dump())
        outcome = actions.enter_settlement(
            session,
            ctx.view().registry,
            record,
            ctx.settings.finance.settled_kinds,
            who.by("api"),
            ctx.now(),
            ctx.today(),
        )
    except (actions.MoneyRefused, ValidationError) as exc:
        raise refused(exc) from None
    session.commit()
    return Saved(outcome=outcome)  # type: ignore[arg-type]


@router.get("/receipts", response_model=list[ReceiptOut], summary="Receipts")
def receipts(
    who: Who,
    session: Db,
    station_id: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ReceiptOut]:
    """Grid payments and subsidy received for the caller's stations, newest first."""
    reader(who)
    q = select(tables.Receipt).order_by(tables.Receipt.received_on.desc(), tables.Receipt.id.desc())
    if station_id:
        q = q.where(tables.Receipt.station_id == station_id)
    rows = [r for r in session.scalars(q) if who.scope.sees_station(r.station_id)]
    return [
        ReceiptOut.model_validate(r, from_attributes=True) for r in rows[offset : offset + limit]
    ]


@router.post(
    "/receipts",
    response_model=Saved,
    summary="Enter or correct a receipt",
    responses=problems(404, 409, 422),
)
def post_receipt(body: ReceiptIn, who: Who, ctx: Context, session: Db) -> Saved:
    """Money received for a station; the same station, kind and voucher again corrects it."""
    _station(who, ctx, body.station_id)
    keeper(who)
    try:
        outcome = actions.enter_receipt(
            session,
            ctx.view().registry,
            body,
            ctx.settings.finance.settled_kinds,
            who.by("api"),
            ctx.now(),
            ctx.today(),
        )
    except actions.MoneyRefused as exc:
        raise refused(exc) from None
    session.commit()
    return Saved(outcome=outcome)  # type: ignore[arg-type]


async def upload(file: UploadFile, limit: int) -> tuple[bytes, str]:
    """The upload's bytes and its name as sent (413 when too large, 422 when it is not a
    .csv or .xlsx file)."""
    name = Path(file.filename or "").name[:100] or "upload"
    if Path(name).suffix.lower() not in FILE_SUFFIXES:
        raise HTTPException(422, invalid_file([RowError(name, None, "not a .csv or .xlsx file")]))
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"larger than {limit // 1_000_000} MB")
    return data, name


def import_file(
    sheet: Literal["settlements", "receipts"],
    data: bytes,
    name: str,
    who: Caller,
    ctx: ApiState,
    channel: str = "api",
) -> MoneyImported:
    """Check the whole file, then write it in one transaction (422 naming every bad row).
    A county's bureau imports against its county's part of the registry: another county's
    station is an unknown one, and its row is refused with the rest of the file."""
    registry = ctx.view().registry
    if who.scope.county is not None:
        registry = registry.of_county(who.scope.county)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{Path(name).suffix.lower()}"
        path.write_bytes(data)
        try:
            with ctx.sessions.begin() as session:
                done = import_money(
                    session,
                    registry,
                    sheet,
                    path,
                    name,
                    ctx.settings.finance.settled_kinds,
                    who.by(channel),
                    ctx.now(),
                    ctx.today(),
                )
        except MoneyInvalid as exc:
            raise HTTPException(422, invalid_file(exc.errors)) from None
    return MoneyImported(**vars(done))


@router.post(
    "/settlements/import",
    response_model=MoneyImported,
    summary="Import statements from a file",
    responses=problems(413, 422),
)
async def import_settlements(who: Who, ctx: Context, file: UploadFile) -> MoneyImported:
    """A .csv or .xlsx of statements (columns by name; the pages' own export comes back as
    it went out): every row checked, any bad row → 422 naming each, and nothing changes."""
    keeper(who)
    data, name = await upload(file, ctx.settings.finance.upload_max_bytes)
    return import_file("settlements", data, name, who, ctx)


@router.post(
    "/receipts/import",
    response_model=MoneyImported,
    summary="Import receipts from a file",
    responses=problems(413, 422),
)
async def import_receipts(who: Who, ctx: Context, file: UploadFile) -> MoneyImported:
    """A .csv or .xlsx of receipts, checked whole like statements."""
    keeper(who)
    data, name = await upload(file, ctx.settings.finance.upload_max_bytes)
    return import_file("receipts", data, name, who, ctx)


@router.get(
    "/reconciliation",
    response_model=Reconciliation,
    summary="Settled months against the estimate",
)
def reconciliation(
    who: Who, ctx: Context, session: Db, month: MonthFilter = None
) -> Reconciliation:
    """Each settled month of the caller's stations beside the telemetry estimate (judged
    only when the estimate has every day), and the overdue statements."""
    reader(who)
    rows, missing = money.reconciliation(ctx, session, who)
    if month:
        rows = rows[rows["period"] == month]
    months = [
        ReconciledMonth(**{k: _none_if_nan(r[k]) for k in ReconciledMonth.model_fields})
        for r in rows.sort_values(["period", "station_id"]).to_dict("records")
    ]
    return Reconciliation(
        deviation_share=ctx.settings.finance.deviation_share, months=months, missing=missing
    )


def _none_if_nan(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


@router.get("/receivables", response_model=Receivables, summary="What is still owed, by age")
def receivables(who: Who, ctx: Context, session: Db) -> Receivables:
    """Grid payments and subsidy due against received, per station and village of the
    caller, aged from the end of the month owed for; the totals."""
    reader(who)
    found = money.aged(ctx, session, who)
    return Receivables(
        as_of=found.as_of,
        totals=[Aged(**r) for r in found.totals.drop(columns="everything").to_dict("records")],
        stations=[StationAged(**r) for r in found.stations.to_dict("records")],
        villages=[VillageAged(**r) for r in found.villages.to_dict("records")],
    )
