"""A village's books: its months (estimated, settled, closed), the adjustments, how it used
its income and the balance, and its published disclosure sheets."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import Response
from pydantic import ValidationError

from api import disclosure, money
from api.deps import Caller, Context, Db, Who, forbidden, not_found
from api.financemodels import (
    AdjustmentBody,
    AdjustmentOut,
    DisclosureOut,
    Figures,
    MonthOut,
    UseBody,
    UseOut,
    VillageBooks,
)
from api.params import MonthPath, Paging, VillageId, Year
from api.responses import files, problems
from api.routes.money import refused
from api.routes.villages import village_of
from api.state import ApiState
from finance import actions, disclosures, views
from finance.records import AdjustmentIn, UseIn
from pvmon.db import tables
from pvmon.i18n import Lang

router = APIRouter(prefix="/villages/{village_id}", tags=["money"])
DisclosureId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The sheet's number")]
PDF = "application/pdf"


def books_reader(who: Caller, ctx: ApiState, village_id: str) -> None:
    """The village's books: its collective, the bureau, its township's supervisor (404
    outside the scope; a maintainer looks after the equipment, not the money)."""
    village_of(who, ctx, village_id)
    if who.scope.role == "maintainer":
        raise forbidden()


def book_keeper(who: Caller, ctx: ApiState, village_id: str, what: str) -> None:
    """Close a village's months, book its adjustments: the bureau (404 outside the scope)."""
    village_of(who, ctx, village_id)
    if not who.scope.keeps_books:
        raise forbidden(f"{what} by the bureau")


def month_out(m: views.Month) -> MonthOut:
    return MonthOut(
        period=m.period,
        state=m.state,  # type: ignore[arg-type]
        estimated=Figures(**m.estimated.as_dict()) if m.estimated else None,
        settled=Figures(**m.settled.as_dict()) if m.settled else None,
        adjustments=[AdjustmentOut(**a) for a in m.adjustments],
        adjustments_yuan=m.adjustments_yuan,
        income_yuan=m.income_yuan,
        missing=m.missing,
        lines=m.lines,
        closed_at=m.closed_at,  # type: ignore[arg-type]
        closed_by=m.closed_by,
    )


@router.get(
    "/books",
    response_model=VillageBooks,
    summary="A village's months, uses and balance",
    responses=problems(404),
)
def books(
    village_id: VillageId, who: Who, ctx: Context, session: Db, year: Year = None
) -> VillageBooks:
    """Each month of the year (estimated until every station's statement is in, then
    settled, then closed), the adjustments, the uses with what the rules say against them,
    the cash received and used, and what is still owed to the village."""
    books_reader(who, ctx, village_id)
    found = money.village_year(ctx, session, village_id, year or ctx.today().year)
    return VillageBooks(
        village_id=village_id,
        year=found.year,
        target_yuan=ctx.settings.targets.village_income_yuan,
        months=[month_out(m) for m in found.months],
        settled_months=found.settled_months,
        settled_yuan=found.settled_yuan,
        income_yuan=found.income_yuan,
        settled_check=found.settled_check(ctx.settings.targets.village_income_yuan),  # type: ignore[arg-type]
        opening_balance=found.opening_balance,
        received_yuan=found.received_yuan,
        used_yuan=found.used_yuan,
        closing_balance=found.closing_balance,
        uses=[UseOut(**dataclasses.asdict(u)) for u in found.uses],
        outstanding=found.outstanding,
    )


@router.post(
    "/months/{period}/close",
    response_model=MonthOut,
    summary="Close a settled month",
    responses=problems(404, 409, 422),
)
def close(
    village_id: VillageId, period: MonthPath, who: Who, ctx: Context, session: Db
) -> MonthOut:
    """Keep the month's settled figures as they are: nothing of it changes afterwards (409
    while it is not settled, or once it is closed)."""
    book_keeper(who, ctx, village_id, "months are closed")
    try:
        actions.close_month(
            session, ctx.view().registry, village_id, period, who.by("api"), ctx.now(), ctx.today()
        )
    except actions.MoneyRefused as exc:
        raise refused(exc) from None
    session.commit()
    return month_out(views.month(money.books(ctx, session, [village_id]), village_id, period))


@router.post(
    "/adjustments",
    response_model=AdjustmentOut,
    status_code=201,
    summary="Book a correction this month",
    responses=problems(404, 422),
)
def adjust(
    village_id: VillageId, body: AdjustmentBody, who: Who, ctx: Context, session: Db
) -> AdjustmentOut:
    """A correction of the village's income, with its reason, booked in the current month
    (a closed month is never rewritten)."""
    book_keeper(who, ctx, village_id, "adjustments are booked")
    try:
        row = actions.adjust(
            session,
            village_id,
            AdjustmentIn(**body.model_dump()),
            who.by("api"),
            ctx.now(),
            ctx.today(),
        )
    except (actions.MoneyRefused, ValidationError) as exc:
        raise refused(exc) from None
    session.commit()
    return AdjustmentOut.model_validate(row, from_attributes=True)


def use_keeper(who: Caller, ctx: ApiState, village_id: str) -> None:
    village_of(who, ctx, village_id)
    if not who.scope.records_uses(village_id):
        raise forbidden("uses are recorded by the village's collective or the bureau")


@router.post(
    "/uses",
    status_code=201,
    response_model=int,
    summary="Record a use of the income",
    responses=problems(404, 409, 422),
)
def record_use(village_id: VillageId, body: UseBody, who: Who, ctx: Context, session: Db) -> int:
    """What the village did with its PV income, by category; its number. Recorded even when
    the rules forbid it (it happened, and is disclosed), and flagged."""
    use_keeper(who, ctx, village_id)
    try:
        row = actions.record_use(
            session, village_id, UseIn(**body.model_dump()), who.by("api"), ctx.now(), ctx.today()
        )
    except (actions.MoneyRefused, ValidationError) as exc:
        raise refused(exc) from None
    session.commit()
    return row.id


@router.delete(
    "/uses/{use_id}",
    status_code=204,
    response_class=Response,
    summary="Take back a use recorded by mistake",
    responses=problems(404, 409, 422),
)
def remove_use(
    village_id: VillageId,
    use_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    reason: Annotated[str, Query(min_length=2, max_length=500)],
    who: Who,
    ctx: Context,
    session: Db,
) -> Response:
    use_keeper(who, ctx, village_id)
    try:
        actions.remove_use(session, village_id, use_id, reason, who.by("api"), ctx.now())
    except actions.MoneyRefused as exc:
        if exc.key == "money.no_such_use":
            raise not_found("use") from None
        raise refused(exc) from None
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def disclosure_out(row: tables.Disclosure) -> DisclosureOut:
    return DisclosureOut(
        id=row.id,
        year=row.year,
        published_at=row.published_at,
        published_by=row.published_by,
        posted_from=row.posted_from,
        posted_until=row.posted_until,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        url=f"/api/v1/villages/{row.village_id}/disclosures/{row.id}.pdf",
    )


@router.get(
    "/disclosures",
    response_model=list[DisclosureOut],
    summary="The village's published disclosure sheets",
    responses=problems(404),
)
def archive(
    village_id: VillageId, who: Who, ctx: Context, session: Db, response: Response, page: Paging
) -> list[DisclosureOut]:
    books_reader(who, ctx, village_id)
    return [disclosure_out(r) for r in page.of(disclosures.archive(session, village_id), response)]


def publish_sheet(
    ctx: ApiState, session: Db, who: Caller, village_id: str, year: int, lang: Lang, channel: str
) -> tables.Disclosure:
    """Render the sheet as it stands, keep its PDF unchanged, and list it in the archive."""
    data = disclosure.sheet(ctx, session, who, village_id, year)
    pdf = disclosure.pdf(ctx, who, lang, data)
    row = disclosures.publish(
        session,
        ctx.settings,
        village_id,
        year,
        pdf,
        disclosure.figures(data),
        (data["printed"], data["posted_until"]),
        who.by(channel),
        ctx.now(),
    )
    session.commit()
    return row


@router.post(
    "/disclosures",
    response_model=DisclosureOut,
    status_code=201,
    summary="Publish the disclosure sheet",
    responses=problems(404),
)
def publish(
    village_id: VillageId,
    who: Who,
    ctx: Context,
    session: Db,
    year: Year = None,
    lang: Annotated[Lang, Query()] = "zh",
) -> DisclosureOut:
    """The sheet of the year as it stands now, as a PDF kept unchanged in the archive with
    its SHA-256."""
    use_keeper(who, ctx, village_id)
    row = publish_sheet(ctx, session, who, village_id, year or ctx.today().year, lang, "api")
    return disclosure_out(row)


@router.get(
    "/disclosures/{disclosure_id}.pdf",
    response_class=Response,
    summary="A published sheet, as it was published",
    responses={**files(PDF), **problems(404)},
)
def archived(
    village_id: VillageId, disclosure_id: DisclosureId, who: Who, ctx: Context, session: Db
) -> Response:
    books_reader(who, ctx, village_id)
    return archived_pdf(ctx, session, village_id, disclosure_id)


def archived_pdf(ctx: ApiState, session: Db, village_id: str, disclosure_id: int) -> Response:
    row = session.get(tables.Disclosure, disclosure_id)
    if row is None or row.village_id != village_id:
        raise not_found("disclosure sheet")
    try:
        data = disclosures.read_archived(ctx.settings, row)
    except disclosures.ArchiveDamaged as exc:
        raise HTTPException(503, f"the archived sheet cannot be served: {exc}") from None
    return Response(
        data,
        media_type=PDF,
        headers={
            "Content-Disposition": f'inline; filename="{village_id}-{row.year}-{row.id}.pdf"',
            "X-Content-SHA256": row.sha256,
        },
    )
