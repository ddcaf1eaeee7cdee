"""The channels: WeCom and DingTalk group robots, SMTP e-mail, an SMS gateway, and a
generic JSON webhook. Each turns a batch of notifications into one request, and says
whether a failure is worth retrying."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import smtplib
import time
import urllib.parse
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, ClassVar

import httpx
import orjson

from alerts import messages
from alerts.messages import AlertText
from pvmon.i18n import Lang
from pvmon.settings import AlertSettings, RobotSettings, SmsSettings, SmtpSettings, WebhookSettings


class DeliveryError(Exception):
    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


@dataclass(frozen=True)
class Item:
    """One notification: an alert, why it is sent, and who to mention in a group."""

    alert: AlertText
    purpose: str
    mentions: tuple[str, ...]
    record: dict[str, Any]
    """The alert as JSON, for webhooks."""


@dataclass(frozen=True)
class Style:
    lang: Lang
    tz: dt.tzinfo
    overview: str
    """Link to the list of alerts, for digests."""
    now: dt.datetime


class Notifier(ABC):
    channel: str
    per_recipient = False
    """One person per destination (e-mail, SMS): pending items always go as one digest."""

    @abstractmethod
    def fits(self, items: list[Item], style: Style) -> bool:
        """Whether these items fit in one request."""

    @abstractmethod
    def send(self, destination: str, items: list[Item], style: Style) -> None:
        """Deliver the items in one request, or raise DeliveryError."""

    def limit(self, destination: str) -> int | None:
        """Requests a minute the destination accepts (None: no limit)."""
        return None


def robot_text(items: list[Item], style: Style) -> str:
    if len(items) == 1:
        item = items[0]
        return messages.message(item.alert, item.purpose, style.lang, style.tz, style.now)
    return messages.digest(
        [(i.alert, i.purpose) for i in items], style.lang, style.tz, style.overview
    )


def clip(text: str, max_bytes: int) -> str:
    """Text cut to ``max_bytes`` of UTF-8, keeping its last line (the link) whole."""
    if len(text.encode()) <= max_bytes:
        return text
    body, _, last = text.rpartition("\n")
    room = max_bytes - len(last.encode()) - len("…\n".encode())
    cut = body.encode()[: max(0, room)].decode(errors="ignore")
    return f"{cut}…\n{last}"


def _mentions(items: list[Item]) -> list[str]:
    return sorted({m for i in items for m in i.mentions})


def _post(http: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = http.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise DeliveryError(f"HTTP {response.status_code}", retryable=True)
    if response.status_code >= 400:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}", retryable=False)
    return response


def _robot_answer(response: httpx.Response, busy_codes: frozenset[int]) -> None:
    """Robots answer 200 with an ``errcode``; 0 is success."""
    try:
        answer = response.json()
    except ValueError:
        raise DeliveryError(f"not JSON: {response.text[:200]}", retryable=True) from None
    code = answer.get("errcode", 0)
    if code:
        raise DeliveryError(
            f"errcode {code}: {answer.get('errmsg', '')}", retryable=code in busy_codes
        )


class Robots(Notifier):
    max_bytes: int
    busy_codes: ClassVar[frozenset[int]]

    def __init__(self, http: httpx.Client, robots: list[RobotSettings]) -> None:
        self.http = http
        self.robots = {r.name: r for r in robots}

    def fits(self, items: list[Item], style: Style) -> bool:
        return len(robot_text(items, style).encode()) <= self.max_bytes

    def limit(self, destination: str) -> int | None:
        return self.robots[destination].per_minute

    def send(self, destination: str, items: list[Item], style: Style) -> None:
        self.post(destination, robot_text(items, style), _mentions(items))

    def post(self, destination: str, text: str, mentions: list[str] | None = None) -> None:
        """One text message to the robot named ``destination`` (an alert's, or a report's
        link), cut to what the robot takes."""
        robot = self.robots.get(destination)
        if robot is None:
            raise DeliveryError(f"no {self.channel} robot named {destination!r}", retryable=False)
        url, body = self.request(robot, clip(text, self.max_bytes), mentions or [])
        _robot_answer(_post(self.http, url, json=body), self.busy_codes)

    def county_wide(self) -> list[str]:
        """The robots of groups not limited to some townships."""
        return [name for name, robot in self.robots.items() if not robot.townships]

    @abstractmethod
    def request(
        self, robot: RobotSettings, text: str, mentions: list[str]
    ) -> tuple[str, dict[str, Any]]: ...


class WeComRobot(Robots):
    """企业微信群机器人: text messages of up to 2,048 bytes, mentions by user id."""

    channel = "wecom"
    max_bytes = 2048
    busy_codes = frozenset({45009, -1})  # frequency limit; system busy

    def request(
        self, robot: RobotSettings, text: str, mentions: list[str]
    ) -> tuple[str, dict[str, Any]]:
        return robot.url, {
            "msgtype": "text",
            "text": {"content": text, "mentioned_list": mentions},
        }


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: HMAC-SHA256 over ``timestamp + "\\n" + secret`` keyed with the
    secret, base64, then URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


class DingTalkRobot(Robots):
    """钉钉自定义机器人: signed webhook, text messages, mentions by user id."""

    channel = "dingtalk"
    max_bytes = 4000
    busy_codes = frozenset({130101, -1})  # sending too fast; system busy

    def request(
        self, robot: RobotSettings, text: str, mentions: list[str]
    ) -> tuple[str, dict[str, Any]]:
        url = robot.url
        if robot.secret:
            stamp = int(time.time() * 1000)
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}timestamp={stamp}&sign={dingtalk_sign(robot.secret, stamp)}"
        return url, {
            "msgtype": "text",
            "text": {"content": text},
            "at": {"atUserIds": mentions, "isAtAll": False},
        }


class Mailer(Notifier):
    channel = "email"
    per_recipient = True

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def fits(self, items: list[Item], style: Style) -> bool:
        return True

    def send(self, destination: str, items: list[Item], style: Style) -> None:
        mail = EmailMessage()
        mail["From"] = self.smtp.sender
        mail["To"] = destination
        if len(items) == 1:
            mail["Subject"] = messages.subject_line(items[0].alert, items[0].purpose, style.lang)
        else:
            mail["Subject"] = messages.phrase("digest", style.lang, n=len(items))
        mail.set_content(robot_text(items, style))
        deliver_mail(self.smtp, mail)


def deliver_mail(smtp: SmtpSettings, mail: EmailMessage) -> None:
    """Hand ``mail`` to the SMTP server (an alert's, or a report with its files); a failure
    is a ``DeliveryError`` that says whether trying again may help."""
    try:
        kind = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
        with kind(smtp.host, smtp.port, timeout=smtp.timeout_s) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(mail)
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=exc.smtp_code < 500
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"recipient refused: {exc.recipients}", retryable=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc


class SmsGateway(Notifier):
    """An HTTP SMS gateway: one segment per message, digests of many alerts as a count and
    a link."""

    channel = "sms"
    per_recipient = True

    def __init__(self, http: httpx.Client, sms: SmsSettings) -> None:
        self.http = http
        self.sms = sms

    def fits(self, items: list[Item], style: Style) -> bool:
        return True

    def limit(self, destination: str) -> int | None:
        return self.sms.per_minute

    def text(self, items: list[Item], style: Style) -> str:
        if len(items) == 1:
            return messages.sms(items[0].alert, items[0].purpose, style.lang)
        return messages.sms_digest(len(items), style.lang, style.overview)

    def send(self, destination: str, items: list[Item], style: Style) -> None:
        text = self.text(items, style)
        body = {
            k: v.replace("{mobile}", destination).replace("{text}", text)
            for k, v in self.sms.fields.items()
        }
        kwargs: dict[str, Any] = {"json": body} if self.sms.format == "json" else {"data": body}
        _post(self.http, self.sms.url, headers=self.sms.headers, **kwargs)


class Webhook(Notifier):
    """A generic JSON webhook: ``{"notifications": [...]}``, optionally HMAC-signed."""

    channel = "webhook"

    def __init__(self, http: httpx.Client, hooks: list[WebhookSettings]) -> None:
        self.http = http
        self.hooks = {h.name: h for h in hooks}

    def fits(self, items: list[Item], style: Style) -> bool:
        return len(items) <= 500

    def limit(self, destination: str) -> int | None:
        return self.hooks[destination].per_minute

    def send(self, destination: str, items: list[Item], style: Style) -> None:
        hook = self.hooks.get(destination)
        if hook is None:
            raise DeliveryError(f"no webhook named {destination!r}", retryable=False)
        body = orjson.dumps({"notifications": [_notification(i, style) for i in items]})
        headers = {"Content-Type": "application/json"}
        if hook.secret:
            mac = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Pvmon-Signature"] = f"sha256={mac}"
        _post(self.http, hook.url, content=body, headers=headers)


def _notification(i: Item, style: Style) -> dict[str, Any]:
    text = messages.message(i.alert, i.purpose, style.lang, style.tz, style.now)
    return {"purpose": i.purpose, "text": text, "alert": i.record}


def notifiers(cfg: AlertSettings, http: httpx.Client) -> dict[str, Notifier]:
    """The configured channels."""
    found: dict[str, Notifier] = {}
    if cfg.wecom:
        found["wecom"] = WeComRobot(http, cfg.wecom)
    if cfg.dingtalk:
        found["dingtalk"] = DingTalkRobot(http, cfg.dingtalk)
    if cfg.smtp:
        found["email"] = Mailer(cfg.smtp)
    if cfg.sms:
        found["sms"] = SmsGateway(http, cfg.sms)
    if cfg.webhooks:
        found["webhook"] = Webhook(http, cfg.webhooks)
    return found
