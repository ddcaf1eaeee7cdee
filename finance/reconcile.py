"""Settled against estimated, and statements that have not come (pure).

A settled month is compared with the telemetry estimate of the same month — export energy,
the grid part and (where the statement states it) the subsidy part. Only a month the
estimate covers whole (a computed day for each of its days) is judged; a difference
beyond ``deviation_share`` of the estimate is a finding about the station: a meter, a CT
or a loss factor is wrong, or the statement is. A month whose statement is overdue is
another finding.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from finance.settled import MONEY, month_days
from pvmon.findings import Finding, FindingKind, Severity, Subject
from pvmon.localtime import month_bounds, month_of, months_between


def monthly_estimate(days: pd.DataFrame) -> pd.DataFrame:
    """``station_days`` summed per station and month, with the days counted:
    station_id, period, export_kwh, grid_yuan, subsidy_yuan, days."""
    if days.empty:
        return pd.DataFrame(columns=["station_id", "period", *MONEY, "days"])
    frame = days.assign(period=[month_of(d) for d in days["date"]])
    frame = frame[frame["export_kwh"].notna()]
    sums = frame.groupby(["station_id", "period"])[MONEY].sum()
    sums["days"] = frame.groupby(["station_id", "period"])["date"].nunique()
    return sums.reset_index()


def compare(settled: pd.DataFrame, estimate: pd.DataFrame, share: float) -> pd.DataFrame:
    """Each settled station-month beside its estimate: ``est_<figure>``, ``dev_<figure>``
    (settled / estimate − 1), ``complete`` (the estimate has every day of the month) and
    ``flagged`` (complete, and some deviation beyond ``share``)."""
    est = estimate.rename(columns={f: f"est_{f}" for f in [*MONEY, "days"]})
    frame = settled.merge(est, on=["station_id", "period"], how="left")
    frame["est_days"] = frame["est_days"].fillna(0).astype(int)
    frame["complete"] = [
        days == len(month_days(p))
        for days, p in zip(frame["est_days"], frame["period"], strict=True)
    ]
    flagged = pd.Series(False, index=frame.index)
    for figure in MONEY:
        estimated = frame[f"est_{figure}"]
        frame[f"dev_{figure}"] = frame[figure] / estimated.where(estimated > 0) - 1
        judged = frame["subsidy_stated"] if figure == "subsidy_yuan" else True
        flagged |= judged & (frame[f"dev_{figure}"].abs() > share)
    frame["flagged"] = frame["complete"] & flagged
    return frame


def deviation_findings(rows: pd.DataFrame, tz: dt.tzinfo) -> list[Finding]:
    """One finding per station with flagged months, naming each month and its figures."""
    out = []
    for station, group in rows[rows["flagged"]].groupby("station_id"):
        months = group.sort_values("period")
        evidence = {
            "months": [
                {
                    "period": r.period,
                    **{f: round(float(getattr(r, f)), 2) for f in MONEY},
                    **{f"est_{f}": round(float(getattr(r, f"est_{f}")), 2) for f in MONEY},
                    **{f"dev_{f}": _rounded(getattr(r, f"dev_{f}")) for f in MONEY},
                }
                for r in months.itertuples()
            ]
        }
        evidence["worst"] = max(
            (abs(m[f"dev_{f}"]) for m in evidence["months"] for f in MONEY if m[f"dev_{f}"]),
            default=0.0,
        )
        since = _month_start(months["period"].iloc[0], tz)
        out.append(
            Finding(
                FindingKind.SETTLEMENT_DEVIATION,
                Subject.STATION,
                str(station),
                Severity.WARNING,
                since,
                evidence,
                str(station),
            )
        )
    return out


def expected_months(first: str, as_of: dt.date, due_days: int) -> list[str]:
    """The months from ``first`` whose statements are due by ``as_of`` (each ``due_days``
    after its month ends)."""
    last = month_of(as_of)
    return [
        m
        for m in months_between(first, last)
        if month_bounds(m)[1] + dt.timedelta(days=due_days) < as_of
    ]


def missing_findings(missing: dict[str, list[str]], tz: dt.tzinfo) -> list[Finding]:
    """One finding per station lacking the statements of ``missing[station]``."""
    return [
        Finding(
            FindingKind.SETTLEMENT_MISSING,
            Subject.STATION,
            station,
            Severity.WARNING,
            _month_start(months[0], tz),
            {"months": months, "count": len(months)},
            station,
        )
        for station, months in sorted(missing.items())
    ]


def _rounded(value: object) -> float | None:
    return None if pd.isna(value) else round(float(value), 4)  # type: ignore[arg-type]


def _month_start(period: str, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(month_bounds(period)[0], dt.time(0), tz).astimezone(dt.UTC)
