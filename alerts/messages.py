"""The words of an alert: Chinese first, English when configured (pure).

Two languages and a few dozen phrases: a typed catalog in code is easier to keep right
than gettext catalogs that need a compile step, and every phrase is checked by the tests
in both languages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Language = Literal["zh", "en"]

SMS_LIMIT = 70
"""Characters in one Chinese SMS segment; longer texts are split and cost more."""

RULE_TITLES: dict[str, tuple[str, str]] = {
    "comm_loss": ("通信中断", "communication lost"),
    "device_silent": ("逆变器无数据", "inverter silent"),
    "zero_output": ("白天零发电", "zero output in daylight"),
    "fault_state": ("逆变器故障", "inverter fault"),
    "underperformance": ("发电持续偏低", "persistent underperformance"),
    "cert_missing": ("无有效电工证", "no valid electrician certificate"),
    "cert_expired": ("电工证已过期", "certificate expired"),
    "cert_review_overdue": ("电工证逾期未复审", "certificate review overdue"),
    "cert_due": ("电工证即将到期或复审", "certificate expiry or review due"),
    "station_uncovered": ("电站无持证管护员", "no certified maintainer"),
    "target_at_risk": ("年度目标有风险", "annual target at risk"),
    "village_income_at_risk": ("村集体收益低于目标", "village income below target"),
    "ingest_rejects": ("数据大多被拒收", "most messages rejected"),
    "device_silent_days": ("设备多日无数据", "device silent for days"),
}

SEVERITY_WORDS = {
    "critical": ("严重", "critical"),
    "warning": ("警告", "warning"),
    "info": ("提示", "info"),
}

PURPOSE_HEADS = {
    "new": ("【光伏告警】", "[PV alert]"),
    "repeat": ("【告警未确认·再次提醒】", "[PV alert, not acknowledged]"),
    "escalation": ("【告警升级】", "[PV alert escalated]"),
    "reopened": ("【告警复发】", "[PV alert again]"),
    "resolved": ("【告警已解除】", "[PV alert resolved]"),
}

PHRASES = {
    "ack": ("请确认处理", "acknowledge"),
    "since": ("起", "since"),
    "unacked_h": ("已{h}小时未确认", "unacknowledged for {h} h"),
    "auto": ("条件已恢复，自动解除", "condition cleared, resolved automatically"),
    "by": ("由{who}解除", "resolved by {who}"),
    "digest": ("【光伏告警汇总】共{n}条", "[PV alerts] {n} alerts"),
    "all": ("全部告警", "all alerts"),
    "inverter": ("逆变器", "inverter"),
    "fleet": ("村级电站", "village stations"),
    "sms_digest": ("【永和光伏】您有{n}条光伏告警", "[Yonghe PV] {n} PV alerts for you"),
    "sms_brand": ("【永和光伏】", "[Yonghe PV] "),
}


def _pick(pair: tuple[str, str], lang: Language) -> str:
    return pair[0] if lang == "zh" else pair[1]


def phrase(key: str, lang: Language, **values: object) -> str:
    return _pick(PHRASES[key], lang).format(**values)


def rule_title(rule: str, lang: Language) -> str:
    return _pick(RULE_TITLES.get(rule, (rule, rule)), lang)


def severity_word(severity: str, lang: Language) -> str:
    return _pick(SEVERITY_WORDS.get(severity, (severity, severity)), lang)


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


def _cert_detail(e: Mapping[str, Any], lang: Language) -> str:
    when = e.get("due_on") or e.get("review_due_on") or e.get("expires_on")
    if lang == "zh":
        return f"{e.get('name', '')} 证书{e.get('certificate') or '无'} 日期{when or '—'}"
    return f"{e.get('name', '')} certificate {e.get('certificate') or 'none'} date {when or '—'}"


DETAILS: dict[str, Callable[[Mapping[str, Any], Language], str]] = {
    "comm_loss": lambda e, lang: (
        f"{e.get('minutes_without_data')} 分钟无数据"
        if lang == "zh"
        else f"no data for {e.get('minutes_without_data')} min"
    ),
    "zero_output": lambda e, lang: (
        f"出力{_pct(e['output_share'])}，同乡镇电站{_pct(e['peer_median_share'])}"
        if lang == "zh"
        else f"output {_pct(e['output_share'])}, peers {_pct(e['peer_median_share'])}"
    ),
    "fault_state": lambda e, lang: (
        f"故障逆变器 {', '.join(e.get('devices', []))} 事件码 {e.get('event_codes', [])}"
        if lang == "zh"
        else f"inverters {', '.join(e.get('devices', []))} event codes {e.get('event_codes', [])}"
    ),
    "underperformance": lambda e, lang: (
        f"对标指数{e['recent_peer_index']}（平时{e['usual_peer_index']}），下降{_pct(e['drop'])}"
        if lang == "zh"
        else f"peer index {e['recent_peer_index']} (usually {e['usual_peer_index']}), "
        f"down {_pct(e['drop'])}"
    ),
    "target_at_risk": lambda e, lang: (
        f"预计全年{e['forecast_kwh'] / 1e4:.0f}万千瓦时/{e['forecast_yuan'] / 1e4:.0f}万元，"
        f"目标{(e.get('target_kwh') or 0) / 1e4:.0f}万千瓦时/{e['target_yuan'] / 1e4:.0f}万元"
        if lang == "zh"
        else f"forecast {e['forecast_kwh'] / 1e6:.2f} GWh / {e['forecast_yuan'] / 1e6:.2f} M yuan, "
        f"target {(e.get('target_kwh') or 0) / 1e6:.2f} GWh / {e['target_yuan'] / 1e6:.2f} M yuan"
    ),
    "village_income_at_risk": lambda e, lang: (
        f"预计全年{e['forecast_yuan'] / 1e4:.1f}万元，目标{e['target_yuan'] / 1e4:.0f}万元"
        if lang == "zh"
        else f"forecast {e['forecast_yuan']:,.0f} yuan, target {e['target_yuan']:,.0f} yuan"
    ),
    "ingest_rejects": lambda e, lang: (
        f"一天内{e['rejected']}条被拒收，{e['stored']}条入库"
        if lang == "zh"
        else f"{e['rejected']} rejected, {e['stored']} stored in a day"
    ),
    "device_silent_days": lambda e, lang: (
        f"已{e['silent_days']}天无数据" if lang == "zh" else f"silent for {e['silent_days']} days"
    ),
    **dict.fromkeys(
        ("cert_missing", "cert_expired", "cert_review_overdue", "cert_due"), _cert_detail
    ),
}


def detail(rule: str, evidence: Mapping[str, Any], lang: Language) -> str:
    """The figures that matter, in a few words; nothing when the evidence lacks them."""
    describe = DETAILS.get(rule)
    if describe is None:
        return ""
    try:
        return describe(evidence, lang)
    except (KeyError, TypeError, ValueError):
        return ""


def headline(a: AlertText, lang: Language, tz: dt.tzinfo) -> str:
    """``[严重] 芝河镇 上村1号电站：通信中断（11-28 14:05起）``"""
    since = a.since.astimezone(tz).strftime("%m-%d %H:%M")
    sev = severity_word(a.severity, lang)
    if lang == "zh":
        return f"[{sev}] {a.place}：{rule_title(a.rule, lang)}（{since}起）"
    return f"[{sev}] {a.place}: {rule_title(a.rule, lang)} (since {since})"


def message(a: AlertText, purpose: str, lang: Language, tz: dt.tzinfo, now: dt.datetime) -> str:
    """The text for a group robot, an e-mail body or a webhook."""
    lines = [_pick(PURPOSE_HEADS[purpose], lang), headline(a, lang, tz)]
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
        lines.append(f"{phrase('ack', lang)}：{a.link}" if lang == "zh" else f"ack: {a.link}")
    return "\n".join(lines)


def subject_line(a: AlertText, purpose: str, lang: Language) -> str:
    return f"{_pick(PURPOSE_HEADS[purpose], lang)}{a.place} {rule_title(a.rule, lang)}"


def sms(a: AlertText, purpose: str, lang: Language) -> str:
    """One SMS segment: brand, what, where (cut to fit), and the link."""
    head = phrase("sms_brand", lang)
    what = rule_title(a.rule, lang)
    if purpose == "resolved":
        what += "已解除" if lang == "zh" else " resolved"
    tail = f" {a.link}"
    room = SMS_LIMIT - len(head) - len(what) - len(tail) - 1
    place = a.place if len(a.place) <= room else a.place[: max(0, room - 1)] + "…"
    return f"{head}{place} {what}{tail}"


def digest(items: list[tuple[AlertText, str]], lang: Language, tz: dt.tzinfo, overview: str) -> str:
    """Many alerts in one message, one line each (a robot's rate limit was reached)."""
    lines = [phrase("digest", lang, n=len(items))]
    for i, (a, purpose) in enumerate(items, 1):
        mark = "" if purpose in ("new", "reopened") else _pick(PURPOSE_HEADS[purpose], lang)
        lines.append(f"{i}. {mark}{headline(a, lang, tz)} {a.link}")
    lines.append(f"{phrase('all', lang)}：{overview}" if lang == "zh" else f"all: {overview}")
    return "\n".join(lines)


def sms_digest(count: int, lang: Language, overview: str) -> str:
    return f"{phrase('sms_digest', lang, n=count)} {overview}"
