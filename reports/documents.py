"""A report as files: the PDF (the pages' templates, WeasyPrint) and, for the monthly
report, an XLSX workbook of the same tables (the exports' sheet layout)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from api.rendering import html_of
from api.routes.exports import AGEING_COLUMNS, Column, add_sheet
from api.state import ApiState
from pvmon.i18n import Lang, text
from pvmon.pdf import pdf_of
from reports.monthly import MonthlyReport
from reports.quarterly import VillageQuarter

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def monthly_pdf(ctx: ApiState, r: MonthlyReport, lang: Lang) -> bytes:
    return pdf_of(html_of(ctx, "report_monthly.html", lang, None, r=r))


def village_pdf(ctx: ApiState, q: VillageQuarter, lang: Lang) -> bytes:
    return pdf_of(html_of(ctx, "report_village.html", lang, None, q=q))


def monthly_xlsx(r: MonthlyReport, lang: Lang) -> bytes:
    """The report's tables, one sheet each, each headed by what it is."""
    book = Workbook()
    book.remove(book.active)
    title = text("report.monthly_title", lang, month=r.month)

    def sheet(key: str, columns: list[Column], rows: list[list[Any]]) -> None:
        header = [text(f"col.{c.key}", lang) for c in columns]
        name = text(key, lang)
        add_sheet(book, name, f"{title} · {name}", header, rows, columns)

    places = [Column("place"), *(Column(k, "kwh") for k in ("month_kwh", "year_kwh"))]
    places += [Column("month_yuan", "yuan"), Column("year_yuan", "yuan"), Column("availability")]
    sheet(
        "report.s_generation",
        places,
        [
            [
                text(p.id, lang) if p.id in ("village", "household", "central") else p.name,
                p.month_kwh,
                p.year_kwh,
                p.month_yuan,
                p.year_yuan,
                p.availability,
            ]
            for p in [*r.segments, *r.townships]
        ],
    )
    sheet(
        "report.s_ranking",
        [
            Column("station_id"),
            Column("station"),
            Column("township"),
            Column("peer_index"),
            Column("days", "count"),
        ],
        [[s.station_id, s.name, s.township, s.peer_index, s.days] for s in [*r.best, *r.worst]],
    )
    sheet(
        "report.s_orders",
        [
            Column("person"),
            Column("orders", "count"),
            Column("orders_done", "count"),
            Column("orders_late", "count"),
            Column("lost_kwh", "kwh"),
        ],
        [[m["name"], m["orders"], m["done"], m["late"], m["lost_kwh"]] for m in r.maintainers],
    )
    sheet(
        "report.s_revenue",
        [Column("kind"), *AGEING_COLUMNS],
        [
            [
                text(f"receipt_kind.{a['kind']}", lang),
                a["due_yuan"],
                a["received_yuan"],
                a["outstanding_yuan"],
                a["under_1y"],
                a["from_1y_to_2y"],
                a["over_2y"],
            ]
            for a in r.receivables
        ],
    )
    station = [Column("station_id"), Column("station")]
    sheet(
        "report.s_degradation",
        [*station, Column("rate_pct"), Column("low_pct"), Column("high_pct")],
        [
            [x["station_id"], x["name"], x["rate_pct"], x["low_pct"], x["high_pct"]]
            for x in r.longterm["fastest"]
        ],
    )
    sheet(
        "report.s_soiling",
        [
            *station,
            Column("loss_now_pct"),
            Column("lost_yuan", "yuan"),
            Column("cleaning_yuan", "yuan"),
        ],
        [
            [x["station_id"], x["name"], x["loss_now_pct"], x["lost_yuan"], x["cleaning_yuan"]]
            for x in r.longterm["dustiest"]
        ],
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
