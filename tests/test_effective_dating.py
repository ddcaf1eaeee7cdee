"""Registry rows valid in time (valid_from / valid_to): what holds on a day, periods that
overlap or end before they begin refused by name, the history kept through export and
import, and a registry re-imported while work orders refer to its stations."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine

from maintenance import actions
from pvmon.db.engine import session_factory
from pvmon.db.tables.maintenance import OrderKind
from pvmon.findings import Severity
from pvmon.localtime import utc_now
from pvmon.registry.effective import (
    carries_on,
    effective_on,
    frame_carrying_on,
    frame_in_effect,
    in_effect,
    period_problems,
)
from pvmon.registry.files import write_registry
from pvmon.registry.importing import import_registry
from pvmon.registry.schema import InverterRow, TariffRow
from pvmon.registry.store import load_registry, replace_registry
from pvmon.registry.validate import RegistryInvalid
from pvmon.settings import load_settings
from tests.support.csvsheets import edit_csv

D = dt.date


def inverter(serial: str, start: D, end: D | None = None) -> InverterRow:
    return InverterRow(
        id=serial,
        station_id="VS001",
        model="SUN2000-40KTL",
        rated_ac_w=40e3,
        valid_from=start,
        valid_to=end,
    )


def tariff(tariff_id: str, station: str, start: D, end: D) -> TariffRow:
    return TariffRow(
        id=tariff_id,
        station_id=station,
        valid_from=start,
        valid_to=end,
        grid_yuan_per_kwh=0.332,
        subsidy_yuan_per_kwh=0.5,
    )


def test_a_row_holds_from_its_first_to_its_last_day_and_an_open_end_holds_on() -> None:
    old, new = inverter("A1", D(2018, 5, 1), D(2026, 3, 9)), inverter("B1", D(2026, 3, 9))
    assert [in_effect(old, d) for d in (D(2018, 4, 30), D(2018, 5, 1), D(2026, 3, 9))] == [
        False,
        True,
        True,
    ]
    assert not in_effect(old, D(2026, 3, 10))
    assert effective_on([old, new], D(2026, 3, 9)) == [old, new], "the day of a change: both"
    assert effective_on([old, new], D(2030, 1, 1)) == [new]
    assert not carries_on(old, D(2026, 3, 9)), "retired today: no longer expected to speak"
    assert carries_on(new, D(2026, 3, 9))
    frame = pd.DataFrame([old.model_dump(), new.model_dump()])
    assert list(frame_in_effect(frame, D(2026, 3, 9))["id"]) == ["A1", "B1"]
    assert list(frame_carrying_on(frame, D(2026, 3, 9))["id"]) == ["B1"]
    assert list(frame_in_effect(frame, D(2017, 1, 1))["id"]) == []


def test_overlapping_periods_of_one_thing_and_backwards_periods_are_named() -> None:
    rows = [
        tariff("T1", "VS001", D(2016, 1, 1), D(2035, 12, 31)),
        tariff("T2", "VS001", D(2020, 1, 1), D(2020, 12, 31)),
        tariff("T3", "VS001", D(2024, 1, 1), D(2024, 6, 30)),
        tariff("T4", "VS002", D(2024, 1, 1), D(2023, 6, 30)),
    ]
    problems = dict(period_problems(rows, ("station_id",)))
    assert set(problems) == {1, 2, 3}, "T3 overlaps T1 although T2 ends before it"
    assert "overlaps another of VS001 ending 2035-12-31" in problems[2]
    assert "before valid_from" in problems[3]
    serials = [inverter("A1", D(2018, 1, 1)), inverter("A1", D(2020, 1, 1))]
    assert "open-ended" in dict(period_problems(serials, ("id",)))[1]


def test_a_retired_inverter_travels_through_export_and_import_and_bad_periods_are_refused(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    with session_factory(loaded_engine)() as session:
        before = load_registry(session)
    first = before.inverters[0]
    retired = first.model_copy(update={"valid_to": D(2026, 3, 9)})
    successor = first.model_copy(update={"id": "NEW0000001", "valid_from": D(2026, 3, 9)})
    history = replace(before, inverters=[retired, *before.inverters[1:], successor])
    folder = tmp_path / "registry"
    write_registry(history, folder)
    import_registry(session_factory(loaded_engine), folder)
    with session_factory(loaded_engine)() as session:
        assert load_registry(session) == history

    def backwards(rows: list[dict]) -> list[dict]:
        rows[1]["valid_to"] = "2001-01-01"
        return rows

    edit_csv(folder, "inverters", backwards)
    with pytest.raises(RegistryInvalid) as refused:
        import_registry(session_factory(loaded_engine), folder)
    assert any(
        e.sheet == "inverters" and e.row == 3 and "before valid_from" in e.message
        for e in refused.value.errors
    ), refused.value
    with session_factory(loaded_engine)() as session:
        assert load_registry(session) == history, "a bad file changes nothing"


def test_a_file_from_before_dated_inverters_imports_its_installed_on_as_valid_from(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    with session_factory(loaded_engine)() as session:
        before = load_registry(session)
    folder = tmp_path / "older"
    write_registry(before, folder)

    def older(rows: list[dict]) -> list[dict]:
        out = []
        for row in rows:
            cells = dict(row)
            cells["installed_on"] = cells.pop("valid_from")
            del cells["valid_to"]
            out.append(cells)
        return out

    edit_csv(folder, "inverters", older)
    import_registry(session_factory(loaded_engine), folder)
    with session_factory(loaded_engine)() as session:
        assert load_registry(session) == before


def test_a_registry_is_reimported_while_orders_refer_to_its_stations_but_not_one_removing_them(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path)
    with session_factory(loaded_engine)() as session:
        before = load_registry(session)
    station = next(s.id for s in before.stations if s.kind == "village")
    with session_factory(loaded_engine).begin() as session:
        actions.open_order(
            session,
            settings,
            station_id=station,
            kind=OrderKind.PATROL,
            severity=Severity.INFO,
            title="月度巡检",
            actor="bureau",
            channel="api",
            now=utc_now(),
        )
    renamed = replace(
        before,
        stations=[
            s.model_copy(update={"name": s.name + "（新）"}) if s.id == station else s
            for s in before.stations
        ],
    )
    with session_factory(loaded_engine).begin() as session:
        replace_registry(session, renamed)
    with session_factory(loaded_engine)() as session:
        assert load_registry(session) == renamed, "changed rows are updated in place"

    without = replace(
        renamed,
        stations=[s for s in renamed.stations if s.id != station],
        station_shares=[r for r in renamed.station_shares if r.station_id != station],
        inverters=[r for r in renamed.inverters if r.station_id != station],
        station_maintainers=[r for r in renamed.station_maintainers if r.station_id != station],
        tariffs=[r for r in renamed.tariffs if r.station_id != station],
        station_costs=[r for r in renamed.station_costs if r.station_id != station],
    )
    with pytest.raises(RegistryInvalid) as refused, session_factory(loaded_engine).begin() as s:
        replace_registry(s, without)
    assert station in str(refused.value)
    assert "work orders" in str(refused.value)
    with session_factory(loaded_engine)() as session:
        assert load_registry(session) == renamed, "nothing of it was kept"


def test_ownership_shares_change_on_a_day_and_must_sum_to_one_on_every_day(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    with session_factory(loaded_engine)() as session:
        before = load_registry(session)
    station = next(s for s in before.stations if s.id == "VS001")
    owner = next(r for r in before.station_shares if r.station_id == station.id)
    neighbour = next(v.id for v in before.villages if v.id != owner.village_id)
    change = D(2026, 7, 1)
    shares = [
        owner.model_copy(update={"valid_to": change - dt.timedelta(days=1)}),
        owner.model_copy(update={"share": 0.7, "valid_from": change}),
        owner.model_copy(update={"village_id": neighbour, "share": 0.3, "valid_from": change}),
    ]
    changed = replace(
        before, station_shares=[*shares, *(r for r in before.station_shares if r is not owner)]
    )
    folder = tmp_path / "registry"
    write_registry(changed, folder)
    import_registry(session_factory(loaded_engine), folder)
    with session_factory(loaded_engine)() as session:
        stored = load_registry(session)
    assert sorted(stored.station_shares, key=lambda r: r.key_value()) == sorted(
        changed.station_shares, key=lambda r: r.key_value()
    )

    def short(rows: list[dict]) -> list[dict]:
        for row in rows:
            if row["station_id"] == station.id and row["village_id"] == neighbour:
                row["share"] = "0.2"
            if row["station_id"] == "VS002":
                row["valid_to"] = "2025-12-31"
        return rows

    edit_csv(folder, "station_shares", short)
    with pytest.raises(RegistryInvalid) as refused:
        import_registry(session_factory(loaded_engine), folder)
    text = str(refused.value)
    assert "shares of VS001 sum to 0.9, not 1, from 2026-07-01" in text
    assert "VS002 has no owner from 2026-01-01" in text
    with session_factory(loaded_engine)() as session:
        assert load_registry(session) == stored, "a bad file changes nothing"


def test_undated_shares_and_costs_of_an_older_file_hold_from_the_stations_commissioning(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    with session_factory(loaded_engine)() as session:
        before = load_registry(session)
    folder = tmp_path / "older"
    write_registry(before, folder)

    def undated(rows: list[dict]) -> list[dict]:
        for row in rows:
            del row["valid_from"], row["valid_to"]
        return rows

    edit_csv(folder, "station_shares", undated)
    edit_csv(folder, "station_costs", undated)
    import_registry(session_factory(loaded_engine), folder)
    with session_factory(loaded_engine)() as session:
        assert load_registry(session) == before
    commissioned = {s.id: s.commissioned_on for s in before.stations}
    assert all(r.valid_from == commissioned[r.station_id] for r in before.station_costs)


def test_overlapping_costs_of_one_item_are_refused_by_row(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    with session_factory(loaded_engine)() as session:
        before = load_registry(session)
    rent = next(r for r in before.station_costs if r.item == "rent")
    overlapping = rent.model_copy(update={"valid_from": D(2025, 1, 1), "annual_yuan": 900.0})
    with pytest.raises(RegistryInvalid) as refused, session_factory(loaded_engine).begin() as s:
        replace_registry(s, replace(before, station_costs=[*before.station_costs, overlapping]))
    assert any(
        e.sheet == "station_costs" and "overlaps another" in e.message for e in refused.value.errors
    ), refused.value
