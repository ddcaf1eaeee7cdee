"""The simulator: physics, clock, weather, scenarios, and what its loggers publish."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import Engine

from launch.local.mosquitto import Mosquitto
from pvmon.domain import StationKind
from pvmon.registry.schema import Registry
from pvmon.settings import Settings, load_settings
from pvmon.telemetry import OperatingState
from simulators.clock import DAYLIGHT_ELEVATION, SimClock, demo_start, solar_elevation
from simulators.fleet_arrays import YEAR_S, build_fleet
from simulators.main import run_simulation
from simulators.model import FleetModel
from simulators.physics import inverter_output
from simulators.readings import ReadingGenerator, first_on_grid, next_on_grid
from simulators.scenario import Scenario, resolve_faults
from simulators.sky import DayType, SkyModel, day_types
from simulators.soiling import DAILY_RATE, MAX_LOSS

TZ = ZoneInfo("Asia/Shanghai")
INTERVALS = {StationKind.VILLAGE: 60, StationKind.HOUSEHOLD: 300, StationKind.CENTRAL: 60}
YONGHE = (36.76, 110.63)


def at(day: dt.date, hour: int, minute: int = 0) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), TZ).timestamp())


# --- clock -------------------------------------------------------------------------------


def test_simulated_time_never_runs_ahead_of_the_wall_clock() -> None:
    wall = [1_000_000.0]
    clock = SimClock(start=wall[0] - 100, speed=60, wall=lambda: wall[0])
    wall[0] += 1
    assert clock.now() == 999_960, "one second later: 60 s further on"
    wall[0] += 1
    assert clock.now() == wall[0], "caught up, it waits for the wall clock"
    wall[0] += 10
    assert clock.now() == wall[0]
    with pytest.raises(ValueError, match="ahead of the wall clock"):
        SimClock(start=wall[0] + 3600, speed=1, wall=lambda: wall[0])


@pytest.mark.parametrize("hour", [0, 3, 7, 12, 17, 20, 23])
def test_the_demo_replays_daylight_whatever_the_hour(hour: int) -> None:
    now = at(dt.date(2026, 12, 21), hour)  # the shortest day
    start = demo_start(now, *YONGHE)
    assert start <= now
    # Whatever the hour, the replay reaches full daylight within four hours of its start.
    moments = pd_range(start, start + 4 * 3600)
    assert solar_elevation(moments, *YONGHE).max() >= DAYLIGHT_ELEVATION


def pd_range(a: float, b: float):
    import pandas as pd

    return pd.date_range(
        dt.datetime.fromtimestamp(a, dt.UTC), dt.datetime.fromtimestamp(b, dt.UTC), freq="10min"
    )


# --- sky and physics ---------------------------------------------------------------------


def test_weather_is_repeatable_and_about_a_third_of_days_are_cloudy() -> None:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    county = Counter(day_types(3, d, 6)[0] for d in days)
    assert day_types(3, days[10], 6) == day_types(3, days[10], 6)
    cloudy = (county[DayType.BROKEN] + county[DayType.OVERCAST]) / 365
    assert 0.2 < cloudy < 0.45


def test_output_clips_at_the_rating_and_sleeps_in_the_dark() -> None:
    poa = np.array([1000.0, 1000.0, 2.0])
    out = inverter_output(
        poa,
        np.array([20.0, 20.0, 20.0]),
        kwp=np.array([60.0, 30.0, 30.0]),
        rated_w=np.array([40_000.0, 40_000.0, 40_000.0]),
        factor=np.ones(3),
    )
    assert out.p_ac[0] == 40_000
    assert out.state[0] == OperatingState.THROTTLED
    assert 20_000 < out.p_ac[1] < 40_000
    assert out.state[1] == OperatingState.MPPT
    assert out.p_ac[2] == 0
    assert out.state[2] == OperatingState.SLEEPING


def test_heat_derates_the_modules() -> None:
    args = {"kwp": np.array([30.0]), "rated_w": np.array([40_000.0]), "factor": np.ones(1)}
    cold = inverter_output(np.array([800.0]), np.array([0.0]), **args).p_ac[0]
    hot = inverter_output(np.array([800.0]), np.array([35.0]), **args).p_ac[0]
    assert hot < 0.9 * cold


@pytest.fixture(scope="module")
def model(default_registry: Registry) -> FleetModel:
    fleet = build_fleet(default_registry, 1, INTERVALS, only_stations=["VS001", "HH0001", "CS01"])
    return FleetModel(fleet, SkyModel(fleet.townships, TZ, 1))


def test_a_clear_june_day_yields_plausibly_and_nights_are_dark(model: FleetModel) -> None:
    day = dt.date(2026, 6, 21)
    sky = model.sky.day(day)
    f = model.fleet
    idx = np.arange(f.size)
    energy = model.energy_wh(idx, at(day, 0), at(day, 0) + 86400)
    yields = energy.sum() / 1000 / f.kwp.sum()
    assert 1.0 < yields < 7.5  # kWh/kWp in a day, whatever the weather
    night = model.conditions(idx, np.full(f.size, at(day, 1)), np.ones(f.size))
    assert night.night.all()
    assert not night.output.p_ac.any()
    assert sky.ghi[:, 12 * 60].max() > 300


def test_counter_energy_adds_up_across_any_split(model: FleetModel) -> None:
    f = model.fleet
    a, b, c = at(dt.date(2026, 5, 3), 6), at(dt.date(2026, 5, 3), 13, 7), at(dt.date(2026, 5, 4), 9)
    idx = np.arange(f.size)
    whole = model.energy_wh(idx, a, c)
    parts = model.energy_wh(idx, a, b) + model.energy_wh(idx, b, c)
    np.testing.assert_allclose(whole, parts)
    np.testing.assert_allclose(model.energy_wh(idx, c, a), -whole)
    assert (whole > 0).all()


# --- scenarios ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[faults]]\nkind = "meltdown"\nstations = ["VS001"]', "meltdown"),
        ('[[faults]]\nkind = "output_loss"\nstations = ["VS001"]', "factor"),
        ('[[faults]]\nkind = "outage"\nstations = ["VS001"]\nduration = "soon"', "duration"),
        ('[[faults]]\nkind = "shading"\nstations = ["VS001"]\nfactor = 0.2', "hours"),
        (
            '[[faults]]\nkind = "shading"\nstations = ["VS001"]\nfactor = 0.2\n'
            'hours = "10:30-06:00"',
            "within one day",
        ),
        (
            '[[faults]]\nkind = "shading"\nstations = ["VS001"]\nfactor = 0.2\nhours = "morning"',
            "06:00-10:30",
        ),
        ('[[faults]]\nkind = "soiling"\nstations = ["VS001"]\nfactor = 0.1', "build"),
        ('[[faults]]\nkind = "outage"\nstations = ["VS001"]\nbuild = "3d"', "soiling only"),
        ('[[malformed]]\nreason = "store_rejected"', "cannot be injected"),
        ("faults = 3", "faults"),
        ("[[faults", "scenario"),
    ],
)
def test_a_bad_scenario_is_refused_with_its_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        Scenario.load(path)


def test_faults_resolve_to_the_named_or_seeded_stations(model: FleetModel) -> None:
    scenario = Scenario.model_validate(
        {
            "faults": [
                {"kind": "outage", "stations": ["VS001"], "start": "+1h", "duration": "30m"},
                {
                    "kind": "output_loss",
                    "random_stations": 1,
                    "station_kind": "household",
                    "factor": 0.25,
                },
            ]
        }
    )
    outage, loss = resolve_faults(scenario, model.fleet, 1000, seed=5, tz=TZ)
    again = resolve_faults(scenario, model.fleet, 1000, seed=5, tz=TZ)
    assert [f.stations for f in again] == [outage.stations, loss.stations]
    assert (outage.start, outage.end) == (1000 + 3600, 1000 + 5400)
    assert [model.fleet.stations[s].id for s in outage.stations] == ["VS001"]
    assert [model.fleet.stations[s].id for s in loss.stations] == ["HH0001"]
    with pytest.raises(ValueError, match="not simulated"):
        resolve_faults(
            Scenario.model_validate({"faults": [{"kind": "outage", "stations": ["VS999"]}]}),
            model.fleet,
            0,
            1,
            TZ,
        )


def test_shading_takes_its_share_in_its_hours_and_soiling_builds_up(model: FleetModel) -> None:
    f = model.fleet
    day = dt.date(2026, 4, 12)
    start = at(day, 0)
    scenario = Scenario.model_validate(
        {
            "faults": [
                {"kind": "shading", "stations": ["HH0001"], "hours": "00:00-10:30", "factor": 0.2},
                {"kind": "soiling", "stations": ["VS001"], "build": "10d", "factor": 0.12},
            ]
        }
    )
    faults = resolve_faults(scenario, f, start, seed=1, tz=TZ)
    generator = ReadingGenerator(f, model, faults, np.zeros(f.size), start)
    shaded = f.stations[f.station_index()["HH0001"]].devices[0]
    dusty = f.stations[f.station_index()["VS001"]].devices[0]
    moments = np.array([at(day, 8), at(day, 10, 29), at(day, 10, 30), at(day, 15)])
    factor = generator.fault_state(np.full(4, shaded), moments).factor
    np.testing.assert_allclose(factor, [0.8, 0.8, 1.0, 1.0])
    later = np.array(
        [at(day, 12), at(day + dt.timedelta(days=5), 0), at(day + dt.timedelta(days=30), 0)]
    )
    factor = generator.fault_state(np.full(3, dusty), later).factor
    np.testing.assert_allclose(factor, [1 - 0.12 * 0.5 / 10, 0.94, 0.88])


def test_each_station_degrades_at_its_own_steady_rate_from_commissioning(
    default_registry: Registry, model: FleetModel
) -> None:
    whole = build_fleet(default_registry, 1, INTERVALS)
    rates = np.array([whole.degradation[s.devices[0]] for s in whole.stations])
    assert rates.min() >= 0.003
    assert rates.max() <= 0.015
    assert np.ptp(rates) > 0.01, "spread over the range"
    f = model.fleet
    device = f.stations[f.station_index()["VS001"]].devices[0]
    noon = at(dt.date(2026, 6, 21), 12)
    new = replace(f, degradation=np.zeros(f.size))
    aged = model.conditions(np.array([device]), np.array([noon]), np.ones(1)).output.p_ac
    fresh = FleetModel(new, model.sky).conditions(np.array([device]), np.array([noon]), np.ones(1))
    years = (noon - f.commissioned[device]) / YEAR_S
    assert years > 5
    np.testing.assert_allclose(aged, fresh.output.p_ac * (1 - f.degradation[device] * years))
    before = f.health(np.array([device]), np.array([f.commissioned[device] - 86400]))
    assert before.tolist() == [1.0], "nothing lost before it was commissioned"


def test_dust_builds_up_between_rains_and_a_rain_day_washes_it(model: FleetModel) -> None:
    soiling, f = model.soiling, model.fleet
    device = np.array([f.stations[f.station_index()["VS001"]].devices[0]])
    town = f.township_of[device[0]]
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(365)]
    rained = np.array([soiling.rain(d)[town] for d in days])
    loss = np.array([soiling.loss(device, d)[0] for d in days])
    assert 5 < rained.sum() < 60, "a rain day now and then"
    assert (loss[rained] == 0).all(), "washed"
    dry = np.flatnonzero(~rained[1:] & ~rained[:-1]) + 1
    grows = loss[dry] - loss[dry - 1]
    factor = soiling.township_factor[town] * soiling.device_factor[device[0]]
    uncapped = loss[dry] < MAX_LOSS
    rates = np.array([DAILY_RATE[days[i].month - 1] for i in dry]) * factor
    np.testing.assert_allclose(grows[uncapped], rates[uncapped], atol=1e-12)
    assert loss.max() <= MAX_LOSS
    assert loss.max() > 0.03, "a dry spell costs some per cent"
    spring = np.mean([loss[i] for i, d in enumerate(days) if d.month in (3, 4, 5)])
    summer = np.mean([loss[i] for i, d in enumerate(days) if d.month in (7, 8)])
    assert spring > summer


def test_a_cleaning_washes_the_dust_of_its_station_only_and_it_builds_up_again(
    model: FleetModel,
) -> None:
    """A scenario's ``cleaning`` on a dry spring day: the cleaned station's modules are
    clean that day and gather dust at the season's rate from then until the next rain; its
    neighbour keeps its dust."""
    f = model.fleet
    fresh = FleetModel(f, model.sky)
    device = np.array([f.stations[f.station_index()["VS001"]].devices[0]])
    other = np.array([f.stations[f.station_index()["HH0001"]].devices[0]])
    town = f.township_of[device[0]]
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(92)]
    dusty = [d for d in days if fresh.soiling.loss(device, d)[0] > 0.02]
    day = dusty[0]
    scenario = Scenario.model_validate(
        {"faults": [{"kind": "cleaning", "stations": ["VS001"], "start": f"{day}T09:00:00+08:00"}]}
    )
    before = {d: fresh.soiling.loss(other, d)[0] for d in days}
    ReadingGenerator(
        f, fresh, resolve_faults(scenario, f, at(days[0], 0), 1, TZ), np.zeros(f.size), 0
    )
    assert fresh.soiling.loss(device, day)[0] == 0.0, "clean on the day"
    assert {d: fresh.soiling.loss(other, d)[0] for d in days} == before, (
        "the neighbour keeps its dust"
    )
    factor = fresh.soiling.township_factor[town] * fresh.soiling.device_factor[device[0]]
    after = day
    for later in days[days.index(day) + 1 :]:
        if fresh.soiling.rain(later)[town]:
            break
        built = sum(
            DAILY_RATE[(day + dt.timedelta(days=n)).month - 1]
            for n in range(1, (later - day).days + 1)
        )
        assert fresh.soiling.loss(device, later)[0] == pytest.approx(min(MAX_LOSS, built * factor))
        after = later
    assert after > day, "a dry day after the cleaning"
    assert model.soiling.loss(device, after)[0] > fresh.soiling.loss(device, after)[0], (
        "less dust than if it had not been cleaned"
    )


def test_a_stuck_logger_repeats_the_power_it_read_while_its_counter_goes_on(
    model: FleetModel,
) -> None:
    f = model.fleet
    day = dt.date(2026, 4, 12)
    start = at(day, 0)
    device = f.stations[f.station_index()["VS001"]].devices[0]
    froze = at(day, 10)
    scenario = Scenario.model_validate(
        {"faults": [{"kind": "stuck", "devices": [f.device_ids[device]], "start": "+10h"}]}
    )
    faults = resolve_faults(scenario, f, start, seed=1, tz=TZ)
    stuck = ReadingGenerator(f, model, faults, np.zeros(f.size), start)
    healthy = ReadingGenerator(f, model, [], np.zeros(f.size), start)
    moments = [froze, at(day, 11), at(day, 13), at(day, 15)]
    shown = [stuck.readings(np.array([device]), np.array([t])) for t in moments]
    truth = [healthy.readings(np.array([device]), np.array([t])) for t in moments]
    power = [b.fields["W"][0] for b in shown]
    assert power[0] > 0
    assert power == [power[0]] * 4, "the power read at 10:00, again and again"
    assert [b.fields["W"][0] for b in truth][1:] != power[1:], "while the sun moved on"
    counters = [b.fields["WH"][0] for b in shown]
    assert counters == [b.fields["WH"][0] for b in truth], "the counter goes on as it was"
    assert counters == sorted(counters)
    assert counters[-1] > counters[0]


# --- what the loggers publish (through a real broker) ------------------------------------


@pytest.fixture
def sim_settings(tmp_path: Path, broker: Mosquitto, loaded_engine: Engine) -> Settings:
    url = loaded_engine.url.render_as_string(hide_password=False)
    return load_settings(data_dir=tmp_path, mqtt_url=broker.url, database_url=url)


def published(
    settings: Settings, tmp_path: Path, name: str, start: str, duration: str, **kwargs: object
) -> list[dict]:
    log = tmp_path / f"{name}.jsonl"
    run_simulation(
        settings,
        start=start,
        speed=3600,
        duration=duration,
        publish_log=log,
        stations=kwargs.pop("stations", ["VS001", "VS002", "HH0001"]),
        **kwargs,
    )
    return [json.loads(line) for line in log.read_text().splitlines()]


def recent_morning(days_ago: int = 2, hour: int = 9) -> dt.datetime:
    day = dt.datetime.now(TZ).date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), TZ)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_continued_run_publishes_the_counters_one_long_run_would(
    tmp_path: Path, sim_settings: Settings
) -> None:
    start = recent_morning()
    middle = start + dt.timedelta(minutes=40)
    one = published(sim_settings, tmp_path, "one", start.isoformat(), "80m", keep_state=False)
    sim_settings.data_dir = tmp_path / "split"
    published(sim_settings, tmp_path, "a", start.isoformat(), "40m")
    second = published(sim_settings, tmp_path, "b", middle.isoformat(), "40m")
    reference = {(r["device"], r["ts"]): r["WH"] for r in one}
    # Apart from each logger's start-up report (off its grid), every reading of the second
    # run is one the long run also made, with the same counter.
    common = [r for r in second if (r["device"], r["ts"]) in reference]
    assert len(common) >= len(second) - len({r["device"] for r in second})
    assert common
    assert all(reference[(r["device"], r["ts"])] == r["WH"] for r in common)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_faults_show_in_what_the_loggers_publish(tmp_path: Path, sim_settings: Settings) -> None:
    scenario = tmp_path / "faults.toml"
    scenario.write_text("""
[[faults]]
kind = "output_loss"
stations = ["VS001"]
factor = 0.4
[[faults]]
kind = "zero_output"
stations = ["VS002"]
start = "+10m"
duration = "10m"
[[faults]]
kind = "fault"
stations = ["HH0001"]
start = "+15m"
[[faults]]
kind = "counter_reset"
stations = ["VS002"]
start = "+30m"
""")
    start = recent_morning(hour=11)
    healthy = published(
        sim_settings, tmp_path, "healthy", start.isoformat(), "40m", keep_state=False
    )
    faulty = published(
        sim_settings,
        tmp_path,
        "faulty",
        start.isoformat(),
        "40m",
        keep_state=False,
        scenario=scenario,
    )
    base = {(r["device"], r["ts"]): r for r in healthy}
    by_station = defaultdict(list)
    for r in faulty:
        by_station[r["station"]].append((r, base[(r["device"], r["ts"])]))
    t0 = int(start.timestamp())
    ratios = [r["W"] / b["W"] for r, b in by_station["VS001"] if 0 < b["W"] < 30_000]
    assert ratios
    assert all(0.55 < x < 0.65 for x in ratios), "40 % of the output lost"
    dark = [r for r, _ in by_station["VS002"] if t0 + 600 <= r["ts"] < t0 + 1200]
    assert dark
    assert all(r["W"] == 0 and r["St"] == OperatingState.STANDBY for r in dark)
    after_reset = [r for r, b in by_station["VS002"] if r["ts"] >= t0 + 1800]
    assert after_reset
    assert all(
        r["WH"] < 100_000 < b["WH"]
        for r, b in [(r, base[(r["device"], r["ts"])]) for r in after_reset]
    )
    tripped = [r for r, _ in by_station["HH0001"] if r["ts"] >= t0 + 900]
    assert tripped
    assert all(r["W"] == 0 and r["St"] == OperatingState.FAULT for r in tripped)


def test_sparse_readings_carry_the_same_counters_as_dense_ones(model: FleetModel) -> None:
    """Hourly readings (the history backfill) and every-interval readings (live) agree on
    each device's counter, faults included."""
    f = model.fleet
    day = dt.date(2026, 4, 12)
    start = at(day, 8)
    scenario = Scenario.model_validate(
        {
            "faults": [
                {"kind": "output_loss", "stations": ["VS001"], "factor": 0.3, "start": "+1h"},
                {"kind": "counter_reset", "stations": ["HH0001"], "start": "+90m"},
            ]
        }
    )
    faults = resolve_faults(scenario, f, start, seed=1, tz=TZ)
    idx = np.arange(f.size)
    dense = ReadingGenerator(f, model, faults, np.zeros(f.size), start)
    due = first_on_grid(f, idx, np.full(f.size, start + 1))
    while due.min() <= start + 3 * 3600:
        rows = np.nonzero(due <= start + 3 * 3600)[0]
        dense.readings(idx[rows], due[rows])
        due[rows] = next_on_grid(f, idx[rows], due[rows])
    sparse = ReadingGenerator(f, model, faults, np.zeros(f.size), start)
    for hour in (1, 2, 3):
        moment = np.full(f.size, start + hour * 3600)
        sparse.readings(idx, moment)
    # Both have gathered every grid point up to start + 3 h.
    np.testing.assert_allclose(sparse.counters, dense.counters, rtol=1e-9)
    assert sparse.counters.min() > 0


def test_a_whole_span_at_once_matches_reading_by_reading(model: FleetModel) -> None:
    f = model.fleet
    start = at(dt.date(2026, 4, 12), 8)
    scenario = Scenario.model_validate(
        {
            "faults": [
                {"kind": "output_loss", "stations": ["VS001"], "factor": 0.3, "start": "+1h"},
                {"kind": "counter_reset", "stations": ["HH0001"], "start": "+90m"},
                {"kind": "fault", "stations": ["CS01"], "start": "+2h"},
            ]
        }
    )
    faults = resolve_faults(scenario, f, start, seed=1, tz=TZ)
    idx = np.arange(f.size)
    one_by_one = ReadingGenerator(f, model, faults, np.full(f.size, 1000.0), start)
    expected = {}
    due = first_on_grid(f, idx, np.full(f.size, start + 1))
    end = start + 3 * 3600
    while due.min() <= end:
        rows = np.nonzero(due <= end)[0]
        batch = one_by_one.readings(idx[rows], due[rows])
        for k, (d, t) in enumerate(zip(batch.idx, batch.ts, strict=True)):
            expected[(int(d), int(t))] = {n: v[k] for n, v in batch.fields.items()}
        due[rows] = next_on_grid(f, idx[rows], due[rows])
    at_once = ReadingGenerator(f, model, faults, np.full(f.size, 1000.0), start).span(end)
    assert at_once.idx.size == len(expected)
    for k, (d, t) in enumerate(zip(at_once.idx, at_once.ts, strict=True)):
        for name, value in expected[(int(d), int(t))].items():
            assert at_once.fields[name][k] == pytest.approx(value), (name, int(d), int(t))
