"""Domain vocabulary shared by every package: station kinds, roles, certificates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class StationKind(StrEnum):
    VILLAGE = "village"
    HOUSEHOLD = "household"
    CENTRAL = "central"


PEER_GROUP = {
    StationKind.VILLAGE: "array",
    StationKind.CENTRAL: "array",
    StationKind.HOUSEHOLD: "rooftop",
}
"""Which stations are compared with which: ground arrays with ground arrays (the single
centralized station has no peer of its own kind), rooftops with rooftops."""


def peer_kinds(kind: StationKind) -> list[StationKind]:
    """The kinds a station of ``kind`` is compared with (its own included)."""
    return [k for k, group in PEER_GROUP.items() if group == PEER_GROUP[kind]]


class Protocol(StrEnum):
    """How a gateway reads an inverter."""

    SUNSPEC = "sunspec"
    """SunSpec information models over Modbus TCP."""
    HUAWEI = "huawei"
    """Huawei SUN2000's register map over Modbus TCP (directly, or through a SmartLogger
    as Modbus gateway to each inverter's unit id)."""
    FUSIONSOLAR = "fusionsolar"
    """Huawei FusionSolar's Northbound API (the vendor's cloud)."""
    OPENDTU = "opendtu"
    """Per-field MQTT topics as OpenDTU (and AhoyDTU) publish them for Hoymiles
    micro-inverters, on the DTU's broker at host:port, under the topic base in
    ``cloud_id``."""

    @property
    def modbus(self) -> bool:
        return self in (Protocol.SUNSPEC, Protocol.HUAWEI)

    @property
    def port(self) -> int | None:
        """The port when an address names none: Modbus TCP's, or MQTT's for a DTU."""
        if self.modbus:
            return 502
        return 1883 if self == Protocol.OPENDTU else None

    @property
    def needs(self) -> tuple[str, ...]:
        """The address fields a device read this way must have (the others it must not,
        but for ``port`` beside a host)."""
        if self.modbus:
            return ("host", "unit_id")
        if self == Protocol.OPENDTU:
            return ("host", "cloud_id")
        return ("cloud_id",)


class PersonRole(StrEnum):
    MAINTAINER = "maintainer"
    SUPERVISOR = "supervisor"
    BUREAU = "bureau"
    HOUSEHOLD = "household"


class VillageCategory(StrEnum):
    """Village classes of the 14th five-year plan's village table."""

    DEMONSTRATION = "先行示范村"
    ADVANCING = "整体推进村"
    KEY_SUPPORT = "重点帮扶村"


class CertType(StrEnum):
    """Electrician special-operations certificate (特种作业操作证) classes."""

    LOW_VOLTAGE = "low_voltage"  # 低压电工作业
    HIGH_VOLTAGE = "high_voltage"  # 高压电工作业


class CertState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVIEW_OVERDUE = "review_overdue"
    NOT_YET_VALID = "not_yet_valid"


CERT_VALIDITY_YEARS = 6
CERT_REVIEW_YEARS = 3


@dataclass(frozen=True, slots=True)
class CertificateTerms:
    issued_on: dt.date
    expires_on: dt.date
    review_due_on: dt.date
    reviewed_on: dt.date | None = None


def certificate_state(cert: CertificateTerms, on: dt.date) -> CertState:
    """State of a certificate on a day.

    A certificate is valid from its issue date to its expiry date, provided the review due
    after three years has been done by its due date once that date has passed.
    """
    if on < cert.issued_on:
        return CertState.NOT_YET_VALID
    if on > cert.expires_on:
        return CertState.EXPIRED
    if on > cert.review_due_on and cert.reviewed_on is None:
        return CertState.REVIEW_OVERDUE
    return CertState.VALID


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
