"""Registry rows valid in time: the one effective-dating mechanism.

A dated row carries ``valid_from`` and ``valid_to``, both local days and both inclusive;
``valid_to`` empty means "until further notice". Nothing is deleted when something
changes: the old row ends (its ``valid_to`` is set) and the new one begins, so the history
stays in the registry, in its files and in every figure computed for a past day. A sheet
whose rows are dated says which of its columns name *the thing that has one value at a
time* (``Row.one_at_a_time``: a station has one tariff at a time); two rows of the same
thing may not overlap. Inverters are dated so that a replaced inverter's serial is retired
from a day and its successor added from that day; tariffs, ownership shares and costs use
the same mechanism.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

import pandas as pd


class Dated(Protocol):
    @property
    def valid_from(self) -> dt.date: ...
    @property
    def valid_to(self) -> dt.date | None: ...


D = TypeVar("D", bound=Dated)


def in_effect(row: Dated, day: dt.date) -> bool:
    """Whether ``row`` holds on ``day`` (both ends inclusive)."""
    return row.valid_from <= day and (row.valid_to is None or day <= row.valid_to)


def effective_on(rows: Iterable[D], day: dt.date) -> list[D]:
    return [r for r in rows if in_effect(r, day)]


def carries_on(row: Dated, day: dt.date) -> bool:
    """Whether ``row`` holds on ``day`` and after it: not ending on it. What is watched
    *now* — an inverter whose retirement today is recorded is no longer expected to speak,
    although its energy until the change still counts for the day."""
    return in_effect(row, day) and (row.valid_to is None or day < row.valid_to)


def frame_in_effect(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The rows of a table of dated rows (``valid_from``, ``valid_to`` columns) that hold
    on ``day`` — ``in_effect`` for analytics, which computes with tables."""
    return _held(frame, day, lambda ends: ends >= day)


def frame_carrying_on(frame: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """``carries_on`` for a table of dated rows."""
    return _held(frame, day, lambda ends: ends > day)


def _held(
    frame: pd.DataFrame, day: dt.date, reaches: Callable[[pd.Series], pd.Series]
) -> pd.DataFrame:
    if frame.empty:
        return frame
    ends = frame["valid_to"]
    held = (frame["valid_from"] <= day) & (ends.isna() | reaches(ends.fillna(dt.date.max)))
    return frame[held.to_numpy(dtype=bool)]


def period_problems(rows: Sequence[Dated], subject: Sequence[str]) -> list[tuple[int, str]]:
    """(row index, problem) for each row that ends before it begins, and each row that
    overlaps an earlier one of the same subject (the columns ``subject`` name)."""
    problems: list[tuple[int, str]] = []
    by_subject: dict[tuple[object, ...], list[tuple[dt.date, dt.date, int]]] = defaultdict(list)
    for i, row in enumerate(rows):
        if row.valid_to is not None and row.valid_to < row.valid_from:
            problems.append((i, f"valid_to {row.valid_to} is before valid_from {row.valid_from}"))
            continue
        key = tuple(getattr(row, c) for c in subject)
        by_subject[key].append((row.valid_from, row.valid_to or dt.date.max, i))
    for key, periods in by_subject.items():
        periods.sort()
        reach = dt.date.min
        for start, end, j in periods:
            if start <= reach:
                shown = "/".join(map(str, key))
                ending = "open-ended" if reach == dt.date.max else f"ending {reach}"
                problems.append((j, f"period from {start} overlaps another of {shown} {ending}"))
            reach = max(reach, end)
    return problems
