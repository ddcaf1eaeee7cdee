"""How a village used its PV income, and what the rules do not allow (pure).

The seed forbids simply handing money out (严禁简单发钱发物); the PV poverty-alleviation
income rules send a village's PV income to public-welfare jobs (a person, the months, the
pay), small public works, and rewards and subsidies. A use is flagged when it is a hand-out,
falls outside those categories, is a public-welfare job without its person, months and pay
(or whose amount is not months × pay), or spends money the village has not received.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from finance.records import ALLOWED_USES, UseCategory


@dataclass(frozen=True)
class Use:
    id: int
    used_on: dt.date
    category: UseCategory
    amount_yuan: float
    person: str | None
    months: int | None
    monthly_yuan: float | None


@dataclass(frozen=True)
class Cash:
    """Money in: a village's part of a receipt, on the day it was received."""

    received_on: dt.date
    amount_yuan: float


def rule_flags(use: Use) -> list[str]:
    """The catalog keys of what the rules say against this use, on its own."""
    flags = []
    if use.category == UseCategory.HANDOUT:
        flags.append("use_flag.handout")
    elif use.category not in ALLOWED_USES:
        flags.append("use_flag.other")
    if use.category == UseCategory.PUBLIC_WELFARE_JOBS:
        if not use.person or use.months is None or use.monthly_yuan is None:
            flags.append("use_flag.job_incomplete")
        elif abs(use.months * use.monthly_yuan - use.amount_yuan) > 0.005:
            flags.append("use_flag.job_amount")
    return flags


def balances(cash: list[Cash], uses: list[Use]) -> dict[int, float]:
    """Each use's id → the village's balance just after it, money received on a day
    counted before what was spent that day."""
    events = [(c.received_on, 0, c.amount_yuan, None) for c in cash]
    events += [(u.used_on, 1, -u.amount_yuan, u.id) for u in uses]
    out: dict[int, float] = {}
    balance = 0.0
    for _, _, amount, use_id in sorted(events, key=lambda e: (e[0], e[1], e[3] or 0)):
        balance += amount
        if use_id is not None:
            out[use_id] = round(balance, 2)
    return out


def flags(cash: list[Cash], uses: list[Use]) -> dict[int, list[str]]:
    """Each use's id → all its flags, an overdrawn balance among them."""
    after = balances(cash, uses)
    return {
        u.id: [*rule_flags(u), *(["use_flag.overdrawn"] if after[u.id] < -0.005 else [])]
        for u in uses
    }
