"""RdTools itself against ``analytics.degradation`` and ``analytics.soiling`` on the same
inputs (prints figures).

RdTools is not a dependency of the project (``analytics/degradation.py`` says why): this
installs it, pinned, into a virtual environment of its own (``bench/.rdtools-venv``, about
1.4 GB), measuring the time and size it takes, then runs its ``degradation_year_on_year``
on five-year daily series with known degradation, seasonality, noise and cloudy days
missing, and its ``soiling_srr`` on two-year series of dust building up and washed off by
rain (some with the cleanings recorded), and this project's on the same. ``--record``
writes the inputs and RdTools's answers to ``tests/data/rdtools_reference.json`` and
``tests/data/rdtools_soiling.json``, which ``tests/test_degradation.py`` and
``tests/test_soiling.py`` hold the project's implementations to.

Run: .venv/bin/python -m bench.rdtools_agreement [--record]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from analytics.degradation import year_on_year
from analytics.soiling import srr

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".rdtools-venv"
PINS = ["rdtools==3.2.1"]
REFERENCE = ROOT / "tests" / "data" / "rdtools_reference.json"
SOILING_REFERENCE = ROOT / "tests" / "data" / "rdtools_soiling.json"
RATES = (-0.3, -0.7, -1.1, -1.5, 0.0)
"""The series' true degradation [%/year]."""
RUNNER = """
import json, sys
import numpy as np, pandas as pd
import rdtools
cases = json.load(sys.stdin)
out = []
for case in cases:
    series = pd.Series(case["values"], index=pd.to_datetime(case["dates"]))
    np.random.seed(0)
    rd, ci, _ = rdtools.degradation_year_on_year(series)
    out.append({"rate_pct": float(rd), "ci": [float(ci[0]), float(ci[1])]})
json.dump({"version": rdtools.__version__, "results": out}, sys.stdout)
"""
SOILING_RATES = (0.001, 0.002, 0.004)
"""The series' dust rates [share of output a day]."""
SOILING_RUNNER = """
import json, sys
import numpy as np, pandas as pd
import rdtools
from rdtools.soiling import soiling_srr
cases = json.load(sys.stdin)
out = []
for case in cases:
    index = pd.DatetimeIndex(pd.to_datetime(case["dates"]), freq="D")
    pi = pd.Series(case["values"], index=index, dtype=float)
    insol = pd.Series(case["insolation"], index=index)
    recorded = case["recorded"]
    precip = pd.Series(recorded, index=index, dtype=float) if any(recorded) else None
    np.random.seed(0)
    ratio, ci, info = soiling_srr(
        pi, insol, precipitation_daily=precip,
        clean_criterion="precip_or_shift" if precip is not None else "shift",
    )
    intervals = info["soiling_interval_summary"]
    out.append({
        "ratio": float(ratio), "ci": [float(ci[0]), float(ci[1])],
        "exceedance": float(info["exceedance_level"]),
        "valid": int(intervals["valid"].sum()),
        "rates": [float(r) for r in intervals["soiling_rate"]],
    })
json.dump({"version": rdtools.__version__, "results": out}, sys.stdout)
"""


def series(rate_pct: float, seed: int) -> pd.Series:
    """Five years of a station's clear days: its normalised energy, degrading at
    ``rate_pct`` a year, with a seasonal swing, noise and about 40 % of days missing."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2021-01-01", "2025-12-31", freq="D")
    years = np.arange(len(dates)) / 365.0
    season = 0.03 * np.cos(2 * np.pi * (dates.day_of_year.to_numpy() - 15) / 365.25)
    values = (1 + rate_pct / 100 * years) * (0.92 + season) + rng.normal(0, 0.02, len(dates))
    keep = rng.random(len(dates)) > 0.4
    return pd.Series(values[keep], index=dates[keep])


def soiled(rate: float, seed: int, recorded: bool) -> dict:
    """Two years of a station's daily performance index: dust building up at ``rate`` a
    day (up to 15 %), washed off by rain days, with noise and about 30 % of days missing;
    the insolation's seasonal swing; with ``recorded``, a cleaning every 60 days too."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-01", "2025-12-31", freq="D")
    doy = dates.day_of_year.to_numpy()
    rain = rng.random(len(dates)) < 0.04
    cleaned = np.zeros(len(dates), bool)
    if recorded:
        cleaned[30::60] = True
    dust = np.zeros(len(dates))
    for i in range(1, len(dates)):
        dust[i] = 0.0 if rain[i] or cleaned[i] else min(0.15, dust[i - 1] + rate)
    values = 0.95 * (1 - dust) + rng.normal(0, 0.01, len(dates))
    values[rng.random(len(dates)) < 0.3] = np.nan
    insolation = 5 + 2 * np.cos(2 * np.pi * (doy - 172) / 365.25)
    return {
        "dates": [d.isoformat() for d in dates.date],
        "values": [None if np.isnan(v) else round(float(v), 6) for v in values],
        "insolation": insolation.round(6).tolist(),
        "recorded": cleaned.tolist(),
        "truth": float(1 - (dust * insolation).sum() / insolation.sum()),
    }


def ours(case: dict):
    index = pd.to_datetime(case["dates"])
    pi = pd.Series(case["values"], index=index, dtype=float)
    recorded = pd.Series(case["recorded"], index=index)
    return srr(
        pi,
        pd.Series(case["insolation"], index=index),
        np.random.RandomState(0),
        recorded if recorded.any() else None,
    )


def run_in_venv(runner: str, payload: list[dict]) -> dict:
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", runner],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def install() -> tuple[float, str]:
    """Seconds to make the environment (0 if it exists) and its size."""
    began = time.perf_counter()
    if not (VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *PINS], check=True)
    seconds = time.perf_counter() - began
    size = subprocess.run(["du", "-sh", str(VENV)], capture_output=True, text=True, check=True)
    return seconds, size.stdout.split()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    seconds, size = install()
    print(f"RdTools environment: {size}, made in {seconds:.0f} s (0: it existed)")
    cases = [series(rate, seed) for seed, rate in enumerate(RATES)]
    payload = [
        {"dates": [d.isoformat() for d in s.index.date], "values": s.round(6).tolist()}
        for s in cases
    ]
    theirs = run_in_venv(RUNNER, payload)
    print(f"RdTools {theirs['version']}\n")
    print(f"{'truth':>7} {'RdTools':>9} {'CI':>17} {'here':>9} {'CI':>17}")
    for rate, case, result in zip(RATES, payload, theirs["results"], strict=True):
        values = pd.Series(case["values"], index=pd.to_datetime(case["dates"]))
        mine = year_on_year(values, np.random.default_rng(0))
        if mine is None:
            raise SystemExit("five years of days gave no year-on-year pairs here")
        low, high = result["ci"]
        print(
            f"{rate:7.2f} {result['rate_pct']:9.4f} [{low:7.4f}, {high:7.4f}] "
            f"{mine.rate_pct:9.4f} [{mine.low_pct:7.4f}, {mine.high_pct:7.4f}]"
        )
    if args.record:
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "rdtools": theirs["version"],
            "cases": [
                {**case, "truth_pct": rate, **result}
                for rate, case, result in zip(RATES, payload, theirs["results"], strict=True)
            ],
        }
        REFERENCE.write_text(json.dumps(record))
        print(f"\nrecorded {REFERENCE.relative_to(ROOT)}")
    compare_soiling(args.record)


def compare_soiling(record: bool) -> None:
    cases = [
        soiled(rate, seed, recorded)
        for seed, (rate, recorded) in enumerate(
            [(r, False) for r in SOILING_RATES] + [(0.003, True)], start=10
        )
    ]
    theirs = run_in_venv(SOILING_RUNNER, cases)
    print(f"\nsoiling ratio  {'truth':>7} {'RdTools':>9} {'CI':>17} {'here':>9} {'CI':>17}")
    for case, result in zip(cases, theirs["results"], strict=True):
        mine = ours(case)
        if mine is None:
            raise SystemExit("two years of a soiled series gave no soiling interval here")
        low, high = result["ci"]
        print(
            f"{'':14} {case['truth']:7.4f} {result['ratio']:9.4f} [{low:7.4f}, {high:7.4f}] "
            f"{mine.ratio:9.4f} [{mine.low:7.4f}, {mine.high:7.4f}]"
        )
    if record:
        SOILING_REFERENCE.write_text(
            json.dumps(
                {
                    "rdtools": theirs["version"],
                    "cases": [
                        {**case, **result}
                        for case, result in zip(cases, theirs["results"], strict=True)
                    ],
                }
            )
        )
        print(f"\nrecorded {SOILING_REFERENCE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
