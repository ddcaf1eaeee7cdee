"""An inverter replaced in the field, recorded as the outcome of its order: the old serial
goes silent at the swap, the new one starts with a fresh counter some time later, and the
station's energy of the day of the change and of the month is what the simulator's fleet
made — no jump from the new counter's baseline, no day counted twice, nothing lost."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from analytics.context import Analytics
from analytics.rollups import compute_day
from maintenance import actions
from maintenance.replacement import Replacement, ReplacementRefused, replace_inverter, replaced
from maintenance.workflow import Step
from pvmon.db.engine import session_factory
from pvmon.db.tables.maintenance import OrderKind
from pvmon.findings import Severity
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient
from pvmon.localtime import day_bounds, local_day
from pvmon.registry.schema import DeviceAddressRow, Registry
from pvmon.registry.store import load_registry
from tests.support.fleetwriter import TZ, FleetWriter, only_stations, settings_for
from tests.support.orders import crew

DAYS = 6
CHANGE_DAY = 3
"""The swap happens on the fourth of the six days."""
NEW_SERIAL = "HW26NEW00001"


def field_registry(registry: Registry, old: str, day: dt.date) -> Registry:
    """What stands in the field: the old inverter until ``day``, its successor from it."""
    gone = next(i for i in registry.inverters if i.id == old)
    successor = gone.model_copy(update={"id": NEW_SERIAL, "valid_from": day})
    inverters = [
        i.model_copy(update={"valid_to": day}) if i.id == old else i for i in registry.inverters
    ]
    return replace(registry, inverters=[*inverters, successor])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_energy_of_the_day_of_a_replacement_and_of_its_month_is_the_fleets(
    tmp_path: Path, influx: InfluxClient, loaded_engine: Engine, default_registry: Registry
) -> None:
    township = [s.id for s in default_registry.stations if s.township_id == "T03"]
    subset = township[:9] + township[9:15]
    station = next(
        s
        for s in subset
        if sum(i.station_id == s for i in default_registry.inverters) >= 2 and s.startswith("VS")
    )
    old = sorted(i.id for i in default_registry.inverters if i.station_id == station)[0]
    today = dt.date.today()
    first = today.replace(day=1) - dt.timedelta(days=20)
    first = first.replace(day=2)  # six whole days inside one month
    change = first + dt.timedelta(days=CHANGE_DAY)
    swap = dt.datetime.combine(change, dt.time(11, 0), TZ)
    back = swap + dt.timedelta(minutes=40)
    silent_min = (CHANGE_DAY * 24 + 11) * 60 + 40
    writer = FleetWriter(
        field_registry(default_registry, old, change),
        subset,
        first,
        faults=[
            {"kind": "outage", "devices": [old], "start": swap.isoformat()},
            {"kind": "outage", "devices": [NEW_SERIAL], "duration": f"{silent_min}m"},
        ],
    )
    settings = settings_for(tmp_path, influx, loaded_engine)
    a = Analytics.open(settings, loaded_engine, influx)
    only_stations(a, subset)
    for n in range(CHANGE_DAY):
        writer.day(influx, first + dt.timedelta(days=n))
        compute_day(a, first + dt.timedelta(days=n), recompute=False)

    _, person = crew(default_registry, settings, True, change, station)
    sessions = session_factory(loaded_engine)
    with sessions.begin() as session:
        order = actions.open_order(
            session,
            settings,
            station_id=station,
            kind=OrderKind.REPAIR,
            severity=Severity.CRITICAL,
            title="逆变器故障",
            actor="bureau",
            channel="api",
            now=swap - dt.timedelta(hours=3),
        )
        actions.assign(session, settings, order.id, person, "bureau", "api", swap)
        for step in (Step.ACCEPT, Step.ARRIVE):
            actions.work(session, order.id, step, person, "web", swap)
        replace_inverter(
            session, settings, order.id, Replacement(old, NEW_SERIAL, back), person, "web", back
        )
    a.reload_registry()
    only_stations(a, subset)
    for n in range(CHANGE_DAY, DAYS):
        writer.day(influx, first + dt.timedelta(days=n))
        compute_day(a, first + dt.timedelta(days=n), recompute=False)

    start, _ = day_bounds(first, TZ)
    _, end = day_bounds(first + dt.timedelta(days=DAYS - 1), TZ)
    rows = a.rollups.read(schema.STATION_DAILY, start, end, "station", ["energy_kwh"])
    mine = rows[rows["station"] == station].copy()
    mine["day"] = [local_day(t, TZ) for t in mine["ts"]]
    by_day = mine.set_index("day")["energy_kwh"]
    made = {d: writer.made_kwh(station, d) for d in by_day.index}
    frame = writer.frames[change]
    first_counter_kwh = frame[frame["device"] == NEW_SERIAL].sort_values("ts")["WH"].iloc[0] / 1000
    print(f"\nday of the change: {by_day[change]:.3f} kWh stored, {made[change]:.3f} kWh made")
    print(f"the new counter's first reading: {first_counter_kwh:.3f} kWh")
    print(f"the six days: {by_day.sum():.3f} kWh stored, {sum(made.values()):.3f} kWh made")
    assert len(by_day) == DAYS, "every day counted once"
    for day, kwh in by_day.items():
        if day != change:
            assert kwh == pytest.approx(made[day], rel=1e-4), day
    # What the new inverter made before its first reading is its counter's baseline: the one
    # interval no counter difference covers. Nothing else of the day is missing.
    assert made[change] - by_day[change] == pytest.approx(first_counter_kwh, abs=0.005)
    assert first_counter_kwh < 40 / 60, "at most a minute of a 40 kW inverter"
    assert by_day.sum() == pytest.approx(sum(made.values()), rel=1e-3)

    devices = a.rollups.read(
        schema.DEVICE_DAILY, start, end, "device", ["energy_kwh", "resets", "jumps"]
    )
    ours = devices[devices["device"].isin([old, NEW_SERIAL])]
    assert ours[["resets", "jumps"]].to_numpy().sum() == 0, "the new baseline is not a jump"
    devices["day"] = [local_day(t, TZ) for t in devices["ts"]]
    that_day = devices[devices["day"] == change].set_index("device")["energy_kwh"]
    assert that_day[old] > 0, "the old inverter's morning counts"
    assert that_day[NEW_SERIAL] > 0, "and the new one's afternoon, from its own baseline"
    later = devices[devices["day"] > change]
    assert old not in set(later["device"]), "a retired serial is no longer part of the station"
    with sessions() as session:
        registry = load_registry(session)
    rows_now = {i.id: i for i in registry.inverters if i.station_id == station}
    assert rows_now[old].valid_to == change
    assert rows_now[NEW_SERIAL].valid_from == change


def test_a_modbus_address_passes_to_the_new_inverter_and_a_cloud_one_only_with_its_new_id(
    default_registry: Registry,
) -> None:
    station = "VS001"
    first, second = sorted(i.id for i in default_registry.inverters if i.station_id == station)[:2]
    registry = replace(
        default_registry,
        device_addresses=[
            DeviceAddressRow(inverter_id=first, protocol="huawei", host="10.8.1.21", unit_id=12),
            DeviceAddressRow(inverter_id=second, protocol="fusionsolar", cloud_id="1000000033489"),
        ],
    )
    day = dt.date(2026, 3, 9)
    at = dt.datetime(2026, 3, 9, 11, 0, tzinfo=TZ)
    bus = replaced(registry, station, Replacement(first, "HW26NEW00003", at), day)
    assert [(a.inverter_id, a.host, a.unit_id) for a in bus.device_addresses[:1]] == [
        ("HW26NEW00003", "10.8.1.21", 12)
    ]
    cloud = replaced(registry, station, Replacement(second, "HW26NEW00004", at), day)
    assert [a.inverter_id for a in cloud.device_addresses] == [first], "its id is the device's"
    named = replaced(
        registry, station, Replacement(second, "HW26NEW00004", at, cloud_id="1000000099"), day
    )
    assert ("HW26NEW00004", "1000000099") in {
        (a.inverter_id, a.cloud_id) for a in named.device_addresses
    }
    with pytest.raises(ReplacementRefused) as refused:
        replaced(bus, station, Replacement(first, "HW26NEW00005", at), day + dt.timedelta(days=1))
    assert refused.value.key == "replace.not_in_service", "a retired serial is not replaced again"
