"""Typed rows of the registry's sheets, and the registry as a whole.

The same row models serve the generated default registry, the CSV/XLSX files the county
edits, and the relational tables: a sheet's columns are its model's fields, in order.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Annotated, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pvmon.db import tables
from pvmon.domain import CertType, PersonRole, Protocol, StationKind, VillageCategory

CODE_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
"""Stable ids: stations, villages, townships, people, inverter serials."""
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CODE_PATTERN)]
"""A stable identifier: safe in MQTT topics, InfluxDB tags and file names."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
OptionalText = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=128)]

COST_ITEMS = ("rent", "insurance", "om", "tax", "other")


class Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", from_attributes=True)
    table: ClassVar[type[tables.Base]]
    key: ClassVar[tuple[str, ...]] = ("id",)
    one_at_a_time: ClassVar[tuple[str, ...] | None] = None
    """Dated sheets (``pvmon.registry.effective``): the columns naming what holds one value
    at a time, so that two of its rows may not overlap in time."""
    former_columns: ClassVar[dict[str, str]] = {}
    """Column names files written by earlier versions use → today's."""

    def key_value(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.key)


class CountyRow(Row):
    """A county: the level above the township. A province's deployment holds many; a
    registry without counties is the one county the project began with (``YONGHE``)."""

    table = tables.County
    id: Code
    name: Text
    village_energy_kwh: float | None = Field(None, gt=0)
    """The county's village stations' annual energy target; empty: the settings' (DESIGN:
    Yonghe's 21 GWh)."""
    village_revenue_yuan: float | None = Field(None, gt=0)
    """Their annual revenue target; empty: the settings' (17 million yuan)."""


YONGHE = CountyRow(id="C001", name="永和县")
"""The county of a registry whose files predate counties."""


class TownshipRow(Row):
    table = tables.Township
    id: Code
    name: Text
    former_name: OptionalText = None
    county_id: Code | None = None
    """Empty in a file: the registry's only county (``check_registry`` fills it in, so a
    checked registry always has it)."""


class VillageRow(Row):
    table = tables.Village
    id: Code
    township_id: Text
    """A township id; on import a township's current or former name is accepted too."""
    name: Text
    category: VillageCategory
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    altitude_m: float = Field(ge=-500, le=9000)


class PersonRow(Row):
    table = tables.Person
    id: Code
    role: PersonRole
    name: Text
    mobile: Annotated[str | None, StringConstraints(pattern=r"^\+?[0-9 -]{5,20}$")] = None
    wecom_id: OptionalText = None
    dingtalk_id: OptionalText = None
    email: Annotated[str | None, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] = None
    village_id: Code | None = None
    township_id: Code | None = None


class StationRow(Row):
    table = tables.Station
    id: Code
    kind: StationKind
    name: Text
    township_id: Text
    village_id: Code | None = None
    household_id: Code | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    altitude_m: float = Field(ge=-500, le=9000)
    capacity_kwp: float = Field(gt=0)
    tilt_deg: float = Field(ge=0, le=90)
    azimuth_deg: float = Field(ge=0, lt=360)
    commissioned_on: dt.date
    grid_loss_factor: float = Field(ge=0, lt=0.5)
    subsidy_cap_hours: float = Field(ge=0)


class StationShareRow(Row):
    """A village's ownership share of a village station, or a beneficiary's percentage of
    the centralized station, from a day until a day (dated rows: a change of ownership
    ends the old row and begins a new one, so history keeps the old shares)."""

    table = tables.StationShare
    key = ("station_id", "village_id", "valid_from")
    one_at_a_time = ("station_id", "village_id")
    station_id: Code
    village_id: Code
    share: float = Field(gt=0, le=1)
    valid_from: dt.date | None = None
    """Empty in a file: from the station's commissioning (``check_registry`` fills it in,
    so a checked registry always has it)."""
    valid_to: dt.date | None = None


class InverterRow(Row):
    """An inverter serial at a station from the day it was installed until the day it was
    retired (replaced), if it has been: dated rows, so the history stays."""

    table = tables.Inverter
    one_at_a_time = ("id",)
    former_columns = {"installed_on": "valid_from"}
    id: Code
    station_id: Code
    model: Text
    rated_ac_w: float = Field(gt=0)
    wh_scale_exp: int = Field(0, ge=-3, le=6)
    valid_from: dt.date
    """Installed on."""
    valid_to: dt.date | None = None
    """Retired on (its last day at the station); empty while in service."""


class DeviceAddressRow(Row):
    table = tables.DeviceAddress
    key = ("inverter_id",)
    inverter_id: Code
    protocol: Protocol
    host: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9.:-]{1,253}$"),
    ] = None
    """A host name or an IPv4/IPv6 address on the station's network."""
    port: int | None = Field(None, ge=1, le=65535)
    unit_id: int | None = Field(None, ge=0, le=255)
    cloud_id: Annotated[
        str | None, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ] = None


class StationMaintainerRow(Row):
    table = tables.StationMaintainer
    key = ("station_id", "person_id")
    station_id: Code
    person_id: Code
    is_primary: bool = False


class VillageMaintainerRow(Row):
    table = tables.VillageMaintainer
    key = ("village_id", "person_id")
    village_id: Code
    person_id: Code


class CertificateRow(Row):
    table = tables.Certificate
    id: Code
    person_id: Code
    cert_type: CertType
    number: Text
    issued_on: dt.date
    expires_on: dt.date
    review_due_on: dt.date
    reviewed_on: dt.date | None = None


class TariffRow(Row):
    table = tables.Tariff
    one_at_a_time = ("station_id",)
    id: Code
    station_id: Code
    valid_from: dt.date
    valid_to: dt.date
    grid_yuan_per_kwh: float = Field(ge=0, le=10)
    subsidy_yuan_per_kwh: float = Field(ge=0, le=10)


class StationCostRow(Row):
    """A station's yearly cost of one kind (site rent, insurance, O&M, taxes), dated like
    the shares: a new rent from a day ends the old row."""

    table = tables.StationCost
    key = ("station_id", "item", "valid_from")
    one_at_a_time = ("station_id", "item")
    station_id: Code
    item: Annotated[str, StringConstraints(pattern="^(" + "|".join(COST_ITEMS) + ")$")]
    annual_yuan: float = Field(ge=0)
    valid_from: dt.date | None = None
    """Empty in a file: from the station's commissioning (as for shares)."""
    valid_to: dt.date | None = None


class Place(NamedTuple):
    lat: float
    lon: float
    altitude_m: float


@dataclass
class Registry:
    """The whole registry, one list per sheet, in dependency order."""

    counties: list[CountyRow] = field(default_factory=list)
    townships: list[TownshipRow] = field(default_factory=list)
    villages: list[VillageRow] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    stations: list[StationRow] = field(default_factory=list)
    station_shares: list[StationShareRow] = field(default_factory=list)
    inverters: list[InverterRow] = field(default_factory=list)
    device_addresses: list[DeviceAddressRow] = field(default_factory=list)
    station_maintainers: list[StationMaintainerRow] = field(default_factory=list)
    village_maintainers: list[VillageMaintainerRow] = field(default_factory=list)
    certificates: list[CertificateRow] = field(default_factory=list)
    tariffs: list[TariffRow] = field(default_factory=list)
    station_costs: list[StationCostRow] = field(default_factory=list)

    def crews(self) -> dict[str, list[str]]:
        """station → its responsible maintainers"""
        out: dict[str, list[str]] = {}
        for link in self.station_maintainers:
            out.setdefault(link.station_id, []).append(link.person_id)
        return out

    def village_crews(self) -> dict[str, list[str]]:
        """village → the maintainers of its household arrays"""
        out: dict[str, list[str]] = {}
        for link in self.village_maintainers:
            out.setdefault(link.village_id, []).append(link.person_id)
        return out

    def township_centres(self) -> dict[str, Place]:
        """township → the mean position of its villages: where the sun's position is taken
        for all its stations (DESIGN §4: exact enough over the county's ~40 km)."""
        places: dict[str, list[VillageRow]] = {}
        for v in self.villages:
            places.setdefault(v.township_id, []).append(v)
        return {
            t: Place(
                sum(v.lat for v in vs) / len(vs),
                sum(v.lon for v in vs) / len(vs),
                sum(v.altitude_m for v in vs) / len(vs),
            )
            for t, vs in places.items()
        }

    def county_townships(self) -> dict[str, list[str]]:
        """county → its townships' ids, in the registry's order"""
        out: dict[str, list[str]] = {c.id: [] for c in self.counties}
        for t in self.townships:
            out.setdefault(t.county_id or "", []).append(t.id)
        return out

    def county_of(self) -> dict[str, str]:
        """township → its county"""
        return {t.id: t.county_id or "" for t in self.townships}

    def of_county(self, county_id: str) -> Registry:
        """The part of the registry in one county: its townships, villages and stations,
        what belongs to those, and the people placed in it or looking after it."""
        townships = {t.id for t in self.townships if t.county_id == county_id}
        villages = {v.id for v in self.villages if v.township_id in townships}
        stations = {s.id for s in self.stations if s.township_id in townships}
        inverters = {i.id for i in self.inverters if i.station_id in stations}
        crews = {m.person_id for m in self.station_maintainers if m.station_id in stations}
        crews |= {m.person_id for m in self.village_maintainers if m.village_id in villages}
        people = {
            p.id
            for p in self.people
            if p.id in crews or p.village_id in villages or p.township_id in townships
        }
        return Registry(
            counties=[c for c in self.counties if c.id == county_id],
            townships=[t for t in self.townships if t.id in townships],
            villages=[v for v in self.villages if v.id in villages],
            people=[p for p in self.people if p.id in people],
            stations=[s for s in self.stations if s.id in stations],
            station_shares=[r for r in self.station_shares if r.station_id in stations],
            inverters=[i for i in self.inverters if i.id in inverters],
            device_addresses=[d for d in self.device_addresses if d.inverter_id in inverters],
            station_maintainers=[r for r in self.station_maintainers if r.station_id in stations],
            village_maintainers=[r for r in self.village_maintainers if r.village_id in villages],
            certificates=[c for c in self.certificates if c.person_id in people],
            tariffs=[t for t in self.tariffs if t.station_id in stations],
            station_costs=[c for c in self.station_costs if c.station_id in stations],
        )

    def outside(self, county_id: str) -> Registry:
        """Every row that is not part of the county's (``of_county``): the other counties'."""
        own = {
            sheet: {r.key_value() for r in rows}
            for sheet, rows in self.of_county(county_id).sheets().items()
        }
        return Registry(
            **{
                sheet: [r for r in rows if r.key_value() not in own[sheet]]
                for sheet, rows in self.sheets().items()
            }
        )

    def joined(self, other: Registry) -> Registry:
        """This registry's rows, then ``other``'s, sheet by sheet (a county's part first,
        so that a problem found in the whole is numbered as in the county's file)."""
        return Registry(
            **{sheet: [*rows, *getattr(other, sheet)] for sheet, rows in self.sheets().items()}
        )

    def sheets(self) -> dict[str, list[Row]]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


SHEET_MODELS: dict[str, type[Row]] = {
    "counties": CountyRow,
    "townships": TownshipRow,
    "villages": VillageRow,
    "people": PersonRow,
    "stations": StationRow,
    "station_shares": StationShareRow,
    "inverters": InverterRow,
    "device_addresses": DeviceAddressRow,
    "station_maintainers": StationMaintainerRow,
    "village_maintainers": VillageMaintainerRow,
    "certificates": CertificateRow,
    "tariffs": TariffRow,
    "station_costs": StationCostRow,
}


OPTIONAL_SHEETS = frozenset({"counties", "device_addresses"})
"""Sheets a registry file may leave out (files written before they existed): empty then."""


def columns(sheet: str) -> list[str]:
    return list(SHEET_MODELS[sheet].model_fields)
