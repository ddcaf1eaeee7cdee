"""Every word a person reads, Chinese first: pages, exports, reports and alert messages
share this one catalog (DESIGN: zh-CN first, English available).

Keys are namespaced where one word could mean two things: page words plain (``since``:
开始时间, a column), ``msg.`` the phrases of alert messages (``msg.since``: 起), ``rule.``
alert rules, ``severity.`` severities, ``head.`` a message's purpose. A key missing here is
an error, never the key shown instead (``tests/test_i18n.py`` renders every key in both
languages). Two languages and a few hundred phrases: a typed catalog in code is easier to
keep right than gettext catalogs that need a compile step.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


class MissingText(KeyError):
    """A key the catalog does not have: a bug to fix in the catalog, not a word to guess."""


CATALOG: dict[str, tuple[str, str]] = {
    # --- pages and exports ---------------------------------------------------------------
    "title": ("永和县光伏扶贫电站运行监测", "Yonghe PV operations monitor"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_failed": ("用户名或密码错误", "Wrong username or password"),
    "login_too_many": (
        "登录失败次数过多，请15分钟后再试",
        "Too many failed sign-ins; try again in 15 minutes",
    ),
    "overview": ("全县总览", "County overview"),
    "township_overview": ("乡镇总览", "Township overview"),
    "today": ("今日", "Today"),
    "yesterday": ("昨日", "Yesterday"),
    "live_estimate": ("实时估算（今晚日结后为准）", "Live estimate (tonight's rollup replaces it)"),
    "no_data": ("暂无数据", "No data yet"),
    "filling_in": (
        "今年的历史数据正在补算：已完成 {computed} / {elapsed} 天，数字和图表随之更新",
        "The year so far is still being filled in: {computed} of {elapsed} days done; "
        "figures and charts follow",
    ),
    "month": ("本月", "This month"),
    "year": ("本年", "This year"),
    "generation": ("发电量", "Generation"),
    "revenue": ("收益", "Revenue"),
    "kwh": ("千瓦时", "kWh"),
    "wan_kwh": ("万千瓦时", "10⁴ kWh"),
    "wan_yuan": ("万元", "10⁴ yuan"),
    "yuan": ("元", "yuan"),
    "target": ("目标", "Target"),
    "forecast": ("预测全年", "Year-end forecast"),
    "actual": ("已完成", "Actual so far"),
    "on_track": ("按计划", "On track"),
    "at_risk": ("有风险", "At risk"),
    "insufficient_data": ("数据不足", "Not enough data"),
    "basis": (
        "依据今年{days}天的数据（已过{elapsed}天）",
        "Based on {days} of the year's {elapsed} days",
    ),
    "needed": ("余下时间需达到常年水平的", "The rest of the year needs, against typical,"),
    "segments": ("分类", "Segments"),
    "village": ("村级电站", "Village stations"),
    "household": ("户用光伏", "Household arrays"),
    "central": ("集中式电站", "Centralized station"),
    "townships": ("乡镇", "Townships"),
    "stations": ("电站", "Stations"),
    "stations_by_state": ("电站状态", "Stations by state"),
    "state_fault": ("故障", "Fault"),
    "state_warning": ("告警", "Warning"),
    "state_offline": ("离线", "Offline"),
    "state_ok": ("正常", "OK"),
    "state_unknown": ("未知", "Unknown"),
    "certification": ("持证上岗", "Certification"),
    "cert_rate": ("持证率", "Certified"),
    "not_certified": ("无有效证书", "Not validly certified"),
    "due_soon": ("60天内到期或复审", "Due within 60 days"),
    "uncovered": ("无持证管护员的电站", "Stations without a certified maintainer"),
    "open_alerts": ("未解除告警", "Open alerts"),
    "alerts": ("告警", "Alerts"),
    "my_stations": ("我的电站", "My stations"),
    "my_alerts": ("我的告警", "My alerts"),
    "ack": ("确认", "Acknowledge"),
    "resolve": ("解除", "Resolve"),
    "acknowledged": ("已确认", "Acknowledged"),
    "resolved": ("已解除", "Resolved"),
    "open": ("待处理", "Open"),
    "history": ("处理记录", "History"),
    "severity": ("级别", "Severity"),
    "since": ("开始时间", "Since"),
    "no_alerts": ("没有未解除的告警", "No open alerts"),
    "our_revenue": ("本村光伏收益", "Our PV income"),
    "by_month": ("按月收益", "Income by month"),
    "distributable": ("可分配收益", "Distributable income"),
    "costs": ("费用", "Costs"),
    "grid": ("电网电费", "Grid payment"),
    "subsidy": ("补贴", "Subsidy"),
    "our_stations": ("本村电站及份额", "Our stations and shares"),
    "share": ("份额", "Share"),
    "estimated": ("估算（以结算单为准）", "Estimated (until the settlement statement)"),
    "disclosure": ("收益公示", "Disclosure sheet"),
    "disclosure_title": (
        "村集体光伏扶贫电站收益公示",
        "PV income disclosure of the village collective",
    ),
    "export": ("导出", "Export"),
    "income_target": ("村集体年收入目标", "Collective income target"),
    "period": ("期间", "Period"),
    "energy": ("发电量（千瓦时）", "Energy (kWh)"),
    "total": ("合计", "Total"),
    "station": ("电站", "Station"),
    "capacity": ("装机（千瓦）", "Capacity (kWp)"),
    "print": ("打印", "Print"),
    "supervision": ("监督电话：县能源局", "Questions: county energy bureau"),
    "not_found": ("未找到", "Not found"),
    "bad_request": ("请求的参数无效", "The request's values are not valid"),
    "map": ("电站分布", "Station map"),
    "households": ("户用光伏", "Household arrays"),
    # --- alert rules --------------------------------------------------------------------
    "rule.comm_loss": ("通信中断", "communication lost"),
    "rule.device_silent": ("逆变器无数据", "inverter silent"),
    "rule.zero_output": ("白天零发电", "zero output in daylight"),
    "rule.fault_state": ("逆变器故障", "inverter fault"),
    "rule.underperformance": ("发电持续偏低", "persistent underperformance"),
    "rule.cert_missing": ("无有效电工证", "no valid electrician certificate"),
    "rule.cert_expired": ("电工证已过期", "certificate expired"),
    "rule.cert_review_overdue": ("电工证逾期未复审", "certificate review overdue"),
    "rule.cert_due": ("电工证即将到期或复审", "certificate expiry or review due"),
    "rule.station_uncovered": ("电站无持证管护员", "no certified maintainer"),
    "rule.target_at_risk": ("年度目标有风险", "annual target at risk"),
    "rule.village_income_at_risk": ("村集体收益低于目标", "village income below target"),
    "rule.ingest_rejects": ("数据大多被拒收", "most messages rejected"),
    "rule.device_silent_days": ("设备多日无数据", "device silent for days"),
    # --- severities ---------------------------------------------------------------------
    "severity.critical": ("严重", "critical"),
    "severity.warning": ("警告", "warning"),
    "severity.info": ("提示", "info"),
    # --- what a message is for -------------------------------------------------------------
    "head.new": ("【光伏告警】", "[PV alert]"),
    "head.repeat": ("【告警未确认·再次提醒】", "[PV alert, not acknowledged]"),
    "head.escalation": ("【告警升级】", "[PV alert escalated]"),
    "head.reopened": ("【告警复发】", "[PV alert again]"),
    "head.resolved": ("【告警已解除】", "[PV alert resolved]"),
    # --- alert messages -------------------------------------------------------------------
    "msg.ack": ("请确认处理", "acknowledge"),
    "msg.since": ("起", "since"),
    "msg.unacked_h": ("已{h}小时未确认", "unacknowledged for {h} h"),
    "msg.auto": ("条件已恢复，自动解除", "condition cleared, resolved automatically"),
    "msg.by": ("由{who}解除", "resolved by {who}"),
    "msg.digest": ("【光伏告警汇总】共{n}条", "[PV alerts] {n} alerts"),
    "msg.all": ("全部告警", "all alerts"),
    "msg.inverter": ("逆变器", "inverter"),
    "msg.fleet": ("村级电站", "village stations"),
    "msg.sms_digest": ("【永和光伏】您有{n}条光伏告警", "[Yonghe PV] {n} PV alerts for you"),
    "msg.sms_brand": ("【永和光伏】", "[Yonghe PV] "),
    "msg.ack_link": ("请确认处理：{link}", "ack: {link}"),
    "msg.all_link": ("全部告警：{link}", "all: {link}"),
    "msg.headline": (
        "[{severity}] {place}：{rule}（{since}起）",
        "[{severity}] {place}: {rule} (since {since})",
    ),
    "msg.sms_resolved": ("{rule}已解除", "{rule} resolved"),
    # --- the figures behind an alert --------------------------------------------------------
    "detail.comm_loss": ("{minutes} 分钟无数据", "no data for {minutes} min"),
    "detail.zero_output": ("出力{output}，同乡镇电站{peers}", "output {output}, peers {peers}"),
    "detail.fault_state": (
        "故障逆变器 {devices} 事件码 {codes}",
        "inverters {devices} event codes {codes}",
    ),
    "detail.underperformance": (
        "对标指数{recent}（平时{usual}），下降{drop}",
        "peer index {recent} (usually {usual}), down {drop}",
    ),
    "detail.target_at_risk": (
        "预计全年{forecast_wan_kwh:.0f}万千瓦时/{forecast_wan_yuan:.0f}万元，"
        "目标{target_wan_kwh:.0f}万千瓦时/{target_wan_yuan:.0f}万元",
        "forecast {forecast_gwh:.2f} GWh / {forecast_m_yuan:.2f} M yuan, "
        "target {target_gwh:.2f} GWh / {target_m_yuan:.2f} M yuan",
    ),
    "detail.village_income_at_risk": (
        "预计全年{forecast_wan_yuan:.1f}万元，目标{target_wan_yuan:.0f}万元",
        "forecast {forecast_yuan:,.0f} yuan, target {target_yuan:,.0f} yuan",
    ),
    "detail.ingest_rejects": (
        "一天内{rejected}条被拒收，{stored}条入库",
        "{rejected} rejected, {stored} stored in a day",
    ),
    "detail.device_silent_days": ("已{days}天无数据", "silent for {days} days"),
    "detail.certificate": (
        "{name} 证书{certificate} 日期{date}",
        "{name} certificate {certificate} date {date}",
    ),
    "detail.no_certificate": ("无", "none"),
}


def text(key: str, lang: Lang, **values: object) -> str:
    """The words for ``key`` in ``lang``, with ``{name}`` placeholders filled from
    ``values``. Raises ``MissingText`` for a key the catalog lacks."""
    try:
        zh, en = CATALOG[key]
    except KeyError:
        raise MissingText(key) from None
    chosen = zh if lang == "zh" else en
    return chosen.format(**values) if values else chosen
