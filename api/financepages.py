"""The money's pages for the bureau and the township supervisors: the year's settled money
beside the estimate, what is owed by age, each month's villages by state, settled months
that disagree with the estimate and statements that have not come; the bureau enters
statements and receipts (by hand or by file) and closes months here. The audit log's page
is the bureau's."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api import forms, money
from api.deps import Caller, Context, Db
from api.pages import Viewer, lang_of, problem_page, render, visible_townships
from api.params import MonthFilter, TownshipFilter
from api.routes import audit
from api.routes import money as money_routes
from api.state import ApiState
from finance import actions
from finance.records import ReceiptIn, ReceiptKind, SettlementIn
from pvmon.i18n import text
from pvmon.localtime import month_add, month_of
from pvmon.registry.schema import SHEET_MODELS

router = APIRouter(include_in_schema=False)
Field = Annotated[str | None, Form(max_length=200)]
MONTHS_SHOWN = 12
AUDITED = [
    *SHEET_MODELS,
    "settlements",
    "receipts",
    "village_months",
    "adjustments",
    "income_uses",
    "disclosures",
]
"""What the audit log records changes of: the registry's sheets and the money's records."""
PAGE = 50


def page(
    request: Request,
    who: Caller,
    ctx: ApiState,
    session: Session,
    problem: str | None = None,
    status: int = 200,
    done: str | None = None,
) -> Response:
    if not who.scope.reads_books:
        return problem_page(request, who, 403, "money.not_yours")
    current = month_of(ctx.today())
    periods = [month_add(current, -n) for n in range(MONTHS_SHOWN)]
    states = money.month_states(ctx, session, who, periods)
    counts = {
        p: {s: int((part["state"] == s).sum()) for s in ("estimated", "settled", "closed")}
        for p, part in states.groupby("period")
    }
    rows, missing = money.reconciliation(ctx, session, who)
    flagged = rows[rows["flagged"]].sort_values("period", ascending=False) if len(rows) else rows
    shown = render(
        request,
        "finance.html",
        who,
        summary=money.year_money(ctx, session, who, (rows, missing)),
        periods=periods,
        current=current,
        counts=counts,
        flagged=[_clean(r) for r in flagged.head(20).to_dict("records")],
        missing=sorted(missing.items())[:20],
        missing_count=len(missing),
        share=ctx.settings.finance.deviation_share,
        keeps_books=who.scope.keeps_books,
        kinds=[str(k) for k in ReceiptKind],
        problem=problem,
        done=done,
    )
    shown.status_code = status
    return shown


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}


@router.get("/finance")
def finance_page(
    request: Request, who: Viewer, ctx: Context, session: Db, done: str | None = None
) -> Response:
    return page(request, who, ctx, session, done=done)


def keep(
    request: Request, who: Caller, ctx: ApiState, session: Session, step: Any, done: str
) -> Response:
    """A step on the books by the bureau; the page again with the reason if it cannot."""
    if not who.scope.keeps_books:
        return problem_page(request, who, 403, "money.not_yours")
    lang = lang_of(request)
    try:
        step()
    except ValidationError as exc:
        session.rollback()
        return page(request, who, ctx, session, forms.problems(exc, lang), 422)
    except actions.MoneyRefused as exc:
        session.rollback()
        return page(request, who, ctx, session, exc.say(lang), 409 if exc.conflict else 422)
    except HTTPException as exc:
        session.rollback()
        return page(request, who, ctx, session, _detail(exc, lang), exc.status_code)
    session.commit()
    return RedirectResponse(f"/finance?done={done}", 303)


def _detail(exc: HTTPException, lang: str) -> str:
    detail = exc.detail
    if isinstance(detail, list):
        return "\n".join(d["msg"] for d in detail)
    return str(detail) if exc.status_code != 404 else text("not_found", lang)  # type: ignore[arg-type]


def enter(
    request: Request,
    who: Caller,
    ctx: ApiState,
    session: Session,
    record: type[SettlementIn] | type[ReceiptIn],
    values: dict[str, str],
    done: str,
) -> Response:
    """A statement or a receipt from its form, entered as the bureau's."""

    def step() -> None:
        found = record.model_validate(values)
        if not who.scope.sees_station(found.station_id):
            raise actions.MoneyRefused("money.unknown_station", station=found.station_id)
        save = actions.enter_settlement if record is SettlementIn else actions.enter_receipt
        save(
            session,
            ctx.view().registry,
            found,  # type: ignore[arg-type]
            ctx.settings.finance.settled_kinds,
            who.by("web"),
            ctx.now(),
            ctx.today(),
        )

    return keep(request, who, ctx, session, step, done)


@router.post("/finance/settlements")
def settlement_form(
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    station_id: Field = None,
    period: Field = None,
    export_kwh: Field = None,
    grid_yuan: Field = None,
    subsidy_yuan: Field = None,
    number: Field = None,
    settled_on: Field = None,
) -> Response:
    values = forms.filled(
        station_id=station_id,
        period=period,
        export_kwh=export_kwh,
        grid_yuan=grid_yuan,
        subsidy_yuan=subsidy_yuan,
        number=number,
        settled_on=settled_on,
    )
    return enter(request, who, ctx, session, SettlementIn, values, "settlement")


@router.post("/finance/receipts")
def receipt_form(
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    station_id: Field = None,
    kind: Field = None,
    covers_from: Field = None,
    covers_to: Field = None,
    amount_yuan: Field = None,
    received_on: Field = None,
    reference: Field = None,
) -> Response:
    values = forms.filled(
        station_id=station_id,
        kind=kind,
        covers_from=covers_from,
        covers_to=covers_to or covers_from,
        amount_yuan=amount_yuan,
        received_on=received_on,
        reference=reference,
    )
    return enter(request, who, ctx, session, ReceiptIn, values, "receipt")


@router.post("/finance/import")
async def import_form(
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    kind: Annotated[str, Form(pattern="^(settlements|receipts)$")],
    file: UploadFile,
) -> Response:
    if not who.scope.keeps_books:
        return problem_page(request, who, 403, "money.not_yours")
    try:
        data, name = await money_routes.upload(file, ctx.settings.finance.upload_max_bytes)
        done = money_routes.import_file(kind, data, name, who, ctx, "web")  # type: ignore[arg-type]
    except HTTPException as exc:
        return page(request, who, ctx, session, _detail(exc, lang_of(request)), exc.status_code)
    return RedirectResponse(f"/finance?done=import-{done.added}-{done.changed}", 303)


@router.post("/finance/close")
def close_form(
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    month: Annotated[str, Form(pattern=r"^20\d\d-(0[1-9]|1[0-2])$")],
) -> Response:
    """Close the month of every settled village the bureau sees."""

    def step() -> None:
        registry = ctx.view().registry
        mine = [v.id for v in registry.villages if who.scope.sees_village(v.id)]
        actions.close_months(session, registry, mine, month, who.by("web"), ctx.now(), ctx.today())

    return keep(request, who, ctx, session, step, f"close-{month}")


@router.get("/finance/receivables")
def receivables_page(
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    township: TownshipFilter = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Response:
    if not who.scope.reads_books:
        return problem_page(request, who, 403, "money.not_yours")
    found = money.aged(ctx, session, who)
    view = ctx.view()
    stations = found.stations
    if township:
        stations = money.seen(
            stations, "station_id", lambda s: view.stations[s].township_id == township
        )
    owing = stations[stations["outstanding_yuan"] > 0.005]
    total = len(owing)
    rows = owing.iloc[(page_number - 1) * PAGE : page_number * PAGE].to_dict("records")
    pages = max(1, -(-total // PAGE))
    return render(
        request,
        "receivables.html",
        who,
        found=found,
        totals=found.totals.to_dict("records"),
        rows=rows,
        villages=found.villages[found.villages["outstanding_yuan"] > 0.005]
        .head(100)
        .to_dict("records"),
        townships=visible_townships(who, ctx),
        township=township,
        paging={"number": page_number, "pages": pages, "total": total},
        url=lambda n: (
            f"/finance/receivables?page={n}" + (f"&township={township}" if township else "")
        ),
    )


@router.get("/finance/settlements")
def settlements_page(
    request: Request, who: Viewer, ctx: Context, session: Db, month: MonthFilter = None
) -> Response:
    """A month's statements beside their estimate, and the stations whose are overdue."""
    if not who.scope.reads_books:
        return problem_page(request, who, 403, "money.not_yours")
    chosen = month or month_add(month_of(ctx.today()), -1)
    rows, missing = money.reconciliation(ctx, session, who)
    rows = rows[rows["period"] == chosen] if len(rows) else rows
    return render(
        request,
        "settlements.html",
        who,
        month=chosen,
        rows=[_clean(r) for r in rows.sort_values("station_id").to_dict("records")],
        missing=sorted(s for s, months in missing.items() if chosen in months),
        share=ctx.settings.finance.deviation_share,
    )


@router.get("/audit")
def audit_page(
    request: Request,
    who: Viewer,
    ctx: Context,
    session: Db,
    entity: Annotated[str | None, Query(max_length=64)] = None,
    key: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    if not who.scope.reads_audit:
        return problem_page(request, who, 403, "money.not_yours")
    f = audit.AuditFilter(entity or None, key or None, actor or None)
    rows, total = audit.entries(session, ctx, f, PAGE, (page_number - 1) * PAGE)
    query = urlencode({k: v for k, v in (("entity", entity), ("key", key), ("actor", actor)) if v})
    return render(
        request,
        "audit.html",
        who,
        rows=rows,
        entity=entity,
        entities=AUDITED,
        key=key,
        actor_id=actor,
        paging={"number": page_number, "pages": max(1, -(-total // PAGE)), "total": total},
        url=lambda n: f"/audit?page={n}" + (f"&{query}" if query else ""),
        query=query,
    )
