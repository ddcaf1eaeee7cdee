"""A village's pages: its income month by month (estimated, settled, closed), how it used
it and the balance, what is still owed to it, its households, and its disclosure sheet —
a page, a PDF, and the archive of published sheets. The collective records its uses and
publishes its sheet here; the bureau also books adjustments and closes months."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api import disclosure, formatting, forms, money
from api.deps import Caller, Context, Db
from api.pages import Viewer, lang_of, problem_page, render
from api.params import MonthPath, VillageId, Year
from api.routes import villagebooks, villages
from api.state import ApiState
from finance import actions, disclosures
from finance.records import AdjustmentIn, UseCategory, UseIn
from pvmon.i18n import text

router = APIRouter(include_in_schema=False)
Field = Annotated[str | None, Form(max_length=500)]


def _chart(books: Any, lang: str) -> dict[str, Any] | None:
    if not books.months:
        return None
    return formatting.bars(
        f"{text('by_month', lang)} · {books.year}",  # type: ignore[arg-type]
        text("yuan", lang),  # type: ignore[arg-type]
        [m.period for m in books.months],
        {
            text("month_state.settled", lang): [  # type: ignore[arg-type]
                round(m.income_yuan) if m.state != "estimated" and m.income_yuan else None
                for m in books.months
            ],
            text("month_state.estimated", lang): [  # type: ignore[arg-type]
                round(m.income_yuan) if m.state == "estimated" and m.income_yuan else None
                for m in books.months
            ],
        },
    )


def show(
    request: Request,
    who: Caller,
    ctx: ApiState,
    session: Session,
    village_id: str,
    year: int | None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    try:
        detail = villages.village(village_id, who, ctx, session, year)
    except HTTPException:
        return problem_page(request, who, 404, "not_found")
    lang = lang_of(request)
    books = (
        None
        if who.scope.role == "maintainer"
        else money.village_year(ctx, session, village_id, detail.year)
    )
    page = render(
        request,
        "village.html",
        who,
        v=detail,
        year=detail.year,
        books=books,
        months_chart=_chart(books, lang) if books else None,
        households=villages.households(village_id, who, ctx),
        archive=disclosures.archive(session, village_id) if books else [],
        records_uses=who.scope.records_uses(village_id),
        keeps_books=who.scope.keeps_books,
        categories=[str(c) for c in UseCategory],
        current=ctx.today().strftime("%Y-%m"),
        settled_check=books.settled_check(ctx.settings.targets.village_income_yuan)
        if books
        else None,
        problem=problem,
    )
    page.status_code = status
    return page


@router.get("/villages/{village_id}")
def village_page(
    village_id: VillageId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    year: Year = None,
) -> Response:
    return show(request, who, ctx, session, village_id, year)


def act(
    request: Request,
    who: Caller,
    ctx: ApiState,
    session: Session,
    village_id: str,
    step: Callable[[], object],
    anchor: str,
    year: int | None = None,
) -> Response:
    """Take a step on the village's books; the page again with the reason if it cannot."""
    lang = lang_of(request)
    try:
        step()
    except HTTPException as exc:
        session.rollback()
        if exc.status_code == 404:
            return problem_page(request, who, 404, "not_found")
        return show(
            request, who, ctx, session, village_id, year, text("money.not_yours", lang), 403
        )
    except ValidationError as exc:
        session.rollback()
        return show(request, who, ctx, session, village_id, year, forms.problems(exc, lang), 422)
    except actions.MoneyRefused as exc:
        session.rollback()
        status = 409 if exc.conflict else 422
        return show(request, who, ctx, session, village_id, year, exc.say(lang), status)
    session.commit()
    query = f"?year={year}" if year else ""
    return RedirectResponse(f"/villages/{village_id}{query}#{anchor}", 303)


@router.post("/villages/{village_id}/uses")
def use_form(
    village_id: VillageId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    used_on: Field = None,
    category: Field = None,
    description: Field = None,
    amount_yuan: Field = None,
    person: Field = None,
    months: Field = None,
    monthly_yuan: Field = None,
) -> Response:
    values = forms.filled(
        used_on=used_on,
        category=category,
        description=description,
        amount_yuan=amount_yuan,
        person=person,
        months=months,
        monthly_yuan=monthly_yuan,
    )

    def step() -> None:
        villagebooks.use_keeper(who, ctx, village_id)
        use = UseIn.model_validate(values)
        actions.record_use(session, village_id, use, who.by("web"), ctx.now(), ctx.today())

    return act(request, who, ctx, session, village_id, step, "uses")


@router.post("/villages/{village_id}/uses/{use_id}/remove")
def remove_use_form(
    village_id: VillageId,
    use_id: int,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    reason: Field = None,
) -> Response:
    def step() -> None:
        villagebooks.use_keeper(who, ctx, village_id)
        why = (reason or "").strip()
        if len(why) < 2:
            raise actions.MoneyRefused("money.reason_needed")
        actions.remove_use(session, village_id, use_id, why, who.by("web"), ctx.now())

    return act(request, who, ctx, session, village_id, step, "uses")


@router.post("/villages/{village_id}/adjustments")
def adjustment_form(
    village_id: VillageId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    amount_yuan: Field = None,
    reason: Field = None,
    corrects: Field = None,
) -> Response:
    values = forms.filled(amount_yuan=amount_yuan, reason=reason, corrects=corrects)

    def step() -> None:
        villagebooks.book_keeper(who, ctx, village_id, "adjustments are booked")
        made = AdjustmentIn.model_validate(values)
        actions.adjust(session, village_id, made, who.by("web"), ctx.now(), ctx.today())

    return act(request, who, ctx, session, village_id, step, "months")


@router.post("/villages/{village_id}/months/{period}/close")
def close_form(
    village_id: VillageId,
    period: MonthPath,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
) -> Response:
    def step() -> None:
        villagebooks.book_keeper(who, ctx, village_id, "months are closed")
        actions.close_month(
            session, ctx.view().registry, village_id, period, who.by("web"), ctx.now(), ctx.today()
        )

    return act(request, who, ctx, session, village_id, step, "months", int(period[:4]))


def sheet_of(
    request: Request, who: Caller, ctx: ApiState, session: Session, village_id: str, year: int
) -> dict[str, Any] | Response:
    """The disclosure sheet's data, or the page saying why the caller may not see it."""
    if who.scope.role == "maintainer":
        return problem_page(request, who, 403, "money.not_yours")
    try:
        return disclosure.sheet(ctx, session, who, village_id, year)
    except HTTPException:
        return problem_page(request, who, 404, "not_found")


@router.get("/villages/{village_id}/disclosure")
def disclosure_page(
    village_id: VillageId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    year: Year = None,
) -> Response:
    data = sheet_of(request, who, ctx, session, village_id, year or ctx.today().year)
    if isinstance(data, Response):
        return data
    may_publish = who.scope.records_uses(village_id)
    return render(request, "disclosure.html", who, may_publish=may_publish, **data)


@router.get("/villages/{village_id}/disclosure.pdf")
def disclosure_pdf(
    village_id: VillageId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    year: Year = None,
) -> Response:
    """The sheet as it stands, as a PDF to print (not kept: publishing keeps one)."""
    chosen = year or ctx.today().year
    data = sheet_of(request, who, ctx, session, village_id, chosen)
    if isinstance(data, Response):
        return data
    return Response(
        disclosure.pdf(ctx, who, lang_of(request), data),
        media_type=villagebooks.PDF,
        headers={"Content-Disposition": f'inline; filename="{village_id}-{chosen}.pdf"'},
    )


@router.post("/villages/{village_id}/disclosures")
def publish_form(
    village_id: VillageId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    year: Year = None,
) -> Response:
    chosen = year or ctx.today().year

    def step() -> None:
        villagebooks.use_keeper(who, ctx, village_id)
        villagebooks.publish_sheet(ctx, session, who, village_id, chosen, lang_of(request), "web")

    return act(request, who, ctx, session, village_id, step, "archive", chosen)


@router.get("/villages/{village_id}/disclosures/{disclosure_id}.pdf")
def archived_pdf(
    village_id: VillageId,
    disclosure_id: villagebooks.DisclosureId,
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
) -> Response:
    try:
        villagebooks.books_reader(who, ctx, village_id)
        return villagebooks.archived_pdf(ctx, session, village_id, disclosure_id)
    except HTTPException as exc:
        return problem_page(request, who, exc.status_code, "not_found")
