"""Request parameters with their ranges, shared by the API and the pages: a value outside
its range is refused with 4xx before any query sees it (an alert id beyond SQLite's 64-bit
integers, a year 9999, a time that overflows when converted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Query, Response

from pvmon.localtime import MONTH_PATTERN
from pvmon.registry.schema import CODE_PATTERN as ID_PATTERN

T = TypeVar("T")

AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The alert's number")]
StationId = Annotated[str, Path(pattern=ID_PATTERN, description="A station's code")]
DeviceId = Annotated[str, Path(pattern=ID_PATTERN, description="An inverter's serial")]
TownshipId = Annotated[str, Path(pattern=ID_PATTERN, description="A township's code")]
TownshipFilter = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Only this township's stations")
]
CountyFilter = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Only this county's (a province's)")
]
VillageId = Annotated[str, Path(pattern=ID_PATTERN, description="A village's code")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year (local)")]
MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="A local month, YYYY-MM")]
MonthFilter = Annotated[
    str | None, Query(pattern=MONTH_PATTERN, description="A local month, YYYY-MM")
]


@dataclass(frozen=True)
class Page:
    """Which part of a list: ``limit`` items after the first ``offset``."""

    limit: int
    offset: int

    def of(self, items: Sequence[T], response: Response) -> list[T]:
        """The page of ``items``; how many there are in all goes in ``X-Total-Count``."""
        response.headers["X-Total-Count"] = str(len(items))
        return list(items[self.offset : self.offset + self.limit])


async def _page(
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many items")] = 500,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="After skipping this many")] = 0,
) -> Page:
    return Page(limit, offset)  # a coroutine: FastAPI calls it on the loop, no thread


Paging = Annotated[Page, Depends(_page)]
"""A list's page (every list of the API is paged: a province's lists are long)."""
