"""The strings of the diagnosis, data-quality warnings and playbook outcomes.

Kept apart from review/i18n.py's catalogue (whose labels are being moved to the metric
registry) so the two merge cleanly; they can join it in one piece.
"""

from __future__ import annotations

from typing import Any

from shequn.review import i18n

TEXTS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "sep": "",  # between sentences
        "section.quality": "数据质量",
        "section.checks": "未达成目标的各环节",
        "quality.none": "没有发现数据质量问题。",
        "quality.empty": "{scope} 的日志里没有任何事件。",
        "quality.no_orders": (
            "{scope} 没有导入订单：成交转化率、复购率和成交额未知（显示为 —），不是 0。"
            "用 `shequn import orders.csv` 导入订单。"
        ),
        "quality.no_leaves": (
            "{scope} 的数据里没有任何退群事件：流失率可能被低估（有些导出不记录退群）。"
        ),
        "quality.no_channels": (
            "{scope} 的入群都没有来源渠道，也没有访问数据：这个平台无法归因渠道，"
            "引流转化率和渠道分析不可用。"
        ),
        "quality.partial": (
            "{scope} 的数据只覆盖 {period} 中的 {first} 至 {last}：其余日期的数字缺失，不是 0。"
        ),
        "quality.outside": "{scope} 的数据（{first} 至 {last}）不在 {period} 之内。",
        "diag.no_goals": (
            "{scope} 没有设定目标，无从判断达成与否。"
            "在 shequn.toml 的社群下添加 long_term_goals / short_term_goals。"
        ),
        "diag.met": "所有设定了目标值的目标都已达成。",
        "diag.unjudged": "本期没有可以判断的目标（无数据或尚未到期）。",
        "diag.in": "【{community}】",
        "diag.missed": "未达成「{goal}」：{metric}为 {actual}，目标{direction} {target}。",
        "diag.failed": "出问题的环节是「{stage}」：{metric} {actual}，{against}。",
        "diag.unclear": "供给它的各环节都没有明显低于各自的目标{why}。",
        "diag.unclear.data": "（{stages} 数据不足）",
        "diag.decline": (
            "显著下降最大的环节是「{stage}」：{metric}从 {previous} 变为 {actual}"
            "（{base_before} → {base} 人，p = {p}）。"
        ),
        "diag.no_decline": "没有环节比上期显著下降（双比例检验 p < 0.05，每期至少 {min} 人）。",
        "against.goal": "目标为 {target}",
        "against.declared": "该环节的目标为 {target}",
        "against.previous": "上期为 {target}，显著下降（p = {p}）",
        "direction.at_least": "不低于",
        "direction.at_most": "不高于",
        "col.goal": "目标",
        "col.stage": "环节",
        "col.metric": "指标",
        "col.actual": "实际值",
        "col.target": "环节目标",
        "col.source": "目标来源",
        "col.base": "基数",
        "col.verdict": "判断",
        "col.warning": "问题",
        "source.goal": "该目标",
        "source.declared": "设定的环节目标",
        "source.previous": "上期水平",
        "verdict.met": "达标",
        "verdict.missed": "未达标",
        "verdict.not_enough_data": "数据不足",
        "verdict.no_data": "无数据",
        "ran": (
            "本期 {playbook} 已运行：发送 {sent} 条，按时 {on_time}，"
            "完成任务 {done} 个，错过 {missed} 次"
        ),
        "ran.none": "本期 {playbook} 未运行",
        "ran.sep": "；",
        "col.ran": "本期执行情况",
    },
    "en": {
        "sep": " ",
        "section.quality": "Data quality",
        "section.checks": "Stages of the missed goals",
        "quality.none": "No data-quality problem found.",
        "quality.empty": "The log holds no event of {scope}.",
        "quality.no_orders": (
            "No orders are imported for {scope}: purchase conversion, repurchase and GMV are "
            "unknown (shown as —), not zero. Import orders with `shequn import orders.csv`."
        ),
        "quality.no_leaves": (
            "The data of {scope} holds no leave event: churn may be understated (some "
            "exports do not record who left)."
        ),
        "quality.no_channels": (
            "No join of {scope} says where it came from, and there is no visit: this "
            "platform cannot attribute channels, so traffic conversion and channel drivers "
            "are not available."
        ),
        "quality.partial": (
            "The data of {scope} covers only {first} to {last} of {period}: figures for the "
            "other days are missing, not zero."
        ),
        "quality.outside": "The data of {scope} ({first} to {last}) lies outside {period}.",
        "diag.no_goals": (
            "No goals are set for {scope}, so nothing is met or missed. Add "
            "long_term_goals / short_term_goals under the community in shequn.toml."
        ),
        "diag.met": "Every goal with a target was met.",
        "diag.unjudged": "No goal could be judged this period (no data, or not yet due).",
        "diag.in": "[{community}] ",
        "diag.missed": "Missed: {goal} — {metric} was {actual}, target {direction} {target}.",
        "diag.failed": "The stage that failed is {stage}: {metric} {actual}, {against}.",
        "diag.unclear": "No stage that feeds it is clearly below its own target{why}.",
        "diag.unclear.data": " (not enough data: {stages})",
        "diag.decline": (
            "The largest significant fall is {stage}: {metric} went from {previous} to "
            "{actual} ({base_before} → {base} in the base, p = {p})."
        ),
        "diag.no_decline": (
            "No stage fell significantly against the previous period (two-proportion test, "
            "p < 0.05, at least {min} in each period)."
        ),
        "against.goal": "against the target {target}",
        "against.declared": "against the stage's target {target}",
        "against.previous": "against {target} the period before, a significant fall (p = {p})",
        "direction.at_least": "at least",
        "direction.at_most": "at most",
        "col.goal": "goal",
        "col.stage": "stage",
        "col.metric": "metric",
        "col.actual": "actual",
        "col.target": "stage target",
        "col.source": "target from",
        "col.base": "base",
        "col.verdict": "verdict",
        "col.warning": "problem",
        "source.goal": "the goal",
        "source.declared": "a goal on this stage",
        "source.previous": "previous level",
        "verdict.met": "met",
        "verdict.missed": "missed",
        "verdict.not_enough_data": "not enough data",
        "verdict.no_data": "no data",
        "ran": (
            "{playbook} ran this period: {sent} sent, {on_time} on time, {done} tasks done, "
            "{missed} missed"
        ),
        "ran.none": "{playbook} did not run this period",
        "ran.sep": "; ",
        "col.ran": "this period",
    },
}


def say(lang: str, key: str, **values: Any) -> str:
    """The string `key` of this module in `lang`, formatted with `values`."""
    return TEXTS[lang][key].format(**values)


def stage_name(lang: str, stage: str) -> str:
    """A funnel stage's name (from the review's catalogue)."""
    return i18n.t(lang, f"stage.{stage}")
