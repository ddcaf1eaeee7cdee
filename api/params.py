"""Request parameters with their ranges, shared by the API and the pages: a value outside
its range is refused with 4xx before any query sees it (an alert id beyond SQLite's 64-bit
integers, a year 9999, a time that overflows when converted)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from pvmon.localtime import MONTH_PATTERN
from pvmon.registry.schema import CODE_PATTERN as ID_PATTERN

AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The alert's number")]
StationId = Annotated[str, Path(pattern=ID_PATTERN, description="A station's code")]
DeviceId = Annotated[str, Path(pattern=ID_PATTERN, description="An inverter's serial")]
TownshipId = Annotated[str, Path(pattern=ID_PATTERN, description="A township's code")]
TownshipFilter = Annotated[
    str | None, Query(pattern=ID_PATTERN, description="Only this township's stations")
]
VillageId = Annotated[str, Path(pattern=ID_PATTERN, description="A village's code")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year (local)")]
MonthPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="A local month, YYYY-MM")]
MonthFilter = Annotated[
    str | None, Query(pattern=MONTH_PATTERN, description="A local month, YYYY-MM")
]
