"""What people do with the money — enter a statement or a receipt, close a village's
month, book an adjustment, record an income use — for the API, its pages, the imports and
the command line.

Every change is in the audit log with who, when, how, and the record before and after, in
the change's own transaction. A closed month is never rewritten: a statement of a month
some holding village has closed, a receipt received or a use made in a closed month, is
refused; a correction is an adjustment booked in the month it is made.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finance.books import read_books
from finance.records import AdjustmentIn, ReceiptIn, SettlementIn, UseIn
from finance.views import SETTLED, months_of
from pvmon import audit
from pvmon.audit import Actor
from pvmon.db import tables
from pvmon.domain import StationKind
from pvmon.i18n import Lang, text
from pvmon.localtime import month_bounds, month_of
from pvmon.registry.schema import Registry


class MoneyRefused(ValueError):
    """Why it cannot be done: a catalog key (``money.*``) and its values; the message is
    the English text."""

    def __init__(self, key: str, conflict: bool = False, **values: object) -> None:
        super().__init__(text(key, "en", **values))
        self.key, self.values, self.conflict = key, values, conflict

    def say(self, lang: Lang) -> str:
        return text(self.key, lang, **self.values)


# --- the checks a form, an API call and a file's rows share --------------------------


def holders(registry: Registry, station_id: str, first: dt.date, last: dt.date) -> set[str]:
    """The villages holding some share of the station between ``first`` and ``last``."""
    return {
        r.village_id
        for r in registry.station_shares
        if r.station_id == station_id
        and r.valid_from is not None
        and r.valid_from <= last
        and (r.valid_to is None or r.valid_to >= first)
    }


def closed_for(session: Session, villages: Iterable[str], period: str) -> list[str]:
    """Those of ``villages`` that have closed ``period``."""
    wanted = sorted(set(villages))
    if not wanted:
        return []
    return list(
        session.scalars(
            select(tables.VillageMonth.village_id).where(
                tables.VillageMonth.period == period, tables.VillageMonth.village_id.in_(wanted)
            )
        )
    )


def check_station(registry: Registry, station_id: str, kinds: Iterable[StationKind]) -> None:
    station = next((s for s in registry.stations if s.id == station_id), None)
    if station is None:
        raise MoneyRefused("money.unknown_station", station=station_id)
    if station.kind not in set(kinds):
        raise MoneyRefused("money.not_settled", station=station_id)


def check_settlement(
    session: Session,
    registry: Registry,
    s: SettlementIn,
    kinds: Iterable[StationKind],
    today: dt.date,
) -> None:
    check_station(registry, s.station_id, kinds)
    if s.period >= month_of(today):
        raise MoneyRefused("money.month_not_over", period=s.period)
    if s.settled_on is not None and s.settled_on > today:
        raise MoneyRefused("money.future_day", day=s.settled_on.isoformat())
    first, last = month_bounds(s.period)
    closed = closed_for(session, holders(registry, s.station_id, first, last), s.period)
    if closed:
        raise MoneyRefused("money.month_closed", True, period=s.period, villages=", ".join(closed))


def check_receipt(
    session: Session, registry: Registry, r: ReceiptIn, kinds: Iterable[StationKind], today: dt.date
) -> None:
    check_station(registry, r.station_id, kinds)
    if r.received_on > today:
        raise MoneyRefused("money.future_day", day=r.received_on.isoformat())
    if r.covers_to > month_of(r.received_on):
        raise MoneyRefused("money.covers_future", period=r.covers_to)
    period = month_of(r.received_on)
    first, last = month_bounds(period)
    closed = closed_for(session, holders(registry, r.station_id, first, last), period)
    if closed:
        raise MoneyRefused("money.month_closed", True, period=period, villages=", ".join(closed))


def check_use(session: Session, village: str, u: UseIn, today: dt.date) -> None:
    if u.used_on > today:
        raise MoneyRefused("money.future_day", day=u.used_on.isoformat())
    period = month_of(u.used_on)
    if closed_for(session, [village], period):
        raise MoneyRefused("money.month_closed", True, period=period, villages=village)


# --- writing ----------------------------------------------------------------------------


def _cells(row: tables.Base | None, fields: Iterable[str]) -> dict[str, Any] | None:
    if row is None:
        return None
    out = {}
    for f in fields:
        value = getattr(row, f)
        out[f] = value.isoformat() if isinstance(value, dt.date) else value
    return out


def save_settlement(session: Session, s: SettlementIn, by: Actor, now: dt.datetime) -> str:
    """Add or correct a statement (the caller has checked it): ``added``, ``changed`` or
    ``unchanged``."""
    fields = list(SettlementIn.model_fields)
    row = session.get(tables.Settlement, (s.station_id, s.period))
    before = _cells(row, fields)
    if before == s.model_dump(mode="json"):
        return "unchanged"
    if row is None:
        row = tables.Settlement(station_id=s.station_id, period=s.period)
        session.add(row)
    for f in fields:
        setattr(row, f, getattr(s, f))
    row.entered_at, row.entered_by = now, by.who
    audit.record(
        session,
        by,
        "settlements",
        f"{s.station_id}/{s.period}",
        "change" if before else "add",
        before,
        s.model_dump(mode="json"),
        at=now,
    )
    return "changed" if before else "added"


def save_receipt(session: Session, r: ReceiptIn, by: Actor, now: dt.datetime) -> str:
    fields = list(ReceiptIn.model_fields)
    row = session.scalar(
        select(tables.Receipt).where(
            tables.Receipt.station_id == r.station_id,
            tables.Receipt.kind == str(r.kind),
            tables.Receipt.reference == r.reference,
        )
    )
    before = _cells(row, fields)
    after = r.model_dump(mode="json")
    if before == after:
        return "unchanged"
    if row is None:
        row = tables.Receipt()
        session.add(row)
    for f in fields:
        setattr(row, f, str(r.kind) if f == "kind" else getattr(r, f))
    row.entered_at, row.entered_by = now, by.who
    key = f"{r.station_id}/{r.kind}/{r.reference}"
    audit.record(session, by, "receipts", key, "change" if before else "add", before, after, at=now)
    return "changed" if before else "added"


def enter_settlement(
    session: Session,
    registry: Registry,
    s: SettlementIn,
    kinds: Iterable[StationKind],
    by: Actor,
    now: dt.datetime,
    today: dt.date,
) -> str:
    check_settlement(session, registry, s, kinds, today)
    return save_settlement(session, s, by, now)


def enter_receipt(
    session: Session,
    registry: Registry,
    r: ReceiptIn,
    kinds: Iterable[StationKind],
    by: Actor,
    now: dt.datetime,
    today: dt.date,
) -> str:
    check_receipt(session, registry, r, kinds, today)
    return save_receipt(session, r, by, now)


def close_month(
    session: Session,
    registry: Registry,
    village: str,
    period: str,
    by: Actor,
    now: dt.datetime,
    today: dt.date,
) -> tables.VillageMonth:
    """Close a settled month of a village: its figures are kept as they are now."""
    if session.get(tables.VillageMonth, (village, period)) is not None:
        raise MoneyRefused("money.already_closed", True, period=period)
    (row,) = close_months(session, registry, [village], period, by, now, today, every=True)
    return row


def close_months(
    session: Session,
    registry: Registry,
    villages: Iterable[str],
    period: str,
    by: Actor,
    now: dt.datetime,
    today: dt.date,
    every: bool = False,
) -> list[tables.VillageMonth]:
    """Close ``period`` for those of ``villages`` whose month is settled (``every``: all of
    them, or ``MoneyRefused`` naming what is missing), reading the books once."""
    if period >= month_of(today):
        raise MoneyRefused("money.month_not_over", period=period)
    books = read_books(session, registry, today)
    closed = []
    chosen = list(villages)
    for village, found in months_of(books, chosen, period).items():
        if found.state != SETTLED:
            if every:
                raise MoneyRefused(
                    "money.not_settled_month",
                    True,
                    period=period,
                    stations=", ".join(found.missing) or "—",
                )
            continue
        row = tables.VillageMonth(
            village_id=village,
            period=period,
            closed_at=now,
            closed_by=by.who,
            figures=found.snapshot(),
        )
        session.add(row)
        audit.record(
            session, by, "village_months", f"{village}/{period}", "close", None, row.figures, at=now
        )
        closed.append(row)
    return closed


def adjust(
    session: Session, village: str, a: AdjustmentIn, by: Actor, now: dt.datetime, today: dt.date
) -> tables.Adjustment:
    """Book a correction in the current month."""
    if a.corrects is not None and a.corrects >= month_of(today):
        raise MoneyRefused("money.month_not_over", period=a.corrects)
    row = tables.Adjustment(
        village_id=village,
        period=month_of(today),
        amount_yuan=a.amount_yuan,
        reason=a.reason,
        corrects=a.corrects,
        made_at=now,
        made_by=by.who,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by,
        "adjustments",
        f"{village}/{row.id}",
        "add",
        None,
        {**a.model_dump(mode="json"), "period": row.period},
        reason=a.reason,
        at=now,
    )
    return row


def record_use(
    session: Session, village: str, u: UseIn, by: Actor, now: dt.datetime, today: dt.date
) -> tables.IncomeUse:
    check_use(session, village, u, today)
    row = tables.IncomeUse(
        village_id=village,
        **{k: (str(v) if k == "category" else v) for k, v in u.model_dump().items()},
        recorded_at=now,
        recorded_by=by.who,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        by,
        "income_uses",
        f"{village}/{row.id}",
        "add",
        None,
        u.model_dump(mode="json"),
        at=now,
    )
    return row


def remove_use(
    session: Session, village: str, use_id: int, reason: str, by: Actor, now: dt.datetime
) -> None:
    """Take back a use recorded by mistake (its month must still be open)."""
    row = session.get(tables.IncomeUse, use_id)
    if row is None or row.village_id != village:
        raise MoneyRefused("money.no_such_use", id=use_id)
    period = month_of(row.used_on)
    if closed_for(session, [village], period):
        raise MoneyRefused("money.month_closed", True, period=period, villages=village)
    before = _cells(row, list(UseIn.model_fields))
    session.delete(row)
    audit.record(
        session,
        by,
        "income_uses",
        f"{village}/{use_id}",
        "remove",
        before,
        None,
        reason=reason,
        at=now,
    )
