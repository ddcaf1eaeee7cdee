"""The money through the API and the pages, by role: the bureau enters statements and
receipts and closes a village's month; a closed month cannot be changed (through the API or
a file) and a correction is booked in the month it is made; the collective records its
uses and publishes its disclosure sheet, archived unchanged; the audit log has it all."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from pvmon.datapaths import disclosures
from pvmon.localtime import month_add, month_of
from tests.support.services import missing_service
from tests.support.world import World, signed_in, world_fixtures

template, world = world_fixtures()
LAST = month_add(month_of(dt.date.today()), -1)
"""The last month that is over (its statements can be in)."""
THIS = month_of(dt.date.today())


@pytest.fixture
def app(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx)) as c:
        yield c


def village_and_stations(client: TestClient) -> tuple[str, list[str]]:
    village = client.get("/api/v1/auth/me").json()["village_id"]
    return village, sorted(client.get(f"/api/v1/villages/{village}").json()["stations"])


def statement(kwh: float) -> dict[str, float]:
    return {"export_kwh": kwh, "grid_yuan": round(kwh * 0.332, 2)}


def test_a_month_settled_and_closed_is_never_rewritten_and_a_correction_lands_this_month(
    app: TestClient,
) -> None:
    village, stations = village_and_stations(signed_in(app, "collective"))
    refused = app.put(f"/api/v1/finance/settlements/{stations[0]}/{LAST}", json=statement(1.0))
    assert refused.status_code == 403, "the collective keeps no books"
    bureau = signed_in(app, "bureau")
    for n, station in enumerate(stations):
        put = bureau.put(f"/api/v1/finance/settlements/{station}/{LAST}", json=statement(9000 + n))
        assert put.json() == {"outcome": "added"}
    again = bureau.put(f"/api/v1/finance/settlements/{stations[0]}/{LAST}", json=statement(9000))
    assert again.json() == {"outcome": "unchanged"}
    not_over = bureau.put(f"/api/v1/finance/settlements/{stations[0]}/{THIS}", json=statement(1))
    assert not_over.status_code == 422
    assert "not over" in not_over.json()["detail"]

    books = bureau.get(f"/api/v1/villages/{village}/books?year={LAST[:4]}").json()
    month = next(m for m in books["months"] if m["period"] == LAST)
    assert month["state"] == "settled"
    grid = sum(round((9000 + n) * 0.332, 2) for n in range(len(stations)))
    assert month["settled"]["grid_yuan"] == pytest.approx(grid, abs=0.05)
    closed = bureau.post(f"/api/v1/villages/{village}/months/{LAST}/close")
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    twice = bureau.post(f"/api/v1/villages/{village}/months/{LAST}/close")
    assert twice.status_code == 409

    change = bureau.put(f"/api/v1/finance/settlements/{stations[0]}/{LAST}", json=statement(1.0))
    assert change.status_code == 409
    assert "closed" in change.json()["detail"]
    body = f"station_id,period,export_kwh,grid_yuan\n{stations[0]},{LAST},1,0.33\n"
    through_file = bureau.post(
        "/api/v1/finance/settlements/import", files={"file": ("fix.csv", body.encode(), "text/csv")}
    )
    assert through_file.status_code == 422
    assert f"{LAST} is closed" in through_file.json()["detail"][0]["msg"]

    fix = {"amount_yuan": -88.5, "reason": "供电公司更正了上月电量", "corrects": LAST}
    made = bureau.post(f"/api/v1/villages/{village}/adjustments", json=fix)
    assert made.status_code == 201
    after = bureau.get(f"/api/v1/villages/{village}/books").json()
    this = next(m for m in after["months"] if m["period"] == THIS)
    assert [a["amount_yuan"] for a in this["adjustments"]] == [-88.5]
    if LAST[:4] == THIS[:4]:
        kept = next(m for m in after["months"] if m["period"] == LAST)
        assert kept["settled"] == closed.json()["settled"], "the closed month as closed"
        assert kept["adjustments"] == []

    signed_in(app, "collective")
    assert app.post(f"/api/v1/villages/{village}/months/{LAST}/close").status_code == 403
    page = app.get(f"/villages/{village}?year={LAST[:4]}")
    assert "已关账" in page.text
    assert "供电公司更正了上月电量" in app.get(f"/villages/{village}").text


def test_receipts_pay_down_what_is_owed_and_each_role_sees_its_own(app: TestClient) -> None:
    village, stations = village_and_stations(signed_in(app, "collective"))
    bureau = signed_in(app, "bureau")
    for station in stations:
        bureau.put(f"/api/v1/finance/settlements/{station}/{LAST}", json=statement(10000))
    paid = {
        "station_id": stations[0],
        "kind": "grid",
        "covers_from": LAST,
        "covers_to": LAST,
        "amount_yuan": 3320.0,
        "received_on": dt.date.today().isoformat(),
        "reference": "DF-0001",
    }
    assert bureau.post("/api/v1/finance/receipts", json=paid).json() == {"outcome": "added"}
    owed = bureau.get("/api/v1/finance/receivables").json()
    grid = next(t for t in owed["totals"] if t["kind"] == "grid")
    assert grid["due_yuan"] == pytest.approx(3320.0 * len(stations))
    assert grid["outstanding_yuan"] == pytest.approx(3320.0 * (len(stations) - 1))
    assert grid["under_1y"] == pytest.approx(grid["outstanding_yuan"])
    ours = [v for v in owed["villages"] if v["village_id"] == village]
    assert {v["kind"] for v in ours} == {"grid", "subsidy"}
    future = bureau.post(
        "/api/v1/finance/receipts", json={**paid, "reference": "X", "received_on": "2099-01-01"}
    )
    assert future.status_code == 422

    signed_in(app, "collective")
    assert app.get("/api/v1/finance/receivables").status_code == 403
    books = app.get(f"/api/v1/villages/{village}/books").json()
    assert books["received_yuan"] == pytest.approx(3320.0), "the village holds VS001 whole"
    signed_in(app, "maintainer")
    assert app.get(f"/api/v1/villages/{village}/books").status_code in (403, 404)


def test_uploads_that_are_no_table_or_too_large_are_refused_whole(
    app: TestClient, world: World
) -> None:
    bureau = signed_in(app, "bureau")
    wrong = bureau.post(
        "/api/v1/finance/receipts/import", files={"file": ("notes.txt", b"hello", "text/plain")}
    )
    assert wrong.status_code == 422
    assert "not a .csv or .xlsx file" in wrong.json()["detail"][0]["msg"]
    broken = bureau.post(
        "/api/v1/finance/receipts/import",
        files={"file": ("r.xlsx", b"PK\x03\x04 nothing", "application/octet-stream")},
    )
    assert broken.status_code == 422
    assert "not a readable XLSX workbook" in broken.json()["detail"][0]["msg"]
    huge = b"station_id,period\n" + b"x" * (world.settings.finance.upload_max_bytes + 10)
    big = bureau.post(
        "/api/v1/finance/settlements/import", files={"file": ("big.csv", huge, "text/csv")}
    )
    assert big.status_code == 413


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_disclosure_sheet_is_a_pdf_in_noto_cjk_with_the_uses_and_totals_archived_unchanged(
    app: TestClient, world: World, tmp_path: Path
) -> None:
    if not all(shutil.which(t) for t in ("pdffonts", "pdftotext", "pdftoppm")):
        missing_service("poppler-utils (pdffonts, pdftotext, pdftoppm)")
    village, stations = village_and_stations(signed_in(app, "collective"))
    bureau = signed_in(app, "bureau")
    for station in stations:
        bureau.put(f"/api/v1/finance/settlements/{station}/{LAST}", json=statement(8000))
        receipt = {
            "station_id": station,
            "kind": "grid",
            "covers_from": LAST,
            "covers_to": LAST,
            "amount_yuan": 2656.0,
            "received_on": dt.date.today().isoformat(),
            "reference": f"DF-{station}",
        }
        assert bureau.post("/api/v1/finance/receipts", json=receipt).status_code == 200
    client = signed_in(app, "collective")
    today = dt.date.today().isoformat()
    uses = [
        {
            "used_on": today,
            "category": "public_welfare_jobs",
            "description": "村内保洁公益岗",
            "amount_yuan": 3000,
            "person": "王秀兰",
            "months": 3,
            "monthly_yuan": 1000,
        },
        {
            "used_on": today,
            "category": "small_public_works",
            "description": "修缮村道排水沟",
            "amount_yuan": 1200.5,
        },
        {
            "used_on": today,
            "category": "handout",
            "description": "节日慰问发放现金",
            "amount_yuan": 500,
        },
    ]
    for use in uses:
        form = client.post(f"/villages/{village}/uses", data=use, follow_redirects=False)
        assert form.status_code == 303, form.text
    bad = client.post(f"/villages/{village}/uses", data={**uses[1], "amount_yuan": "很多"})
    assert bad.status_code == 422
    assert "不是数字" in bad.text

    page = client.get(f"/villages/{village}")
    assert "违反规定：严禁简单发钱发物" in page.text, "the forbidden use is flagged"
    published = client.post(f"/villages/{village}/disclosures", follow_redirects=False)
    assert published.status_code == 303
    (sheet,) = client.get(f"/api/v1/villages/{village}/disclosures").json()
    page = client.get(f"/villages/{village}")
    assert sheet["sha256"][:16] in page.text, "the archive is listed with its hash"
    pdf = client.get(sheet["url"])
    assert pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == sheet["sha256"]
    file = tmp_path / "sheet.pdf"
    file.write_bytes(pdf.content)
    fonts = subprocess.run(["pdffonts", str(file)], capture_output=True, text=True, check=True)
    cjk = [line for line in fonts.stdout.splitlines() if "CJK" in line]
    assert cjk, fonts.stdout
    assert all(" yes " in line for line in cjk), "every CJK font embedded"
    words = pdf_text(file)
    name = world.ctx.view().villages[village].name
    books = client.get(f"/api/v1/villages/{village}/books").json()
    for expected in (
        name,
        "村内保洁公益岗",
        "修缮村道排水沟",
        "节日慰问发放现金",
        "王秀兰",
        f"{books['used_yuan']:,.2f}",
        f"{books['received_yuan']:,.2f}",
        f"{books['closing_balance']:,.2f}",
        f"{books['income_yuan']:,.2f}",
    ):
        assert expected in words, expected
    subprocess.run(
        ["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", str(file), str(tmp_path / "page")],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    assert png.stat().st_size > 10_000
    keep = Path(str(world.settings.data_dir)).parent / "keep"
    if shots := __import__("os").environ.get("DOCS_SCREENSHOTS"):
        shutil.copy(png, Path(shots) / "collective-disclosure-pdf.png")
    del keep

    archived = (
        disclosures(world.settings)
        / client.get(f"/api/v1/villages/{village}/disclosures").json()[0]["url"].split("/")[-1]
    )
    del archived
    stored = next(disclosures(world.settings).rglob("*.pdf"))
    stored.write_bytes(pdf.content + b"%tampered")
    assert client.get(sheet["url"]).status_code == 503, "an altered sheet is not served as it"


def test_the_audit_log_is_the_bureaus_to_read_and_export(app: TestClient) -> None:
    _, stations = village_and_stations(signed_in(app, "collective"))
    assert app.get("/api/v1/audit").status_code == 403
    bureau = signed_in(app, "bureau")
    bureau.put(f"/api/v1/finance/settlements/{stations[0]}/{LAST}", json=statement(100))
    bureau.put(f"/api/v1/finance/settlements/{stations[0]}/{LAST}", json=statement(120))
    found = bureau.get(f"/api/v1/audit?entity=settlements&key={stations[0]}").json()
    assert found["count"] == 2
    change, add = found["data"]
    assert (change["action"], add["action"]) == ("change", "add")
    assert (change["before"]["export_kwh"], change["after"]["export_kwh"]) == (100, 120)
    assert change["actor"] == "user:bureau"
    assert change["channel"] == "api"
    exported = bureau.get("/api/v1/exports/audit.csv?entity=settlements")
    lines = exported.content.decode("utf-8-sig").splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert [r["操作"] for r in rows] == ["修改", "新增"]
    assert bureau.get("/audit").status_code == 200


def test_a_villages_books_are_kept_between_requests_and_a_new_use_shows_at_once(
    app: TestClient, world: World
) -> None:
    """Working out a village's year takes a tenth of a second, so it is kept; any change to
    the books shows in the next answer."""
    client = signed_in(app, "collective")
    village, _ = village_and_stations(client)
    before = client.get(f"/api/v1/villages/{village}/books").json()
    assert client.get(f"/api/v1/villages/{village}/books").json() == before
    use = {
        "used_on": dt.date.today().isoformat(),
        "category": "small_public_works",
        "description": "修缮村道排水沟",
        "amount_yuan": 1200.5,
    }
    assert client.post(f"/villages/{village}/uses", data=use, follow_redirects=False).is_redirect
    after = client.get(f"/api/v1/villages/{village}/books").json()
    assert [u["description"] for u in after["uses"]] == [
        *(u["description"] for u in before["uses"]),
        "修缮村道排水沟",
    ]
    assert after["used_yuan"] == pytest.approx(before["used_yuan"] + 1200.5)
