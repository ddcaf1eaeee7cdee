"""The generated default registry matches the county plan and DESIGN §2."""

import datetime as dt
from collections import Counter, defaultdict

import pytest

from pvmon.domain import CertificateTerms, CertState, PersonRole, StationKind, certificate_state
from pvmon.registry.schema import Registry
from pvmon.registry.validate import check_registry
from simulators.demo_registry import GenerationOptions, generate_registry, village_table
from tests.support.services import AS_OF


def stations_of(reg: Registry, kind: StationKind) -> list:
    return [s for s in reg.stations if s.kind == kind]


def test_counts_match_the_plan(default_registry: Registry) -> None:
    reg = default_registry
    assert len(stations_of(reg, StationKind.VILLAGE)) == 103
    assert len(stations_of(reg, StationKind.HOUSEHOLD)) == 2136
    assert len(stations_of(reg, StationKind.CENTRAL)) == 1
    assert len(reg.townships) == 6
    assert len(reg.villages) == 65


def test_villages_are_named_exactly_as_in_the_plan(default_registry: Registry) -> None:
    townships = {t.id: t for t in default_registry.townships}
    generated = [
        (townships[v.township_id].name, townships[v.township_id].former_name, v.name, v.category)
        for v in default_registry.villages
    ]
    expected = [
        (row["township"], row["township_in_table"], row["village"], row["category"])
        for row in village_table()
    ]
    assert [(t, v, c) for t, _, v, c in generated] == [(t, v, c) for t, _, v, c in expected]
    for _township, former, *_ in generated:
        assert former in (None, *{row["township_in_table"] for row in village_table()})
    assert {t.name: t.former_name for t in default_registry.townships}["乾坤湾乡"] == "阁底乡"
    assert {t.name: t.former_name for t in default_registry.townships}["楼山乡"] == "交口乡"


def test_ids_are_unique_stable_codes(default_registry: Registry) -> None:
    for sheet, rows in default_registry.sheets().items():
        keys = [r.key_value() for r in rows]
        assert len(keys) == len(set(keys)), sheet
    serials = [i.id for i in default_registry.inverters]
    assert len(serials) == len(set(serials))


def test_every_village_owns_one_to_three_stations_and_shares_sum_to_one(
    default_registry: Registry,
) -> None:
    village_stations = {s.id for s in stations_of(default_registry, StationKind.VILLAGE)}
    owned: Counter[str] = Counter()
    owners: dict[str, list[float]] = defaultdict(list)
    for share in default_registry.station_shares:
        if share.station_id in village_stations:
            owned[share.village_id] += 1
            owners[share.station_id].append(share.share)
    assert set(owned) == {v.id for v in default_registry.villages}
    assert set(owned.values()) <= {1, 2, 3}
    sizes = Counter(len(shares) for shares in owners.values())
    assert sizes[2] > 0, "some stations are shared by two villages"
    assert sizes[3] > 0, "some by three"
    for shares in owners.values():
        assert sum(shares) == pytest.approx(1.0)


def test_capacities_and_inverters_follow_the_assumptions(default_registry: Registry) -> None:
    reg = default_registry
    inverters = defaultdict(list)
    for inv in reg.inverters:
        inverters[inv.station_id].append(inv)
    village = stations_of(reg, StationKind.VILLAGE)
    assert sum(s.capacity_kwp for s in village) == pytest.approx(17_000, rel=0.02)
    for s in village:
        assert 60 <= s.capacity_kwp <= 300
        assert 2 <= len(inverters[s.id]) <= 6
        assert all(20_000 <= i.rated_ac_w <= 60_000 for i in inverters[s.id])
        assert 1.0 <= s.capacity_kwp * 1000 / sum(i.rated_ac_w for i in inverters[s.id]) <= 1.5
    for s in stations_of(reg, StationKind.HOUSEHOLD):
        assert 3 <= s.capacity_kwp <= 5
        assert len(inverters[s.id]) == 1
        assert s.household_id is not None
        assert s.village_id is not None
    central = stations_of(reg, StationKind.CENTRAL)[0]
    assert central.capacity_kwp == 20_000
    assert len(inverters[central.id]) > 50
    beneficiaries = [s.share for s in reg.station_shares if s.station_id == central.id]
    assert beneficiaries
    assert sum(beneficiaries) == pytest.approx(1.0)


def test_positions_lie_inside_the_county(default_registry: Registry) -> None:
    for s in default_registry.stations:
        assert 36.5 < s.lat < 37.05, s.id
        assert 110.3 < s.lon < 110.9, s.id
        assert 800 <= s.altitude_m <= 1200


def test_tariffs_cover_twenty_years_in_grid_and_subsidy_parts(default_registry: Registry) -> None:
    tariffs = {t.station_id: t for t in default_registry.tariffs}
    assert set(tariffs) == {s.id for s in default_registry.stations}
    village = stations_of(default_registry, StationKind.VILLAGE)
    totals = [tariffs[s.id].grid_yuan_per_kwh + tariffs[s.id].subsidy_yuan_per_kwh for s in village]
    weighted = sum(t * s.capacity_kwp for t, s in zip(totals, village, strict=True))
    assert weighted / sum(s.capacity_kwp for s in village) == pytest.approx(0.81, abs=0.03)
    for s in default_registry.stations:
        t = tariffs[s.id]
        assert t.grid_yuan_per_kwh == 0.332
        assert t.valid_from == s.commissioned_on
        assert (t.valid_to - t.valid_from).days in (7303, 7304, 7305)  # twenty years
        assert s.subsidy_cap_hours > 0


def test_people_have_contacts_and_places(default_registry: Registry) -> None:
    roles = Counter(p.role for p in default_registry.people)
    assert roles[PersonRole.SUPERVISOR] == 6
    assert roles[PersonRole.BUREAU] >= 2
    assert roles[PersonRole.HOUSEHOLD] == 2136
    assert roles[PersonRole.MAINTAINER] >= 65
    for p in default_registry.people:
        assert p.mobile
        if p.role != PersonRole.HOUSEHOLD:
            assert p.wecom_id
            assert p.dingtalk_id
            assert p.email
    covered = {link.village_id for link in default_registry.village_maintainers}
    assert covered == {v.id for v in default_registry.villages}


def _cert_states(reg: Registry) -> dict[str, CertState | None]:
    certs = {c.person_id: c for c in reg.certificates}
    states: dict[str, CertState | None] = {}
    for p in reg.people:
        if p.role == PersonRole.MAINTAINER:
            c = certs.get(p.id)
            states[p.id] = (
                None
                if c is None
                else certificate_state(
                    CertificateTerms(c.issued_on, c.expires_on, c.review_due_on, c.reviewed_on),
                    AS_OF,
                )
            )
    return states


def test_certificates_include_a_realistic_share_of_problems(default_registry: Registry) -> None:
    states = _cert_states(default_registry)
    tally = Counter(states.values())
    assert tally[None] >= 2, "maintainers with no certificate"
    assert tally[CertState.EXPIRED] >= 1
    assert tally[CertState.REVIEW_OVERDUE] >= 1
    assert tally[CertState.VALID] / len(states) > 0.8
    soon = [
        c
        for c in default_registry.certificates
        if dt.timedelta(0) <= c.expires_on - AS_OF <= dt.timedelta(days=60)
        or (
            c.reviewed_on is None
            and dt.timedelta(0) <= c.review_due_on - AS_OF <= dt.timedelta(days=60)
        )
    ]
    assert len(soon) >= 5, "certificates expiring or due for review within 60 days"


def test_a_few_stations_have_no_validly_certified_responsible_maintainer(
    default_registry: Registry,
) -> None:
    states = _cert_states(default_registry)
    crews = defaultdict(list)
    for link in default_registry.station_maintainers:
        crews[link.station_id].append(link.person_id)
    uncovered = [
        s for s, crew in crews.items() if not any(states[p] == CertState.VALID for p in crew)
    ]
    assert 2 <= len(uncovered) <= 15
    assert "CS01" not in uncovered


def test_generation_is_deterministic_and_valid() -> None:
    a = generate_registry(GenerationOptions(seed=7, as_of=AS_OF))
    b = generate_registry(GenerationOptions(seed=7, as_of=AS_OF))
    c = generate_registry(GenerationOptions(seed=8, as_of=AS_OF))
    assert a == b
    assert a.stations != c.stations
    _, errors = check_registry(a)
    assert errors == []
