"""The bureau's monthly report and the villages' quarterly statements: made of the
dashboards' figures, a PDF in Noto CJK and an XLSX, kept unchanged, delivered by e-mail
with the files attached (a real SMTP server) and to the group robots with the link (a real
HTTP receiver), listed by scope, and made on schedule once each, catching up."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from api import queries
from api.app import create_app
from api.state import ApiState
from pvmon.datapaths import report_file
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.localtime import day_start, month_bounds, month_of
from pvmon.settings import AlertSettings
from reports import service
from reports.quarterly import quarter_months, quarter_of
from tests.support.receivers import HttpReceiver, Mailbox, closed_port_url
from tests.support.services import missing_service
from tests.support.world import World, signed_in, world_fixtures

template, world = world_fixtures("T01")
MONTH = month_of(dt.date.today() - dt.timedelta(days=1))
"""The month of the world's last computed day."""


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


def delivering(w: World, mailbox: Mailbox | None, receiver: HttpReceiver) -> ApiState:
    """The world's API state with an SMTP server and a county-wide robot configured."""
    alerts = AlertSettings.model_validate(
        {
            **w.settings.alerts.model_dump(),
            "smtp": {"host": "127.0.0.1", "port": mailbox.port if mailbox else 1, "timeout_s": 5},
            "wecom": [{"name": "county", "url": receiver.url("/wecom")}],
        }
    )
    settings = w.settings.model_copy(update={"alerts": alerts})
    return ApiState(settings, w.engine, w.influx)


def pdf_text(data: bytes, tmp_path: Path) -> tuple[str, str]:
    """(pdffonts, pdftotext) of a PDF."""
    if not all(shutil.which(t) for t in ("pdffonts", "pdftotext")):
        missing_service("poppler-utils (pdffonts, pdftotext)")
    file = tmp_path / "report.pdf"
    file.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(file)], capture_output=True, text=True, check=True)
    words = subprocess.run(
        ["pdftotext", "-layout", str(file), "-"], capture_output=True, text=True, check=True
    )
    return fonts.stdout, words.stdout


def estimate_long_view(w: World) -> tuple[str, str]:
    """Two stations' degradation and soiling as of the month's last day: the first losing
    1.6 %/year, the second's dust worth a cleaning (estimates made after the month are not
    the report's)."""
    aged, dusty = sorted(s.id for s in w.registry.stations if s.kind == "village")[:2]
    as_of = month_bounds(MONTH)[1]
    now = dt.datetime.now(dt.UTC)
    with session_factory(w.engine).begin() as session:
        for station, rate in ((aged, -1.6), (dusty, -0.5), (dusty, -3.0)):
            later = rate == -3.0
            session.add(
                tables.StationDegradation(
                    station_id=station, as_of=as_of + dt.timedelta(days=later), rate_pct=rate,
                    low_pct=rate - 0.3, high_pct=rate + 0.3, pairs=900,
                    first_day=dt.date(2021, 1, 1), computed_at=now,
                )
            )  # fmt: skip
        for station, lost in ((aged, 180.0), (dusty, 1300.0)):
            session.add(
                tables.StationSoiling(
                    station_id=station, as_of=as_of, ratio=0.97, low=0.96, high=0.98,
                    loss_now_pct=9.5, lost_kwh=lost / 0.75, lost_yuan=lost, window_days=28,
                    cleaning_yuan=650.0, intervals=12, cleanings=13, computed_at=now,
                )
            )  # fmt: skip
    return aged, dusty


def test_the_monthly_report_is_delivered_with_its_figures_in_a_cjk_pdf_and_an_xlsx(
    world: World, mailbox: Mailbox, receiver: HttpReceiver, tmp_path: Path
) -> None:
    ctx = delivering(world, mailbox, receiver)
    aged, dusty = estimate_long_view(world)
    row = service.make_monthly(ctx, MONTH, "cli:tester")
    pdf, xlsx = (report_file(ctx.settings, "monthly", MONTH, f["name"]) for f in row.files)
    assert [f["sha256"] for f in row.files] == [
        hashlib.sha256(p.read_bytes()).hexdigest() for p in (pdf, xlsx)
    ], "kept as made"
    fonts, words = pdf_text(pdf.read_bytes(), tmp_path)
    assert any("CJK" in line and " yes " in line for line in fonts.splitlines()), fonts
    first, last = month_bounds(MONTH)
    month = queries.rollup_totals(
        ctx, day_start(first, ctx.tz), day_start(last + dt.timedelta(days=1), ctx.tz)
    )
    fleet_kwh = sum(kwh for kwh, _ in month.values())
    assert fleet_kwh > 0
    assert f"{fleet_kwh:,.0f}" in words, "the month's energy, as the overview sums it"
    assert f"永和县光伏扶贫电站运行月报 · {MONTH}" in words
    assert "持证率" in words
    assert "七、长期性能：组件衰减与积灰" in words
    assert "1座电站的积灰损失超过一次清洗费用" in words
    assert "2座电站有估计，1座超过每年1.0%的限值" in words
    names = queries.place_names(ctx)
    assert names[aged] in words.split("衰减最快的电站")[1]
    assert names[dusty] in words.split("值得清洗的电站")[1]
    assert "1,480" in words, "the dust's cost, summed"
    book = openpyxl.load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert book.sheetnames == [
        "二、分类与乡镇",
        "三、村级电站同组指数排名（本月平均）",
        "四、故障与工单",
        "六、收益：估算与结算，应收账款",
        "衰减最快的电站",
        "值得清洗的电站",
    ]
    assert list(book["衰减最快的电站"].iter_rows(min_row=3, values_only=True)) == [
        (aged, names[aged], -1.6, -1.9, -1.3)
    ]
    assert list(book["值得清洗的电站"].iter_rows(min_row=3, values_only=True)) == [
        (dusty, names[dusty], 9.5, 1300.0, 650.0)
    ]
    totals = list(book.worksheets[0].iter_rows(min_row=3, values_only=True))[:3]
    assert sum(r[1] for r in totals) == pytest.approx(fleet_kwh, abs=1.0), "segments add up"

    bureau = {p.email for p in ctx.view().registry.people if p.role == "bureau" and p.email}
    assert {m["To"] for m in mailbox.messages} == bureau
    message = mailbox.messages[0]
    attached = {a.get_filename(): a.get_content() for a in message.iter_attachments()}
    assert set(attached) == {f["name"] for f in row.files}
    assert attached[pdf.name] == pdf.read_bytes(), "the very file kept"
    (told,) = receiver.on("/wecom")
    assert f"/reports/{row.id}" in told.json()["text"]["content"]
    with ctx.sessions() as session:
        stored = session.get(tables.Report, row.id)
    assert stored.delivered_at is not None, "where it went is kept beside it"
    assert len(stored.deliveries) == len(bureau) + 1
    assert all(d["ok"] for d in stored.deliveries)


def test_a_delivery_that_fails_is_recorded_and_the_report_is_still_kept(
    world: World, receiver: HttpReceiver
) -> None:
    ctx = delivering(world, None, receiver)
    ctx.settings.alerts.wecom[0].url = closed_port_url("/wecom")
    row = service.make_monthly(ctx, MONTH, "cli:tester")
    assert row.delivered_at is None
    assert {d["channel"] for d in row.deliveries} == {"email", "wecom"}
    assert not any(d["ok"] for d in row.deliveries)
    assert all(d["error"] for d in row.deliveries)
    assert all(report_file(ctx.settings, "monthly", MONTH, f["name"]).exists() for f in row.files)


def test_each_village_gets_its_quarters_statement_and_supervisors_theirs_by_mail(
    world: World, mailbox: Mailbox, receiver: HttpReceiver, tmp_path: Path
) -> None:
    ctx = delivering(world, mailbox, receiver)
    registry = ctx.view().registry
    quarter = quarter_of(dt.date.today() - dt.timedelta(days=1))
    two = [v.id for v in registry.villages if v.township_id == "T01"][:2]
    rows = service.make_quarterly(ctx, quarter, "cli:tester", two)
    assert [r.subject for r in rows] == two
    name = ctx.view().villages[two[0]].name
    path = report_file(ctx.settings, "quarterly", quarter, rows[0].files[0]["name"])
    _, words = pdf_text(path.read_bytes(), tmp_path)
    assert f"{name}村集体光伏收益季度报表 · {quarter}" in words
    assert all(m in words for m in quarter_months(quarter) if m <= MONTH)
    (mail,) = mailbox.messages
    supervisor = next(
        p for p in registry.people if p.role == "supervisor" and p.township_id == "T01"
    )
    assert mail["To"] == supervisor.email
    assert len(list(mail.iter_attachments())) == 2


def test_reports_are_made_when_due_once_each_catching_up() -> None:
    at = dt.datetime(2026, 12, 3, 7, 0)
    assert service.due_months(at, None, 3, 8, set()) == ["2026-10"], "November's: from 08:00"
    at = at.replace(hour=9)
    assert service.due_months(at, None, 3, 8, set()) == ["2026-11"]
    assert service.due_months(at, "2026-08", 3, 8, {"2026-09"}) == ["2026-08", "2026-10", "2026-11"]
    assert service.due_months(at, None, 3, 8, {"2026-11"}) == []
    assert service.due_quarters(dt.datetime(2026, 10, 10, 9), None, 10, 8, set()) == ["2026Q3"]
    assert service.due_quarters(dt.datetime(2026, 10, 9, 9), None, 10, 8, set()) == ["2026Q2"]
    assert service.due_quarters(dt.datetime(2026, 12, 10, 9), "2026-01", 10, 8, {"2026Q1"}) == [
        "2026Q2",
        "2026Q3",
    ]


def test_the_service_makes_the_due_report_once_and_each_role_sees_its_own(
    world: World, receiver: HttpReceiver
) -> None:
    ctx = delivering(world, None, receiver)
    due = dt.datetime.now(dt.UTC)
    months = service.due_months(due.astimezone(ctx.tz), None, 3, 8, set())
    first = service.tick(ctx, due)
    assert first["monthly"] == len(months) == 1
    assert service.tick(ctx, due) == {"monthly": 0, "quarterly": 0}, "made once"
    with TestClient(create_app(ctx)) as app:
        bureau = signed_in(app, "bureau")
        listed = bureau.get("/api/v1/reports").json()
        county = [r for r in listed if r["subject"] == "county"]
        assert [r["period"] for r in county] == months
        (pdf,) = [f for f in county[0]["files"] if f["name"].endswith(".pdf")]
        got = bureau.get(pdf["url"])
        assert hashlib.sha256(got.content).hexdigest() == pdf["sha256"]
        assert bureau.get("/reports").status_code == 200
        assert bureau.get(f"/reports/{county[0]['id']}").status_code == 200
        collective = signed_in(app, "collective")
        seen = collective.get("/api/v1/reports").json()
        village = collective.get("/api/v1/auth/me").json()["village_id"]
        assert {r["subject"] for r in seen} <= {village}, "only its own village's statements"
        assert collective.get(pdf["url"]).status_code == 404
        maintainer = signed_in(app, "maintainer")
        assert maintainer.get("/api/v1/reports").status_code == 403
        kept = report_file(ctx.settings, "monthly", months[0], pdf["name"])
        kept.write_bytes(b"%PDF altered")
        assert signed_in(app, "bureau").get(pdf["url"]).status_code == 503
