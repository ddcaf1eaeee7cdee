"""Registry import and export: round trips, and a bad file refused whole with every reason."""

from pathlib import Path

import pytest
from sqlalchemy import Engine

from pvmon.db.engine import session_factory
from pvmon.registry.files import write_registry
from pvmon.registry.importing import import_registry
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry
from pvmon.registry.validate import RegistryInvalid
from tests.support.csvsheets import edit_csv


def stored(engine: Engine) -> Registry:
    with session_factory(engine)() as session:
        return load_registry(session)


@pytest.mark.parametrize("name", ["registry", "registry.xlsx"])
def test_export_then_import_round_trips(loaded_engine: Engine, tmp_path: Path, name: str) -> None:
    before = stored(loaded_engine)
    path = tmp_path / name
    write_registry(before, path)
    import_registry(session_factory(loaded_engine), path)
    assert stored(loaded_engine) == before


def test_a_file_with_bad_rows_is_refused_whole_naming_each(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    before = stored(loaded_engine)
    folder = tmp_path / "bad"
    write_registry(before, folder)

    def by_id(rows: list[dict], key: str, value: str) -> dict:
        return next(r for r in rows if r[key] == value)

    def bad_villages(rows: list[dict]) -> list[dict]:
        by_id(rows, "id", "V0104")["township_id"] = "T99"
        return rows

    def bad_stations(rows: list[dict]) -> list[dict]:
        by_id(rows, "id", "VS001")["capacity_kwp"] = "0"
        by_id(rows, "id", "HH0005")["capacity_kwp"] = "-12"
        rows.append(dict(by_id(rows, "id", "VS002")))  # a duplicate id
        return rows

    def bad_shares(rows: list[dict]) -> list[dict]:
        by_id(rows, "station_id", "VS004")["share"] = "0.7"  # owned alone: sums to 0.7
        by_id(rows, "station_id", "VS003")["village_id"] = "V9999"
        return rows

    edit_csv(folder, "villages", bad_villages)
    edit_csv(folder, "stations", bad_stations)
    edit_csv(folder, "station_shares", bad_shares)
    with pytest.raises(RegistryInvalid) as caught:
        import_registry(session_factory(loaded_engine), folder)
    messages = [str(e) for e in caught.value.errors]
    text = "\n".join(messages)
    assert "(V0104): unknown township 'T99'" in text
    assert "(VS001): capacity_kwp: Input should be greater than 0 (got '0')" in text
    assert "(HH0005): capacity_kwp: Input should be greater than 0 (got '-12')" in text
    assert "duplicate id 'VS002'" in text
    assert "shares of VS004 sum to 0.7, not 1" in text
    assert "unknown village 'V9999' in village_id" in text
    assert stored(loaded_engine) == before, "a refused import changes nothing"


def test_former_township_names_are_accepted_on_import(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "names"
    write_registry(stored(loaded_engine), folder)
    names = {"T04": "阁底乡", "T05": "楼山乡"}

    def by_name(rows: list[dict]) -> list[dict]:
        for row in rows:
            row["township_id"] = names.get(row["township_id"], row["township_id"])
        return rows

    edit_csv(folder, "villages", by_name)
    imported = import_registry(session_factory(loaded_engine), folder)
    assert {v.township_id for v in imported.villages} == {f"T0{i}" for i in range(1, 7)}


def test_a_missing_sheet_and_an_unknown_column_are_named(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "partial"
    write_registry(stored(loaded_engine), folder)
    (folder / "tariffs.csv").unlink()
    edit_csv(folder, "people", lambda rows: [{**r, "nickname": "x"} for r in rows])
    with pytest.raises(RegistryInvalid, match="tariffs: sheet is missing") as caught:
        import_registry(session_factory(loaded_engine), folder)
    assert any("unknown column 'nickname'" in str(e) for e in caught.value.errors)


def test_an_unreadable_workbook_is_refused(loaded_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is no workbook")
    with pytest.raises(RegistryInvalid, match="not a readable XLSX workbook"):
        import_registry(session_factory(loaded_engine), path)


def _addresses(registry: Registry, rows: list[dict[str, object]]) -> Registry:
    from dataclasses import replace

    from pvmon.registry.schema import DeviceAddressRow

    return replace(registry, device_addresses=[DeviceAddressRow(**r) for r in rows])


@pytest.mark.parametrize("name", ["registry", "registry.xlsx"])
def test_device_addresses_travel_with_the_registry_and_an_older_file_without_them_imports(
    loaded_engine: Engine, tmp_path: Path, name: str
) -> None:
    before = stored(loaded_engine)
    first, second, third, fourth = (i.id for i in before.inverters[:4])
    with_addresses = _addresses(
        before,
        [
            {"inverter_id": first, "protocol": "sunspec", "host": "10.8.1.20", "unit_id": 1},
            {
                "inverter_id": second,
                "protocol": "huawei",
                "host": "10.8.1.21",
                "port": 502,
                "unit_id": 12,
            },
            {"inverter_id": third, "protocol": "fusionsolar", "cloud_id": "1000000033489999"},
            {
                "inverter_id": fourth,
                "protocol": "opendtu",
                "host": "10.8.1.30",
                "cloud_id": "solar/116180000001",
            },
        ],
    )
    path = tmp_path / name
    write_registry(with_addresses, path)
    import_registry(session_factory(loaded_engine), path)
    assert stored(loaded_engine).device_addresses == with_addresses.device_addresses
    older = tmp_path / "older"
    write_registry(before, older)
    (older / "device_addresses.csv").unlink()
    import_registry(session_factory(loaded_engine), older)
    assert stored(loaded_engine).device_addresses == []


def test_bad_device_addresses_are_refused_whole_naming_each(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    before = stored(loaded_engine)
    ids = [i.id for i in before.inverters[:6]]
    folder = tmp_path / "bad"
    write_registry(before, folder)

    def bad(_rows: list[dict]) -> list[dict]:
        blank = {"host": "", "port": "", "unit_id": "", "cloud_id": ""}
        return [
            {**blank, "inverter_id": ids[0], "protocol": "sunspec", "host": "10.0.0.5"},
            {**blank, "inverter_id": ids[1], "protocol": "fusionsolar", "host": "10.0.0.6"},
            {
                **blank,
                "inverter_id": ids[2],
                "protocol": "sunspec",
                "host": "10.0.0.7",
                "unit_id": "1",
            },
            {
                **blank,
                "inverter_id": ids[3],
                "protocol": "huawei",
                "host": "10.0.0.7",
                "unit_id": "1",
                "port": "502",
            },
            {
                **blank,
                "inverter_id": ids[4],
                "protocol": "opendtu",
                "host": "10.0.0.8",
                "unit_id": "3",
            },
            {**blank, "inverter_id": "NOPE", "protocol": "modbus", "host": "x y", "unit_id": "300"},
        ]

    edit_csv(folder, "device_addresses", bad)
    with pytest.raises(RegistryInvalid) as caught:
        import_registry(session_factory(loaded_engine), folder)
    text = "\n".join(str(e) for e in caught.value.errors)
    assert f"({ids[0]}): sunspec needs host and unit_id" in text
    assert f"({ids[1]}): fusionsolar needs cloud_id" in text
    assert f"({ids[1]}): fusionsolar takes no host or unit_id" in text
    assert f"({ids[3]}): the same address as inverter '{ids[2]}'" in text
    assert f"({ids[4]}): opendtu needs host and cloud_id" in text
    assert f"({ids[4]}): opendtu takes no unit_id" in text
    assert "protocol: Input should be 'sunspec', 'huawei', 'fusionsolar' or 'opendtu'" in text
    assert "unit_id: Input should be less than or equal to 255" in text
    assert stored(loaded_engine) == before, "a refused import changes nothing"
