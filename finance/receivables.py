"""What the grid company and the subsidy fund still owe, and how long they have owed it
(pure).

Each station has two receivables: grid payments (each settled month's grid part) and
subsidy (each settled month's subsidy part). A receipt pays the months it says it covers,
oldest first; what is left over pays the station's other unpaid months of the same kind,
oldest first; anything beyond that is an overpayment kept on its last covered month. What
a month still lacks is outstanding, aged from the month's last day: under one year, one to
two years, over two years.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from pvmon.localtime import month_bounds, months_between

BUCKETS = ("under_1y", "from_1y_to_2y", "over_2y")
"""Ages of an outstanding amount, from the end of the month it is owed for."""
DUE_COLUMNS = ["station_id", "kind", "period", "due_yuan"]
RECEIPT_COLUMNS = ["id", "station_id", "kind", "covers_from", "covers_to", "amount_yuan"]
ALLOCATION_COLUMNS = ["receipt_id", "station_id", "kind", "period", "amount_yuan"]


def allocate(dues: pd.DataFrame, receipts: pd.DataFrame) -> pd.DataFrame:
    """How each receipt paid which months: receipt_id, station_id, kind, period,
    amount_yuan. ``dues``: station_id, kind, period, due_yuan; ``receipts``: id,
    station_id, kind, covers_from, covers_to, amount_yuan, received_on (paid in the order
    received)."""
    owed: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for station, kind, period, due in dues[DUE_COLUMNS].itertuples(index=False):
        owed[(station, kind)][period] = owed[(station, kind)].get(period, 0.0) + float(due)
    out: list[tuple[int, str, str, str, float]] = []
    ordered = receipts.sort_values(["received_on", "id"]) if len(receipts) else receipts
    for r in ordered.itertuples(index=False):
        left = owed[(r.station_id, r.kind)]
        covered = months_between(r.covers_from, r.covers_to)
        rest = float(r.amount_yuan)
        for period in [*covered, *sorted(p for p in left if p not in covered)]:
            paid = min(rest, left.get(period, 0.0))
            if paid > 0:
                out.append((r.id, r.station_id, r.kind, period, paid))
                left[period] -= paid
                rest -= paid
        if rest > 0.005:
            out.append((r.id, r.station_id, r.kind, covered[-1], rest))
    return pd.DataFrame(out, columns=ALLOCATION_COLUMNS)


def age_days(period: str, as_of: dt.date) -> int:
    """Days since the last day of the month (0 while it is not over)."""
    return max(0, (as_of - month_bounds(period)[1]).days)


def bucket(days: int) -> str:
    if days < 365:
        return BUCKETS[0]
    return BUCKETS[1] if days < 730 else BUCKETS[2]


def ledger(dues: pd.DataFrame, allocations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per station, kind and month: due_yuan, received_yuan, outstanding_yuan, age_days,
    bucket."""
    keys = ["station_id", "kind", "period"]
    due = dues.groupby(keys, as_index=False)["due_yuan"].sum()
    received = allocations.groupby(keys, as_index=False)["amount_yuan"].sum()
    frame = due.merge(
        received.rename(columns={"amount_yuan": "received_yuan"}), on=keys, how="outer"
    )
    frame[["due_yuan", "received_yuan"]] = frame[["due_yuan", "received_yuan"]].fillna(0.0)
    frame["outstanding_yuan"] = (frame["due_yuan"] - frame["received_yuan"]).clip(lower=0.0)
    frame["age_days"] = [age_days(p, as_of) for p in frame["period"]]
    frame["bucket"] = [bucket(d) for d in frame["age_days"]]
    return frame


def aged_totals(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Outstanding amounts summed by ``by`` and kind, one column per age bucket, with the
    total due and received."""
    if rows.empty:
        return pd.DataFrame(
            columns=[*by, "kind", "due_yuan", "received_yuan", "outstanding_yuan", *BUCKETS]
        )
    sums = rows.groupby([*by, "kind"])[["due_yuan", "received_yuan", "outstanding_yuan"]].sum()
    ages = rows.pivot_table(
        index=[*by, "kind"], columns="bucket", values="outstanding_yuan", aggfunc="sum"
    ).reindex(columns=list(BUCKETS), fill_value=0.0)
    return sums.join(ages.fillna(0.0)).reset_index()
