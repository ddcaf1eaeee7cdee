"""``pvmon import telemetry FILE``: inverter history exported to CSV or XLSX, validated
row by row exactly as ingest validates a message (each row becomes the message a logger
would have sent and goes through ``parse_message``), then written whole or not at all.

Layouts (``LAYOUTS``): ``pvmon`` — the contract's own columns (``ts``, ``device``, ``W``,
``WH``, ``DCV``, ``DCA``, ``Hz``, ``TmpCab``, ``St``, ``Evt1``) — and ``fusionsolar``, the
columns of FusionSolar's device-history export, in Chinese or English (start time, SN,
active power in kW, total yield in kWh, grid frequency, internal temperature, the PV
inputs' voltages and currents), found below any title rows. A time without a UTC offset
is the county's local time, as FusionSolar writes it.

All or nothing: any bad row (named with its row number and ingest's reason), a
(device, time) given twice, or a device that already has readings in the file's time
span refuses the whole file and writes nothing. If the store fails part way, what this
import wrote — by device and time span, which held nothing before — is deleted again.
The days written are marked for analytics to recompute, as late data are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog
from sqlalchemy.orm import Session, sessionmaker

from ingest.batch import reading_line
from ingest.fleetindex import FleetIndex
from ingest.late import stamp_late
from ingest.parse import Limits, Reading, Rejection, parse_message
from pvmon import tablefile
from pvmon.influx.client import InfluxClient, InfluxError, series_values
from pvmon.influx.schema import TELEMETRY
from pvmon.localtime import local_day
from pvmon.telemetry import Reason, dc_totals, telemetry_topic

log = structlog.get_logger("ingest")
CHUNK = 5000
"""Points per write."""


class HistoryImportError(Exception):
    """The file cannot be imported; the message says why, row by row where it is the rows."""


@dataclass(frozen=True)
class Column:
    names: tuple[str, ...]
    """The header's spellings of this column, any of which may be used."""
    field: str
    """The contract's field (``ts``, ``device``, or a reading's field)."""
    scale: float = 1.0


@dataclass(frozen=True)
class Layout:
    columns: tuple[Column, ...]
    dc_inputs: tuple[tuple[str, str], ...] = ()
    """Header patterns (with ``{n}``) of each PV input's voltage and current."""

    def found(self, header: list[str]) -> bool:
        time, device = self.columns[0], self.columns[1]
        return any(n in header for n in time.names) and any(n in header for n in device.names)


PVMON = Layout(
    tuple(
        Column((name,), name)
        for name in ("ts", "device", "W", "WH", "DCV", "DCA", "Hz", "TmpCab", "St", "Evt1")
    )
)
FUSIONSOLAR = Layout(
    (
        Column(("开始时间", "Start Time", "Start time", "统计时间", "Statistical Period"), "ts"),
        Column(("SN", "ESN", "设备SN", "Device SN"), "device"),
        Column(("有功功率(kW)", "Active power(kW)", "Active Power(kW)"), "W", 1000.0),
        Column(("累计发电量(kWh)", "Total yield(kWh)", "Total Yield(kWh)"), "WH", 1000.0),
        Column(("电网频率(Hz)", "Grid frequency(Hz)", "Grid Frequency(Hz)"), "Hz"),
        Column(("内部温度(℃)", "Internal temperature(℃)", "Internal Temperature(℃)"), "TmpCab"),
    ),
    dc_inputs=(
        (r"PV{n}输入电压\(V\)", r"PV{n}输入电流\(A\)"),
        (r"PV{n} input voltage\(V\)", r"PV{n} input current\(A\)"),
    ),
)
LAYOUTS = {"pvmon": PVMON, "fusionsolar": FUSIONSOLAR}


Row = tablefile.TableRow


@dataclass(frozen=True)
class RowProblem:
    row: int
    reason: str
    detail: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}: {self.detail}"


@dataclass(frozen=True)
class Imported:
    readings: int
    devices: int
    days: int


# --- reading the file ------------------------------------------------------------------


def read_table(path: Path) -> tuple[list[str], list[Row]]:
    """The header row (the first that some layout knows) and the rows under it."""
    try:
        return tablefile.read_table(
            path,
            lambda header: any(layout.found(header) for layout in LAYOUTS.values()),
            f"with a time and a device column of a known layout ({', '.join(LAYOUTS)})",
        )
    except tablefile.TableFileError as exc:
        raise HistoryImportError(str(exc)) from None


# --- rows to messages (pure) -----------------------------------------------------------


def layout_of(header: list[str], name: str | None) -> Layout:
    if name is not None:
        if name not in LAYOUTS:
            raise HistoryImportError(f"unknown layout {name!r}: {', '.join(LAYOUTS)}")
        if not LAYOUTS[name].found(header):
            raise HistoryImportError(f"the file's header is not the {name} layout's")
        return LAYOUTS[name]
    return next(layout for layout in LAYOUTS.values() if layout.found(header))


def to_message(row: Row, layout: Layout, tz: dt.tzinfo) -> tuple[str | None, dict[str, Any]]:
    """(the device's serial, the message body a logger would send) of one row. Values are
    handed over as they are (scaled where the layout says so), for ingest's checks to
    judge; only empty cells are left out."""
    body: dict[str, Any] = {}
    device = None
    for column in layout.columns:
        value = next((row.values[n] for n in column.names if n in row.values), None)
        if value is None or value == "":
            continue
        if column.field == "device":
            device = str(value).strip()
        elif column.field == "ts":
            body["ts"] = _time(value, tz)
        else:
            body[column.field] = _scaled(_number_or_text(value), column.scale)
    if layout.dc_inputs:
        body.update(_dc(row, layout, body))
    return device, body


def _time(value: Any, tz: dt.tzinfo) -> Any:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=tz)
        return moment.isoformat()
    text = str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        return _number_or_text(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=tz)).isoformat()


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", ""))
        except ValueError:
            return value
    return value


def _scaled(value: Any, scale: float) -> Any:
    return value * scale if scale != 1 and _is_number(value) else value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dc(row: Row, layout: Layout, body: Mapping[str, Any]) -> dict[str, Any]:
    pairs = []
    for volts, amps in layout.dc_inputs:
        for n in range(1, 33):
            v = _cell(row, volts.format(n=n))
            a = _cell(row, amps.format(n=n))
            if _is_number(v) and _is_number(a):
                pairs.append((float(a), float(v)))
    dca, dcv = dc_totals(pairs)
    return {k: x for k, x in (("DCA", dca), ("DCV", dcv)) if x is not None and k not in body}


def _cell(row: Row, pattern: str) -> Any:
    for name, value in row.values.items():
        if re.fullmatch(pattern, name):
            return _number_or_text(value)
    return None


# --- validating: every row, as ingest would ---------------------------------------------


def validate(
    rows: list[Row], layout: Layout, index: FleetIndex, now: float, limits: Limits, tz: dt.tzinfo
) -> tuple[list[Reading], list[RowProblem]]:
    readings: list[Reading] = []
    problems: list[RowProblem] = []
    first_at: dict[tuple[str, int], int] = {}
    for row in rows:
        device, body = to_message(row, layout, tz)
        known = index.devices.get(device) if device else None
        if known is None:
            what = f"device {device!r} is not in the registry" if device else "no device"
            problems.append(RowProblem(row.number, str(Reason.UNKNOWN_DEVICE), what))
            continue
        topic = telemetry_topic(known.station, device or "")
        parsed = parse_message(topic, orjson.dumps(body), index, now, limits)
        if isinstance(parsed, Rejection):
            problems.append(RowProblem(row.number, str(parsed.reason), parsed.detail))
        elif isinstance(parsed, Reading):
            key = (parsed.device, parsed.ts)
            if key in first_at:
                when = dt.datetime.fromtimestamp(parsed.ts, tz).isoformat()
                detail = f"{parsed.device} at {when} is also row {first_at[key]}"
                problems.append(RowProblem(row.number, "duplicate", detail))
                continue
            first_at[key] = row.number
            readings.append(parsed)
    return readings, problems


def spans(readings: list[Reading]) -> dict[str, tuple[int, int]]:
    """Each device's first and last time in the file."""
    out: dict[str, tuple[int, int]] = {}
    for r in readings:
        low, high = out.get(r.device, (r.ts, r.ts))
        out[r.device] = (min(low, r.ts), max(high, r.ts))
    return out


# --- writing: all or nothing ------------------------------------------------------------


def import_history(
    path: Path,
    influx: InfluxClient,
    sessions: sessionmaker[Session],
    limits: Limits,
    tz: dt.tzinfo,
    now: float,
    layout: str | None = None,
) -> Imported:
    header, rows = read_table(path)
    with sessions() as session:
        index = FleetIndex.load(session)
    readings, problems = validate(rows, layout_of(header, layout), index, now, limits, tz)
    if problems:
        listed = "\n".join(f"  {p}" for p in problems)
        raise HistoryImportError(
            f"{path.name}: {len(problems)} bad rows, nothing imported:\n{listed}"
        )
    if not readings:
        raise HistoryImportError(f"{path.name}: no readings in the file")
    held = _already_stored(influx, spans(readings))
    if held:
        raise HistoryImportError(
            f"{path.name}: nothing imported: readings already stored in the file's time span "
            f"for {', '.join(held)} (an import adds history; it does not overwrite it)"
        )
    _write_all(influx, readings, lambda: _undo(influx, spans(readings)))
    days = {(r.station, local_day(r.ts, tz)) for r in readings}
    with sessions.begin() as session:
        stamp_late(session, [(s, d, now) for s, d in sorted(days)])
    log.info("history_imported", file=path.name, readings=len(readings), days=len(days))
    return Imported(len(readings), len(spans(readings)), len({d for _, d in days}))


def _already_stored(influx: InfluxClient, device_spans: Mapping[str, tuple[int, int]]) -> list[str]:
    held = []
    for device, (low, high) in sorted(device_spans.items()):
        rows = series_values(
            influx.query(
                f"SELECT count(W) FROM {TELEMETRY} WHERE device = '{device}' "
                f"AND time >= {low}s AND time <= {high}s"
            )
        )
        if rows and rows[0]["count"]:
            held.append(device)
    return held


def _write_all(influx: InfluxClient, readings: list[Reading], undo: Callable[[], None]) -> None:
    lines = [reading_line(r) for r in readings]
    try:
        for start in range(0, len(lines), CHUNK):
            influx.write(lines[start : start + CHUNK])
    except InfluxError as exc:
        log.error("history_import_store_failed", error=str(exc))
        try:
            undo()
        except InfluxError as again:
            raise HistoryImportError(
                f"the store failed part way ({exc}) and the part written could not be deleted "
                f"({again}): once the store is back, delete {TELEMETRY} of the file's devices "
                "in its time span and import it again"
            ) from again
        raise HistoryImportError(f"the store refused the import part way; undone: {exc}") from exc


def _undo(influx: InfluxClient, device_spans: Mapping[str, tuple[int, int]]) -> None:
    """Delete what this import wrote: each device's span held nothing before it."""
    for device, (low, high) in device_spans.items():
        influx.query(
            f"DELETE FROM {TELEMETRY} WHERE device = '{device}' "
            f"AND time >= {low}s AND time <= {high}s",
            method="POST",
        )
