"""The money's rules on their own (pure): the subsidy a statement leaves out, a month's
money spread over its days and split by the shares of each day, receipts paying the oldest
months first and what is still owed by age, and what the income-use rules flag."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from finance import views
from finance.receivables import aged_totals, allocate, bucket, ledger
from finance.records import UseCategory
from finance.settled import changing_months, month_shares, settled_money, split, village_costs
from finance.uses import Cash, Use, balances, flags

D = dt.date
TARIFFS = pd.DataFrame(
    [
        ("S1", 0.332, 0.518, D(2017, 1, 1), D(2026, 10, 10)),
        ("S1", 0.332, 0.418, D(2026, 10, 11), D(2036, 12, 31)),
    ],
    columns=["station_id", "grid_yuan_per_kwh", "subsidy_yuan_per_kwh", "valid_from", "valid_to"],
)
SHARES = pd.DataFrame(
    [
        ("S1", "A", 1.0, D(2017, 1, 1), D(2026, 10, 15)),
        ("S1", "A", 0.5, D(2026, 10, 16), None),
        ("S1", "B", 0.5, D(2026, 10, 16), None),
        ("S2", "B", 1.0, D(2017, 1, 1), None),
    ],
    columns=["station_id", "village_id", "share", "valid_from", "valid_to"],
)


def test_a_statement_without_its_subsidy_gets_the_settled_export_at_each_days_rate() -> None:
    statements = pd.DataFrame(
        [("S1", "2026-10", 3100.0, 1029.2, None), ("S1", "2026-09", 3000.0, 996.0, 1500.0)],
        columns=["station_id", "period", "export_kwh", "grid_yuan", "subsidy_yuan"],
    )
    money = settled_money(statements, TARIFFS).set_index("period")
    rate = (10 * 0.518 + 21 * 0.418) / 31
    assert money.loc["2026-10", "subsidy_yuan"] == pytest.approx(3100 * rate, abs=0.01)
    assert not money.loc["2026-10", "subsidy_stated"]
    assert money.loc["2026-09", "subsidy_yuan"] == 1500.0, "a stated subsidy is kept"


def test_a_month_whose_owners_change_is_split_by_the_money_each_owner_held_the_days_of() -> None:
    months = pd.DataFrame({"station_id": ["S1", "S2"], "period": ["2026-10", "2026-10"]})
    assert changing_months(months, SHARES).to_dict("records") == [
        {"station_id": "S1", "period": "2026-10"}
    ]
    even = month_shares(months, SHARES, None).set_index(["village_id", "station_id"])["share"]
    assert even["A", "S1"] == pytest.approx((15 + 16 * 0.5) / 31), "no estimate: by days"
    assert even["B", "S1"] == pytest.approx(16 * 0.5 / 31)
    assert even["B", "S2"] == pytest.approx(1.0)
    sunny_first_half = pd.DataFrame(
        {
            "station_id": "S1",
            "date": [D(2026, 10, d) for d in range(1, 32)],
            "weight": [300.0 if d <= 15 else 100.0 for d in range(1, 32)],
        }
    )
    weighted = month_shares(months, SHARES, sunny_first_half)
    shares = weighted.set_index(["village_id", "station_id"])["share"]
    total = 15 * 300 + 16 * 100
    assert shares["A", "S1"] == pytest.approx((15 * 300 + 16 * 100 * 0.5) / total)
    money = pd.DataFrame([("S1", "2026-10", 6100.0)], columns=["station_id", "period", "grid_yuan"])
    parts = split(money, ["grid_yuan"], weighted)
    assert parts["grid_yuan"].sum() == pytest.approx(6100.0), "nothing lost or made in the split"


def test_a_months_costs_are_each_days_costs_at_each_days_shares() -> None:
    costs = pd.DataFrame(
        [("S1", "rent", 3650.0, D(2017, 1, 1), None)],
        columns=["station_id", "item", "annual_yuan", "valid_from", "valid_to"],
    )
    months = pd.DataFrame({"station_id": ["S1"], "period": ["2026-10"]})
    parts = village_costs(costs, SHARES, months).set_index("village_id")["costs_yuan"]
    assert parts["A"] == pytest.approx(15 * 10 + 16 * 5)
    assert parts["B"] == pytest.approx(16 * 5)


def test_receipts_pay_their_months_then_the_oldest_and_what_is_owed_is_aged() -> None:
    dues = pd.DataFrame(
        [
            ("S1", "subsidy", "2023-06", 100.0),
            ("S1", "subsidy", "2024-06", 100.0),
            ("S1", "subsidy", "2025-06", 100.0),
            ("S1", "subsidy", "2026-06", 100.0),
            ("S1", "grid", "2026-10", 40.0),
        ],
        columns=["station_id", "kind", "period", "due_yuan"],
    )
    receipts = pd.DataFrame(
        [
            (1, "S1", "subsidy", "2025-06", "2025-06", 130.0, D(2026, 3, 1)),
            (2, "S1", "grid", "2026-10", "2026-10", 45.0, D(2026, 11, 20)),
        ],
        columns=[
            "id",
            "station_id",
            "kind",
            "covers_from",
            "covers_to",
            "amount_yuan",
            "received_on",
        ],
    )
    paid = allocate(dues, receipts)
    assert paid[paid["receipt_id"] == 1][["period", "amount_yuan"]].values.tolist() == [
        ["2025-06", 100.0],
        ["2023-06", 30.0],
    ], "its own month first, the rest to the oldest"
    assert paid[paid["receipt_id"] == 2]["amount_yuan"].sum() == 45.0, "an overpayment is kept"
    rows = ledger(dues, paid, D(2026, 12, 6)).set_index(["kind", "period"])
    assert rows.loc[("subsidy", "2023-06"), "outstanding_yuan"] == 70.0
    assert rows.loc[("grid", "2026-10"), "outstanding_yuan"] == 0.0
    assert [bucket(n) for n in (0, 364, 365, 729, 730)] == [
        "under_1y",
        "under_1y",
        "from_1y_to_2y",
        "from_1y_to_2y",
        "over_2y",
    ]
    totals = aged_totals(ledger(dues, paid, D(2026, 12, 6)), ["station_id"]).set_index("kind")
    assert totals.loc["subsidy", "over_2y"] == 70.0 + 100.0, "2023-06 and 2024-06"
    assert totals.loc["subsidy", "from_1y_to_2y"] == 0.0, "2025-06 was paid"
    assert totals.loc["subsidy", "under_1y"] == 100.0
    assert totals.loc["subsidy", "outstanding_yuan"] == 270.0


def use(n: int, category: UseCategory, amount: float, day: int, **job: object) -> Use:
    return Use(
        n,
        D(2026, 5, day),
        category,
        amount,
        job.get("person"),
        job.get("months"),  # type: ignore[arg-type]
        job.get("monthly_yuan"),  # type: ignore[arg-type]
    )


def test_what_the_rules_do_not_allow_is_flagged_and_so_is_spending_money_not_received() -> None:
    uses = [
        use(
            1,
            UseCategory.PUBLIC_WELFARE_JOBS,
            6000.0,
            2,
            person="张三",
            months=6,
            monthly_yuan=1000.0,
        ),
        use(
            2,
            UseCategory.PUBLIC_WELFARE_JOBS,
            5000.0,
            3,
            person="李四",
            months=6,
            monthly_yuan=1000.0,
        ),
        use(3, UseCategory.PUBLIC_WELFARE_JOBS, 3000.0, 4),
        use(4, UseCategory.HANDOUT, 2000.0, 5),
        use(5, UseCategory.OTHER, 500.0, 6),
        use(6, UseCategory.SMALL_PUBLIC_WORKS, 9000.0, 20),
    ]
    cash = [Cash(D(2026, 5, 1), 20000.0), Cash(D(2026, 5, 20), 1000.0)]
    assert balances(cash, uses)[6] == pytest.approx(20000 + 1000 - 25500), "received first"
    found = flags(cash, uses)
    assert found[1] == []
    assert found[2] == ["use_flag.job_amount"]
    assert found[3] == ["use_flag.job_incomplete"]
    assert found[4] == ["use_flag.handout"]
    assert found[5] == ["use_flag.other"]
    assert found[6] == ["use_flag.overdrawn"]


def test_the_income_target_is_checked_on_settled_money_alone() -> None:
    def month(n: int, state: str, net: float) -> views.Month:
        figures = views.Figures(1000.0, net, 0.0, 0.0)
        settled = figures if state != views.ESTIMATED else None
        return views.Month(f"2025-{n:02d}", state, figures, settled, [], [])

    def year(months: list[views.Month]) -> views.Year:
        return views.Year("V", 2025, months, 0.0, 0.0, 0.0, [], {})

    target = 200_000.0
    eleven = [month(n, views.CLOSED, 16_000.0) for n in range(1, 12)]
    assert year([*eleven, month(12, views.ESTIMATED, 30_000.0)]).settled_check(target) == (
        "pending"
    ), "the estimate of December would reach it; the settled money does not yet"
    assert year([*eleven, month(12, views.SETTLED, 30_000.0)]).settled_check(target) == "met"
    assert year([*eleven, month(12, views.SETTLED, 10_000.0)]).settled_check(target) == "short"
