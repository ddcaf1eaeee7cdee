"""The reports' words (the monthly report, the quarterly village statements, their
delivery and archive), part of the one catalog (``pvmon.i18n`` merges them in)."""

from __future__ import annotations

REPORT_WORDS: dict[str, tuple[str, str]] = {
    "report.monthly_title": (
        "永和县光伏扶贫电站运行月报 · {month}",
        "Yonghe PV fleet monthly report · {month}",
    ),
    "report.village_title": (
        "{village}村集体光伏收益季度报表 · {quarter}",
        "{village}: quarterly PV income statement · {quarter}",
    ),
    "report.made_at": ("编制于{at}", "made {at}"),
    "report.computed": ("本月已日结{days}/{of}天", "{days} of {of} days computed"),
    "report.s_target": ("一、村级电站发电与收益目标", "1. Village stations against the targets"),
    "report.year_energy": ("本年累计发电量", "Energy, year to date"),
    "report.year_revenue": ("本年累计收益（估算）", "Revenue, year to date (estimated)"),
    "report.of_target": ("目标{target}", "target {target}"),
    "report.target_note": (
        "预测 = 实际 + 余下时间的典型发电量 × 近期表现；依据天数见上",
        "Forecast = actual + the rest of the year's typical yield × recent performance; "
        "the days it rests on above",
    ),
    "report.s_generation": ("二、分类与乡镇", "2. Segments and townships"),
    "report.month_kwh": ("本月发电（千瓦时）", "Month (kWh)"),
    "report.year_kwh": ("本年累计（千瓦时）", "Year to date (kWh)"),
    "report.month_yuan": ("本月收益（元）", "Month (yuan)"),
    "report.year_yuan": ("本年收益（元）", "Year to date (yuan)"),
    "report.estimated_note": (
        "发电量来自逆变器电量计数，收益为估算，以电网结算单为准",
        "Energy from the inverters' counters; revenue estimated until the grid company's "
        "statements",
    ),
    "report.s_ranking": (
        "三、村级电站同组指数排名（本月平均）",
        "3. Village stations by peer index (month's mean)",
    ),
    "report.best": ("最好", "Best"),
    "report.worst": ("最差", "Worst"),
    "report.days": ("有效天数", "Usable days"),
    "report.s_orders": ("四、故障与工单", "4. Faults and work orders"),
    "report.orders": ("本月新建工单", "Orders opened"),
    "report.orders_done": (
        "完成{done}，按时{on_time}，超期{late}",
        "{done} done, {on_time} on time, {late} late",
    ),
    "report.repair_hours": ("修复用时中位数（小时）", "Median hours to repair"),
    "report.faults": ("{n}座电站有故障", "{n} station(s) with faults"),
    "report.s_certification": ("五、持证上岗", "5. Certification"),
    "report.certification": (
        "持证率{rate}（{certified}/{maintainers}名管护员）；无有效证书{invalid}人，"
        "60天内到期或复审{due}人，无持证管护员的电站{uncovered}座",
        "{rate} certified ({certified} of {maintainers} maintainers); {invalid} without a "
        "valid certificate, {due} due within 60 days, {uncovered} station(s) without a "
        "certified maintainer",
    ),
    "report.s_revenue": (
        "六、收益：估算与结算，应收账款",
        "6. Revenue estimated and settled; receivables",
    ),
    "report.revenue_estimated": (
        "本月估算收益（村级与集中式电站）",
        "The month's estimated revenue (village and central stations)",
    ),
    "report.revenue_settled": (
        "本月已结算（{n}/{of}座电站的结算单）",
        "Settled for the month ({n} of {of} stations' statements)",
    ),
    "report.money_note": (
        "应收为已结算月份尚未到账的电费和补贴，账龄自所属月份月底起算",
        "Owed: settled months' grid payments and subsidy not yet received, aged from the "
        "month's end",
    ),
    "report.s_longterm": (
        "七、长期性能：组件衰减与积灰",
        "7. Long-term performance: module degradation and soiling",
    ),
    "report.degr_median": ("组件衰减中位数（每年）", "Median degradation (a year)"),
    "report.degr_basis": (
        "{n}座电站有估计，{beyond}座超过每年{limit}%的限值；截至{day}",
        "{n} station(s) estimated, {beyond} beyond the limit of {limit} % a year; up to {day}",
    ),
    "report.soil_median": ("近一年积灰损失中位数", "Median loss to dust, last year"),
    "report.soil_basis": ("{n}座电站有估计；截至{day}", "{n} station(s) estimated; up to {day}"),
    "report.soil_cost": ("近{days}天积灰损失", "Lost to dust, last {days} days"),
    "report.soil_worth": (
        "{n}座电站的积灰损失超过一次清洗费用",
        "{n} station(s) lost more than a cleaning costs",
    ),
    "report.s_degradation": ("衰减最快的电站", "Fastest-degrading stations"),
    "report.s_soiling": ("值得清洗的电站", "Stations worth a cleaning"),
    "report.opening": ("季初结余", "Balance at the quarter's start"),
    "report.received": ("本季到账", "Received in the quarter"),
    "report.used": ("本季使用", "Used in the quarter"),
    "report.closing": ("季末结余", "Balance at the quarter's end"),
    "report.mail_subject": ("【光伏月报】{title}", "[PV report] {title}"),
    "report.mail_body": (
        "{title}\n\n附件为PDF和XLSX；在线查看：{link}",
        "{title}\n\nThe PDF and the XLSX are attached; online: {link}",
    ),
    "report.robot": ("【光伏报表】{title}已生成：{link}", "[PV report] {title} is ready: {link}"),
    "report.village_mail_subject": (
        "【村集体季度报表】{quarter}",
        "[Village statements] {quarter}",
    ),
    "report.village_mail_body": (
        "{township}各村{quarter}季度光伏收益报表见附件；在线查看：{link}",
        "The {quarter} PV income statements of {township}'s villages are attached; online: {link}",
    ),
    "report.archive": ("报表存档", "Reports"),
    "report.kind.monthly": ("运行月报", "Monthly report"),
    "report.kind.quarterly": ("村集体季度报表", "Village quarterly statement"),
    "report.none": ("尚无报表", "No report yet"),
    "report.delivered": ("已发送", "Delivered"),
    "report.not_delivered": ("未发送", "Not delivered"),
    "report.made": ("编制时间", "Made"),
    "report.files": ("文件", "Files"),
    "nav.reports": ("报表", "Reports"),
    "col.kind_report": ("报表", "Report"),
    "col.month_yuan": ("本月收益（元）", "Month revenue (yuan)"),
    "col.place": ("分类或乡镇", "Segment or township"),
    "col.availability": ("可利用率", "Availability"),
    "col.peer_index": ("同组指数", "Peer index"),
    "col.days": ("天数", "Days"),
}
