"""The fleet registry: counties, townships, villages, people, stations, ownership shares, inverters
and where a gateway reads them, maintainer assignments, certificates, tariffs and costs.

Owner: the core registry (``pvmon.registry.store`` replaces it whole on import). Every
package reads it; only the registry's import writes it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from pvmon.db.tables.base import Base


class County(Base):
    __tablename__ = "counties"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    village_energy_kwh: Mapped[float | None] = mapped_column(Float)
    village_revenue_yuan: Mapped[float | None] = mapped_column(Float)


class Township(Base):
    __tablename__ = "townships"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    county_id: Mapped[str] = mapped_column(ForeignKey("counties.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    former_name: Mapped[str | None] = mapped_column(String(64))


class Village(Base):
    __tablename__ = "villages"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    township_id: Mapped[str] = mapped_column(ForeignKey("townships.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float] = mapped_column(Float)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(32))
    wecom_id: Mapped[str | None] = mapped_column(String(64))
    dingtalk_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(128))
    village_id: Mapped[str | None] = mapped_column(ForeignKey("villages.id"), index=True)
    township_id: Mapped[str | None] = mapped_column(ForeignKey("townships.id"), index=True)


class Station(Base):
    __tablename__ = "stations"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(128))
    township_id: Mapped[str] = mapped_column(ForeignKey("townships.id"), index=True)
    village_id: Mapped[str | None] = mapped_column(ForeignKey("villages.id"), index=True)
    """Village where the array stands (a household array's village)."""
    household_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    altitude_m: Mapped[float] = mapped_column(Float)
    capacity_kwp: Mapped[float] = mapped_column(Float)
    tilt_deg: Mapped[float] = mapped_column(Float)
    azimuth_deg: Mapped[float] = mapped_column(Float)
    commissioned_on: Mapped[dt.date] = mapped_column(Date)
    grid_loss_factor: Mapped[float] = mapped_column(Float)
    """Share of inverter energy lost before the grid meter (transformer, cables)."""
    subsidy_cap_hours: Mapped[float] = mapped_column(Float)
    """Lifetime 'reasonable utilisation hours' the subsidy is paid for (财建〔2020〕426号)."""


class StationShare(Base):
    """Ownership of a village station, or a beneficiary's percentage of the central station."""

    __tablename__ = "station_shares"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    share: Mapped[float] = mapped_column(Float)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Inverter(Base):
    __tablename__ = "inverters"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The inverter's serial number, globally unique."""
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    rated_ac_w: Mapped[float] = mapped_column(Float)
    wh_scale_exp: Mapped[int] = mapped_column(Integer, default=0)
    """SunSpec WH_SF: the 32-bit energy counter counts units of 10**wh_scale_exp Wh."""
    valid_from: Mapped[dt.date] = mapped_column(Date)
    """Installed on."""
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    """Retired on (the last day at the station); null while in service."""


class DeviceAddress(Base):
    """Where a gateway reads an inverter: on the station's network (Modbus TCP host, port,
    unit id) or in the vendor's cloud (its device id)."""

    __tablename__ = "device_addresses"
    inverter_id: Mapped[str] = mapped_column(ForeignKey("inverters.id"), primary_key=True)
    protocol: Mapped[str] = mapped_column(String(16))
    host: Mapped[str | None] = mapped_column(String(253), nullable=True)
    port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cloud_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class StationMaintainer(Base):
    __tablename__ = "station_maintainers"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class VillageMaintainer(Base):
    """A maintainer looks after the household arrays of the villages assigned here."""

    __tablename__ = "village_maintainers"
    village_id: Mapped[str] = mapped_column(ForeignKey("villages.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)


class Certificate(Base):
    __tablename__ = "certificates"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    cert_type: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(64))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    review_due_on: Mapped[dt.date] = mapped_column(Date)
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)


class Tariff(Base):
    __tablename__ = "tariffs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    grid_yuan_per_kwh: Mapped[float] = mapped_column(Float)
    subsidy_yuan_per_kwh: Mapped[float] = mapped_column(Float)


class StationCost(Base):
    __tablename__ = "station_costs"
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(32), primary_key=True)
    valid_from: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    annual_yuan: Mapped[float] = mapped_column(Float)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


REGISTRY_TABLES: tuple[type[Base], ...] = (
    County,
    Township,
    Village,
    Person,
    Station,
    StationShare,
    Inverter,
    DeviceAddress,
    StationMaintainer,
    VillageMaintainer,
    Certificate,
    Tariff,
    StationCost,
)
"""Registry tables in dependency order (insert forwards, delete backwards)."""
