"""The registry as lookups by stable id: what the API's scopes and the alert engine's
routing both read (stations, people, villages, who owns what, who looks after what, which
inverter belongs where). Built once per registry load; every lookup is a dict."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from pvmon.registry.effective import carries_on, effective_on
from pvmon.registry.schema import (
    InverterRow,
    PersonRow,
    Place,
    Registry,
    StationCostRow,
    StationRow,
    StationShareRow,
    TariffRow,
    VillageRow,
)

_SERIALS = itertools.count(1)


def township_names(registry: Registry) -> dict[str, str]:
    """township → the name people read: with its county's in front when the deployment
    has several counties (a province's counties repeat each other's township names)."""
    if len(registry.counties) < 2:
        return {t.id: t.name for t in registry.townships}
    counties = {c.id: c.name for c in registry.counties}
    return {t.id: f"{counties.get(t.county_id or '', '')}{t.name}" for t in registry.townships}


@dataclass
class FleetLookup:
    registry: Registry
    stations: dict[str, StationRow]
    people: dict[str, PersonRow]
    villages: dict[str, VillageRow]
    township_names: dict[str, str]
    """township → its name, its county's in front in a province (``township_names``)"""
    share_rows: dict[str, list[StationShareRow]]
    """station → its dated ownership (or beneficiary) shares (``owners_on``)"""
    held: dict[str, frozenset[str]]
    """village → every station it has held a share of (its statements' history)"""
    in_village: dict[str, list[str]]
    """village → the stations in it (its village stations and household arrays)"""
    crews: dict[str, list[str]]
    """station → its responsible maintainers"""
    village_crews: dict[str, list[str]]
    """village → the maintainers of its household arrays"""
    duties: dict[str, frozenset[str]]
    """person → the stations they are a responsible maintainer of"""
    village_duties: dict[str, frozenset[str]]
    """person → the villages whose household arrays they look after"""
    inverters: dict[str, list[str]]
    """station → the serials of every inverter it has had (``station_inverters``: those in
    service on a day)"""
    station_of: dict[str, str]
    """inverter serial → its station"""
    township_centres: dict[str, Place]
    inverter_rows: dict[str, InverterRow]
    tariff_rows: dict[str, list[TariffRow]]
    """station → its dated tariffs"""
    cost_rows: dict[str, list[StationCostRow]]
    """station → its dated costs"""
    serial: int = field(default_factory=lambda: next(_SERIALS), kw_only=True)
    """Which build this is, new for each: what is kept while a view stands is kept under
    it (``id()`` is not that: a freed view's may come back)."""

    @classmethod
    def lookups(cls, registry: Registry) -> dict[str, object]:
        """The lookups of ``registry`` as keyword arguments (for this class and for
        projections that extend it)."""
        share_rows: dict[str, list[StationShareRow]] = defaultdict(list)
        held: dict[str, set[str]] = defaultdict(set)
        for s in registry.station_shares:
            share_rows[s.station_id].append(s)
            held[s.village_id].add(s.station_id)
        inverters: dict[str, list[str]] = defaultdict(list)
        for i in registry.inverters:
            inverters[i.station_id].append(i.id)
        in_village: dict[str, list[str]] = defaultdict(list)
        for station in registry.stations:
            if station.village_id:
                in_village[station.village_id].append(station.id)
        tariffs: dict[str, list[TariffRow]] = defaultdict(list)
        for t in registry.tariffs:
            tariffs[t.station_id].append(t)
        costs: dict[str, list[StationCostRow]] = defaultdict(list)
        for c in registry.station_costs:
            costs[c.station_id].append(c)
        duties: dict[str, set[str]] = defaultdict(set)
        for m in registry.station_maintainers:
            duties[m.person_id].add(m.station_id)
        village_duties: dict[str, set[str]] = defaultdict(set)
        for n in registry.village_maintainers:
            village_duties[n.person_id].add(n.village_id)
        return {
            "registry": registry,
            "stations": {s.id: s for s in registry.stations},
            "people": {p.id: p for p in registry.people},
            "villages": {v.id: v for v in registry.villages},
            "township_names": township_names(registry),
            "share_rows": dict(share_rows),
            "held": {v: frozenset(stations) for v, stations in held.items()},
            "in_village": dict(in_village),
            "crews": registry.crews(),
            "village_crews": registry.village_crews(),
            "duties": {p: frozenset(s) for p, s in duties.items()},
            "village_duties": {p: frozenset(v) for p, v in village_duties.items()},
            "inverters": dict(inverters),
            "station_of": {i.id: i.station_id for i in registry.inverters},
            "township_centres": registry.township_centres(),
            "inverter_rows": {i.id: i for i in registry.inverters},
            "tariff_rows": dict(tariffs),
            "cost_rows": dict(costs),
        }

    @classmethod
    def build(cls, registry: Registry) -> FleetLookup:
        return cls(**cls.lookups(registry))  # type: ignore[arg-type]

    def in_service(self, day: dt.date) -> dict[str, str]:
        """Serial → station of the inverters in service on ``day`` and after it (those
        expected to speak now: not one retired today)."""
        return {i.id: i.station_id for i in self.inverter_rows.values() if carries_on(i, day)}

    def station_inverters(self, station_id: str, day: dt.date) -> list[InverterRow]:
        """The station's inverters in service on ``day`` and after it: what is there now
        (one replaced today is among the ``retired``)."""
        rows = [self.inverter_rows[d] for d in self.inverters.get(station_id, [])]
        return [r for r in rows if carries_on(r, day)]

    def retired(self, station_id: str, day: dt.date) -> list[InverterRow]:
        """The station's inverters retired by ``day`` (their history), latest first."""
        rows = [self.inverter_rows[d] for d in self.inverters.get(station_id, [])]
        gone = [r for r in rows if r.valid_to is not None and r.valid_to <= day]
        return sorted(gone, key=lambda r: r.valid_to or day, reverse=True)

    def owners_on(self, station_id: str, day: dt.date) -> dict[str, float]:
        """Village → its share of the station on ``day``."""
        return {
            r.village_id: r.share for r in effective_on(self.share_rows.get(station_id, []), day)
        }

    def holdings_on(self, village_id: str, day: dt.date) -> dict[str, float]:
        """Station → the village's share of it on ``day``."""
        out = {}
        for station_id in sorted(self.held.get(village_id, ())):
            share = self.owners_on(station_id, day).get(village_id)
            if share is not None:
                out[station_id] = share
        return out

    def books_registry(self, villages: Collection[str]) -> Registry:
        """What the money books of ``villages`` need of the registry (``finance.books``):
        those villages, every station they have held a share of, and those stations'
        shares — every holder's, as a statement is split among them all —, tariffs and
        costs. Looked up, not searched: a province's registry is large."""
        stations = sorted({s for v in villages for s in self.held.get(v, ())})
        return Registry(
            villages=[self.villages[v] for v in villages if v in self.villages],
            stations=[self.stations[s] for s in stations],
            station_shares=[r for s in stations for r in self.share_rows.get(s, [])],
            tariffs=[r for s in stations for r in self.tariff_rows.get(s, [])],
            station_costs=[r for s in stations for r in self.cost_rows.get(s, [])],
        )

    def village_name(self, village_id: str) -> str:
        village = self.villages.get(village_id)
        return village.name if village else village_id

    def township_of_village(self, village_id: str) -> str | None:
        village = self.villages.get(village_id)
        return village.township_id if village else None
