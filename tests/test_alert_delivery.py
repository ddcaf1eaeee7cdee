"""Delivery under pressure, against real receivers: a burst of alerts reaches a rate-limited
robot as digests within its limit with nothing lost; a receiver that is down or hangs is
retried with backoff and then logged as failed, while the other channels carry on."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from alerts import actions
from alerts.routing import Directory
from alerts.service import AlertService
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.findings import FindingKind
from tests.support.alerting import (
    MIN,
    T0,
    alerts_of,
    certified_station,
    comm_loss,
    content,
    find,
    settings_for,
)
from tests.support.receivers import HttpReceiver, Mailbox, Reply, closed_port_url

ALERT_LINK = re.compile(r"http://pv\.example/a/(\d+)")


def linked_ids(text: str) -> list[int]:
    return [int(i) for i in ALERT_LINK.findall(text)]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    yield box
    box.close()


def burst(engine: Engine, d: Directory, count: int) -> None:
    stations = sorted(d.stations)[:count]
    find(engine, T0, *(comm_loss(s, T0) for s in stations), kind=FindingKind.COMM_LOSS)


def test_a_burst_of_200_alerts_reaches_a_rate_limited_robot_as_digests_nothing_lost(
    tmp_path: Path,
    loaded_engine: Engine,
    receiver: HttpReceiver,
    directory: Directory,
) -> None:
    settings = settings_for(tmp_path, loaded_engine, receiver, sms=None)
    service = AlertService(settings, loaded_engine, None)
    burst(loaded_engine, directory, 200)
    evaluation, dispatched = service.tick(T0)
    assert evaluation.alerts_opened == 200
    requests = receiver.on("/wecom")
    assert 1 < len(requests) <= 20, "the robot takes 20 messages a minute"
    ids = [i for r in requests for i in linked_ids(content(r))]
    assert sorted(ids) == sorted(a.id for a in alerts_of(loaded_engine)), "each alert once"
    assert all(len(content(r).encode()) <= 2048 for r in requests)
    assert all(content(r).startswith("【光伏告警汇总】") for r in requests)
    assert dispatched.sent == 200
    assert dispatched.waiting == 0


def test_a_slower_robot_gets_the_rest_in_later_minutes_never_over_its_limit(
    tmp_path: Path,
    loaded_engine: Engine,
    receiver: HttpReceiver,
    directory: Directory,
) -> None:
    settings = settings_for(
        tmp_path,
        loaded_engine,
        receiver,
        sms=None,
        wecom=[{"name": "county", "url": receiver.url("/wecom"), "per_minute": 3}],
    )
    service = AlertService(settings, loaded_engine, None)
    burst(loaded_engine, directory, 200)
    service.evaluate(T0)
    minute_of = []
    for step in range(0, 40 * 60, 20):  # the dispatcher wakes every 20 s for 40 minutes
        before = len(receiver.on("/wecom"))
        service.dispatch(T0 + dt.timedelta(seconds=step))
        minute_of += [step // 60] * (len(receiver.on("/wecom")) - before)
    assert max(Counter(minute_of).values()) <= 3, "never more than 3 in any minute"
    ids = [i for r in receiver.on("/wecom") for i in linked_ids(content(r))]
    assert sorted(ids) == sorted(a.id for a in alerts_of(loaded_engine)), "nothing lost"
    with session_factory(loaded_engine)() as session:
        assert actions.deliveries(session, status="pending") == []


def test_a_receiver_that_is_down_is_retried_then_logged_failed_and_others_are_unaffected(
    tmp_path: Path,
    loaded_engine: Engine,
    receiver: HttpReceiver,
    mailbox: Mailbox,
    directory: Directory,
) -> None:
    station = certified_station(directory)
    settings = settings_for(
        tmp_path,
        loaded_engine,
        receiver,
        sms=None,
        wecom=[{"name": "county", "url": closed_port_url("/wecom")}],
        dingtalk=[{"name": "county", "url": receiver.url("/ding"), "secret": "SEC1"}],
        smtp={"host": "127.0.0.1", "port": mailbox.port},
        retry_attempts=3,
        retry_base_s=30,
    )
    service = AlertService(settings, loaded_engine, None)
    find(loaded_engine, T0, comm_loss(station, T0), kind=FindingKind.COMM_LOSS)
    service.tick(T0)
    assert len(receiver.on("/ding")) == 1, "DingTalk delivered at once"
    crew_mail = sorted(directory.people[p].email for p in directory.crews[station])
    assert sorted(m["To"] for m in mailbox.messages) == crew_mail, "e-mail delivered at once"

    def wecom() -> tables.Delivery:
        with session_factory(loaded_engine)() as session:
            (d,) = session.scalars(
                select(tables.Delivery).where(tables.Delivery.channel == "wecom")
            )
            return d

    assert (wecom().status, wecom().attempts) == ("pending", 1)
    assert wecom().next_attempt_at == T0 + dt.timedelta(seconds=30)
    service.dispatch(T0 + 20 * dt.timedelta(seconds=1))
    assert wecom().attempts == 1, "waits out its backoff"
    service.dispatch(T0 + dt.timedelta(seconds=30))
    assert (wecom().attempts, wecom().next_attempt_at) == (2, T0 + dt.timedelta(seconds=90))
    service.dispatch(T0 + dt.timedelta(seconds=90))
    failed = wecom()
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert "ConnectError" in (failed.last_error or "")
    service.dispatch(T0 + 10 * MIN)
    assert wecom().attempts == 3, "a failed delivery is not tried again"
    with session_factory(loaded_engine)() as session:
        attempts = session.scalar(
            select(func.count()).where(tables.Send.channel == "wecom", tables.Send.ok.is_(False))
        )
        logged = actions.deliveries(session, status="failed")
    assert attempts == 3
    assert [d.channel for d in logged] == ["wecom"]
    assert len(receiver.on("/ding")) == 1
    assert len(mailbox.messages) == len(crew_mail)


def test_a_receiver_that_hangs_holds_up_only_its_own_messages(
    tmp_path: Path,
    loaded_engine: Engine,
    receiver: HttpReceiver,
    directory: Directory,
) -> None:
    hanging = HttpReceiver()
    hanging.reply = Reply(delay_s=3)
    try:
        settings = settings_for(
            tmp_path,
            loaded_engine,
            receiver,
            wecom=[{"name": "county", "url": hanging.url("/wecom")}],
            send_timeout_s=1,
        )
        service = AlertService(settings, loaded_engine, None)
        station = certified_station(directory)
        find(loaded_engine, T0, comm_loss(station, T0), kind=FindingKind.COMM_LOSS)
        result = service.tick(T0)[1]
    finally:
        hanging.close()
    assert len(receiver.on("/sms")) == len(directory.crews[station]), "SMS went out"
    assert result.retrying == 1
    assert any("Timeout" in e for e in result.errors)


def test_a_permanent_refusal_fails_at_once_with_the_reason(
    tmp_path: Path,
    loaded_engine: Engine,
    receiver: HttpReceiver,
    directory: Directory,
) -> None:
    receiver.reply = Reply(body={"errcode": 93000, "errmsg": "invalid webhook url"})
    settings = settings_for(tmp_path, loaded_engine, receiver, sms=None)
    service = AlertService(settings, loaded_engine, None)
    find(loaded_engine, T0, comm_loss(certified_station(directory), T0), kind=FindingKind.COMM_LOSS)
    result = service.tick(T0)[1]
    assert (result.failed, result.retrying) == (1, 0)
    with session_factory(loaded_engine)() as session:
        (d,) = actions.deliveries(session, status="failed")
    assert d.last_error == "errcode 93000: invalid webhook url"
