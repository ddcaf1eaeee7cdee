"""Counties above the townships: a province's registry, and Yonghe's files from before."""

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from launch.cli import app
from pvmon.db.engine import session_factory
from pvmon.registry.files import write_registry
from pvmon.registry.importing import import_registry
from pvmon.registry.schema import YONGHE, Registry
from pvmon.registry.store import load_county, load_registry
from pvmon.registry.validate import check_registry
from pvmon.settings import load_settings
from pvmon.stores import open_database
from simulators.demo_registry import GenerationOptions, generate_registry
from tests.support.csvsheets import edit_csv
from tests.support.province import load_province
from tests.support.services import AS_OF

runner = CliRunner()


def stored(engine: Engine) -> Registry:
    with session_factory(engine)() as session:
        return load_registry(session)


def test_a_file_from_before_counties_imports_as_yonghe(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    before = stored(loaded_engine)
    assert before.counties == [YONGHE]
    folder = tmp_path / "older"
    write_registry(before, folder)
    (folder / "counties.csv").unlink()
    edit_csv(
        folder,
        "townships",
        lambda rows: [{k: v for k, v in r.items() if k != "county_id"} for r in rows],
    )
    import_registry(session_factory(loaded_engine), folder)
    assert stored(loaded_engine) == before


def test_a_generated_province_has_each_county_whole_and_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    result = runner.invoke(
        app, ["registry", "generate", "--counties", "3", "--as-of", "2026-11-28"]
    )
    assert result.exit_code == 0, result.output
    assert "3 counties" in result.output
    assert "6720 stations" in result.output
    exported = runner.invoke(app, ["registry", "export", str(tmp_path / "province")])
    assert exported.exit_code == 0, exported.output
    counties = (tmp_path / "province" / "counties.csv").read_text(encoding="utf-8-sig")
    assert counties.splitlines() == [
        "id,name,village_energy_kwh,village_revenue_yuan",
        "C001,永和县,,",
        "C002,002号县,,",
        "C003,003号县,,",
    ]
    imported = runner.invoke(app, ["registry", "import", str(tmp_path / "province")])
    assert imported.exit_code == 0, imported.output
    assert "3 counties" in imported.output


def test_the_first_county_of_a_province_is_yonghe_as_it_is() -> None:
    yonghe = generate_registry(GenerationOptions(seed=2021, as_of=AS_OF))
    province = generate_registry(GenerationOptions(seed=2021, as_of=AS_OF, counties=2))
    townships = province.county_townships()
    assert townships == {
        "C001": ["T01", "T02", "T03", "T04", "T05", "T06"],
        "C002": [f"C002-T0{n}" for n in range(1, 7)],
    }
    first = {s.id: s for s in province.stations if not s.id.startswith("C002-")}
    assert first == {s.id: s for s in yonghe.stations}
    second = [s for s in province.stations if s.id.startswith("C002-")]
    assert len(second) == 2240
    assert {s.township_id for s in second} == set(townships["C002"])
    _, errors = check_registry(province)
    assert errors == []


def test_a_province_file_that_mixes_counties_is_refused_naming_each_row() -> None:
    province = generate_registry(GenerationOptions(seed=2021, as_of=AS_OF, counties=2))
    t01 = province.townships[0]
    province.townships[1] = province.townships[1].model_copy(update={"county_id": None})
    province.townships[2] = province.townships[2].model_copy(update={"county_id": "C404"})
    share = next(s for s in province.station_shares if s.station_id == "VS001")
    moved = share.model_copy(update={"village_id": "C002-V0101"})
    province.station_shares[province.station_shares.index(share)] = moved
    homonym = next(t for t in province.townships if t.id == "C002-T01")
    assert homonym.name == t01.name
    village = province.villages[0].model_copy(update={"township_id": t01.name})
    province.villages[0] = village
    _, errors = check_registry(province)
    shown = {str(e) for e in errors}
    assert {
        "townships row 3 (T02): county_id is needed: the registry has 2 counties",
        "townships row 4 (T03): unknown county 'C404' in county_id",
        f"station_shares row {province.station_shares.index(moved) + 2} (VS001): village "
        "'C002-V0101' is in county 'C002', the station in 'C001'",
        f"villages row 2 (V0101): township name {t01.name!r} is borne by C002-T01, T01: "
        "give the id",
    } <= shown, sorted(shown)


def test_a_county_replaces_its_own_part_and_nothing_of_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A county's bureau exports its county's part, edits it and imports it back; the
    other counties stay as they were. A row placed in another county, or an id another
    county uses already, and nothing changes."""
    monkeypatch.setenv("PVMON_DATA_DIR", str(tmp_path))
    generated = runner.invoke(app, ["registry", "generate", "--counties", "3"])
    assert generated.exit_code == 0, generated.output
    part = tmp_path / "c002"
    exported = runner.invoke(app, ["registry", "export", str(part), "--county", "C002"])
    assert exported.exit_code == 0, exported.output
    assert "2240 stations" in exported.output
    engine = open_database(load_settings())
    before = stored(engine)

    def renamed(rows: list[dict]) -> list[dict]:
        return [{**r, "name": "新名电站"} if r["id"] == "C002-VS001" else r for r in rows]

    edit_csv(part, "stations", renamed)
    imported = runner.invoke(app, ["registry", "import", str(part), "--county", "C002"])
    assert imported.exit_code == 0, imported.output
    after = stored(engine)
    assert next(s.name for s in after.stations if s.id == "C002-VS001") == "新名电站"
    for county in ("C001", "C003"):
        assert after.of_county(county) == before.of_county(county), county
    assert len(after.stations) == len(before.stations)

    taken = next(i.id for i in before.inverters if i.station_id == "C003-VS001")
    edit_csv(part, "inverters", lambda rows: [{**rows[0], "id": taken}, *rows[1:]])
    edit_csv(part, "townships", lambda rows: [rows[0], {**rows[1], "county_id": "C003"}, *rows[2:]])
    refused = runner.invoke(app, ["registry", "import", str(part), "--county", "C002"])
    assert refused.exit_code != 0
    assert "townships row 3 (C002-T02): in county 'C003'" in refused.output
    edit_csv(part, "townships", lambda rows: [{**r, "county_id": "C002"} for r in rows])
    clash = runner.invoke(app, ["registry", "import", str(part), "--county", "C002"])
    assert clash.exit_code != 0
    assert f"inverters row 2 ({taken}): another county has this id already" in clash.output
    assert stored(engine) == after, "nothing of a refused file"
    unknown = runner.invoke(app, ["registry", "import", str(part), "--county", "C404"])
    assert "unknown county 'C404'" in unknown.output


def test_a_county_read_alone_is_its_part_of_the_whole(engine: Engine) -> None:
    """An analytics worker reads only the county it computes: the same rows as the whole
    registry's part for that county."""
    load_province(engine, 3)
    with session_factory(engine)() as session:
        whole = load_registry(session)
        for county in ("C001", "C002", "C003"):
            alone = load_county(session, county)
            assert alone == whole.of_county(county), county
            assert len(alone.stations) == 2240
