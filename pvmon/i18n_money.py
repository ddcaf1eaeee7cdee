"""The money's words (settlement, receivables, month close, income use, disclosure), part
of the one catalog (``pvmon.i18n`` merges them in; kept apart only for the catalog's size)."""

from __future__ import annotations

MONEY_WORDS: dict[str, tuple[str, str]] = {
    # --- columns of money files and exports -----------------------------------------------
    "col.number": ("结算单号", "Statement number"),
    "col.settled_on": ("结算日期", "Settled on"),
    "col.kind": ("款项类别", "Kind"),
    "col.covers_from": ("所属期起", "Covers from"),
    "col.covers_to": ("所属期止", "Covers to"),
    "col.amount_yuan": ("金额（元）", "Amount (yuan)"),
    "col.received_on": ("到账日期", "Received on"),
    "col.reference": ("凭证号", "Voucher"),
    "col.due_yuan": ("应收（元）", "Due (yuan)"),
    "col.received_yuan": ("已收（元）", "Received (yuan)"),
    "col.outstanding_yuan": ("欠款（元）", "Outstanding (yuan)"),
    "col.under_1y": ("1年以内（元）", "Under 1 year (yuan)"),
    "col.1_2y": ("1–2年（元）", "1–2 years (yuan)"),
    "col.over_2y": ("2年以上（元）", "Over 2 years (yuan)"),
    "col.est_export_kwh": ("估算上网电量（千瓦时）", "Estimated export (kWh)"),
    "col.dev_export_kwh": ("电量偏差", "Export deviation"),
    "col.dev_grid_yuan": ("电费偏差", "Grid deviation"),
    "col.dev_subsidy_yuan": ("补贴偏差", "Subsidy deviation"),
    "col.at": ("时间", "When"),
    "col.actor": ("操作人", "Who"),
    "col.channel": ("途径", "How"),
    "col.entity": ("对象", "What"),
    "col.key": ("记录", "Record"),
    "col.action": ("操作", "Action"),
    "col.before": ("修改前", "Before"),
    "col.after": ("修改后", "After"),
    "col.reason": ("原因", "Reason"),
    "receipt_kind.grid": ("电费", "Grid payment"),
    "receipt_kind.subsidy": ("补贴", "Subsidy"),
    # --- states and words -----------------------------------------------------------------
    "month_state.estimated": ("估算", "Estimated"),
    "month_state.settled": ("已结算", "Settled"),
    "month_state.closed": ("已关账", "Closed"),
    "bucket.under_1y": ("1年以内", "Under 1 year"),
    "bucket.1_2y": ("1–2年", "1–2 years"),
    "bucket.over_2y": ("2年以上", "Over 2 years"),
    "use_category.public_welfare_jobs": ("公益岗位", "Public-welfare jobs"),
    "use_category.small_public_works": ("小型公益事业", "Small public works"),
    "use_category.rewards_subsidies": ("奖励补助", "Rewards and subsidies"),
    "use_category.station_costs": ("电站运维费用", "Station costs"),
    "use_category.handout": ("直接发钱发物", "Cash or goods handed out"),
    "use_category.other": ("其他", "Other"),
    "use_flag.handout": (
        "违反规定：严禁简单发钱发物",
        "Not allowed: money or goods may not simply be handed out",
    ),
    "use_flag.other": (
        "不属于规定用途，需县能源局审核",
        "Not a use the rules name: for the bureau's review",
    ),
    "use_flag.job_incomplete": (
        "公益岗位须写明人员、月数和月工资",
        "A public-welfare job needs its person, months and monthly pay",
    ),
    "use_flag.job_amount": (
        "金额与月数×月工资不符",
        "The amount is not months × monthly pay",
    ),
    "use_flag.overdrawn": (
        "支出超过已到账收益",
        "More spent than received",
    ),
    "audit_action.add": ("新增", "added"),
    "audit_action.change": ("修改", "changed"),
    "audit_action.remove": ("删除", "removed"),
    "audit_action.load": ("导入", "loaded"),
    "audit_action.close": ("关账", "closed"),
    "audit_action.publish": ("发布", "published"),
    "channel.system": ("系统", "system"),
    # --- refusals ---------------------------------------------------------------------------
    "money.unknown_station": ("没有电站{station}", "There is no station {station}"),
    "money.not_settled": (
        "电站{station}不由县能源局结算（户用电站收益归农户）",
        "Station {station} is not settled through the bureau (a household array is paid to "
        "the household)",
    ),
    "money.month_not_over": ("{period}尚未结束", "{period} is not over yet"),
    "money.future_day": ("{day}是将来的日期", "{day} is in the future"),
    "money.covers_future": (
        "所属期{period}晚于到账月份",
        "It covers {period}, after the month it was received in",
    ),
    "money.month_closed": (
        "{period}已关账（{villages}），不能再修改；请在本月登记调整",
        "{period} is closed ({villages}) and cannot be changed: book an adjustment this month",
    ),
    "money.already_closed": ("{period}已关账", "{period} is already closed"),
    "money.not_settled_month": (
        "{period}尚未全部结算，缺少结算单：{stations}",
        "{period} is not settled: statements missing for {stations}",
    ),
    "money.no_such_use": ("没有第{id}条收益使用记录", "There is no income use {id}"),
    # --- alerts -------------------------------------------------------------------------------
    "rule.settlement_deviation": ("结算与监测估算偏差过大", "settlement differs from the estimate"),
    "rule.settlement_missing": ("电费结算单未到", "settlement statement missing"),
    "detail.settlement_deviation": (
        "{periods}：结算与估算相差{worst}",
        "{periods}: settled and estimated differ by {worst}",
    ),
    "detail.settlement_missing": ("缺{count}个月：{months}", "{count} month(s) missing: {months}"),
}
