"""Who may see and do what: every permission check of the API lives here.

A caller's scope follows from their role: the bureau sees the whole county (in a province's
deployment, the province's bureau everything and a county's bureau its county); a supervisor
one township; a maintainer the stations they are responsible for and the household arrays
of the villages they look after; a collective its own village — its stations, shares,
revenue and households. Something outside the scope is reported as not found, so a caller
cannot even learn that it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from pvmon.db import tables
from pvmon.domain import StationKind
from pvmon.registry.lookup import FleetLookup


class Role(StrEnum):
    BUREAU = "bureau"
    SUPERVISOR = "supervisor"
    MAINTAINER = "maintainer"
    COLLECTIVE = "collective"


@dataclass(frozen=True)
class Scope:
    role: Role
    user_id: int
    person_id: str | None
    stations: frozenset[str] | None
    """None: every station."""
    villages: frozenset[str] | None
    townships: frozenset[str] | None
    county: str | None = None
    """The county a county's bureau or a township's supervisor works in."""

    @property
    def everything(self) -> bool:
        """The whole deployment: the bureau, unless it is one county's of a province."""
        return self.role == Role.BUREAU and self.townships is None

    def sees_station(self, station_id: str) -> bool:
        return self.stations is None or station_id in self.stations

    def sees_village(self, village_id: str) -> bool:
        return self.villages is None or village_id in self.villages

    def sees_township(self, township_id: str | None) -> bool:
        return self.townships is None or township_id in self.townships

    def sees_alert(self, alert: tables.Alert) -> bool:
        if self.role == Role.COLLECTIVE:
            return False
        if self.everything:
            return True
        if self.role in (Role.BUREAU, Role.SUPERVISOR):
            return self.sees_township(alert.township_id)
        if alert.subject_type == "maintainer":
            return alert.subject_id == self.person_id
        return alert.station_id is not None and self.sees_station(alert.station_id)

    def alert_filter(self) -> ColumnElement[bool] | None:
        """The same rule as ``sees_alert``, as a query condition (None: every alert)."""
        a = tables.Alert
        if self.everything:
            return None
        if self.role == Role.COLLECTIVE:
            return false()
        if self.role in (Role.BUREAU, Role.SUPERVISOR):
            return a.township_id.in_(sorted(self.townships or ()))
        own = and_(a.subject_type == "maintainer", a.subject_id == (self.person_id or ""))
        return or_(own, a.station_id.in_(sorted(self.stations or ())))

    def acts_on_alert(self, alert: tables.Alert) -> bool:
        """Acknowledge and resolve: whoever may see an alert may act on it, except that a
        fleet-wide alert is the bureau's."""
        if alert.subject_type == "fleet" and not self.everything:
            return False
        return self.sees_alert(alert)

    def sees_order(self, order: tables.WorkOrder) -> bool:
        """A work order: whoever sees its station, but not a collective."""
        return self.role != Role.COLLECTIVE and self.sees_station(order.station_id)

    def order_filter(self) -> ColumnElement[bool] | None:
        """The same rule as ``sees_order``, as a query condition (None: every order)."""
        if self.everything:
            return None
        if self.role == Role.COLLECTIVE:
            return false()
        if self.reads_fleet:
            return tables.WorkOrder.station_id.in_(self._of_townships(tables.Station))
        return tables.WorkOrder.station_id.in_(sorted(self.stations or ()))

    def village_filter(self, village_id: ColumnElement[str]) -> ColumnElement[bool] | None:
        """Rows of the caller's villages, as a condition on their ``village_id`` column
        (None: every village)."""
        if self.villages is None:
            return None
        if self.reads_fleet:
            return village_id.in_(self._of_townships(tables.Village))
        return village_id.in_(sorted(self.villages))

    def _of_townships(self, table: type[tables.Station] | type[tables.Village]) -> Select[Any]:
        """The ids of the stations or villages of the caller's townships: a fleet reader's
        scope holds all of them, and is asked by township rather than by thousands of ids
        (a county's bureau in a province has some 2,200 stations)."""
        return select(table.id).where(table.township_id.in_(sorted(self.townships or ())))

    def runs_orders(self, station_id: str) -> bool:
        """Open and assign orders: the bureau, and a supervisor within the township."""
        return self.role in (Role.BUREAU, Role.SUPERVISOR) and self.sees_station(station_id)

    def sees_money(self, station_id: str) -> bool:
        """A station's ownership and revenue: the bureau, its township's supervisor and
        the collectives that own it; a maintainer looks after the equipment, not the money."""
        return self.role != Role.MAINTAINER and self.sees_station(station_id)

    def sees_person(self, person_id: str, stations: frozenset[str]) -> bool:
        """A person's page: oneself, or someone responsible for a station in one's scope."""
        return (
            person_id == self.person_id
            or self.everything
            or any(self.sees_station(s) for s in stations)
        )

    @property
    def reads_fleet(self) -> bool:
        """The county's or a township's totals, targets and compliance."""
        return self.role in (Role.BUREAU, Role.SUPERVISOR)

    @property
    def reads_books(self) -> bool:
        """The money's books — statements, receipts, receivables, month states — of the
        caller's stations and villages: the bureau and a township's supervisor."""
        return self.role in (Role.BUREAU, Role.SUPERVISOR)

    @property
    def keeps_books(self) -> bool:
        """Enter statements and receipts, close months, book adjustments: the bureau, for
        the stations and villages in its scope (a county's bureau in a province keeps its
        county's books)."""
        return self.role == Role.BUREAU

    def records_uses(self, village_id: str) -> bool:
        """Record and publish what a village did with its income: its collective, and the
        bureau it lies under."""
        return self.role in (Role.BUREAU, Role.COLLECTIVE) and self.sees_village(village_id)

    @property
    def reads_audit(self) -> bool:
        """The audit log of every change to the registry and the money: the bureau of the
        whole deployment."""
        return self.everything

    @property
    def reads_operations(self) -> bool:
        """Ingest status and dead letters (of the whole deployment)."""
        return self.everything

    @property
    def keeps_registry(self) -> bool:
        """Export and import the registry's files: the bureau — a county's bureau in a
        province its county's part (``county``), the province's the whole."""
        return self.role == Role.BUREAU


def in_townships(view: FleetLookup, townships: set[str]) -> tuple[set[str], set[str]]:
    """The townships' stations and villages."""
    stations = {s.id for s in view.stations.values() if s.township_id in townships}
    villages = {v for v, row in view.villages.items() if row.township_id in townships}
    return stations, villages


def township_scope(base: Scope, township: str, view: FleetLookup) -> Scope | None:
    """What a township page shows: the part of a fleet reader's scope inside one township
    (None: not a fleet reader, a township outside the scope, or no such township)."""
    known = township in view.township_names
    if not (base.reads_fleet and known and base.sees_township(township)):
        return None
    return _part(base, Role.SUPERVISOR, {township}, view)


def county_scope(base: Scope, county: str, view: FleetLookup) -> Scope | None:
    """A province's lists narrowed to one county: the part of a fleet reader's scope in its
    townships (None: not a fleet reader, or no township of it in the scope)."""
    townships = {
        t for t in view.registry.county_townships().get(county, ()) if base.sees_township(t)
    }
    if not (base.reads_fleet and townships):
        return None
    return _part(base, Role.BUREAU, townships, view, county)


def _part(
    base: Scope, role: Role, townships: set[str], view: FleetLookup, county: str | None = None
) -> Scope:
    stations, villages = in_townships(view, townships)
    return Scope(
        role,
        base.user_id,
        base.person_id,
        frozenset(s for s in stations if base.sees_station(s)),
        frozenset(v for v in villages if base.sees_village(v)),
        frozenset(townships),
        county,
    )


def _over_townships(
    role: Role, user: tables.User, view: FleetLookup, townships: set[str], county: str | None
) -> Scope:
    """Whatever lies in the townships: a county's bureau, a township's supervisor."""
    stations, villages = in_townships(view, townships)
    return Scope(
        role,
        user.id,
        user.person_id,
        frozenset(stations),
        frozenset(villages),
        frozenset(townships),
        county,
    )


def scope_for(user: tables.User, view: FleetLookup) -> Scope:
    role = Role(user.role)
    if role == Role.BUREAU and user.county_id is None:
        return Scope(role, user.id, user.person_id, None, None, None)
    if role == Role.BUREAU:
        townships = set(view.registry.county_townships().get(user.county_id, ()))
        return _over_townships(role, user, view, townships, user.county_id)
    if role == Role.SUPERVISOR:
        township = user.township_id or ""
        county = view.registry.county_of().get(township)
        return _over_townships(role, user, view, {township}, county)
    if role == Role.MAINTAINER:
        person = user.person_id or ""
        stations = set(view.duties.get(person, ()))
        villages = set(view.village_duties.get(person, ()))
        stations |= {
            s.id
            for s in view.stations.values()
            if s.kind == StationKind.HOUSEHOLD and s.village_id in villages
        }
        townships = {view.stations[s].township_id for s in stations}
        return Scope(
            role, user.id, person, frozenset(stations), frozenset(villages), frozenset(townships)
        )
    village = user.village_id or ""
    stations = set(view.held.get(village, ()))
    stations |= set(view.in_village.get(village, ()))
    home = view.villages.get(village)
    township = home.township_id if home else None
    return Scope(
        role,
        user.id,
        None,
        frozenset(stations),
        frozenset({village}),
        frozenset({township}) if township else frozenset(),
    )
