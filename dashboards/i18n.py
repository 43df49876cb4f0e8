"""Every dashboard label in Chinese and English, and number formatting in 元/万元 and 万."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Lang = Literal["zh", "en"]

# key -> (Chinese, English)
TEXT: dict[str, tuple[str, str]] = {
    # shell
    "product": ("会员中心", "Member Hub"),
    "product.subtitle": ("上海邮政会员积分", "Shanghai Post loyalty"),
    "nav.overview": ("总览", "Overview"),
    "nav.campaigns": ("营销活动", "Campaigns"),
    "nav.channels": ("渠道", "Channels"),
    "nav.members": ("会员", "Members"),
    "nav.insights": ("会员洞察", "Insights"),
    "nav.points": ("积分经济", "Points economy"),
    "nav.clearing": ("清分结算", "Clearing"),
    "lang.switch": ("English", "中文"),
    "logout": ("退出登录", "Log out"),
    "role.marketer": ("市场营销", "Marketer"),
    "role.finance": ("财务", "Finance"),
    "role.admin": ("管理员", "Admin"),
    # login
    "login.title": ("登录会员中心", "Sign in to Member Hub"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.missing": ("请输入用户名和密码", "Enter your username and password"),
    "login.throttled": (
        "尝试次数过多，请 {minutes} 分钟后再试",
        "Too many attempts, retry in {minutes} minutes",
    ),
    "login.throttled.one": (
        "尝试次数过多，请 1 分钟后再试",
        "Too many attempts, retry in 1 minute",
    ),
    "login.hint": ("使用员工账号登录", "Use your staff account"),
    # filters
    "filter.dates": ("日期", "Dates"),
    "filter.inst": ("机构", "Institution"),
    "filter.inst.all": ("全部机构", "All institutions"),
    "filter.channel": ("渠道", "Channel"),
    "filter.channel.all": ("全部渠道", "All channels"),
    "filter.campaign": ("营销活动", "Campaign"),
    "filter.campaign.all": ("全部活动", "All campaigns"),
    "filter.preset.7": ("近7天", "7 days"),
    "filter.preset.30": ("近30天", "30 days"),
    "filter.preset.90": ("近90天", "90 days"),
    "filter.preset.365": ("近一年", "1 year"),
    "filter.today": ("今日（截至当前）", "Today so far"),
    "filter.today.note": (
        "今天尚未结束：数字仍在增长，与整日比较会偏低",
        "Today is not over: its figures are still growing and compare low against whole days",
    ),
    "filter.period": ("统计期间", "Period"),
    "filter.previous": ("对比上期", "vs previous period"),
    # states
    "empty": ("所选条件下暂无数据", "No data for these filters"),
    "empty.rows": ("暂无数据", "No rows"),
    "grid.page": ("第", "Page"),
    "grid.of": ("/", "of"),
    "grid.to": ("–", "to"),
    "grid.first": ("首页", "First page"),
    "grid.previous": ("上一页", "Previous page"),
    "grid.next": ("下一页", "Next page"),
    "grid.last": ("末页", "Last page"),
    "grid.loading": ("加载中…", "Loading…"),
    "grid.filter": ("筛选…", "Filter…"),
    "grid.contains": ("包含", "Contains"),
    "grid.equals": ("等于", "Equals"),
    "grid.starts_with": ("开头是", "Starts with"),
    "grid.greater_than": ("大于", "Greater than"),
    "grid.greater_or_equal": ("大于等于", "Greater than or equal to"),
    "grid.less_than": ("小于", "Less than"),
    "grid.less_or_equal": ("小于等于", "Less than or equal to"),
    "grid.in_range": ("介于", "Between"),
    "grid.from": ("从", "From"),
    "grid.until": ("到", "To"),
    "download": ("下载 CSV", "Download CSV"),
    "download.xlsx": ("下载 Excel", "Download Excel"),
    "data_as_of": ("数据截至", "Data as of"),
    "crumb.label": ("当前筛选", "Current filters"),
    "nav.menu": ("菜单", "Menu"),
    "chart.as_table": ("查看数据表", "View as table"),
    "chart.as_chart": ("查看图表", "View as chart"),
    "chart.as_table.note": ("以表格列出图中的数据", "The chart's data as a table"),
    "filter.toggle": ("筛选", "Filters"),
    "crumb.clear": ("清除此筛选", "Clear this filter"),
    "crumb.hint": (
        "提示：点击图表中的渠道、机构或营销活动即可筛选本页",
        "Tip: click a channel, institution or campaign in a chart to narrow this page",
    ),
    "sheet.data": ("数据", "Data"),
    "sheet.about": ("筛选条件", "Filters"),
    # saved views and scheduled reports
    "views.title": ("视图", "Views"),
    "views.pick": ("选择已保存的视图", "Open a saved view"),
    "views.save_open": ("保存当前视图", "Save this view"),
    "views.name": ("名称", "Name"),
    "views.share": ("共享给同事", "Share with colleagues"),
    "views.report": ("定时报告", "Scheduled report"),
    "views.cadence.none": ("不发送", "None"),
    "views.cadence.daily": ("每日", "Daily"),
    "views.cadence.weekly": ("每周", "Weekly"),
    "views.weekday": ("每周发送日", "Weekly on"),
    "views.format": ("表格格式", "Table format"),
    "views.recipients": ("收件人（邮箱）", "Recipients (e-mail)"),
    "views.save": ("保存", "Save"),
    "views.delete": ("删除所选视图", "Delete selected view"),
    "views.saved": ("已保存视图“{name}”", "Saved view “{name}”"),
    "views.deleted": ("已删除视图", "View deleted"),
    "views.pick_first": ("请先选择要删除的视图", "Choose the view to delete first"),
    "views.not_yours": ("只能删除自己保存的视图", "You can delete only your own views"),
    "views.shared_mark": ("已共享", "shared"),
    "views.error.name": (
        "请填写名称（最多 60 个字符）",
        "Give the view a name (at most 60 characters)",
    ),
    "views.error.page": ("此页面不能保存视图", "Views cannot be saved on this page"),
    "views.error.query": ("筛选条件过长", "The filters are too long to save"),
    "views.error.cadence": ("请选择报告频率", "Choose how often the report goes out"),
    "views.error.weekday": ("请选择每周发送日", "Choose the weekday of the report"),
    "views.error.file_format": ("请选择 CSV 或 Excel", "Choose CSV or Excel"),
    "views.error.recipients": (
        "收件人须为邮箱地址，用逗号分隔，最多 10 个",
        "Recipients must be e-mail addresses, comma-separated, at most 10",
    ),
    "weekday.1": ("周一", "Monday"),
    "weekday.2": ("周二", "Tuesday"),
    "weekday.3": ("周三", "Wednesday"),
    "weekday.4": ("周四", "Thursday"),
    "weekday.5": ("周五", "Friday"),
    "weekday.6": ("周六", "Saturday"),
    "weekday.7": ("周日", "Sunday"),
    "report.subject": ("会员中心报告", "Member Hub report"),
    "report.view": ("视图", "View"),
    "report.filters": ("筛选条件", "Filters"),
    "vs_previous": ("较上期", "vs previous"),
    "new": ("新增", "new"),
    "as_of": ("截至", "as of"),
    "no_estimate": ("样本不足", "not enough members"),
    "current_period": ("本期", "This period"),
    "not_ready.title": ("数据仓库尚未就绪", "The warehouse is not ready yet"),
    "not_ready.body": (
        "请先运行 memberhub warehouse sync，完成后刷新本页。",
        "Run `memberhub warehouse sync`, then reload this page.",
    ),
    "previous_period": ("上期", "Previous period"),
    # units
    "unit.yuan": ("元", "CNY"),
    "unit.wan_yuan": ("万元", "10k CNY"),
    "unit.k_yuan": ("千元", "K CNY"),
    "unit.m_yuan": ("百万元", "M CNY"),
    "unit.wan": ("万", "10k"),
    "unit.million": ("百万", "M"),
    "unit.points": ("积分", "points"),
    "unit.people": ("人", "members"),
    "unit.orders": ("笔", "orders"),
    "unit.hours": ("小时", "hours"),
    "unit.times": ("次", "times"),
    # metrics
    "metric.members": ("会员总数", "Members"),
    "metric.new_members": ("新增会员", "New members"),
    "metric.active_members": ("活跃会员", "Active members"),
    "metric.repeat_buyers": ("复购会员", "Repeat buyers"),
    "metric.purchases": ("交易笔数", "Purchases"),
    "metric.gmv": ("交易额", "GMV"),
    "metric.avg_ticket": ("笔均交易额", "Average ticket"),
    "metric.points_issued": ("发放积分", "Points issued"),
    "metric.points_redeemed": ("兑换积分", "Points redeemed"),
    "metric.points_expired": ("过期积分", "Points expired"),
    "metric.points_outstanding": ("未兑积分余额", "Points outstanding"),
    "metric.available": ("可用积分", "Available"),
    "metric.pending": ("待生效积分", "Pending"),
    "metric.expiring_30": ("30天内到期", "Expiring in 30 days"),
    "metric.expiring_90": ("90天内到期", "Expiring in 90 days"),
    "metric.breakage_rate": ("积分过期率", "Breakage rate"),
    "metric.breakage_rate_note": ("本期过期积分 ÷ 本期发放积分", "expired ÷ issued in the period"),
    "metric.fen_per_point": ("按每积分 {fen_per_point} 分计", "at {fen_per_point} fen a point"),
    "metric.previous_gmv": ("上期交易额", "Previous GMV"),
    "metric.change": ("环比", "Change"),
    "metric.share": ("占比", "Share"),
    "metric.channels": ("活跃渠道", "Active channels"),
    "metric.online_share": ("线上交易额占比", "Online share of GMV"),
    "metric.repeat_rate": ("复购率", "Repeat rate"),
    "metric.participants": ("参与会员", "Participants"),
    "metric.points_cost": ("积分成本", "Points cost"),
    "metric.points_awarded": ("活动发放积分", "Campaign points awarded"),
    "metric.points_returned": ("退回预算", "Returned to budget"),
    "metric.budget": ("积分预算", "Points budget"),
    "metric.budget_used": ("预算使用率", "Budget used"),
    "metric.gmv_window": ("活动期交易额", "GMV in window"),
    "metric.gmv_baseline": ("基准期交易额", "GMV in baseline"),
    "metric.gmv_uplift": ("较基准期", "vs baseline"),
    "metric.lift": ("人均增量交易额", "Incremental GMV per member"),
    "metric.lift_ci": ("95%置信区间", "95% confidence interval"),
    "metric.lift_low": ("置信区间下限", "CI low"),
    "metric.lift_high": ("置信区间上限", "CI high"),
    "metric.treated": ("活动组", "Treated"),
    "metric.holdout": ("对照组", "Holdout"),
    "metric.treated_members": ("活动组人数", "Treated members"),
    "metric.holdout_members": ("对照组人数", "Holdout members"),
    "metric.window": ("活动期", "Window"),
    "metric.incremental_gmv": ("增量交易额（对照组）", "Incremental GMV vs holdout"),
    "metric.points_cost_yuan": ("积分成本（元）", "Points cost (CNY)"),
    "metric.roi": ("投资回报率", "ROI"),
    "metric.before_after": ("前后对比（非因果）", "Before vs after (not causal)"),
    "metric.measured": ("测算期", "Measured"),
    "lift.includes_zero": (
        "增量交易额的95%置信区间（{low} 至 {high} 元）包含零：无法把本活动的效果与没有效果区分开。",
        "The 95% interval of the incremental GMV ({low} to {high} CNY) includes zero: this "
        "campaign's effect cannot be told apart from no effect.",
    ),
    "lift.effect": (
        "与对照组相比，活动{direction}交易额 {amount} 元（95%置信区间 {low} 至 {high} 元），"
        "{against}积分成本 {cost} 元。",
        "The campaign {direction} {amount} CNY of GMV against its holdout (95% interval {low} "
        "to {high} CNY), {against} the {cost} CNY its points cost.",
    ),
    "lift.added": ("增加", "added"),
    "lift.lost": ("减少", "lost"),
    "lift.more": ("高于", "more than"),
    "lift.less": ("低于", "less than"),
    "lift.about": ("约等于", "about"),
    "lift.no-holdout": ("无对照组：无法给出因果估计", "no holdout: no causal estimate"),
    "lift.no-complete-day": ("活动尚无完整的一天，暂无估计", "no complete day yet: no estimate"),
    "lift.too-few-members": (
        "对照组或活动组不足两人，无法估计",
        "fewer than two members in a group: no estimate",
    ),
    "lift.method": (
        "按随机对照组估计（与接口 GET /campaigns/{code}/lift 相同）：CUPED 调整后人均交易额之差"
        "的 Welch 95% 置信区间乘以活动组人数；积分成本按每积分 {fen} 分计。",
        "Against the random holdout, as GET /campaigns/{code}/lift: the Welch 95% interval of "
        "the CUPED-adjusted difference in GMV per member, times the treated members; points "
        "cost at {fen} fen per point.",
    ),
    "metric.pickup_orders": ("自提订单", "Pickup orders"),
    "metric.online_picked_up": ("线上下单·网点自提", "Ordered online, collected offline"),
    "metric.picked_up": ("已提货", "Picked up"),
    "metric.pickup_rate": ("提货率", "Pickup rate"),
    "metric.median_hours": ("提货时长中位数", "Median time to pickup"),
    "metric.expired_pickups": ("逾期未提", "Uncollected expiries"),
    "metric.awaiting": ("待提货", "Awaiting pickup"),
    "metric.mailings": ("寄递件数", "Mailings"),
    "metric.bill_payments": ("缴费笔数", "Bill payments"),
    "metric.subscriptions": ("报刊订阅", "Subscriptions"),
    "metric.count": ("笔数", "Count"),
    "metric.amount": ("金额", "Amount"),
    "metric.redemptions": ("兑换次数", "Redemptions"),
    "metric.quantity": ("数量", "Quantity"),
    "metric.cash": ("现金部分", "Cash part"),
    "metric.retention": ("留存率", "Retention"),
    "metric.cohort_size": ("群组人数", "Cohort size"),
    "metric.last_day": ("最近消费", "Last purchase"),
    # columns
    "col.channel": ("渠道", "Channel"),
    "col.business_type": ("业务类型", "Business type"),
    "col.institution": ("机构", "Institution"),
    "col.code": ("代码", "Code"),
    "col.outlet": ("自提网点", "Pickup outlet"),
    "col.district": ("区县", "District"),
    "col.campaign": ("营销活动", "Campaign"),
    "col.starts_on": ("开始", "Starts"),
    "col.ends_on": ("结束", "Ends"),
    "col.member_no": ("会员号", "Member no."),
    "col.name": ("姓名", "Name"),
    "col.phone": ("手机号", "Phone"),
    "col.tier": ("等级", "Tier"),
    "col.reward": ("礼品", "Reward"),
    "col.kind": ("类别", "Kind"),
    "col.service": ("业务", "Service"),
    "col.online": ("线上", "Online"),
    "col.day": ("日期", "Day"),
    "col.segment": ("会员分群", "Segment"),
    "col.churn_risk": ("流失风险", "Churn risk"),
    "col.alive": ("活跃概率", "Probability alive"),
    "col.expected_value": ("预期价值", "Expected value"),
    "col.value_at_risk": ("风险价值", "Value at risk"),
    "col.registered_on": ("注册日期", "Registered"),
    "col.registered_channel": ("注册渠道", "Registration channel"),
    "col.spend": ("期间消费", "Spend in period"),
    "col.r": ("R 分", "R score"),
    "col.f": ("F 分", "F score"),
    "col.m": ("M 分", "M score"),
    "col.avg_r": ("平均 R 分", "Avg R score"),
    "col.avg_f": ("平均 F 分", "Avg F score"),
    "col.avg_m": ("平均 M 分", "Avg M score"),
    "col.avg_churn_risk": ("平均流失风险", "Avg churn risk"),
    "col.avg_expected_value": ("人均预期价值", "Avg expected value"),
    "col.total_expected_value": ("预期价值合计", "Total expected value"),
    "block.segments_over_time": ("会员分群变化", "Segments over time"),
    "metric.scored_members": ("已评分会员", "Members scored"),
    "metric.members_at_risk": ("流失风险会员", "Members at risk"),
    "metric.members_at_risk.share": ("占已评分 {share}", "{share} of those scored"),
    "block.at_risk": ("流失风险会员（按风险价值排序）", "Members at risk (by value at risk)"),
    "insights.at_risk_limit": (
        "表格列出风险价值最高的 {limit} 位，CSV 含全部流失风险会员。",
        "The grid lists the {limit} with the most value at risk; "
        "the CSV holds every member at risk.",
    ),
    "block.clv": ("会员预期价值分布", "Customer lifetime value distribution"),
    "block.segment_compare": ("分群对比", "Segments compared"),
    "block.member_list": ("会员列表", "Member list"),
    "axis.as_of": ("模型日期", "Model as-of date"),
    "axis.clv": ("预期价值（元）", "Expected value (CNY)"),
    "insights.none": (
        "尚未训练会员洞察模型：运行 memberhub insights train 并同步数仓后，"
        "这里将显示分群与流失风险。",
        "No member insights have been trained yet: run `memberhub insights train` and a "
        "warehouse sync to see segments and churn risk here.",
    ),
    "insights.as_of": (
        "模型日期 {as_of} · 版本 {version}",
        "Model as of {as_of} · version {version}",
    ),
    # blocks
    "block.kpis": ("核心指标", "Key figures"),
    "block.gmv_trend": ("交易额走势（对比上期）", "GMV trend vs previous period"),
    "block.members_trend": ("活跃会员走势", "Active members per day"),
    "block.gmv_by_channel": ("分渠道交易额", "GMV by channel"),
    "block.gmv_by_business_type": ("分业务类型交易额", "GMV by business type"),
    "block.points_flow": ("积分发放 / 兑换 / 过期", "Points issued / redeemed / expired"),
    "block.channel_table": ("渠道明细", "Channels in detail"),
    "block.campaign_table": ("活动效果一览", "Campaign results"),
    "block.campaign_cost": ("积分成本 vs 预算", "Points cost vs budget"),
    "block.campaign_lift": (
        "增量效果（活动组 − 对照组）",
        "Incremental effect (treated − holdout)",
    ),
    "block.campaign_gmv": ("活动期 vs 基准期交易额", "GMV: window vs baseline"),
    "block.campaign_daily": ("人均累计交易额：活动组 vs 对照组", "Cumulative GMV per member"),
    "block.campaign_burn": ("累计积分成本 vs 预算", "Cumulative points cost vs budget"),
    "block.campaign_detail": ("活动详情", "Campaign detail"),
    "block.campaign_back": ("← 返回全部活动", "← All campaigns"),
    "block.institutions": ("分机构表现", "By institution"),
    "block.institution_tree": ("机构树（交易额）", "Institution tree (GMV)"),
    "block.o2o": ("线上下单 · 网点自提（O2O）", "Order online, collect offline (O2O)"),
    "block.pickup_outlets": ("自提网点明细", "Pickup outlets"),
    "block.services": ("寄递与生活缴费", "Mailing and bill payments"),
    "block.new_members": ("每日新增会员（按注册渠道）", "New members per day by channel"),
    "block.tiers": ("会员等级分布", "Tier distribution"),
    "block.cohorts": ("月度群组留存", "Monthly cohort retention"),
    "block.frequency": ("消费频次分布", "Purchase frequency"),
    "block.channel_mix": ("会员渠道构成", "Members by channel mix"),
    "block.top_members": ("高价值会员", "Top members"),
    "block.issuance_source": ("积分发放来源", "Points issued by source"),
    "block.issuance_campaign": ("各活动发放积分", "Points issued by campaign"),
    "block.redemption_kind": ("按礼品类别兑换", "Redemption by reward kind"),
    "block.rewards": ("礼品兑换明细", "Rewards redeemed"),
    "block.liability": ("分机构积分负债", "Points liability by institution"),
    # axes
    "axis.day": ("日期", "Day"),
    "axis.week": ("周", "Week"),
    "axis.days_into_period": ("期内第几天", "Day of period"),
    "axis.months_since": ("注册后第几个月", "Months since joining"),
    "axis.cohort": ("注册月份", "Cohort"),
    "axis.purchases": ("期内消费次数", "Purchases in period"),
    "axis.members": ("会员数", "Members"),
    "axis.points": ("积分", "Points"),
    # clearing
    "clearing.day": ("业务日期", "Business day"),
    "clearing.level": ("汇总层级", "Level"),
    "level.company": ("公司", "Company"),
    "level.district": ("区局", "District"),
    "level.outlet": ("网点", "Outlet"),
    "clearing.status.open": ("未关账", "Open"),
    "clearing.status.closed": ("已关账", "Closed"),
    "clearing.run": ("第 {runs} 次清分 {run_at} · {run_by}", "Run {runs} at {run_at} by {run_by}"),
    "clearing.closed": ("关账 {closed_at} · {closed_by}", "Closed at {closed_at} by {closed_by}"),
    "clearing.open_note": (
        "未关账：渠道仍可报送对账数据，再次清分会重算本日",
        "Open: channels may still report, and a new run recomputes the day",
    ),
    "clearing.reason": ("关账说明", "Close reason"),
    "clearing.data_as_of": ("数据截至", "Data as of"),
    "clearing.not_run": ("{day} 尚未清分", "{day} has not been cleared"),
    "clearing.not_run_body": (
        "财务运行 memberhub clearing run（或 POST /api/v1/clearing/runs）并同步数据仓库后，"
        "这里将显示当日的清分结果。",
        "Once finance runs `memberhub clearing run` (or POST /api/v1/clearing/runs) and the "
        "warehouse is synced, the day's results show here.",
    ),
    "clearing.latest": ("最近清分日 {day}", "Latest cleared day: {day}"),
    "clearing.none": ("尚无清分结果", "No day has been cleared yet"),
    "clearing.adjustment": ("调整", "Adjusts"),
    "clearing.mismatch_note": (
        "不符 {mismatches} 项 · 未报送 {unreported} 项（灰色行：渠道未报送对账数据）",
        "{mismatches} mismatched · {unreported} not reported (grey rows: the channel sent "
        "no control total)",
    ),
    "clearing.liability_note": (
        "清分时会员持有的积分，按发放机构；折合金额按每积分 {fen_per_point} 分计",
        "Points members held when the day was run, by issuing institution; valued at "
        "{fen_per_point} fen a point",
    ),
    "metric.sales": ("销售笔数", "Sales"),
    "metric.gross": ("销售总额", "Gross sales"),
    "metric.net": ("净额", "Net"),
    "metric.balanced": ("头寸平衡", "Balanced"),
    "metric.balanced_note": ("各机构净头寸合计为零", "net positions sum to zero"),
    "metric.refunds_note": ("退款 {refunds} 笔", "{refunds} refunds"),
    "block.clearing_lines": (
        "机构 × 渠道 × 业务类型汇总",
        "Institution × channel × business type",
    ),
    "block.clearing_positions": ("净头寸", "Net positions"),
    "block.clearing_transfers": ("资金划拨指令", "Fund-transfer instructions"),
    "block.clearing_liability": ("分机构积分负债", "Points liability by institution"),
    "block.clearing_mismatches": ("渠道对账差异", "Control-total mismatches"),
    "col.adjustment": ("调整（原业务日）", "Adjustment of"),
    "col.sales": ("销售笔数", "Sales"),
    "col.gross": ("销售额", "Gross"),
    "col.refunds": ("退款笔数", "Refunds"),
    "col.refunds_amount": ("退款额", "Refunded"),
    "col.net": ("净额", "Net"),
    "col.points_issued": ("发放积分", "Issued"),
    "col.points_reversed": ("冲回积分", "Reversed"),
    "col.points_redeemed": ("兑换积分", "Redeemed"),
    "col.points_expired": ("过期积分", "Expired"),
    "col.points_adjusted": ("调整积分", "Adjusted"),
    "col.money_position": ("资金", "Money"),
    "col.points_cost": ("积分成本", "Points cost"),
    "col.net_position": ("净头寸", "Net position"),
    "col.direction": ("方向", "Direction"),
    "direction.receives": ("应收", "receives"),
    "direction.pays": ("应付", "pays"),
    "col.payer": ("付款机构", "Payer"),
    "col.payee": ("收款机构", "Payee"),
    "col.payer_code": ("付款机构代码", "Payer code"),
    "col.payee_code": ("收款机构代码", "Payee code"),
    "col.amount": ("金额", "Amount"),
    "col.points": ("积分", "Points"),
    "col.liability_value": ("折合金额", "Value"),
    "col.status": ("状态", "Status"),
    "mismatch.mismatch": ("不符", "mismatch"),
    "mismatch.not reported": ("未报送", "not reported"),
    "col.reported_sales": ("报送笔数", "Reported sales"),
    "col.reported_amount": ("报送金额", "Reported"),
    "col.cleared_sales": ("清分笔数", "Cleared sales"),
    "col.cleared_amount": ("清分金额", "Cleared"),
    "col.missing": ("平台缺失的交易", "Missing here"),
    "col.extra": ("渠道未报的交易", "Not in channel's list"),
    # dimension values
    "tier.regular": ("普卡", "Regular"),
    "tier.silver": ("银卡", "Silver"),
    "tier.gold": ("金卡", "Gold"),
    "tier.diamond": ("钻石卡", "Diamond"),
    "mix.online_only": ("仅线上", "Online only"),
    "mix.offline_only": ("仅线下", "Offline only"),
    "mix.both": ("线上线下都有", "Both"),
    "source.issuance": ("机构发放（基础积分）", "Institution issuance (base)"),
    "source.campaign": ("营销活动（奖励积分）", "Campaigns (bonus)"),
    "kind.goods": ("实物礼品", "Goods"),
    "kind.voucher": ("优惠券", "Vouchers"),
    "kind.bill_credit": ("缴费抵扣", "Bill credit"),
    "kind.partner_miles": ("航空里程", "Airline miles"),
    "flow.issued": ("发放", "Issued"),
    "flow.redeemed": ("兑换", "Redeemed"),
    "flow.expired": ("过期", "Expired"),
    "service.mailing": ("寄递", "Mailing"),
    "service.bill_payment": ("生活缴费", "Bill payment"),
    "service.subscription": ("报刊订阅", "Subscription"),
    "mail.letter": ("信函", "Letter"),
    "mail.registered": ("挂号信", "Registered"),
    "mail.parcel": ("包裹", "Parcel"),
    "mail.ems": ("EMS", "EMS"),
    "bill.water": ("水费", "Water"),
    "bill.electricity": ("电费", "Electricity"),
    "bill.gas": ("燃气费", "Gas"),
    "bill.broadband": ("宽带", "Broadband"),
    "bill.landline": ("固话", "Landline"),
    "term.monthly": ("月订", "Monthly"),
    "term.quarterly": ("季订", "Quarterly"),
    "term.annual": ("年订", "Annual"),
    "period.current": ("本期", "This period"),
    "period.previous": ("上期", "Previous period"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "unknown": ("未知", "unknown"),
}

# Which key prefix labels the codes of each service's kinds (service_activity).
SERVICE_KIND_PREFIX = {"mailing": "mail", "bill_payment": "bill", "subscription": "term"}


def parse_lang(value: object) -> Lang:
    """English only when asked for; anything else (missing, unknown) is Chinese."""
    return "en" if value == "en" else "zh"


def t(key: str, lang: Lang) -> str:
    """The label for `key`; a key without an entry shows as itself, never fails."""
    pair = TEXT.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def label(prefix: str, code: object, lang: Lang) -> str:
    """The label of a code in a family (`tier`, `kind`, ...), or the code itself."""
    if code is None or code != code:  # None or NaN
        return t("unknown", lang)
    return TEXT.get(f"{prefix}.{code}", (str(code), str(code)))[1 if lang == "en" else 0]


def name_of(name: object, name_en: object, lang: Lang, code: object = None) -> str:
    """A dimension row's name in the viewer's language, falling back to the other one,
    then to its code."""
    first, second = (name_en, name) if lang == "en" else (name, name_en)
    for value in (first, second, code):
        if isinstance(value, str) and value:
            return value
    return t("unknown", lang)


# -- numbers ------------------------------------------------------------------------------

FEN_PER_YUAN = 100
FEN_PER_WAN_YUAN = 1_000_000
FEN_PER_THOUSAND_YUAN = 100_000
FEN_PER_MILLION_YUAN = 100_000_000


@dataclass(frozen=True)
class Shown:
    """A number as displayed: the digits and the unit that goes after them."""

    number: str
    unit: str

    def __str__(self) -> str:
        return f"{self.number} {self.unit}".strip()


@dataclass(frozen=True)
class MoneyScale:
    """How a chart or column shows fen: divide by `fen_per_unit`, label with `unit`."""

    fen_per_unit: int
    unit: str

    def value(self, fen: int) -> float:
        # Charts need plain numbers; the division happens only here, for display.
        return fen / self.fen_per_unit


def _grouped(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{value.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


def money_scale(largest_fen: int, lang: Lang) -> MoneyScale:
    """In Chinese 万元 once the largest amount reaches 10,000 元, else 元. In English the
    thousands and millions an English reader counts in, CNY written once: K CNY from
    10,000 CNY, M CNY from 1,000,000 CNY, else CNY."""
    largest = abs(largest_fen)
    if lang == "en":
        if largest >= FEN_PER_MILLION_YUAN:
            return MoneyScale(FEN_PER_MILLION_YUAN, t("unit.m_yuan", lang))
        if largest >= FEN_PER_WAN_YUAN:
            return MoneyScale(FEN_PER_THOUSAND_YUAN, t("unit.k_yuan", lang))
    elif largest >= FEN_PER_WAN_YUAN:
        return MoneyScale(FEN_PER_WAN_YUAN, t("unit.wan_yuan", lang))
    return MoneyScale(FEN_PER_YUAN, t("unit.yuan", lang))


def money(fen: int, lang: Lang) -> Shown:
    """Integer fen as 元 with two decimals, or in the larger unit of `money_scale`.

    Rounded half up from the exact decimal value, never through a float:
    123456 fen → 1,234.56 元; 123456789 fen → 123.46 万元, or 1.23 M CNY in English.
    """
    scale = money_scale(fen, lang)
    return Shown(_grouped(Decimal(int(fen)) / scale.fen_per_unit, 2), scale.unit)


def yuan(fen: int, lang: Lang) -> Shown:
    """Integer fen always in 元 with two decimals and separators (a headline whose
    amounts sit side by side keeps one unit): 123456789 fen → 1,234,567.89 元."""
    return Shown(_grouped(Decimal(int(fen)) / FEN_PER_YUAN, 2), t("unit.yuan", lang))


def money_in(fen: int, scale: MoneyScale) -> str:
    """Fen in a given scale (a table column shares one unit), two decimals."""
    return _grouped(Decimal(int(fen)) / scale.fen_per_unit, 2)


def count(value: int, lang: Lang, unit_key: str | None = None) -> Shown:
    """Whole numbers with separators; from 100,000 up in 万 (zh) or from 1,000,000 in M (en)."""
    unit = t(unit_key, lang) if unit_key else ""
    value = int(value)
    if lang == "zh" and abs(value) >= 100_000:
        return Shown(_grouped(Decimal(value) / 10_000, 2), f"万{unit}")
    if lang == "en" and abs(value) >= 1_000_000:
        return Shown(_grouped(Decimal(value) / 1_000_000, 2), f"M {unit}".strip())
    return Shown(f"{value:,}", unit)


def percent(ratio: float | None, lang: Lang, places: int = 1) -> str:
    """A ratio (0.123) as a percentage (12.3%); — when there is none."""
    del lang  # the same in both languages
    if ratio is None or ratio != ratio:
        return "—"
    return f"{ratio * 100:.{places}f}%"


@dataclass(frozen=True)
class Change:
    """A period-on-period change as shown on a KPI card; `direction` up, down or flat."""

    text: str
    direction: str


def change(current: int, previous: int, lang: Lang) -> Change:
    """Relative change against the previous period: +12.3% / −4.0% / 0.0%; `new` when the
    previous period had nothing and this one has something."""
    if previous == 0:
        if current == 0:
            return Change("0.0%", "flat")
        return Change(t("new", lang), "up")
    ratio = (current - previous) / abs(previous)
    if ratio > 0:
        return Change(f"+{ratio * 100:.1f}%", "up")
    if ratio < 0:
        return Change(f"−{abs(ratio) * 100:.1f}%", "down")
    return Change("0.0%", "flat")


def hours(value: float | None, lang: Lang) -> Shown:
    if value is None or value != value:
        return Shown("—", "")
    return Shown(f"{value:,.1f}", t("unit.hours", lang))
