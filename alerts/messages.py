"""The words of an alert: Chinese first, English when configured (pure). The words
themselves are in the one catalog, ``pvmon/i18n.py``; this module puts them together."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pvmon.i18n import Lang, text

SMS_LIMIT = 70
"""Characters in one Chinese SMS segment; longer texts are split and cost more."""


def phrase(key: str, lang: Lang, **values: object) -> str:
    return text(f"msg.{key}", lang, **values)


def rule_title(rule: str, lang: Lang) -> str:
    return text(f"rule.{rule}", lang)


def severity_word(severity: str, lang: Lang) -> str:
    return text(f"severity.{severity}", lang)


def head(purpose: str, lang: Lang) -> str:
    return text(f"head.{purpose}", lang)


@dataclass(frozen=True)
class AlertText:
    """An alert as the messages describe it."""

    id: int
    rule: str
    severity: str
    place: str
    """Township and station (or person, village) in words."""
    since: dt.datetime
    evidence: Mapping[str, Any]
    link: str
    opened_at: dt.datetime
    resolved_by: str | None = None


def _pct(value: object) -> str:
    return f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]


def _certificate_date(rule: str) -> Callable[[Mapping[str, Any], Lang], dict[str, object]]:
    """Each certificate rule names the date it is about: an expired certificate its expiry,
    an overdue review the review's date, a coming one whichever falls due."""

    def values(e: Mapping[str, Any], lang: Lang) -> dict[str, object]:
        if rule == "cert_expired":
            which, when = "expired_on", e.get("expires_on")
        elif rule == "cert_review_overdue":
            which, when = "review_was_due", e.get("review_due_on")
        elif rule == "cert_due":
            which = "review_due" if e.get("due") == "review" else "expires"
            when = e.get("due_on")
        else:
            which, when = "no_date", None
        return {
            "name": e.get("name", ""),
            "certificate": e.get("certificate") or text("detail.no_certificate", lang),
            "which": text(f"detail.cert_{which}", lang, date=when or "—"),
        }

    return values


def _target(e: Mapping[str, Any], _lang: Lang) -> dict[str, object]:
    target_kwh = e.get("target_kwh") or 0
    return {
        "forecast_wan_kwh": e["forecast_kwh"] / 1e4,
        "forecast_wan_yuan": e["forecast_yuan"] / 1e4,
        "target_wan_kwh": target_kwh / 1e4,
        "target_wan_yuan": e["target_yuan"] / 1e4,
        "forecast_gwh": e["forecast_kwh"] / 1e6,
        "forecast_m_yuan": e["forecast_yuan"] / 1e6,
        "target_gwh": target_kwh / 1e6,
        "target_m_yuan": e["target_yuan"] / 1e6,
    }


DETAILS: dict[str, tuple[str, Callable[[Mapping[str, Any], Lang], dict[str, object]]]] = {
    "comm_loss": ("comm_loss", lambda e, _: {"minutes": e.get("minutes_without_data")}),
    "zero_output": (
        "zero_output",
        lambda e, _: {"output": _pct(e["output_share"]), "peers": _pct(e["peer_median_share"])},
    ),
    "fault_state": (
        "fault_state",
        lambda e, _: {
            "devices": ", ".join(e.get("devices", [])),
            "codes": e.get("event_codes", []),
        },
    ),
    "underperformance": (
        "underperformance",
        lambda e, _: {
            "recent": e["recent_peer_index"],
            "usual": e["usual_peer_index"],
            "drop": _pct(e["drop"]),
        },
    ),
    "profile_loss": (
        "profile_loss",
        lambda e, _: {
            "hours": e["hours"],
            "drop": _pct(1 - min(r["shape"] for r in e["runs"])),
            "kwh": e["lost_kwh_per_clear_day"],
            "share": _pct(e["share"]),
        },
    ),
    "bad_data": ("bad_data", lambda e, _: {**e, "share": _pct(e["share"])}),
    "degradation": (
        "degradation",
        lambda e, _: {
            "rate": -e["rate_pct"],
            "low": -e["high_pct"],
            "high": -e["low_pct"],
            "limit": e["limit_pct"],
        },
    ),
    "clock_shift": (
        "clock_shift",
        lambda e, _: {
            "shift": f"{e['recent_min']:+.0f}",
            "usual": f"{e['usual_min']:+.0f}",
            "days": e["recent_days"],
        },
    ),
    "soiling": (
        "soiling",
        lambda e, _: {
            "days": e["window_days"],
            "kwh": round(e["lost_kwh"]),
            "lost": round(e["lost_yuan"]),
            "cost": round(e["cleaning_yuan"]),
            "now": e["loss_now_pct"],
        },
    ),
    "target_at_risk": ("target_at_risk", _target),
    "village_income_at_risk": (
        "village_income_at_risk",
        lambda e, _: {
            "forecast_yuan": e["forecast_yuan"],
            "target_yuan": e["target_yuan"],
            "forecast_wan_yuan": e["forecast_yuan"] / 1e4,
            "target_wan_yuan": e["target_yuan"] / 1e4,
        },
    ),
    "ingest_rejects": (
        "ingest_rejects",
        lambda e, _: {"rejected": e["rejected"], "stored": e["stored"]},
    ),
    "device_silent_days": ("device_silent_days", lambda e, _: {"days": e["silent_days"]}),
    "order_late": (
        "order_late",
        lambda e, _: {"orders": ", ".join(f"#{o}" for o in e["orders"]), "count": len(e["orders"])},
    ),
    "settlement_deviation": (
        "settlement_deviation",
        lambda e, _: {
            "periods": ", ".join(m["period"] for m in e["months"]),
            "worst": _pct(e["worst"]),
        },
    ),
    "settlement_missing": (
        "settlement_missing",
        lambda e, _: {"months": ", ".join(e["months"]), "count": e["count"]},
    ),
    **{
        rule: ("certificate", _certificate_date(rule))
        for rule in ("cert_missing", "cert_expired", "cert_review_overdue", "cert_due")
    },
}
"""rule → (its detail phrase, the phrase's values from the alert's evidence)."""


def detail(rule: str, evidence: Mapping[str, Any], lang: Lang) -> str:
    """The figures that matter, in a few words; nothing when the evidence lacks them."""
    found = DETAILS.get(rule)
    if found is None:
        return ""
    key, values = found
    try:
        return text(f"detail.{key}", lang, **values(evidence, lang))
    except (KeyError, TypeError, ValueError):
        return ""


def headline(a: AlertText, lang: Lang, tz: dt.tzinfo) -> str:
    """``[严重] 芝河镇 上村1号电站：通信中断（11-28 14:05起）``"""
    return phrase(
        "headline",
        lang,
        severity=severity_word(a.severity, lang),
        place=a.place,
        rule=rule_title(a.rule, lang),
        since=a.since.astimezone(tz).strftime("%m-%d %H:%M"),
    )


def message(a: AlertText, purpose: str, lang: Lang, tz: dt.tzinfo, now: dt.datetime) -> str:
    """The text for a group robot, an e-mail body or a webhook."""
    lines = [head(purpose, lang), headline(a, lang, tz)]
    figures = detail(a.rule, a.evidence, lang)
    if figures:
        lines.append(figures)
    if purpose in ("repeat", "escalation"):
        hours = max(1, round((now - a.opened_at).total_seconds() / 3600))
        lines.append(phrase("unacked_h", lang, h=hours))
    if purpose == "resolved":
        who = a.resolved_by
        lines.append(
            phrase("auto", lang) if who in (None, "system") else phrase("by", lang, who=who)
        )
    else:
        lines.append(phrase("ack_link", lang, link=a.link))
    return "\n".join(lines)


def subject_line(a: AlertText, purpose: str, lang: Lang) -> str:
    return f"{head(purpose, lang)}{a.place} {rule_title(a.rule, lang)}"


def sms(a: AlertText, purpose: str, lang: Lang) -> str:
    """One SMS segment: brand, what, where (cut to fit), and the link."""
    brand = phrase("sms_brand", lang)
    what = rule_title(a.rule, lang)
    if purpose == "resolved":
        what = phrase("sms_resolved", lang, rule=what)
    tail = f" {a.link}"
    room = SMS_LIMIT - len(brand) - len(what) - len(tail) - 1
    place = a.place if len(a.place) <= room else a.place[: max(0, room - 1)] + "…"
    return f"{brand}{place} {what}{tail}"


def digest(items: list[tuple[AlertText, str]], lang: Lang, tz: dt.tzinfo, overview: str) -> str:
    """Many alerts in one message, one line each (a robot's rate limit was reached)."""
    lines = [phrase("digest", lang, n=len(items))]
    for i, (a, purpose) in enumerate(items, 1):
        mark = "" if purpose in ("new", "reopened") else head(purpose, lang)
        lines.append(f"{i}. {mark}{headline(a, lang, tz)} {a.link}")
    lines.append(phrase("all_link", lang, link=overview))
    return "\n".join(lines)


def sms_digest(count: int, lang: Lang, overview: str) -> str:
    return f"{phrase('sms_digest', lang, n=count)} {overview}"


@dataclass(frozen=True)
class HistoryLine:
    what: str
    who: str
    how: str
    note: str


HISTORY_ACTIONS = (
    "opened",
    "notified",
    "acknowledged",
    "resolved",
    "escalated",
    "reopened",
    "flapping",
    "condition_returned",
    "condition_cleared",
    "severity_changed",
)


def history_line(
    action: str,
    actor: str,
    channel: str | None,
    detail: Mapping[str, Any] | None,
    lang: Lang,
    names: Mapping[str, str],
) -> HistoryLine:
    """One step of an alert's history in words: what happened, who did it (a person's
    name, the system, or a signed-in user) and how (web page, API, command line)."""
    what = text(f"event.{action}", lang) if action in HISTORY_ACTIONS else action
    how = text(f"channel.{channel}", lang) if channel in ("web", "api", "cli") else ""
    note = str((detail or {}).get("note") or "")
    return HistoryLine(what, actor_name(actor, lang, names), how, note)


def actor_name(actor: str, lang: Lang, names: Mapping[str, str]) -> str:
    """Who acted, in words: a person's name, the system, or a signed-in user."""
    if actor == "system":
        return text("actor.system", lang)
    if actor.startswith("user:"):
        return text("actor.user", lang, user=actor.removeprefix("user:"))
    return names.get(actor, actor)
