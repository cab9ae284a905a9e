"""Every string of the review, in one catalogue per language, and number formatting.

Metric labels and kinds are not here: they are the registry's (`shequn.domain.metrics`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shequn.domain.metrics import Unit, figure

LANGS = ("zh_CN", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "zh_CN": {
        "title": "复盘报告：{scope}，{period}",
        "workspace": "全部社群",
        "previous_period": "对比上期 {period}",
        "section.goals": "一、目标与实际",
        "section.funnel": "二、漏斗诊断",
        "section.drivers": "三、拖累因素",
        "section.actions": "四、改进建议",
        "section.replication": "五、复制成功率",
        "section.member_flow": "六、成员生命周期流转",
        "col.from_state": "原状态",
        "col.to_state": "新状态",
        "col.members": "人数",
        "member_flow.rule": "由 `shequn members refresh` 记录的状态变化"
        "（新、活跃、沉默、流失风险、流失、回流）。",
        "member_flow.none": "本期没有记录到状态变化。",
        "member_flow.first": "（首次记录）",
        "section.experiments": "七、SOP 步骤实验",
        "experiments.cols": "实验|结果指标|状态|对比|差异|95% 区间|p 值|可检出|结论",
        "experiments.rule": "差异 = 各组达成结果指标的比例之差；未到期的结果为中期数据，仅供参考。",
        "experiments.none": "没有步骤设置 holdout: 或 variants:。",
        "section.activities": "八、活动",
        "activities.cols": "活动|社群|类型|报名/目标|到场率|NPS|人均成本|ROI（95% 区间）",
        "activities.rule": (
            "本期结束的活动；ROI =（归因 GMV − 实际成本）÷ 实际成本，与相似未参与成员对比。"
        ),
        "activities.none": "本期没有结束的活动。",
        "col.goal": "目标",
        "col.community": "社群",
        "col.communities": "社群数",
        "col.level": "类型",
        "col.metric": "指标",
        "col.window": "考核区间",
        "col.target": "目标值",
        "col.actual": "实际值",
        "col.gap": "差距",
        "col.status": "结果",
        "col.previous": "上期",
        "col.trend": "趋势",
        "col.progress": "完成度",
        "col.milestones": "里程碑达成",
        "col.stage": "环节",
        "col.shortfall": "差目标",
        "col.change": "环比",
        "col.template": "模板",
        "col.reached": "已到考核日",
        "col.met": "全部达标",
        "col.rate": "复制成功率",
        "col.action": "建议",
        "col.playbook": "对应 SOP",
        "col.driver": "发现",
        "col.figure": "数值",
        "col.reference": "参照",
        "level.long": "长期",
        "level.short": "短期",
        "status.met": "达成",
        "status.missed": "未达成",
        "status.no_data": "无数据",
        "status.pending": "未到考核日",
        "status.untracked": "未设指标",
        "trend.better": "↑ 变好",
        "trend.worse": "↓ 变差",
        "trend.flat": "→ 持平",
        "trend.none": "—",
        "serves": "服务于：{goal}",
        "units.week": "{total} 周中 {met} 周达成",
        "units.month": "{total} 个月中 {met} 个月达成",
        "milestones": "{total} 个中 {met} 个",
        "no_goals": (
            "没有设定目标。在 shequn.toml 的社群下添加 long_term_goals / short_term_goals。"
        ),
        "drivers.channel_buyers": (
            "渠道 {channel} 带来了 {join_share} 的入群，却只贡献了 {buyer_share} 的购买者。"
        ),
        "drivers.channel_traffic": (
            "渠道 {channel} 有 {visits} 次访问，只有 {conversion} 转化为入群（整体为 {overall}）。"
        ),
        "drivers.community": "社群 {community} 的{metric}为 {value}，低于整体的 {overall}。",
        "drivers.cohort": (
            "{period} 入群的新成员中 {value} 在入群 30 天内首单，"
            "低于 {before} 入群成员的 {overall}。"
        ),
        "drivers.none": "没有发现明显拖累的渠道或社群。",
        "actions.none": "没有需要改进的环节。",
        "replication.none": "还没有社群到达考核日。",
        "replication.rule": "复制成功率 = 到考核日时目标全部达成的社群数 ÷ 已到考核日的社群数。",
        "pp": "{value} 个百分点",
        "stage.traffic": "访问 → 入群",
        "stage.activity": "入群 → 活跃",
        "stage.conversion": "活跃 → 首单",
        "stage.repurchase": "首单 → 复购",
        "stage.referral": "老带新",
        "stage.retention": "留存",
        "stage.growth": "增长",
        "chart.goals": "目标完成度（实际 ÷ 目标）",
        "chart.funnel": "漏斗各环节转化率",
        "chart.current": "本期",
        "chart.previous": "上期",
        "chart.target": "目标",
        "generated": "由 shequn 生成",
    },
    "en": {
        "title": "Review: {scope}, {period}",
        "workspace": "all communities",
        "previous_period": "compared with {period}",
        "section.goals": "1. Goals vs actuals",
        "section.funnel": "2. Funnel diagnosis",
        "section.drivers": "3. Drivers",
        "section.actions": "4. Suggested actions",
        "section.replication": "5. Replication success rate",
        "section.member_flow": "6. Member lifecycle flow",
        "col.from_state": "from",
        "col.to_state": "to",
        "col.members": "members",
        "member_flow.rule": "State changes recorded by `shequn members refresh` "
        "(new, active, silent, at_risk, churned, returned).",
        "member_flow.none": "No state change was recorded in this period.",
        "member_flow.first": "(first recorded)",
        "section.experiments": "7. SOP step experiments",
        "experiments.cols": (
            "experiment|outcome|status|arms|difference|95% CI|p|detectable|verdict"
        ),
        "experiments.rule": (
            "Difference = the share of members who met the outcome, arm minus reference; "
            "interim figures are not final (no peeking)."
        ),
        "experiments.none": "No step has holdout: or variants:.",
        "section.activities": "8. Activities",
        "activities.cols": (
            "activity|community|kind|sign-ups / goal|attendance|NPS|cost per attendee|ROI (95%)"
        ),
        "activities.rule": (
            "Activities that ended in the period; ROI = (attributed GMV − actual cost) ÷ "
            "actual cost, against similar members who did not take part."
        ),
        "activities.none": "No activity ended in the period.",
        "col.goal": "goal",
        "col.community": "community",
        "col.communities": "communities",
        "col.level": "level",
        "col.metric": "metric",
        "col.window": "window",
        "col.target": "target",
        "col.actual": "actual",
        "col.gap": "gap",
        "col.status": "status",
        "col.previous": "previous",
        "col.trend": "trend",
        "col.progress": "progress",
        "col.milestones": "milestones met",
        "col.stage": "stage",
        "col.shortfall": "short of target",
        "col.change": "change",
        "col.template": "template",
        "col.reached": "reached evaluation",
        "col.met": "all goals met",
        "col.rate": "replication success rate",
        "col.action": "action",
        "col.playbook": "playbook",
        "col.driver": "finding",
        "col.figure": "figure",
        "col.reference": "reference",
        "level.long": "long-term",
        "level.short": "short-term",
        "status.met": "met",
        "status.missed": "missed",
        "status.no_data": "no data",
        "status.pending": "not yet due",
        "status.untracked": "no metric",
        "trend.better": "↑ better",
        "trend.worse": "↓ worse",
        "trend.flat": "→ flat",
        "trend.none": "—",
        "serves": "serves: {goal}",
        "units.week": "{met} of {total} weeks met",
        "units.month": "{met} of {total} months met",
        "milestones": "{met} of {total}",
        "no_goals": "No goals set. Add long_term_goals / short_term_goals to the communities "
        "in shequn.toml.",
        "drivers.channel_buyers": "Channel {channel} brought {join_share} of joins but "
        "{buyer_share} of buyers.",
        "drivers.channel_traffic": (
            "Channel {channel} had {visits} visits but only {conversion} joined "
            "({overall} overall)."
        ),
        "drivers.community": "Community {community}: {metric} {value}, below {overall} overall.",
        "drivers.cohort": (
            "Of the members who joined in {period}, {value} made a first purchase within 30 "
            "days of joining, against {overall} of those who joined in {before}."
        ),
        "drivers.none": "No channel or community stands out as pulling the figures down.",
        "actions.none": "No stage needs action.",
        "replication.none": "No community has reached its evaluation date yet.",
        "replication.rule": "Replication success rate = communities whose goals were all met "
        "at their evaluation date / communities that have reached it.",
        "pp": "{value} pp",
        "stage.traffic": "visit → join",
        "stage.activity": "join → active",
        "stage.conversion": "active → first purchase",
        "stage.repurchase": "first purchase → repurchase",
        "stage.referral": "referral",
        "stage.retention": "retention",
        "stage.growth": "growth",
        "chart.goals": "Goal attainment (actual ÷ target)",
        "chart.funnel": "Funnel stage conversion",
        "chart.current": "this period",
        "chart.previous": "previous",
        "chart.target": "target",
        "generated": "generated by shequn",
    },
}


def t(lang: str, key: str, **values: Any) -> str:
    """The catalogue string `key` in `lang`, formatted with `values`."""
    return MESSAGES[lang][key].format(**values)


def metric_label(lang: str, metric: str) -> str:
    """The registry's label of a metric in `lang`, or the metric key when it has none."""
    found = figure(metric)
    return found.label_in(lang) if found else metric


def unit_of(metric: str) -> Unit:
    """How a metric's value reads (the registry's kind; a count when unknown)."""
    found = figure(metric)
    return found.unit if found else "count"


def fmt_value(metric: str, value: float | Decimal | int | None) -> str:
    """A metric value as shown: ratios as percent, money with cents, counts with commas."""
    if value is None:
        return "—"
    unit = unit_of(metric)
    if unit == "percent":
        return f"{float(value):.1%}"
    if unit == "money":
        return f"{Decimal(str(value)):,.2f}"
    if unit == "factor" or (isinstance(value, float) and not value.is_integer()):
        return f"{float(value):,.2f}"
    return f"{int(value):,}"


def fmt_gap(lang: str, metric: str, gap: float | None) -> str:
    """An absolute difference: percentage points for ratios, else the metric's unit."""
    if gap is None:
        return "—"
    unit = unit_of(metric)
    if unit == "percent":
        return t(lang, "pp", value=f"{abs(gap) * 100:.1f}")
    return fmt_value(metric, abs(gap) if unit == "money" else float(abs(gap)))


def fmt_share(value: float | None) -> str:
    """A share or relative change as a percent: whole from 10% up (40%), else one decimal."""
    if value is None:
        return "—"
    return f"{abs(value):.0%}" if abs(value) >= 0.095 else f"{abs(value):.1%}"
