"""Sending the outbox: rate limits, digests, retries with backoff, the delivery log.

Each destination is served on its own thread, so a receiver that hangs or refuses holds up
only its own messages. A destination's rate limit counts the requests made to it in the
last minute (from the ``sends`` table, so it holds across restarts and processes); when
more messages wait than the limit allows, they go out as digests, several alerts a
message, and whatever does not fit waits for the next minute — nothing is dropped.
Retries are kept in the store (``next_attempt_at``) rather than slept through in memory:
a restart loses no retry, and the backoff is a one-line schedule.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts.deliveries import FAILED, PENDING, SENT
from alerts.notifiers import DeliveryError, Item, Notifier, Style
from pvmon.db import tables
from pvmon.settings import AlertSettings

log = structlog.get_logger("alerts.sending")

WINDOW = dt.timedelta(minutes=1)
SHARED_LIMIT = {"sms"}
"""Channels whose rate limit covers all destinations together (one SMS gateway)."""


@dataclass
class Request:
    channel: str
    destination: str
    deliveries: list[int]
    items: list[Item]


@dataclass
class Outcome:
    request: Request
    error: DeliveryError | None


@dataclass
class SendResult:
    requests: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting: int = 0
    """Due deliveries held back by a rate limit."""
    errors: list[str] = field(default_factory=list)


def backoff(attempt: int, cfg: AlertSettings) -> dt.timedelta:
    return dt.timedelta(seconds=min(cfg.retry_max_s, cfg.retry_base_s * 2 ** (attempt - 1)))


def pack(items: list[Item], fits: Callable[[list[Item]], bool], cap: int) -> list[list[Item]]:
    """Greedy digests: as many items a message as fit, at most ``cap`` each."""
    chunks: list[list[Item]] = []
    for item in items:
        if chunks and len(chunks[-1]) < cap and fits([*chunks[-1], item]):
            chunks[-1].append(item)
        else:
            chunks.append([item])
    return chunks


class Sender:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        cfg: AlertSettings,
        notifiers: Mapping[str, Notifier],
        item_of: Callable[[tables.Delivery, tables.Alert], Item],
        style: Callable[[dt.datetime], Style],
    ) -> None:
        self.sessions = sessions
        self.cfg = cfg
        self.notifiers = notifiers
        self.item_of = item_of
        self.style = style

    def run(self, now: dt.datetime) -> SendResult:
        result = SendResult()
        plan = self._plan(now, result)
        if not plan:
            return result
        style = self.style(now)
        workers = min(8, len(plan))
        with ThreadPoolExecutor(workers, thread_name_prefix="notify") as pool:
            runs = list(pool.map(lambda batch: self._send_all(batch, style), plan))
        self._record([o for run in runs for o in run], now, result)
        return result

    def _plan(self, now: dt.datetime, result: SendResult) -> list[list[Request]]:
        """The requests to make now, grouped by rate-limit scope (one thread each)."""
        with self.sessions() as session:
            due = session.execute(
                select(tables.Delivery, tables.Alert)
                .join(tables.Alert, tables.Delivery.alert_id == tables.Alert.id)
                .where(tables.Delivery.status == PENDING, tables.Delivery.next_attempt_at <= now)
                .order_by(tables.Delivery.id)
            ).all()
            by_dest: dict[tuple[str, str], list[tuple[int, Item]]] = defaultdict(list)
            for delivery, alert in due:
                by_dest[(delivery.channel, delivery.destination)].append(
                    (delivery.id, self.item_of(delivery, alert))
                )
            unknown = [k for k in by_dest if k[0] not in self.notifiers]
            scopes: dict[tuple[str, str], list[Request]] = defaultdict(list)
            budget: dict[tuple[str, str], int | None] = {}
            for (channel, dest), entries in sorted(by_dest.items()):
                if channel not in self.notifiers:
                    continue
                scope = (channel, "*") if channel in SHARED_LIMIT else (channel, dest)
                if scope not in budget:
                    budget[scope] = self._budget(session, channel, dest, scope, now)
                requests = self._requests(channel, dest, entries, budget[scope], now)
                if budget[scope] is not None:
                    budget[scope] = max(0, budget[scope] - len(requests))  # type: ignore[operator]
                result.waiting += len(entries) - sum(len(r.deliveries) for r in requests)
                scopes[scope] += requests
        self._fail_unconfigured(unknown, now)
        return [requests for requests in scopes.values() if requests]

    def _budget(
        self, session: Session, channel: str, dest: str, scope: tuple[str, str], now: dt.datetime
    ) -> int | None:
        limit = self.notifiers[channel].limit(dest)
        if limit is None:
            return None
        recent = select(func.count()).where(
            tables.Send.channel == channel, tables.Send.at > now - WINDOW
        )
        if scope[1] != "*":
            recent = recent.where(tables.Send.destination == dest)
        return max(0, limit - session.scalar(recent))

    def _requests(
        self,
        channel: str,
        dest: str,
        entries: list[tuple[int, Item]],
        budget: int | None,
        now: dt.datetime,
    ) -> list[Request]:
        notifier = self.notifiers[channel]
        style = self.style(now)
        items = [item for _, item in entries]
        ids = {id(item): delivery for delivery, item in entries}
        if notifier.per_recipient or (budget is not None and len(items) > budget):
            chunks = pack(items, lambda c: notifier.fits(c, style), self.cfg.digest_max_items)
        else:
            chunks = [[item] for item in items]
        if budget is not None:
            chunks = chunks[:budget]
        return [Request(channel, dest, [ids[id(i)] for i in chunk], chunk) for chunk in chunks]

    def _send_all(self, requests: list[Request], style: Style) -> list[Outcome]:
        outcomes = []
        for request in requests:
            notifier = self.notifiers[request.channel]
            try:
                notifier.send(request.destination, request.items, style)
                outcomes.append(Outcome(request, None))
            except DeliveryError as exc:
                outcomes.append(Outcome(request, exc))
        return outcomes

    def _record(self, outcomes: list[Outcome], now: dt.datetime, result: SendResult) -> None:
        with self.sessions.begin() as session:
            for o in outcomes:
                r = o.request
                send = tables.Send(
                    channel=r.channel,
                    destination=r.destination,
                    at=now,
                    items=len(r.deliveries),
                    ok=o.error is None,
                    error=str(o.error) if o.error else None,
                )
                session.add(send)
                session.flush()
                result.requests += 1
                for delivery in session.scalars(
                    select(tables.Delivery).where(tables.Delivery.id.in_(r.deliveries))
                ):
                    self._settle(delivery, send, o.error, now, result)
                if o.error:
                    result.errors.append(f"{r.channel}:{r.destination}: {o.error}")
                    log.warning(
                        "delivery_failed",
                        channel=r.channel,
                        destination=r.destination,
                        items=len(r.items),
                        retryable=o.error.retryable,
                        error=str(o.error),
                    )

    def _settle(
        self,
        delivery: tables.Delivery,
        send: tables.Send,
        error: DeliveryError | None,
        now: dt.datetime,
        result: SendResult,
    ) -> None:
        delivery.attempts += 1
        delivery.send_id = send.id
        if error is None:
            delivery.status = SENT
            delivery.sent_at = now
            delivery.last_error = None
            result.sent += 1
            return
        delivery.last_error = str(error)[:1000]
        if error.retryable and delivery.attempts < self.cfg.retry_attempts:
            delivery.next_attempt_at = now + backoff(delivery.attempts, self.cfg)
            result.retrying += 1
        else:
            delivery.status = FAILED
            result.failed += 1

    def _fail_unconfigured(self, keys: list[tuple[str, str]], now: dt.datetime) -> None:
        """Deliveries for a channel no longer configured: failed, with that reason."""
        if not keys:
            return
        with self.sessions.begin() as session:
            for channel, dest in keys:
                for delivery in session.scalars(
                    select(tables.Delivery).where(
                        tables.Delivery.status == PENDING,
                        tables.Delivery.channel == channel,
                        tables.Delivery.destination == dest,
                    )
                ):
                    delivery.status = FAILED
                    delivery.last_error = f"channel {channel} is not configured"
                    log.warning("delivery_unconfigured", channel=channel, destination=dest)
