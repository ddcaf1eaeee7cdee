"""Each channel against a real local receiver: WeCom and DingTalk robots, a webhook and an
SMS gateway on a real HTTP server, e-mail on a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from alerts.deliveries import quiet_until
from alerts.messages import SMS_LIMIT, AlertText
from alerts.notifiers import (
    DeliveryError,
    DingTalkRobot,
    Item,
    Mailer,
    SmsGateway,
    Style,
    Webhook,
    WeComRobot,
)
from pvmon.settings import RobotSettings, SmsSettings, SmtpSettings, WebhookSettings
from tests.support.receivers import HttpReceiver, Mailbox, Reply, closed_port_url

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 28, 6, 30, tzinfo=dt.UTC)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2) as client:
        yield client


def item(alert_id: int = 7, purpose: str = "new", place: str = "芝河镇 上村1号村级电站") -> Item:
    text = AlertText(
        id=alert_id,
        rule="comm_loss",
        severity="critical",
        place=place,
        since=NOW - dt.timedelta(minutes=30),
        evidence={"minutes_without_data": 30, "logger_online": False},
        link=f"http://pv.example/a/{alert_id}",
        opened_at=NOW,
    )
    return Item(text, purpose, ("yh-m001",), {"id": alert_id, "rule": "comm_loss"})


def style(lang: str = "zh") -> Style:
    return Style(lang, TZ, "http://pv.example/alerts", NOW)  # type: ignore[arg-type]


def test_wecom_robot_gets_a_chinese_text_mentioning_the_maintainer(
    receiver: HttpReceiver, http: httpx.Client
) -> None:
    robot = WeComRobot(http, [RobotSettings(name="zhihe", url=receiver.url("/wecom?key=k1"))])
    robot.send("zhihe", [item()], style())
    (sent,) = receiver.requests
    assert sent.query == {"key": "k1"}
    body = sent.json()
    assert body["msgtype"] == "text"
    assert body["text"]["mentioned_list"] == ["yh-m001"]
    content = body["text"]["content"]
    assert content.startswith("【光伏告警】")
    assert "芝河镇 上村1号村级电站：通信中断" in content
    assert "30 分钟无数据" in content
    assert "http://pv.example/a/7" in content


def test_dingtalk_robot_request_carries_a_valid_signature(
    receiver: HttpReceiver, http: httpx.Client
) -> None:
    secret = "SECabc123"
    robot = DingTalkRobot(
        http,
        [
            RobotSettings(
                name="county", url=receiver.url("/robot/send?access_token=t"), secret=secret
            )
        ],
    )
    robot.send("county", [item()], style("en"))
    (sent,) = receiver.requests
    stamp = sent.query["timestamp"]
    assert abs(int(stamp) - time.time() * 1000) < 3_600_000, "valid for an hour"
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sent.query["sign"] == expected  # parse_qsl undid the URL encoding
    assert sent.query["access_token"] == "t"
    body = sent.json()
    assert body["at"] == {"atUserIds": ["yh-m001"], "isAtAll": False}
    assert "communication lost" in body["text"]["content"]


def test_a_robot_error_code_is_a_failure_and_only_rate_limits_are_retried(
    receiver: HttpReceiver, http: httpx.Client
) -> None:
    robot = WeComRobot(http, [RobotSettings(name="g", url=receiver.url("/wecom"))])
    receiver.reply = Reply(body={"errcode": 45009, "errmsg": "api freq out of limit"})
    with pytest.raises(DeliveryError) as busy:
        robot.send("g", [item()], style())
    assert busy.value.retryable
    receiver.reply = Reply(body={"errcode": 93000, "errmsg": "invalid webhook url"})
    with pytest.raises(DeliveryError) as wrong:
        robot.send("g", [item()], style())
    assert not wrong.value.retryable
    assert "93000" in str(wrong.value)


def test_webhook_posts_the_alert_as_json_signed_with_its_secret(
    receiver: HttpReceiver, http: httpx.Client
) -> None:
    hook = Webhook(http, [WebhookSettings(name="ops", url=receiver.url("/hook"), secret="s3")])
    hook.send("ops", [item(1), item(2, "resolved")], style())
    (sent,) = receiver.requests
    mac = hmac.new(b"s3", sent.body, hashlib.sha256).hexdigest()
    assert sent.headers["X-Pvmon-Signature"] == f"sha256={mac}"
    notes = sent.json()["notifications"]
    assert [n["alert"]["id"] for n in notes] == [1, 2]
    assert [n["purpose"] for n in notes] == ["new", "resolved"]
    assert notes[1]["text"].startswith("【告警已解除】")


@pytest.mark.parametrize("form", ["json", "form"])
def test_sms_gateway_gets_one_short_segment_with_the_link(
    receiver: HttpReceiver, http: httpx.Client, form: str
) -> None:
    gateway = SmsGateway(
        http,
        SmsSettings(
            url=receiver.url("/sms"),
            format=form,  # type: ignore[arg-type]
            fields={"PhoneNumbers": "{mobile}", "Content": "{text}", "Sign": "永和光伏"},
            headers={"X-Api-Key": "k"},
        ),
    )
    long_place = "乾坤湾乡 " + "很长的村名" * 10 + "1号村级光伏电站"
    gateway.send("13800000001", [item(place=long_place)], style())
    (sent,) = receiver.requests
    body = sent.json() if form == "json" else sent.form()
    assert body["PhoneNumbers"] == "13800000001"
    assert sent.headers["X-Api-Key"] == "k"
    text = body["Content"]
    assert len(text) <= SMS_LIMIT
    assert text.endswith("http://pv.example/a/7")
    assert "通信中断" in text


def test_sms_of_many_alerts_is_one_count_and_a_link(
    receiver: HttpReceiver, http: httpx.Client
) -> None:
    gateway = SmsGateway(http, SmsSettings(url=receiver.url("/sms")))
    gateway.send("13800000001", [item(i) for i in range(5)], style())
    text = receiver.requests[0].json()["text"]
    assert "5条" in text
    assert "http://pv.example/alerts" in text
    assert len(text) <= SMS_LIMIT


def test_email_arrives_at_a_real_smtp_server() -> None:
    box = Mailbox()
    try:
        mailer = Mailer(
            SmtpSettings(host="127.0.0.1", port=box.port, sender="pvmon@yonghe.example")
        )
        mailer.send("m001@pv.yonghe.example", [item()], style())
        mailer.send("m001@pv.yonghe.example", [item(1), item(2)], style())
    finally:
        box.close()
    single, digest = box.messages
    assert single["To"] == "m001@pv.yonghe.example"
    assert single["Subject"] == "【光伏告警】芝河镇 上村1号村级电站 通信中断"
    assert "http://pv.example/a/7" in single.get_content()
    assert "共2条" in digest["Subject"]
    assert "http://pv.example/a/1" in digest.get_content()
    assert "http://pv.example/a/2" in digest.get_content()


def test_a_receiver_that_is_down_is_a_retryable_failure(http: httpx.Client) -> None:
    robot = WeComRobot(http, [RobotSettings(name="g", url=closed_port_url("/wecom"))])
    with pytest.raises(DeliveryError) as down:
        robot.send("g", [item()], style())
    assert down.value.retryable
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=int(closed_port_url().split(":")[2][:-1])))
    with pytest.raises(DeliveryError) as smtp_down:
        mailer.send("x@example.org", [item()], style())
    assert smtp_down.value.retryable


def test_a_message_too_long_for_a_robot_is_cut_keeping_its_link(
    receiver: HttpReceiver, http: httpx.Client
) -> None:
    robot = WeComRobot(http, [RobotSettings(name="g", url=receiver.url("/wecom"))])
    many = item()
    evidence = {"devices": [f"SN{n:08d}" for n in range(400)], "event_codes": [1, 2]}
    long = Item(
        AlertText(**{**many.alert.__dict__, "rule": "fault_state", "evidence": evidence}),
        "new",
        many.mentions,
        many.record,
    )
    robot.send("g", [long], style())
    text = receiver.requests[0].json()["text"]["content"]
    assert len(text.encode()) <= 2048
    assert text.endswith("请确认处理：http://pv.example/a/7")
    assert "…" in text


@pytest.mark.parametrize(
    ("local", "until"),
    [
        (dt.datetime(2026, 11, 28, 23, 0), dt.datetime(2026, 11, 29, 7, 0)),
        (dt.datetime(2026, 11, 29, 3, 0), dt.datetime(2026, 11, 29, 7, 0)),
        (dt.datetime(2026, 11, 29, 7, 0), None),
        (dt.datetime(2026, 11, 29, 21, 59), None),
    ],
)
def test_quiet_hours_span_midnight(local: dt.datetime, until: dt.datetime | None) -> None:
    window = (dt.time(22), dt.time(7))
    expected = until.replace(tzinfo=TZ) if until else None
    assert quiet_until(local.replace(tzinfo=TZ), window) == expected


def test_quiet_hours_within_one_day() -> None:
    window = (dt.time(12), dt.time(14))
    assert quiet_until(dt.datetime(2026, 11, 29, 13, tzinfo=TZ), window) == dt.datetime(
        2026, 11, 29, 14, tzinfo=TZ
    )
    assert quiet_until(dt.datetime(2026, 11, 29, 15, tzinfo=TZ), window) is None
    assert quiet_until(dt.datetime(2026, 11, 29, 15, tzinfo=TZ), None) is None
