"""The generated default registry of the Yonghe fleet, deterministic from a seed.

The county plan gives counts and targets, not capacities; every figure below that is not in
the plan is an assumption, named and explained where it is defined, and every one of them can
be replaced by importing the county's own registry (``pvmon registry import``).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from importlib import resources

from pvmon.domain import (
    CERT_REVIEW_YEARS,
    CERT_VALIDITY_YEARS,
    CertType,
    PersonRole,
    StationKind,
    VillageCategory,
    add_years,
)
from pvmon.registry import names
from pvmon.registry.schema import (
    YONGHE,
    CertificateRow,
    CountyRow,
    InverterRow,
    PersonRow,
    Registry,
    StationCostRow,
    StationMaintainerRow,
    StationRow,
    StationShareRow,
    TariffRow,
    TownshipRow,
    VillageMaintainerRow,
    VillageRow,
)

# Townships in the order of the plan's village table; ids are stable codes. Centres are
# approximate positions of each township seat (assumption, for solar geometry only).
TOWNSHIPS: tuple[tuple[str, str, str | None, float, float], ...] = (
    ("T01", "芝河镇", None, 36.760, 110.632),
    ("T02", "桑壁镇", None, 36.853, 110.553),
    ("T03", "坡头乡", None, 36.690, 110.735),
    ("T04", "乾坤湾乡", "阁底乡", 36.705, 110.455),
    ("T05", "楼山乡", "交口乡", 36.630, 110.585),
    ("T06", "望海寺乡", None, 36.870, 110.725),
)

VILLAGE_STATIONS = 103
HOUSEHOLD_ARRAYS = 2136
VILLAGE_FLEET_KWP = 17_000.0
"""21 GWh a year at about 1,240 kWh/kWp (DESIGN §2)."""
STATION_KWP_RANGE = (60.0, 300.0)
SHARED_STATION_SIZES = (2,) * 8 + (3,) * 3
"""联村电站: eight stations shared by two villages and three by three (assumption)."""
STRING_INVERTER_KW = (20, 30, 33, 36, 40, 50, 60)
CENTRAL_INVERTER_KW = 225
DC_AC_RATIO = 1.15
HOUSEHOLD_KWP = ((3.0, 2), (3.5, 3), (4.0, 4), (4.5, 2), (5.0, 2))
"""Household array sizes (kWp) and their relative frequency (assumption: 3–5 kWp)."""

GRID_YUAN_PER_KWH = 0.332
"""Shanxi's coal-fired benchmark price, paid by the grid company monthly."""
TOTAL_TARIFF_BY_YEAR = {2016: 0.85, 2017: 0.85, 2018: 0.75, 2019: 0.75, 2020: 0.75}
"""Poverty-alleviation PV tariff by commissioning year (assumption); the part above the
benchmark is renewable subsidy. The village mix averages about 0.81 yuan/kWh (DESIGN §2)."""
TARIFF_YEARS = 20
SUBSIDY_CAP_HOURS = 22_000.0
"""财建〔2020〕426号 lifetime reasonable utilisation hours for resource region III (Linfen)."""
GRID_LOSS = {StationKind.VILLAGE: 0.03, StationKind.HOUSEHOLD: 0.02, StationKind.CENTRAL: 0.035}
"""Share of inverter energy lost before the settlement meter (assumption)."""

CATEGORY_HOUSEHOLD_WEIGHT = {
    VillageCategory.DEMONSTRATION: 0.8,
    VillageCategory.ADVANCING: 1.0,
    VillageCategory.KEY_SUPPORT: 1.4,
}
"""Key-support villages had more registered poor households, so more rooftop arrays."""


@dataclass(frozen=True)
class GenerationOptions:
    seed: int = 2021
    as_of: dt.date | None = None
    """Certificates are dated relative to this day (default: today): 'expiring soon' is soon."""
    central_kwp: float = 20_000.0
    counties: int = 1
    """A province of this many county-sized fleets: the first is Yonghe as it is, each
    other one generated with its own seed, its ids prefixed with its county's."""


def generate_registry(options: GenerationOptions | None = None) -> Registry:
    """A complete, valid registry of the whole fleet (of every county of a province)."""
    options = options or GenerationOptions()
    reg = _county(options, options.seed)
    for number in range(2, options.counties + 1):
        county = CountyRow(id=f"C{number:03d}", name=f"{number:03d}号县")
        copy = moved(_county(options, options.seed + number - 1), *county_offset(number))
        for sheet, rows in prefixed(copy, county).sheets().items():
            getattr(reg, sheet).extend(rows)
    return reg


ID_FIELDS = (
    "id",
    "township_id",
    "village_id",
    "household_id",
    "station_id",
    "person_id",
    "inverter_id",
)


PROVINCE_GRID = (10, 10)
"""Rows (south to north) and columns (west to east) of the places a generated province's
counties take: about Shanxi's extent (34.6–40.7 °N, 110.2–114.5 °E) from Yonghe, which
lies on its western edge."""
GRID_STEP_DEG = (0.6, 0.42)
"""(latitude, longitude) between neighbouring counties: a county is about 40 km across."""
YONGHE_ROW = 3


def county_offset(number: int) -> tuple[float, float]:
    """Where the ``number``-th county lies from Yonghe (degrees of latitude, longitude):
    the grid's places in order, Yonghe's own (row ``YONGHE_ROW``, first column) skipped, so
    that no two counties' townships overlap on a map or share a sun (past 100 counties the
    places repeat)."""
    rows, columns = PROVINCE_GRID
    places = [(r, c) for r in range(rows) for c in range(columns) if (r, c) != (YONGHE_ROW, 0)]
    row, column = places[(number - 2) % len(places)]
    return (row - YONGHE_ROW) * GRID_STEP_DEG[0], column * GRID_STEP_DEG[1]


def moved(reg: Registry, dlat: float, dlon: float) -> Registry:
    """The registry's villages and stations moved by (``dlat``, ``dlon``) degrees."""
    for sheet in ("villages", "stations"):
        rows = getattr(reg, sheet)
        setattr(
            reg,
            sheet,
            [
                r.model_copy(update={"lat": round(r.lat + dlat, 5), "lon": round(r.lon + dlon, 5)})
                for r in rows
            ],
        )
    return reg


def prefixed(reg: Registry, county: CountyRow) -> Registry:
    """A generated county's registry as ``county``: every id prefixed with the county's
    (ids are unique province-wide), its townships in it."""
    prefix = f"{county.id}-"
    out = Registry(counties=[county])
    for sheet, rows in reg.sheets().items():
        if sheet == "counties":
            continue
        copies = []
        for row in rows:
            update = {
                f: prefix + getattr(row, f)
                for f in ID_FIELDS
                if f in type(row).model_fields and getattr(row, f) is not None
            }
            if sheet == "townships":
                update["county_id"] = county.id
            copies.append(row.model_copy(update=update))
        setattr(out, sheet, copies)
    return out


def _county(options: GenerationOptions, seed: int) -> Registry:
    """One county's fleet, Yonghe's ids and names."""
    rng = random.Random(seed)
    as_of = options.as_of or dt.date.today()
    reg = Registry(counties=[YONGHE])
    _townships_and_villages(reg, rng)
    owners = _ownership_plan(reg.villages, rng)
    _village_stations(reg, owners, rng)
    _households(reg, rng)
    _central_station(reg, options.central_kwp, rng)
    _people(reg, rng)
    _certificates(reg, as_of, rng)
    return reg


# --- places ------------------------------------------------------------------------------


def village_table() -> list[dict[str, str]]:
    """The plan's village table (current township, township as printed, village, category)."""
    text = resources.files("pvmon.data").joinpath("villages.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _townships_and_villages(reg: Registry, rng: random.Random) -> None:
    centres = {}
    for tid, name, former, lat, lon in TOWNSHIPS:
        reg.townships.append(
            TownshipRow(id=tid, name=name, former_name=former, county_id=YONGHE.id)
        )
        centres[name] = (tid, lat, lon)
    seq: Counter[str] = Counter()
    for row in village_table():
        tid, lat, lon = centres[row["township"]]
        seq[tid] += 1
        reg.villages.append(
            VillageRow(
                id=f"V{tid[1:]}{seq[tid]:02d}",
                township_id=tid,
                name=row["village"],
                category=VillageCategory(row["category"]),
                lat=round(lat + _bounded_gauss(rng, 0.035, 0.09), 5),
                lon=round(lon + _bounded_gauss(rng, 0.045, 0.11), 5),
                altitude_m=round(rng.uniform(800, 1200)),
            )
        )


def _bounded_gauss(rng: random.Random, sigma: float, bound: float) -> float:
    return max(-bound, min(bound, rng.gauss(0, sigma)))


# --- village stations --------------------------------------------------------------------


def _ownership_plan(villages: list[VillageRow], rng: random.Random) -> list[list[str]]:
    """Owner villages of each village station: every village owns one to three stations."""
    owned: Counter[str] = Counter()
    plan: list[list[str]] = []
    for v in villages:
        plan.append([v.id])
        owned[v.id] += 1
    by_township: dict[str, list[str]] = defaultdict(list)
    for v in villages:
        by_township[v.township_id].append(v.id)
    for size in SHARED_STATION_SIZES:
        candidates: list[str] = []
        while len(candidates) < size:  # a township with too few villages left: another
            township = rng.choice(sorted(by_township))
            candidates = [v for v in by_township[township] if owned[v] < 3]
        group = rng.sample(candidates, size)
        plan.append(group)
        owned.update(group)
    weight = {
        VillageCategory.DEMONSTRATION: 3.0,
        VillageCategory.ADVANCING: 1.5,
        VillageCategory.KEY_SUPPORT: 1.0,
    }
    while len(plan) < VILLAGE_STATIONS:
        candidates = [v for v in villages if owned[v.id] < 3]
        village = rng.choices(candidates, [weight[v.category] for v in candidates])[0]
        plan.append([village.id])
        owned[village.id] += 1
    order = {v.id: i for i, v in enumerate(villages)}
    return sorted(plan, key=lambda group: (order[group[0]], len(group)))


def _capacities(owner_counts: list[int], rng: random.Random) -> list[float]:
    """Station sizes in 60–300 kWp summing to the fleet's ~17 MWp; shared stations are larger."""
    low, high = STATION_KWP_RANGE
    sizes = [
        rng.lognormvariate(math.log(150), 0.45) * (1.3 if n > 1 else 1.0) for n in owner_counts
    ]
    for _ in range(20):
        scale = VILLAGE_FLEET_KWP / sum(sizes)
        sizes = [min(high, max(low, s * scale)) for s in sizes]
    return [round(s, 1) for s in sizes]


def inverter_layout(
    kwp: float, ratings_kw: tuple[int, ...] = STRING_INVERTER_KW, counts: range = range(2, 7)
) -> tuple[int, int]:
    """(count, rating kW) of string inverters whose DC/AC ratio is nearest 1.15."""
    return min(
        ((n, r) for n in counts for r in ratings_kw),
        key=lambda nr: (abs(kwp / (nr[0] * nr[1]) - DC_AC_RATIO), nr[0]),
    )


def _village_stations(reg: Registry, plan: list[list[str]], rng: random.Random) -> None:
    villages = {v.id: v for v in reg.villages}
    sizes = _capacities([len(group) for group in plan], rng)
    number_in_village: Counter[str] = Counter()
    for i, (group, kwp) in enumerate(zip(plan, sizes, strict=True), start=1):
        sid = f"VS{i:03d}"
        first = villages[group[0]]
        if len(group) > 1:
            name = "·".join(villages[v].name for v in group) + "联村光伏电站"
        else:
            number_in_village[first.id] += 1
            name = f"{first.name}村级光伏电站{number_in_village[first.id]}号"
        commissioned = _commissioning_day(rng, {2016: 1, 2017: 10, 2018: 6, 2019: 3, 2020: 1})
        lat = sum(villages[v].lat for v in group) / len(group)
        lon = sum(villages[v].lon for v in group) / len(group)
        reg.stations.append(
            StationRow(
                id=sid,
                kind=StationKind.VILLAGE,
                name=name,
                township_id=first.township_id,
                village_id=first.id,
                lat=round(lat + rng.gauss(0, 0.004), 5),
                lon=round(lon + rng.gauss(0, 0.004), 5),
                altitude_m=first.altitude_m,
                capacity_kwp=kwp,
                tilt_deg=round(rng.uniform(25, 35)),
                azimuth_deg=round(180 + rng.uniform(-20, 20)),
                commissioned_on=commissioned,
                grid_loss_factor=GRID_LOSS[StationKind.VILLAGE],
                subsidy_cap_hours=SUBSIDY_CAP_HOURS,
            )
        )
        for village_id, share in zip(group, _shares(len(group)), strict=True):
            reg.station_shares.append(
                StationShareRow(
                    station_id=sid, village_id=village_id, share=share, valid_from=commissioned
                )
            )
        count, rating = inverter_layout(kwp)
        _add_inverters(reg, sid, count, rating, f"PVI-{rating}K-3P", commissioned, 0, rng)
        _add_tariff(reg, sid, commissioned)
        reg.station_costs += [
            StationCostRow(station_id=sid, item=item, annual_yuan=yuan, valid_from=commissioned)
            for item, yuan in (
                ("rent", 100 * rng.randint(0, 30)),
                ("insurance", round(kwp * 8)),
                ("om", round(2000 + kwp * 15)),
            )
        ]


def _shares(owners: int) -> list[float]:
    return {1: [1.0], 2: [0.5, 0.5], 3: [0.34, 0.33, 0.33]}[owners]


def _commissioning_day(rng: random.Random, year_weights: dict[int, int]) -> dt.date:
    year = rng.choices(list(year_weights), list(year_weights.values()))[0]
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


def _add_inverters(
    reg: Registry,
    station_id: str,
    count: int,
    rating_kw: int,
    model: str,
    installed: dt.date,
    wh_scale_exp: int,
    rng: random.Random,
) -> None:
    taken = {inv.id for inv in reg.inverters}
    for _ in range(count):
        serial = _serial(rng, installed, taken)
        taken.add(serial)
        reg.inverters.append(
            InverterRow(
                id=serial,
                station_id=station_id,
                model=model,
                rated_ac_w=rating_kw * 1000.0,
                wh_scale_exp=wh_scale_exp,
                valid_from=installed,
            )
        )


def _serial(rng: random.Random, installed: dt.date, taken: set[str]) -> str:
    while True:
        serial = f"A{installed.year % 100:02d}{rng.choice('ABCDEFGH')}{rng.randrange(10**7):07d}"
        if serial not in taken:
            return serial


def _add_tariff(reg: Registry, station_id: str, commissioned: dt.date) -> None:
    total = TOTAL_TARIFF_BY_YEAR[commissioned.year]
    reg.tariffs.append(
        TariffRow(
            id=f"TF-{station_id}-1",
            station_id=station_id,
            valid_from=commissioned,
            valid_to=add_years(commissioned, TARIFF_YEARS) - dt.timedelta(days=1),
            grid_yuan_per_kwh=GRID_YUAN_PER_KWH,
            subsidy_yuan_per_kwh=round(total - GRID_YUAN_PER_KWH, 4),
        )
    )


# --- households and the centralized station ----------------------------------------------


def _households_per_village(villages: list[VillageRow]) -> list[int]:
    weights = [CATEGORY_HOUSEHOLD_WEIGHT[v.category] for v in villages]
    exact = [HOUSEHOLD_ARRAYS * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: HOUSEHOLD_ARRAYS - sum(counts)]:
        counts[i] += 1
    return counts


def _households(reg: Registry, rng: random.Random) -> None:
    sizes, weights = zip(*HOUSEHOLD_KWP, strict=True)
    n = 0
    for village, count in zip(reg.villages, _households_per_village(reg.villages), strict=True):
        for _ in range(count):
            n += 1
            person = PersonRow(
                id=f"H{n:04d}",
                role=PersonRole.HOUSEHOLD,
                name=names.person_name(rng),
                mobile=names.mobile(rng),
                village_id=village.id,
            )
            reg.people.append(person)
            kwp = rng.choices(sizes, weights)[0]
            sid = f"HH{n:04d}"
            commissioned = _commissioning_day(rng, {2016: 3, 2017: 5, 2018: 2})
            reg.stations.append(
                StationRow(
                    id=sid,
                    kind=StationKind.HOUSEHOLD,
                    name=f"{person.name}户用光伏",
                    township_id=village.township_id,
                    village_id=village.id,
                    household_id=person.id,
                    lat=round(village.lat + rng.gauss(0, 0.003), 5),
                    lon=round(village.lon + rng.gauss(0, 0.003), 5),
                    altitude_m=village.altitude_m,
                    capacity_kwp=kwp,
                    tilt_deg=round(rng.uniform(18, 30)),
                    azimuth_deg=round(180 + rng.uniform(-30, 30)),
                    commissioned_on=commissioned,
                    grid_loss_factor=GRID_LOSS[StationKind.HOUSEHOLD],
                    subsidy_cap_hours=SUBSIDY_CAP_HOURS,
                )
            )
            rating = 3 if kwp <= 3.5 else 4 if kwp <= 4.0 else 5
            _add_inverters(reg, sid, 1, rating, f"PVI-{rating}K-1P", commissioned, 0, rng)
            _add_tariff(reg, sid, commissioned)


def _central_station(reg: Registry, kwp: float, rng: random.Random) -> None:
    sid = "CS01"
    commissioned = dt.date(2018, 6, 28)
    reg.stations.append(
        StationRow(
            id=sid,
            kind=StationKind.CENTRAL,
            name="永和县集中式光伏扶贫电站",
            township_id="T01",
            lat=36.8046,
            lon=110.6712,
            altitude_m=1050,
            capacity_kwp=kwp,
            tilt_deg=33,
            azimuth_deg=180,
            commissioned_on=commissioned,
            grid_loss_factor=GRID_LOSS[StationKind.CENTRAL],
            subsidy_cap_hours=SUBSIDY_CAP_HOURS,
        )
    )
    count = max(1, round(kwp / DC_AC_RATIO / CENTRAL_INVERTER_KW))
    # Large inverters count energy in 10 Wh units (SunSpec WH_SF = 1).
    _add_inverters(
        reg, sid, count, CENTRAL_INVERTER_KW, f"PVI-{CENTRAL_INVERTER_KW}K-HV", commissioned, 1, rng
    )
    _add_tariff(reg, sid, commissioned)
    beneficiaries = [v for v in reg.villages if v.category == VillageCategory.KEY_SUPPORT]
    share = round(1 / len(beneficiaries), 6)
    for i, village in enumerate(beneficiaries):
        last = i == len(beneficiaries) - 1
        value = round(1 - share * (len(beneficiaries) - 1), 6) if last else share
        reg.station_shares.append(
            StationShareRow(
                station_id=sid, village_id=village.id, share=value, valid_from=commissioned
            )
        )
    reg.station_costs += [
        StationCostRow(
            station_id=sid, item=item, annual_yuan=round(kwp * k), valid_from=commissioned
        )
        for item, k in (("rent", 20), ("insurance", 8), ("om", 60))
    ]


# --- people ------------------------------------------------------------------------------


def _staff(pid: str, role: PersonRole, rng: random.Random, **where: str | None) -> PersonRow:
    handle = pid.lower()
    return PersonRow(
        id=pid,
        role=role,
        name=names.person_name(rng),
        mobile=names.mobile(rng),
        wecom_id=f"yh-{handle}",
        dingtalk_id=f"dt-{handle}",
        email=f"{handle}@pv.yonghe.example",
        **where,
    )


def _people(reg: Registry, rng: random.Random) -> None:
    """One maintainer per village (a second in one village of five), a supervisor per
    township, bureau duty staff, and the centralized station's own crew."""
    n = 0
    by_village: dict[str, list[str]] = {}
    for village in reg.villages:
        crew = 2 if rng.random() < 0.2 else 1
        by_village[village.id] = []
        for _ in range(crew):
            n += 1
            person = _staff(
                f"M{n:03d}",
                PersonRole.MAINTAINER,
                rng,
                village_id=village.id,
                township_id=village.township_id,
            )
            reg.people.append(person)
            by_village[village.id].append(person.id)
            reg.village_maintainers.append(
                VillageMaintainerRow(village_id=village.id, person_id=person.id)
            )
    shares: dict[str, list[StationShareRow]] = defaultdict(list)
    for share in reg.station_shares:
        shares[share.station_id].append(share)
    for station in reg.stations:
        if station.kind != StationKind.VILLAGE:
            continue
        owners = sorted(shares[station.id], key=lambda s: -s.share)
        crew = [p for s in owners for p in by_village[s.village_id]]
        for i, pid in enumerate(crew):
            reg.station_maintainers.append(
                StationMaintainerRow(station_id=station.id, person_id=pid, is_primary=i == 0)
            )
    for i in range(3):
        n += 1
        person = _staff(f"M{n:03d}", PersonRole.MAINTAINER, rng, township_id="T01")
        reg.people.append(person)
        reg.station_maintainers.append(
            StationMaintainerRow(station_id="CS01", person_id=person.id, is_primary=i == 0)
        )
    for tid, *_ in TOWNSHIPS:
        reg.people.append(_staff(f"S{tid[1:]}", PersonRole.SUPERVISOR, rng, township_id=tid))
    for i in range(1, 5):
        reg.people.append(_staff(f"B{i:02d}", PersonRole.BUREAU, rng))


# --- certificates ------------------------------------------------------------------------

INVALID_PLAN = ("missing", "expired", "review_overdue", "missing")
"""Sole maintainers of four villages hold no valid certificate: their stations are uncovered."""
SECOND_INVALID_PLAN = ("expired", "review_overdue", "missing")
SOON_EXPIRING = 6
SOON_REVIEW = 6
CERT_PREFIX = {CertType.LOW_VOLTAGE: "DG", CertType.HIGH_VOLTAGE: "GY"}


def _certificates(reg: Registry, as_of: dt.date, rng: random.Random) -> None:
    maintainers = [p for p in reg.people if p.role == PersonRole.MAINTAINER]
    by_village: dict[str, list[str]] = defaultdict(list)
    for link in reg.village_maintainers:
        by_village[link.village_id].append(link.person_id)
    sole = [crew[0] for crew in by_village.values() if len(crew) == 1]
    seconds = [crew[1] for crew in by_village.values() if len(crew) > 1]
    plan: dict[str, str] = {}
    plan.update(zip(rng.sample(sole, len(INVALID_PLAN)), INVALID_PLAN, strict=True))
    plan.update(
        zip(rng.sample(seconds, len(SECOND_INVALID_PLAN)), SECOND_INVALID_PLAN, strict=True)
    )
    rest = [p.id for p in maintainers if p.id not in plan]
    soon = rng.sample(rest, SOON_EXPIRING + SOON_REVIEW)
    plan.update(dict.fromkeys(soon[:SOON_EXPIRING], "expiring_soon"))
    plan.update(dict.fromkeys(soon[SOON_EXPIRING:], "review_due_soon"))
    for seq, person in enumerate(maintainers, start=1):
        state = plan.get(person.id, "valid")
        if state == "missing":
            continue
        cert_type = CertType.LOW_VOLTAGE if person.village_id else CertType.HIGH_VOLTAGE
        issued, reviewed = _certificate_dates(state, as_of, rng)
        reg.certificates.append(
            CertificateRow(
                id=f"C{seq:04d}",
                person_id=person.id,
                cert_type=cert_type,
                number=f"{CERT_PREFIX[cert_type]}-{issued.year}-{seq:05d}",
                issued_on=issued,
                expires_on=add_years(issued, CERT_VALIDITY_YEARS),
                review_due_on=add_years(issued, CERT_REVIEW_YEARS),
                reviewed_on=reviewed,
            )
        )


def _certificate_dates(
    state: str, as_of: dt.date, rng: random.Random
) -> tuple[dt.date, dt.date | None]:
    """(issued_on, reviewed_on) that put a certificate into ``state`` on ``as_of``."""
    days = dt.timedelta(days=1)
    if state == "expired":
        issued = add_years(as_of, -CERT_VALIDITY_YEARS) - rng.randint(10, 400) * days
        return issued, add_years(issued, CERT_REVIEW_YEARS) - 20 * days
    if state == "review_overdue":
        return add_years(as_of, -CERT_REVIEW_YEARS) - rng.randint(10, 300) * days, None
    if state == "expiring_soon":
        issued = add_years(as_of + rng.randint(5, 55) * days, -CERT_VALIDITY_YEARS)
        return issued, add_years(issued, CERT_REVIEW_YEARS) - 10 * days
    if state == "review_due_soon":
        return add_years(as_of + rng.randint(5, 55) * days, -CERT_REVIEW_YEARS), None
    if rng.random() < 0.6:
        return as_of - rng.randint(60, 900) * days, None
    issued = as_of - rng.randint(1200, 1900) * days
    return issued, add_years(issued, CERT_REVIEW_YEARS) - rng.randint(0, 60) * days
