"""Where a report goes: by e-mail with its files attached (the alerts' SMTP server), and
as a message with its link to the group robots — the bureau's monthly report to the
bureau's people (and ``reports.email_to``) and the county-wide robots, a quarter's village
statements to each township's supervisor with their villages' files."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from alerts.notifiers import DeliveryError, Robots, deliver_mail, notifiers
from pvmon.settings import Settings


@dataclass(frozen=True)
class Attachment:
    name: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class Sent:
    channel: str
    to: str
    ok: bool
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"channel": self.channel, "to": self.to, "ok": self.ok, "error": self.error}


def mail(
    settings: Settings, to: list[str], subject: str, body: str, files: list[Attachment]
) -> list[Sent]:
    """One message to each of ``to`` with the files attached."""
    smtp = settings.alerts.smtp
    if smtp is None:
        return []
    out = []
    for address in sorted(set(to)):
        message = EmailMessage()
        message["From"] = smtp.sender
        message["To"] = address
        message["Subject"] = subject
        message.set_content(body)
        for f in files:
            main, sub = f.media_type.split("/", 1)
            message.add_attachment(f.data, maintype=main, subtype=sub, filename=f.name)
        try:
            deliver_mail(smtp, message)
            out.append(Sent("email", address, True))
        except DeliveryError as exc:
            out.append(Sent("email", address, False, str(exc)[:300]))
    return out


def robots(settings: Settings, text: str) -> list[Sent]:
    """``text`` to every county-wide robot of every configured group channel."""
    if not settings.reports.robots:
        return []
    out = []
    with httpx.Client(timeout=settings.alerts.send_timeout_s) as http:
        for channel, notifier in notifiers(settings.alerts, http).items():
            if not isinstance(notifier, Robots):
                continue
            for name in notifier.county_wide():
                try:
                    notifier.post(name, text)
                    out.append(Sent(channel, name, True))
                except DeliveryError as exc:
                    out.append(Sent(channel, name, False, str(exc)[:300]))
    return out
