"""The audit log: every change to the registry and to the money — who, when, through which
channel, the row before and after — written with the change itself."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from pvmon.audit import Actor
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.registry.files import write_registry
from pvmon.registry.importing import import_registry
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry, replace_registry
from pvmon.registry.validate import RegistryInvalid
from tests.support.csvsheets import edit_csv


def entries(engine: Engine) -> list[tables.AuditEntry]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(tables.AuditEntry).order_by(tables.AuditEntry.id)))


def test_a_first_load_is_one_line_per_sheet_and_an_import_one_line_per_changed_row(
    engine: Engine, default_registry: Registry, tmp_path: Path
) -> None:
    with session_factory(engine).begin() as session:
        replace_registry(session, default_registry, by=Actor("cli:root", "cli"))
    loaded = entries(engine)
    assert {e.entity: e.after for e in loaded}["stations"] == {"rows": 2240}
    assert {(e.action, e.key, e.actor, e.channel) for e in loaded} == {
        ("load", "*", "cli:root", "cli")
    }

    share = next(r for r in default_registry.station_shares if r.station_id == "VS001")
    ended = share.model_copy(update={"valid_to": dt.date(2026, 6, 30)})
    successor = share.model_copy(update={"share": 1.0, "valid_from": dt.date(2026, 7, 1)})
    station = next(s for s in default_registry.stations if s.id == "VS002")
    changed = replace(
        default_registry,
        station_shares=[ended, successor, *default_registry.station_shares[1:]],
        stations=[
            s.model_copy(update={"name": "新名称"}) if s is station else s
            for s in default_registry.stations
        ],
    )
    folder = tmp_path / "fleet"
    write_registry(changed, folder)
    import_registry(session_factory(engine), folder, "fleet", by=Actor("B01", "api"))
    new = [e for e in entries(engine) if e.id > loaded[-1].id]
    assert {(e.entity, e.action, e.key) for e in new} == {
        ("station_shares", "change", f"VS001/{share.village_id}/{share.valid_from}"),
        ("station_shares", "add", f"VS001/{share.village_id}/2026-07-01"),
        ("stations", "change", "VS002"),
    }
    renamed = next(e for e in new if e.entity == "stations")
    assert (renamed.before["name"], renamed.after["name"]) == (station.name, "新名称")
    assert renamed.actor == "B01"
    assert renamed.channel == "api"
    assert renamed.reason == "import fleet"
    moved = next(e for e in new if e.action == "change" and e.entity == "station_shares")
    assert (moved.before["valid_to"], moved.after["valid_to"]) == (None, "2026-06-30")

    with session_factory(engine)() as session:
        stored = load_registry(session)
    edit_csv(folder, "stations", lambda rows: [{**rows[0], "capacity_kwp": "-5"}, *rows[1:]])
    with pytest.raises(RegistryInvalid):
        import_registry(session_factory(engine), folder, "fleet", by=Actor("B01", "api"))
    assert len(entries(engine)) == len(loaded) + len(new), "a refused file leaves no line"
    with session_factory(engine)() as session:
        assert load_registry(session) == stored
