"""A village's disclosure sheet (公示), second version: its settled income by month (the
months not yet settled marked as estimates), each use of it, the balance, each household's
income, the posting period, whom to call to object and the signature lines — as a page, as
a PDF, and as published sheets kept unchanged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from api import money
from api.deps import Caller
from api.rendering import html_of
from api.routes import villages
from api.state import ApiState
from pvmon.i18n import Lang
from pvmon.pdf import pdf_of


def sheet(
    ctx: ApiState, session: Session, who: Caller, village_id: str, year: int
) -> dict[str, Any]:
    """What the sheet shows (404 outside the caller's scope, from ``villages.village``)."""
    detail = villages.village(village_id, who, ctx, session, year)
    view = ctx.view()
    printed = ctx.today()
    posting = ctx.settings.disclosure
    return {
        "v": detail,
        "books": money.village_year(ctx, session, village_id, year),
        "capacity": {sid: view.stations[sid].capacity_kwp for sid in detail.stations},
        "printed": printed,
        "posted_until": printed + dt.timedelta(days=posting.posting_days - 1),
        "office": posting.supervision_office,
        "phone": posting.supervision_phone,
        "households": villages.households(village_id, who, ctx),
    }


def pdf(ctx: ApiState, who: Caller, lang: Lang, data: dict[str, Any]) -> bytes:
    return pdf_of(html_of(ctx, "disclosure_pdf.html", lang, who, **data))


def figures(data: dict[str, Any]) -> dict[str, float | int]:
    """A published sheet's totals, for the archive's list."""
    books = data["books"]
    return {
        "income_yuan": books.income_yuan,
        "settled_yuan": books.settled_yuan,
        "settled_months": books.settled_months,
        "received_yuan": books.received_yuan,
        "used_yuan": books.used_yuan,
        "closing_balance": books.closing_balance,
    }
