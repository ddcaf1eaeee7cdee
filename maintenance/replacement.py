"""An inverter replaced as the outcome of an order: the old serial retired from the day of
the change, the new one in service from that day — dated registry rows
(``pvmon.registry.effective``), so the old inverter's history stays.

Energy carries on across the change by itself: energy comes from each serial's own counter
differences, so the new counter's first reading is its baseline, not a jump, and the day
of the change counts the old inverter's energy until it went and the new one's after.
What the new inverter sent before it was recorded is stored once it is (``ingest.recovery``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from maintenance.actions import get, may_take, record
from maintenance.workflow import Step
from pvmon.audit import Actor
from pvmon.db import tables
from pvmon.i18n import text
from pvmon.localtime import local_day
from pvmon.registry.effective import carries_on
from pvmon.registry.schema import DeviceAddressRow, InverterRow, Registry
from pvmon.registry.store import load_registry, replace_registry
from pvmon.registry.validate import RegistryInvalid, messages
from pvmon.settings import Settings

CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far a phone's clock, or a time typed to the minute, may be off the server's."""


@dataclass(frozen=True)
class Replacement:
    old: str
    """The serial taken out."""
    new: str
    """The serial put in."""
    at: dt.datetime
    """When the new inverter went in."""
    model: str | None = None
    """Default: the old inverter's."""
    rated_ac_w: float | None = None
    """Default: the old inverter's."""
    wh_scale_exp: int | None = None
    """Default: the old inverter's."""
    cloud_id: str | None = None
    """The new inverter's id in its vendor's cloud, where the old one was read from there."""


class ReplacementRefused(ValueError):
    """Why the replacement cannot be recorded: a catalog key (``replace.*``) and its values;
    the message is the English text."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(text(key, "en", **values))
        self.key, self.values = key, values


def replaced(registry: Registry, station_id: str, r: Replacement, day: dt.date) -> Registry:
    """The registry after ``r`` on ``day`` at ``station_id`` (pure): the old inverter retired
    on that day, the new one in service from it; a Modbus address (the position on the
    station's bus) passes to the new inverter, a cloud address only with its new id."""
    rows = {i.id: i for i in registry.inverters}
    old = rows.get(r.old)
    if old is None or old.station_id != station_id:
        raise ReplacementRefused("replace.not_at_station", serial=r.old, station=station_id)
    if not carries_on(old, day) or old.valid_from > day:
        period = f"{old.valid_from} – {old.valid_to or '…'}"
        raise ReplacementRefused("replace.not_in_service", serial=r.old, day=day, period=period)
    if r.new in rows:
        raise ReplacementRefused("replace.serial_taken", serial=r.new)
    try:
        new = InverterRow(
            id=r.new,
            station_id=station_id,
            model=r.model or old.model,
            rated_ac_w=r.rated_ac_w if r.rated_ac_w is not None else old.rated_ac_w,
            wh_scale_exp=r.wh_scale_exp if r.wh_scale_exp is not None else old.wh_scale_exp,
            valid_from=day,
        )
    except ValidationError as exc:
        raise ReplacementRefused("replace.bad_value", problems="; ".join(messages(exc))) from None
    inverters = [
        i.model_copy(update={"valid_to": day}) if i.id == old.id else i for i in rows.values()
    ]
    return replace(
        registry,
        inverters=[*inverters, new],
        device_addresses=[_moved(a, r) for a in registry.device_addresses if _kept(a, r)],
    )


def _kept(address: DeviceAddressRow, r: Replacement) -> bool:
    return address.inverter_id != r.old or address.protocol.modbus or r.cloud_id is not None


def _moved(address: DeviceAddressRow, r: Replacement) -> DeviceAddressRow:
    if address.inverter_id != r.old:
        return address
    update: dict[str, object] = {"inverter_id": r.new}
    if not address.protocol.modbus:
        update["cloud_id"] = r.cloud_id
    return address.model_copy(update=update)


def replace_inverter(
    session: Session,
    settings: Settings,
    order_id: int,
    r: Replacement,
    actor: str,
    channel: str | None,
    now: dt.datetime,
) -> tables.WorkOrder:
    """Record ``r`` on the order (its maintainer, on site) and in the registry, together."""
    order = get(session, order_id)
    may_take(order, Step.REPLACE, actor)
    _check(r, order, now)
    day = local_day(r.at, ZoneInfo(settings.timezone))
    try:
        stored = load_registry(session)
        replace_registry(
            session,
            replaced(stored, order.station_id, r, day),
            stored,
            by=Actor(actor, channel or "system"),
            reason=f"work order #{order.id}: inverter {r.old} replaced by {r.new}",
        )
    except RegistryInvalid as exc:
        problems = "; ".join(str(e) for e in exc.errors)
        raise ReplacementRefused("replace.registry", problems=problems) from None
    detail = {
        "old": r.old,
        "new": r.new,
        "at": r.at.isoformat(),
        "model": r.model,
        "rated_ac_w": r.rated_ac_w,
    }
    record(
        session,
        order,
        Step.REPLACE,
        actor,
        channel,
        now,
        {k: v for k, v in detail.items() if v is not None},
    )
    return order


def _check(r: Replacement, order: tables.WorkOrder, now: dt.datetime) -> None:
    if r.at.tzinfo is None:
        raise ReplacementRefused("replace.bad_time", value=r.at.isoformat())
    if r.at > now + CLOCK_SKEW:
        raise ReplacementRefused("replace.future", at=r.at.isoformat(timespec="minutes"))
    if r.at < order.created_at - CLOCK_SKEW:
        raise ReplacementRefused("replace.before_order", at=r.at.isoformat(timespec="minutes"))
