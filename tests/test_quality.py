"""Data-quality labels on raw telemetry (``analytics.quality``): checked against the series
pvanalytics ships with their points labelled by hand, against pvanalytics's own functions
(the labels are computed over the whole fleet at once here), and on the readings a logger
gone wrong would send."""

from __future__ import annotations

import datetime as dt
from importlib.resources import files
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from pvanalytics.quality import gaps

from alerts.messages import detail
from analytics import quality
from analytics.degradation import clear_township_days
from analytics.quality import (
    bad_data,
    clock_offsets,
    clock_shifts,
    device_labels,
    on_clear_days,
    reading_labels,
)
from pvmon.findings import FindingKind

TZ = ZoneInfo("Asia/Shanghai")
RATED = 1.0
"""pvanalytics's labelled series are normalised to the inverter's rating."""


def labelled(name: str, column: str) -> tuple[pd.Series, pd.Series]:
    frame = pd.read_csv(files("pvanalytics") / "data" / name, index_col=0, parse_dates=True)
    frame = frame.dropna(subset=["value_normalized"])
    return frame["value_normalized"], frame[column].astype(str).str.lower().eq("true")


def labels_of(power: pd.Series) -> pd.DataFrame:
    seconds = (power.index - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    readings = pd.DataFrame({"device": "inv", "ts": seconds, "W": power.to_numpy()})
    return reading_labels(readings, pd.Series({"inv": RATED})).set_index(power.index)


@pytest.mark.parametrize(
    ("name", "column", "label", "found_at_least", "extra_at_most"),
    [
        ("ac_power_inv_2173_stale_data.csv", "stale_data_mask", "stale", 0.98, 0),
        (
            "ac_power_inv_2173_interpolated_data.csv",
            "interpolated_data_mask",
            "interpolated",
            0.99,
            2,
        ),
        ("ac_power_inv_7539_outliers.csv", "outlier", "outlier", 0.83, 0),
    ],
)
def test_the_labels_find_what_pvanalytics_series_have_labelled_by_hand(
    name: str, column: str, label: str, found_at_least: float, extra_at_most: int
) -> None:
    """Stale and interpolated runs are judged while the inverter produces (at night every
    value is zero and a run of zeros is no fault): of the labelled points there, the share
    flagged; and the points flagged that are not labelled."""
    power, truth = labelled(name, column)
    flags = labels_of(power)[label]
    judged = truth & (power > quality.ZERO_FRACTION * RATED) if label != "outlier" else truth
    found = (flags & judged).sum() / judged.sum()
    extra = int((flags & ~truth).sum())
    print(
        f"{name}: {label} labelled {int(truth.sum())}, judged {int(judged.sum())}, "
        f"flagged {found:.1%} of them; flagged not labelled {extra}"
    )
    assert found >= found_at_least
    assert extra <= extra_at_most


def _fleet_like() -> tuple[np.ndarray, np.ndarray]:
    """Two devices' days of noisy power with a flat run and a straight ramp planted."""
    rng = np.random.default_rng(5)
    x = np.clip(np.sin(np.linspace(0, np.pi, 288)) + rng.normal(0, 0.02, 288), 0, None)
    x[100:110] = x[100]
    x[150:160] = np.linspace(x[150], x[150] + 0.2, 10)
    y = x[::-1].copy()
    return np.concatenate([x, y]), np.repeat([0, 1], 288)


@pytest.mark.parametrize("source", ["fleet_like", "stale_file", "interpolated_file"])
def test_the_fleet_wide_labels_are_pvanalytics_own(source: str) -> None:
    """The labels computed over all devices at once agree point for point with pvanalytics's
    functions run device by device."""
    if source == "fleet_like":
        x, group = _fleet_like()
    else:
        name = f"ac_power_inv_2173_{source.removesuffix('_file')}_data.csv"
        power, _ = labelled(name, "value_normalized")
        x, group = np.tile(power.to_numpy(), 2), np.repeat([0, 1], len(power))
    expected_stale, expected_interp = [], []
    for g in (0, 1):
        s = pd.Series(x[group == g])
        expected_stale.append(gaps.stale_values_diff(s).to_numpy())
        expected_interp.append(gaps.interpolation_diff(s).to_numpy())
    np.testing.assert_array_equal(quality.stale(x, group), np.concatenate(expected_stale))
    np.testing.assert_array_equal(quality.interpolation(x, group), np.concatenate(expected_interp))
    assert quality.stale(x, group).any()
    assert quality.interpolation(x, group).any()


def day_of(step_s: int = 300, rated: float = 10_000.0, peak: float = 0.8) -> pd.DataFrame:
    """A clear day's readings of one inverter, every ``step_s``, with a little noise."""
    start = int(dt.datetime(2026, 5, 10, tzinfo=TZ).timestamp())
    ts = np.arange(start, start + 86_400, step_s)
    hour = (ts - start) / 3600
    shape = np.clip(np.sin((hour - 6) / 13 * np.pi), 0, None)
    noise = np.random.default_rng(1).normal(0, 0.01, len(ts))
    power = np.clip(shape * peak + noise * (shape > 0), 0, None) * rated
    return pd.DataFrame({"device": "inv", "ts": ts, "W": power})


RATINGS = pd.Series({"inv": 10_000.0})


def test_a_healthy_day_has_no_bad_readings() -> None:
    counts = device_labels(day_of(), RATINGS).loc["inv"]
    assert counts["labelled"] == 288
    assert counts["bad"] == 0


def test_a_logger_repeating_its_last_value_is_stale() -> None:
    day = day_of()
    noon = day.index[(day["ts"] - day["ts"].iloc[0]) // 3600 == 12]
    day.loc[noon, "W"] = day.loc[noon[0], "W"]
    labels = reading_labels(day, RATINGS)
    assert labels.loc[noon[1:], "stale"].all()
    assert labels["stale"].sum() == len(noon) - 1


def test_an_inverter_held_at_its_limit_is_clipped_not_stale() -> None:
    day = day_of(peak=1.3)
    day["W"] = day["W"].clip(upper=10_000.0)
    counts = device_labels(day, RATINGS).loc["inv"]
    assert counts["clipped"] > 12
    assert counts["stale"] == 0
    assert counts["bad"] == 0


def test_readings_beyond_what_the_inverter_can_make_are_outliers_a_shadow_is_not() -> None:
    day = day_of()
    day.loc[140, "W"] = 25_000.0
    day.loc[141, "W"] = -500.0
    day.loc[150, "W"] = day.loc[150, "W"] * 0.2
    labels = reading_labels(day, RATINGS)
    assert labels.loc[[140, 141], "outlier"].all()
    assert labels["outlier"].sum() == 2


def test_a_clock_that_jumps_off_its_grid_makes_irregular_readings() -> None:
    day = day_of()
    day.loc[day.index >= 200, "ts"] += 97
    labels = reading_labels(day, RATINGS)
    assert labels["irregular"].tolist().count(True) == 1
    assert labels.loc[200, "irregular"]


def test_hourly_history_is_not_labelled() -> None:
    assert device_labels(day_of(step_s=3600), RATINGS).empty
    assert device_labels(day_of().iloc[:0], RATINGS).empty


def test_a_device_whose_data_are_mostly_bad_is_a_finding() -> None:
    day = day_of()
    day["W"] = np.where(day["W"] > 0, 4321.0, 0.0)
    counts = device_labels(day, RATINGS).add_prefix("q_")
    healthy = device_labels(day_of().assign(device="ok"), pd.Series({"ok": 1e4}))
    both = pd.concat([counts, healthy.add_prefix("q_")])
    found, evaluated = bad_data(
        both, pd.Series({"inv": "VS001", "ok": "VS002"}), 0.5, dt.date(2026, 5, 10), TZ
    )
    assert [(f.kind, f.subject_id, f.station_id) for f in found] == [
        (FindingKind.BAD_DATA, "inv", "VS001")
    ]
    assert found[0].evidence["share"] > 0.5
    assert found[0].evidence["stale"] > 0
    assert evaluated == {("bad_data", "inv"), ("bad_data", "ok")}


def test_a_clock_set_back_shows_as_output_coming_early_against_the_township() -> None:
    """Three inverters of a township see the same day; one's logger stamps its readings 20
    minutes early. An inverter of another township is compared with its own."""
    days = [day_of().assign(device=d) for d in ("a", "b", "late")]
    days[2]["ts"] -= 20 * 60
    elsewhere = day_of().assign(device="far")
    elsewhere["ts"] += 600
    towns = pd.Series({"a": "T01", "b": "T01", "late": "T01", "far": "T02"})
    offsets = clock_offsets(pd.concat([*days, elsewhere]), towns)
    assert offsets.round(6).to_dict() == {"a": 0.0, "b": 0.0, "far": 0.0, "late": -20.0}


def clock_days(offsets: dict[str, list[float]]) -> pd.DataFrame:
    """date × device: 31 days of offsets, the last ``len`` of each list."""
    last = dt.date(2026, 5, 31)
    dates = [last - dt.timedelta(days=n) for n in range(31)][::-1]
    columns = {d: [np.nan] * (31 - len(v)) + v for d, v in offsets.items()}
    return pd.DataFrame(columns, index=dates)


def test_a_clock_that_moved_is_a_finding_a_steady_orientation_is_not() -> None:
    """``west`` comes 25 minutes late every day (it faces west): its usual; ``reset``'s clock
    was set 15 minutes back two days ago; ``new`` has too few usual days to judge."""
    frame = clock_days(
        {
            "west": [25.0] * 31,
            "reset": [3.0] * 29 + [-12.0, -12.5],
            "new": [0.0] * 5 + [-30.0] * 3,
        }
    )
    found, evaluated = clock_shifts(
        frame, pd.Series({"west": "VS001", "reset": "HH0002"}), dt.date(2026, 5, 31), TZ
    )
    assert evaluated == {("clock_shift", "west"), ("clock_shift", "reset")}
    assert [(f.kind, f.subject_id, f.station_id) for f in found] == [
        (FindingKind.CLOCK_SHIFT, "reset", "HH0002")
    ]
    assert found[0].evidence == {
        "shift_min": -15.0,
        "recent_min": -12.0,
        "usual_min": 3.0,
        "recent_days": 3,
        "day": "2026-05-31",
    }
    assert "与同乡镇电站相差-12分钟（平时+3分钟）" in detail("clock_shift", found[0].evidence, "zh")
    assert found[0].since == dt.datetime(2026, 5, 29, tzinfo=TZ).astimezone(dt.UTC)


def test_overcast_days_that_erase_an_orientation_are_not_a_clock_that_moved() -> None:
    """``west`` faces south-west: in sunshine its output comes 12 minutes after its
    township's, under an overcast at the same time, when all light is diffuse. The last
    three days were overcast (the township made a third of its clear days' energy): judged
    on them, the clock would have moved; only clear days are judged. ``set_back``'s logger
    was set 15 minutes back on the last two clear days."""
    last = dt.date(2026, 5, 31)
    dates = [last - dt.timedelta(days=n) for n in range(31)][::-1]
    overcast = set(dates[-3:])
    offsets = pd.DataFrame(
        {
            "west": [0.3 if d in overcast else 12.0 for d in dates],
            "set_back": [-0.1 if d in overcast else 2.0 for d in dates[:-5]]
            + [-13.0, -13.2, 0.0, 0.0, 0.0],
        },
        index=dates,
    )
    station_of = pd.Series({"west": "VS001", "set_back": "VS002"})
    history = pd.DataFrame(
        [
            {"date": d, "station_id": s, "csi": 0.25 if d in overcast else 0.75}
            for d in dates
            for s in ("VS001", "VS002", "VS003")
        ]
    )
    clear = history.assign(
        clear=clear_township_days(
            history, pd.Series({"VS001": "T01", "VS002": "T01", "VS003": "T01"})
        )
    ).pivot_table(index="date", columns="station_id", values="clear", aggfunc="any")
    unmasked, _ = clock_shifts(offsets, station_of, last, TZ)
    assert "west" in {f.subject_id for f in unmasked}
    found, evaluated = clock_shifts(on_clear_days(offsets, clear, station_of), station_of, last, TZ)
    assert evaluated == {("clock_shift", "west"), ("clock_shift", "set_back")}
    assert [(f.subject_id, f.evidence["shift_min"]) for f in found] == [("set_back", -15.0)]
    assert found[0].since == dt.datetime(2026, 5, 26, tzinfo=TZ).astimezone(dt.UTC)
