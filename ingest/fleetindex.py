"""A read-only lookup of stations and inverters, loaded from the registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pvmon.db import tables


@dataclass(frozen=True, slots=True)
class StationInfo:
    kind: str
    township: str


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    station: str
    rated_w: float


@dataclass(frozen=True)
class FleetIndex:
    stations: Mapping[str, StationInfo]
    devices: Mapping[str, DeviceInfo]

    @classmethod
    def load(cls, session: Session) -> FleetIndex:
        stations = {
            sid: StationInfo(kind, township)
            for sid, kind, township in session.execute(
                select(tables.Station.id, tables.Station.kind, tables.Station.township_id)
            )
        }
        devices = {
            did: DeviceInfo(station, rated)
            for did, station, rated in session.execute(
                select(tables.Inverter.id, tables.Inverter.station_id, tables.Inverter.rated_ac_w)
            )
        }
        return cls(stations, devices)
