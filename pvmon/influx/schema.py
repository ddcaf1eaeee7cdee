"""The public InfluxDB schema: measurement names and how points are encoded.

Tags are stable ids only (never names); raw telemetry and events live in the default
retention policy, daily rollups in ``rollups`` with local midnight as their timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping

from pvmon.influx.lineprotocol import encode_point

TELEMETRY = "telemetry"
EVENTS = "events"

DEVICE_DAILY = "device_daily"
STATION_DAILY = "station_daily"
VILLAGE_DAILY = "village_daily"
TOWNSHIP_DAILY = "township_daily"
SEGMENT_DAILY = "segment_daily"
COUNTY_DAILY = "county_daily"
"""Each county's totals per kind of station: sums of its townships'."""
FLEET_DAILY = "fleet_daily"
STATION_HOURS = "station_hours"
"""Each station's hours on the days they can be judged: the shape against its peers and the
energy (``s07``, ``e07``…), for losses confined to some hours of the day."""
STATION_TODAY = "station_today"
"""Each station's energy so far today (raw retention; replaced by the day's rollup)."""
TOWNSHIP_TODAY = "township_today"
"""Each township's energy so far today per kind of station: its stations' ``station_today``
summed (what the summaries read)."""


def telemetry_line(
    station: str, device: str, kind: str, township: str, ts: int, fields: Mapping[str, float | int]
) -> str:
    tags = {"device": device, "kind": kind, "station": station, "township": township}
    return encode_point(TELEMETRY, tags, fields, ts)


def event_line(
    station: str,
    device: str,
    kind: str,
    township: str,
    ts: int,
    code: int,
    evt1: int | None,
    text: str | None,
) -> str:
    tags = {
        "code": str(code),
        "device": device,
        "kind": kind,
        "station": station,
        "township": township,
    }
    fields: dict[str, int | str] = {"code": code}
    if evt1 is not None:
        fields["Evt1"] = evt1
    if text:
        fields["text"] = text
    return encode_point(EVENTS, tags, fields, ts)
