"""How figures are written on the pages (pure): one place for 万 (ten thousand), thousands
separators, percentages, local times and the chart specifications the pages hand to
``static/charts.js`` as JSON.

A chart is described here, by what it shows (kind, title with unit and period, categories,
series), never assembled in a template: the page passes it with ``tojson`` and the script
turns it into an ECharts option.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

WAN = 1e4
"""万: figures in the county's reports are given in ten thousands (万千瓦时, 万元)."""
MISSING = "—"


def in_wan(value: float | None) -> float | None:
    return None if value is None else value / WAN


def number(value: float | None, digits: int = 0) -> str:
    """``1,234.5``; a missing figure is a dash, never 0."""
    if value is None:
        return MISSING
    return f"{value:,.{digits}f}"


def wan(value: float | None, digits: int = 1) -> str:
    return number(in_wan(value), digits)


def percent(value: float | None, digits: int = 1) -> str:
    """A share (0.973) as ``97.3%``."""
    return MISSING if value is None else f"{value * 100:.{digits}f}%"


def local_time(value: dt.datetime | None, tz: dt.tzinfo, with_date: bool = True) -> str:
    """A moment in the county's time, e.g. ``2026-12-02 11:50`` (``11:50`` without the date)."""
    if value is None:
        return MISSING
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def bars(
    title: str,
    unit: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    horizontal: bool = False,
) -> dict[str, Any]:
    """One quantity (one unit) per chart: energy and money never share an axis."""
    return {
        "kind": "bars",
        "title": title,
        "unit": unit,
        "categories": list(categories),
        "series": [{"name": name, "data": list(values)} for name, values in series.items()],
        "horizontal": horizontal,
    }


def pie(title: str, unit: str, items: Iterable[tuple[str, float]]) -> dict[str, Any]:
    return {
        "kind": "pie",
        "title": title,
        "unit": unit,
        "items": [{"name": name, "value": value} for name, value in items],
    }


def lines(
    title: str,
    unit: str,
    series: Mapping[str, Sequence[tuple[int, float | None]]],
    *,
    tz_offset_s: int,
) -> dict[str, Any]:
    """Time series: points as (epoch ms, value); the axis shows the county's local time."""
    return {
        "kind": "lines",
        "title": title,
        "unit": unit,
        "tz_offset_s": tz_offset_s,
        "series": [
            {"name": name, "data": [list(p) for p in points]} for name, points in series.items()
        ],
    }


def station_map(
    title: str, url: str, states: Mapping[str, str], share_label: str
) -> dict[str, Any]:
    """The stations by state over the townships' outlines, fetched from ``url`` (or, for a
    province, the townships shaded by ``share_label``: their stations not running normally)."""
    return {
        "kind": "map",
        "title": title,
        "url": url,
        "states": dict(states),
        "share_label": share_label,
    }
