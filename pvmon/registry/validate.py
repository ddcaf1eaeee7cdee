"""Registry validation: every bad row is named with the reason.

``parse_sheets`` turns raw cells into typed rows; ``check_registry`` checks the rows against
each other (references, duplicate keys, shares, periods). Both collect every problem instead
of stopping at the first, so one import attempt shows the county everything to fix.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pvmon.domain import PersonRole, StationKind
from pvmon.registry.effective import effective_on, period_problems
from pvmon.registry.schema import (
    OPTIONAL_SHEETS,
    SHEET_MODELS,
    YONGHE,
    Registry,
    StationRow,
    StationShareRow,
    columns,
)

SHARE_TOLERANCE = 1e-6
FIRST_DATA_ROW = 2
"""Row numbers are the file's: the header is row 1."""


@dataclass(frozen=True, slots=True)
class RowError:
    sheet: str
    row: int | None
    message: str
    key: str | None = None

    def __str__(self) -> str:
        where = self.sheet if self.row is None else f"{self.sheet} row {self.row}"
        if self.key:
            where += f" ({self.key})"
        return f"{where}: {self.message}"


class RegistryInvalid(Exception):
    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        shown = "\n".join(f"  {e}" for e in self.errors[:200])
        more = f"\n  … and {len(self.errors) - 200} more" if len(self.errors) > 200 else ""
        super().__init__(f"registry has {len(self.errors)} problem(s):\n{shown}{more}")


def parse_sheets(raw: Mapping[str, Sequence[Mapping[str, Any]]]) -> tuple[Registry, list[RowError]]:
    """Typed rows from raw cells (strings from CSV, typed values from XLSX)."""
    registry = Registry()
    errors: list[RowError] = []
    for sheet, model in SHEET_MODELS.items():
        if sheet not in raw:
            if sheet not in OPTIONAL_SHEETS:
                errors.append(RowError(sheet, None, "sheet is missing"))
            continue
        rows = raw[sheet]
        if rows:
            errors.extend(_column_errors(sheet, rows[0].keys()))
        for number, raw_cells in enumerate(rows, start=FIRST_DATA_ROW):
            cells = {model.former_columns.get(k, k): v for k, v in raw_cells.items()}
            values = {k: _cell(v) for k, v in cells.items() if k in model.model_fields}
            values = {k: v for k, v in values.items() if v is not None}
            try:
                getattr(registry, sheet).append(model.model_validate(values))
            except ValidationError as exc:
                key = str(cells.get("id") or "") or None
                errors.extend(RowError(sheet, number, m, key) for m in messages(exc))
    unknown = sorted(set(raw) - set(SHEET_MODELS))
    errors.extend(RowError(s, None, "unknown sheet") for s in unknown)
    return registry, errors


def _column_errors(sheet: str, present: Iterable[str]) -> list[RowError]:
    expected = columns(sheet)
    renamed = SHEET_MODELS[sheet].former_columns
    have = {renamed.get(c, c) for c in present}
    errors = [RowError(sheet, 1, f"unknown column {c!r}") for c in sorted(have - set(expected))]
    required = [n for n, f in SHEET_MODELS[sheet].model_fields.items() if f.is_required()]
    errors += [RowError(sheet, 1, f"missing column {c!r}") for c in required if c not in have]
    return errors


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def messages(exc: ValidationError) -> list[str]:
    """A pydantic error as lines naming the field, what is wrong and what was given."""
    out = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "row"
        got = error.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        out.append(f"{field}: {error['msg']}{shown}")
    return out


def row_number(index: int) -> int:
    return index + FIRST_DATA_ROW


def check_registry(registry: Registry) -> tuple[Registry, list[RowError]]:
    """Cross-check the sheets; returns the registry with township names resolved to ids,
    townships placed in the only county where the file leaves it out, and undated shares
    and costs dated from their station's commissioning."""
    registry = _dated_from_commissioning(registry)
    registry, errors = _in_counties(registry)
    errors += _duplicate_keys(registry)
    registry, township_errors = _resolve_townships(registry)
    errors += township_errors
    errors += _references(registry)
    errors += _station_rules(registry)
    errors += _shares(registry)
    errors += _shares_in_county(registry)
    errors += _maintainers(registry)
    errors += _certificates(registry)
    errors += _periods(registry)
    errors += _addresses(registry)
    return registry, errors


def validated(registry: Registry) -> Registry:
    """The checked registry, or ``RegistryInvalid`` naming every problem."""
    registry, errors = check_registry(registry)
    if errors:
        raise RegistryInvalid(errors)
    return registry


def _duplicate_keys(registry: Registry) -> list[RowError]:
    errors = []
    for sheet, rows in registry.sheets().items():
        seen: dict[tuple[object, ...], int] = {}
        for i, row in enumerate(rows):
            key = row.key_value()
            if key in seen:
                shown = "/".join(map(str, key))
                errors.append(
                    RowError(
                        sheet,
                        row_number(i),
                        f"duplicate id {shown!r} (first at row {row_number(seen[key])})",
                        shown,
                    )
                )
            else:
                seen[key] = i
    return errors


def _in_counties(registry: Registry) -> tuple[Registry, list[RowError]]:
    """A registry without counties is Yonghe's; a township without a county is in the
    registry's only county, and must name one when there are several."""
    if not registry.counties and all(t.county_id in (None, YONGHE.id) for t in registry.townships):
        registry.counties = [YONGHE]
    errors: list[RowError] = []
    only = registry.counties[0].id if len(registry.counties) == 1 else None
    placed = []
    for i, t in enumerate(registry.townships):
        if t.county_id is None and only is None:
            errors.append(
                RowError(
                    "townships",
                    row_number(i),
                    f"county_id is needed: the registry has {len(registry.counties)} counties",
                    t.id,
                )
            )
        placed.append(t if t.county_id is not None else t.model_copy(update={"county_id": only}))
    registry.townships = placed
    return registry, errors


def _resolve_townships(registry: Registry) -> tuple[Registry, list[RowError]]:
    """Township names (current or former) to ids; a name two townships bear (in two
    counties) must be given as the id."""
    lookup: dict[str, set[str]] = defaultdict(set)
    for t in registry.townships:
        for name in (t.name, t.former_name):
            if name:
                lookup[name].add(t.id)
    for t in registry.townships:
        lookup[t.id] = {t.id}
    errors: list[RowError] = []

    def resolve(sheet: str, rows: list[Any]) -> list[Any]:
        out = []
        for i, row in enumerate(rows):
            townships = lookup.get(row.township_id, set())
            if len(townships) != 1:
                problem = (
                    f"unknown township {row.township_id!r}"
                    if not townships
                    else f"township name {row.township_id!r} is borne by "
                    f"{', '.join(sorted(townships))}: give the id"
                )
                errors.append(RowError(sheet, row_number(i), problem, row.id))
                out.append(row)
            else:
                out.append(row.model_copy(update={"township_id": next(iter(townships))}))
        return out

    registry.villages = resolve("villages", registry.villages)
    registry.stations = resolve("stations", registry.stations)
    return registry, errors


def _references(registry: Registry) -> list[RowError]:
    ids = {
        "county": {c.id for c in registry.counties},
        "township": {t.id for t in registry.townships},
        "village": {v.id for v in registry.villages},
        "station": {s.id for s in registry.stations},
        "person": {p.id for p in registry.people},
        "inverter": {i.id for i in registry.inverters},
    }
    checks = [
        ("townships", "county_id", "county"),
        ("people", "village_id", "village"),
        ("people", "township_id", "township"),
        ("stations", "village_id", "village"),
        ("stations", "household_id", "person"),
        ("station_shares", "station_id", "station"),
        ("station_shares", "village_id", "village"),
        ("inverters", "station_id", "station"),
        ("device_addresses", "inverter_id", "inverter"),
        ("station_maintainers", "station_id", "station"),
        ("station_maintainers", "person_id", "person"),
        ("village_maintainers", "village_id", "village"),
        ("village_maintainers", "person_id", "person"),
        ("certificates", "person_id", "person"),
        ("tariffs", "station_id", "station"),
        ("station_costs", "station_id", "station"),
    ]
    errors = []
    sheets = registry.sheets()
    for sheet, column, target in checks:
        for i, row in enumerate(sheets[sheet]):
            value = getattr(row, column)
            if value is not None and value not in ids[target]:
                key = "/".join(map(str, row.key_value()))
                errors.append(
                    RowError(sheet, row_number(i), f"unknown {target} {value!r} in {column}", key)
                )
    return errors


def _station_rules(registry: Registry) -> list[RowError]:
    villages = {v.id: v for v in registry.villages}
    people = {p.id: p for p in registry.people}
    with_inverters = {inv.station_id for inv in registry.inverters}
    errors = []
    for i, s in enumerate(registry.stations):
        problems = []
        village = villages.get(s.village_id) if s.village_id else None
        if village and village.township_id != s.township_id:
            problems.append(
                f"village {s.village_id!r} lies in township {village.township_id!r}, "
                f"not {s.township_id!r}"
            )
        if s.kind == StationKind.HOUSEHOLD:
            owner = people.get(s.household_id) if s.household_id else None
            if s.household_id is None:
                problems.append("a household array needs household_id")
            elif owner and owner.role != PersonRole.HOUSEHOLD:
                problems.append(
                    f"household_id {s.household_id!r} is a {owner.role}, not a household"
                )
            if s.village_id is None:
                problems.append("a household array needs village_id")
        elif s.household_id is not None:
            problems.append(f"a {s.kind} station cannot have household_id")
        if s.id not in with_inverters:
            problems.append("station has no inverter")
        errors += [RowError("stations", row_number(i), p, s.id) for p in problems]
    return errors


def _dated_from_commissioning(registry: Registry) -> Registry:
    """Share and cost rows without ``valid_from`` hold from their station's commissioning
    (files written before these sheets were dated); a row of an unknown station keeps its
    gap, which ``_references`` reports."""
    commissioned = {s.id: s.commissioned_on for s in registry.stations}

    def dated(rows: list[Any]) -> list[Any]:
        return [
            r.model_copy(update={"valid_from": commissioned[r.station_id]})
            if r.valid_from is None and r.station_id in commissioned
            else r
            for r in rows
        ]

    registry.station_shares = dated(registry.station_shares)
    registry.station_costs = dated(registry.station_costs)
    return registry


def _shares(registry: Registry) -> list[RowError]:
    """A household array belongs to its household; a village station's shares sum to 1 on
    every day from its commissioning; the centralized station's beneficiaries' to at most 1."""
    stations = {s.id: s for s in registry.stations}
    rows_of: dict[str, list[int]] = defaultdict(list)
    for i, share in enumerate(registry.station_shares):
        if share.valid_from is not None:
            rows_of[share.station_id].append(i)
    errors = []
    for station_id, indices in rows_of.items():
        station = stations.get(station_id)
        if station is None:
            continue
        rows = [registry.station_shares[i] for i in indices]
        first = row_number(indices[0])
        if station.kind == StationKind.HOUSEHOLD:
            problems = ["a household array belongs to its household, not to villages"]
        else:
            problems = _share_sums(station, rows)
        errors += [RowError("station_shares", first, p, station_id) for p in problems]
    for i, s in enumerate(registry.stations):
        if s.kind == StationKind.VILLAGE and s.id not in rows_of:
            errors.append(
                RowError(
                    "stations",
                    row_number(i),
                    "village station has no owner in station_shares",
                    s.id,
                )
            )
    return errors


def _shares_in_county(registry: Registry) -> list[RowError]:
    """A station's income goes to villages of its own county: a county's figures are the
    sums of its own stations' (DESIGN §5: each county is computed on its own)."""
    county_of = {t.id: t.county_id for t in registry.townships}
    village_county = {v.id: county_of.get(v.township_id) for v in registry.villages}
    station_county = {s.id: county_of.get(s.township_id) for s in registry.stations}
    errors = []
    for i, share in enumerate(registry.station_shares):
        theirs = village_county.get(share.village_id)
        ours = station_county.get(share.station_id)
        if theirs and ours and theirs != ours:
            errors.append(
                RowError(
                    "station_shares",
                    row_number(i),
                    f"village {share.village_id!r} is in county {theirs!r}, "
                    f"the station in {ours!r}",
                    share.station_id,
                )
            )
    return errors


def _share_sums(station: StationRow, rows: list[StationShareRow]) -> list[str]:
    """The sum of the shares in effect on each day a share begins or ends."""
    kind, commissioned, sid = station.kind, station.commissioned_on, station.id
    changes = {r.valid_from for r in rows} | {
        r.valid_to + dt.timedelta(days=1) for r in rows if r.valid_to is not None
    }
    if kind == StationKind.VILLAGE:
        changes.add(commissioned)
    problems = []
    for day in sorted(changes):
        total = sum(r.share for r in effective_on(rows, day))
        if kind == StationKind.VILLAGE and abs(total - 1) > SHARE_TOLERANCE:
            if day < commissioned:
                continue
            problems.append(
                f"{sid} has no owner from {day}"
                if total == 0
                else f"shares of {sid} sum to {total:.6g}, not 1, from {day}"
            )
        elif kind == StationKind.CENTRAL and total > 1 + SHARE_TOLERANCE:
            problems.append(f"beneficiary shares of {sid} sum to {total:.6g}, above 1, from {day}")
    return problems


def _maintainers(registry: Registry) -> list[RowError]:
    roles = {p.id: p.role for p in registry.people}
    kinds = {s.id: s.kind for s in registry.stations}
    errors = []
    for sheet in ("station_maintainers", "village_maintainers"):
        for i, row in enumerate(registry.sheets()[sheet]):
            role = roles.get(row.person_id)
            if role is not None and role != PersonRole.MAINTAINER:
                errors.append(
                    RowError(
                        sheet,
                        row_number(i),
                        f"person {row.person_id!r} is a {role}, not a maintainer",
                        "/".join(map(str, row.key_value())),
                    )
                )
    for i, row in enumerate(registry.station_maintainers):
        if kinds.get(row.station_id) == StationKind.HOUSEHOLD:
            errors.append(
                RowError(
                    "station_maintainers",
                    row_number(i),
                    "household arrays are looked after through village_maintainers",
                    row.station_id,
                )
            )
    return errors


def _certificates(registry: Registry) -> list[RowError]:
    errors = []
    for i, c in enumerate(registry.certificates):
        if c.expires_on <= c.issued_on:
            errors.append(
                RowError(
                    "certificates",
                    row_number(i),
                    f"expires_on {c.expires_on} is not after issued_on {c.issued_on}",
                    c.id,
                )
            )
        if not c.issued_on <= c.review_due_on <= c.expires_on:
            errors.append(
                RowError(
                    "certificates",
                    row_number(i),
                    f"review_due_on {c.review_due_on} is outside the certificate's validity",
                    c.id,
                )
            )
        if c.reviewed_on is not None and c.reviewed_on < c.issued_on:
            errors.append(
                RowError(
                    "certificates",
                    row_number(i),
                    f"reviewed_on {c.reviewed_on} is before issued_on",
                    c.id,
                )
            )
    return errors


def _periods(registry: Registry) -> list[RowError]:
    """Dated sheets: no row ends before it begins, no two rows of one thing overlap."""
    errors = []
    for sheet, rows in registry.sheets().items():
        subject = SHEET_MODELS[sheet].one_at_a_time
        if subject is None:
            continue
        for i, problem in period_problems(rows, subject):  # type: ignore[arg-type]
            key = "/".join(map(str, rows[i].key_value()))
            errors.append(RowError(sheet, row_number(i), problem, key))
    return errors


def _addresses(registry: Registry) -> list[RowError]:
    """Each device has the address fields its protocol needs and no others; no two devices
    share an address."""
    errors = []
    seen: dict[tuple[object, ...], str] = {}
    for i, a in enumerate(registry.device_addresses):
        row = row_number(i)
        needs = a.protocol.needs
        if any(getattr(a, f) is None for f in needs):
            errors.append(
                RowError(
                    "device_addresses",
                    row,
                    f"{a.protocol} needs {' and '.join(needs)}",
                    a.inverter_id,
                )
            )
        extra = [f for f in ("host", "unit_id", "cloud_id") if f not in needs]
        if any(getattr(a, f) is not None for f in extra):
            errors.append(
                RowError(
                    "device_addresses",
                    row,
                    f"{a.protocol} takes no {' or '.join(extra)}",
                    a.inverter_id,
                )
            )
        family = "modbus" if a.protocol.modbus else str(a.protocol)
        where: tuple[object, ...] = (family, *(getattr(a, f) for f in needs))
        if a.host is not None:
            where += (a.port or a.protocol.port,)
        if None not in where and where in seen:
            errors.append(
                RowError(
                    "device_addresses",
                    row,
                    f"the same address as inverter {seen[where]!r}",
                    a.inverter_id,
                )
            )
        seen.setdefault(where, a.inverter_id)
    return errors
