"""The money books in a real store: statement and receipt files checked whole, a closed
month never rewritten (a correction booked in the month it is made), settled months
against the estimate as findings and alerts for the bureau, and every change in the audit log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from alerts.lifecycle import target_of
from alerts.routing import Directory, recipients
from alerts.service import AlertService
from finance import actions, views
from finance.books import read_books
from finance.importing import MoneyInvalid, import_money
from finance.records import AdjustmentIn, ReceiptIn, SettlementIn, UseCategory, UseIn
from finance.service import tick
from pvmon.audit import Actor
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.domain import StationKind
from pvmon.influx.client import InfluxClient
from pvmon.registry.lookup import FleetLookup
from pvmon.registry.schema import Registry
from tests.support.alerting import alerts_of
from tests.support.fleetwriter import settings_for
from tests.support.money import month_days, write_csv, write_estimate

TODAY = dt.date(2026, 12, 6)
NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
BUREAU = Actor("B01", "web")
KINDS = [StationKind.VILLAGE, StationKind.CENTRAL]
V0101 = ("VS001", "VS002", "VS003")
"""The stations village V0101 holds, whole."""


def settle(session: Session, registry: Registry, station: str, period: str, kwh: float) -> str:
    s = SettlementIn(
        station_id=station, period=period, export_kwh=kwh, grid_yuan=round(kwh * 0.332, 2)
    )
    return actions.enter_settlement(session, registry, s, KINDS, BUREAU, NOW, TODAY)


def count(engine: Engine, table: type[tables.Base]) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_a_statement_file_with_bad_rows_changes_nothing_and_names_every_bad_row(
    loaded_engine: Engine, default_registry: Registry, tmp_path: Path
) -> None:
    good = {"station_id": "VS001", "period": "2026-10", "export_kwh": "12000", "grid_yuan": "3984"}
    rows = [
        good,
        {**good, "station_id": "VS999"},
        {**good, "station_id": "HH0001"},
        {**good, "period": "2026-12"},
        {**good, "station_id": "VS002", "export_kwh": "lots"},
        {**good, "station_id": "VS003", "grid_yuan": "12.345"},
        dict(good),
    ]
    path = write_csv(tmp_path / "statements.csv", rows)
    sessions = session_factory(loaded_engine)
    with pytest.raises(MoneyInvalid) as refused, sessions.begin() as session:
        import_money(
            session,
            default_registry,
            "settlements",
            path,
            "statements.csv",
            KINDS,
            BUREAU,
            NOW,
            TODAY,
        )
    said = {(e.row, e.message) for e in refused.value.errors}
    assert [row for row, _ in sorted(said)] == [3, 4, 5, 6, 7, 8], "row 2 is good"
    text = str(refused.value)
    assert "statements.csv row 3 (VS999/2026-10): There is no station VS999" in text
    assert "HH0001 is not settled through the bureau" in text
    assert "2026-12 is not over yet" in text
    assert "row 6: export_kwh: Input should be a valid number" in text
    assert "row 7: grid_yuan: Value error, at most two decimal places" in text
    assert "row 8 (VS001/2026-10): the same as row 2" in text
    assert count(loaded_engine, tables.Settlement) == 0
    with session_factory(loaded_engine)() as session:
        entities = set(session.scalars(select(tables.AuditEntry.entity)))
    assert "settlements" not in entities


def test_statements_come_back_with_the_pages_headers_and_a_second_import_corrects(
    loaded_engine: Engine, default_registry: Registry, tmp_path: Path
) -> None:
    header = {"电站编号": "VS001", "期间": "2026-10", "上网电量（千瓦时）": "12000.5"}
    rows = [
        {**header, "电网电费（元）": "3984.17", "补贴（元）": ""},
        {**header, "电站编号": "CS01", "电网电费（元）": "800000", "补贴（元）": "1000000"},
    ]
    path = write_csv(
        tmp_path / "s.csv", rows, title="永和县光伏扶贫电站运行监测 · 结算单 · 2026-10"
    )
    sessions = session_factory(loaded_engine)

    def load(p: Path) -> object:
        with sessions.begin() as session:
            return import_money(
                session, default_registry, "settlements", p, p.name, KINDS, BUREAU, NOW, TODAY
            )

    assert vars(load(path)) == {"added": 2, "changed": 0, "unchanged": 0}
    assert vars(load(path)) == {"added": 0, "changed": 0, "unchanged": 2}
    rows[0]["电网电费（元）"] = "3990.00"
    assert vars(load(write_csv(tmp_path / "s2.csv", rows))) == {
        "added": 0,
        "changed": 1,
        "unchanged": 1,
    }
    with sessions() as session:
        stored = session.get(tables.Settlement, ("VS001", "2026-10"))
        assert (stored.export_kwh, stored.grid_yuan, stored.subsidy_yuan) == (12000.5, 3990.0, None)
        trail = session.scalars(
            select(tables.AuditEntry)
            .where(tables.AuditEntry.entity == "settlements")
            .order_by(tables.AuditEntry.id)
        ).all()
    assert [(e.key, e.action) for e in trail] == [
        ("VS001/2026-10", "add"),
        ("CS01/2026-10", "add"),
        ("VS001/2026-10", "change"),
    ]
    assert (trail[2].before["grid_yuan"], trail[2].after["grid_yuan"]) == (3984.17, 3990.0)
    assert trail[2].actor == "B01"


def test_receipt_files_take_the_kinds_in_words_and_refuse_what_cannot_be(
    loaded_engine: Engine, default_registry: Registry, tmp_path: Path
) -> None:
    base = {
        "station_id": "VS001",
        "kind": "补贴",
        "covers_from": "2024-01",
        "covers_to": "2024-12",
        "amount_yuan": "52000",
        "received_on": "2026-11-20",
        "reference": "BT-2026-118",
    }
    rows = [
        base,
        {
            **base,
            "kind": "电费",
            "reference": "DF-1",
            "covers_from": "2026-10",
            "covers_to": "2026-10",
        },
        {**base, "reference": "BT-2", "covers_to": "2026-12"},
        {**base, "reference": "BT-3", "received_on": "2026-12-24"},
        {**base, "reference": "BT-4", "kind": "gift"},
        {**base, "reference": "BT-5", "covers_from": "2025-01", "covers_to": "2024-06"},
    ]
    sessions = session_factory(loaded_engine)
    with pytest.raises(MoneyInvalid) as refused, sessions.begin() as session:
        import_money(
            session,
            default_registry,
            "receipts",
            write_csv(tmp_path / "r.csv", rows),
            "r.csv",
            KINDS,
            BUREAU,
            NOW,
            TODAY,
        )
    assert sorted({e.row for e in refused.value.errors}) == [4, 5, 6, 7]
    text = str(refused.value)
    assert "covers 2026-12, after the month it was received in" in text
    assert "2026-12-24 is in the future" in text
    assert "kind: Input should be 'grid' or 'subsidy'" in text
    assert "covers_to 2024-06 is before covers_from 2025-01" in text
    assert count(loaded_engine, tables.Receipt) == 0
    with sessions.begin() as session:
        done = import_money(
            session,
            default_registry,
            "receipts",
            write_csv(tmp_path / "ok.csv", rows[:2]),
            "ok.csv",
            KINDS,
            BUREAU,
            NOW,
            TODAY,
        )
    assert done.added == 2
    with sessions() as session:
        kinds = sorted(session.scalars(select(tables.Receipt.kind)))
    assert kinds == ["grid", "subsidy"]


def test_a_closed_month_is_never_rewritten_and_a_correction_lands_in_the_month_it_is_made(
    loaded_engine: Engine, default_registry: Registry, tmp_path: Path
) -> None:
    sessions = session_factory(loaded_engine)
    registry = default_registry
    with sessions.begin() as session:
        for n, station in enumerate(V0101):
            settle(session, registry, station, "2026-10", 10000.0 + n * 1000)
        books = read_books(session, registry, TODAY)
        assert views.month(books, "V0101", "2026-10").state == views.SETTLED
        assert views.month(books, "V0101", "2026-11").missing == list(V0101)
    with sessions.begin() as session:
        closed = actions.close_month(session, registry, "V0101", "2026-10", BUREAU, NOW, TODAY)
    kept = closed.figures["settled"]
    assert kept["export_kwh"] == 33000.0
    assert kept["grid_yuan"] == pytest.approx(33000 * 0.332, abs=0.02)

    def refused(step: object) -> actions.MoneyRefused:
        with pytest.raises(actions.MoneyRefused) as caught, sessions.begin() as session:
            step(session)  # type: ignore[operator]
        return caught.value

    change = refused(lambda s: settle(s, registry, "VS002", "2026-10", 1.0))
    assert change.key == "money.month_closed"
    assert change.conflict
    assert "2026-10已关账（V0101）" in change.say("zh")
    late_use = UseIn(
        used_on=dt.date(2026, 10, 30),
        category=UseCategory.SMALL_PUBLIC_WORKS,
        description="修路",
        amount_yuan=100.0,
    )
    assert refused(lambda s: actions.record_use(s, "V0101", late_use, BUREAU, NOW, TODAY)).key == (
        "money.month_closed"
    )
    assert (
        refused(
            lambda s: actions.close_month(s, registry, "V0101", "2026-10", BUREAU, NOW, TODAY)
        ).key
        == "money.already_closed"
    )
    assert refused(
        lambda s: actions.close_month(s, registry, "V0101", "2026-11", BUREAU, NOW, TODAY)
    ).values == {"period": "2026-11", "stations": "VS001, VS002, VS003"}
    assert (
        refused(
            lambda s: actions.close_month(s, registry, "V0101", "2026-12", BUREAU, NOW, TODAY)
        ).key
        == "money.month_not_over"
    )
    file = write_csv(
        tmp_path / "fix.csv",
        [{"station_id": "VS002", "period": "2026-10", "export_kwh": "1", "grid_yuan": "0.33"}],
    )
    with pytest.raises(MoneyInvalid) as through_file, sessions.begin() as session:
        import_money(session, registry, "settlements", file, "fix.csv", KINDS, BUREAU, NOW, TODAY)
    assert "2026-10 is closed (V0101)" in str(through_file.value)

    fix = AdjustmentIn(
        amount_yuan=-120.5, reason="十月结算单电量有误，供电公司已更正", corrects="2026-10"
    )
    with sessions.begin() as session:
        made = actions.adjust(session, "V0101", fix, BUREAU, NOW, TODAY)
    assert made.period == "2026-12", "booked in the month it is made"
    with sessions() as session:
        books = read_books(session, registry, TODAY)
        october = views.month(books, "V0101", "2026-10")
        december = views.month(books, "V0101", "2026-12")
        assert october.state == views.CLOSED
        assert october.settled.as_dict() == kept, "the closed month is as it was closed"
        assert october.adjustments == []
        assert [a["amount_yuan"] for a in december.adjustments] == [-120.5]
        assert december.adjustments_yuan == -120.5
        trail = [
            (e.entity, e.action)
            for e in session.scalars(
                select(tables.AuditEntry).where(tables.AuditEntry.entity != "stations")
            )
            if e.key != "*"
        ]
    assert trail == [
        ("settlements", "add"),
        ("settlements", "add"),
        ("settlements", "add"),
        ("village_months", "close"),
        ("adjustments", "add"),
    ]


def test_a_settlement_beyond_the_allowed_share_of_the_estimate_is_a_finding_for_the_bureau(
    loaded_engine: Engine, default_registry: Registry, influx: InfluxClient, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, influx, loaded_engine)
    days = month_days("2026-10")
    write_estimate(influx, "VS001", "T01", days, 400.0)
    write_estimate(influx, "VS002", "T01", days, 500.0)
    write_estimate(influx, "VS003", "T01", days[:20], 300.0)
    sessions = session_factory(loaded_engine)
    with sessions.begin() as session:
        settle(session, default_registry, "VS001", "2026-10", 31 * 400 * 0.89)
        settle(session, default_registry, "VS002", "2026-10", 31 * 500 * 0.98)
        settle(session, default_registry, "VS003", "2026-10", 31 * 300 * 0.5)
        counts = tick(session, settings, influx, NOW)
    assert counts["deviations"] == 1, "VS003's estimate lacks days: not judged"

    def active(kind: str) -> dict[str, tables.Finding]:
        with sessions() as session:
            return {
                f.subject_id: f
                for f in session.scalars(
                    select(tables.Finding).where(
                        tables.Finding.kind == kind, tables.Finding.active.is_(True)
                    )
                )
            }

    (found,) = active("settlement_deviation").values()
    assert found.subject_id == "VS001"
    (october,) = found.evidence["months"]
    assert october["dev_export_kwh"] == pytest.approx(-0.11, abs=1e-4)
    assert october["est_export_kwh"] == pytest.approx(12400.0)
    missing = active("settlement_missing")
    assert missing["VS004"].evidence["months"] == ["2026-10"]
    assert "VS001" not in missing
    assert (
        len(missing) == sum(s.kind != StationKind.HOUSEHOLD for s in default_registry.stations) - 3
    )

    AlertService(settings, loaded_engine, influx).evaluate(NOW)
    (alert,) = [a for a in alerts_of(loaded_engine) if a.rule == "settlement_deviation"]
    assert alert.station_id == "VS001"
    directory = Directory.build(default_registry, TODAY, settings.registry.required_cert)
    told = recipients(target_of(alert), 0, directory, [])
    assert {r.why for r in told} == {"bureau"}, "the money is the bureau's to look into"

    with sessions.begin() as session:
        settle(session, default_registry, "VS001", "2026-10", 31 * 400 * 0.97)
        tick(session, settings, influx, NOW)
    assert active("settlement_deviation") == {}, "a corrected statement clears it"


def test_a_village_reads_only_its_own_books_and_they_say_what_the_whole_books_say(
    loaded_engine: Engine, default_registry: Registry
) -> None:
    """A village's page reads its books alone (a province's whole books are large): its
    year — months settled or estimated, a shared station's statement split among its
    holders, receipts, uses, adjustments, a closed month — is the same as from the whole."""
    registry = default_registry
    lookup = FleetLookup.build(registry)
    shared = {r.station_id for r in registry.station_shares if r.share < 1}
    involved = sorted({r.village_id for r in registry.station_shares if r.station_id in shared})
    assert len(involved) > 10, "shared and central stations reach many villages"
    stations = sorted({s for v in involved for s in lookup.held[v]})
    sessions = session_factory(loaded_engine)
    with sessions.begin() as session:
        for n, station in enumerate(stations):
            settle(session, registry, station, "2026-10", 5000.0 + n)
            if n % 2:
                settle(session, registry, station, "2026-11", 4000.0 + n)
            kind = "grid"
            covers = {"covers_from": "2026-10", "covers_to": "2026-10"}
            receipt = ReceiptIn(
                station_id=station,
                kind=kind,
                amount_yuan=1000.0 + n,
                received_on=dt.date(2026, 11, 20),
                reference=f"R{n:04d}",
                **covers,
            )
            actions.enter_receipt(session, registry, receipt, KINDS, BUREAU, NOW, TODAY)
        actions.close_month(session, registry, involved[0], "2026-10", BUREAU, NOW, TODAY)
        fix = AdjustmentIn(amount_yuan=55.5, reason="上月电量更正", corrects="2026-10")
        actions.adjust(session, involved[1], fix, BUREAU, NOW, TODAY)
        use = UseIn(
            used_on=dt.date(2026, 11, 25),
            category=UseCategory.SMALL_PUBLIC_WORKS,
            description="修路",
            amount_yuan=300.0,
        )
        actions.record_use(session, involved[2], use, BUREAU, NOW, TODAY)
    joint_stations = {s for s in shared if lookup.stations[s].kind == StationKind.VILLAGE}
    joint = next(v for v in involved[3:] if lookup.held[v] & joint_stations)
    with sessions() as session:
        whole = read_books(session, registry, TODAY)
        for village in [*involved[:3], joint]:
            own = read_books(session, lookup.books_registry([village]), TODAY, None, [village])
            assert own.settlements["station_id"].isin(lookup.held[village]).all()
            assert views.year(own, village, 2026) == views.year(whole, village, 2026), village
        first = views.year(whole, involved[0], 2026)
    october = next(m for m in first.months if m.period == "2026-10")
    assert october.state == views.CLOSED
    assert first.received_yuan > 0
