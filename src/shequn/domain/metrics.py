"""The metric registry: every figure of docs/metrics.md, declared once.

Three layers, each a list of small declarations (declare, don't branch):

- `FLAGS`: facts about one member in one scope (a community, or `*` for the
  workspace), aggregated from a row source of the engine's SQL. `combine` says how a
  member's per-community values become their workspace value.
- `FACTS`: counts and sums per scope, aggregated from a source (`members` is the
  per-member flags; the others are row sources of the engine's SQL).
- `METRICS`: what is shown: a fact expression, or a ratio of two (None when the
  denominator is 0).
- `DERIVED`: figures the review derives from goal results, not from the event log.
- `DAILY`: figures of one local day, per community, measured by the daily watch
  (`shequn.sop.watch`) for thresholds (their `frequency` is "day").

Adding a metric over existing facts is one `Metric(...)` line; a metric that needs a
new fact adds a `Fact(...)` (and maybe a `Flag(...)`) beside it. Every figure's name,
Chinese and English label and kind live here and nowhere else: the review, the reports
and the CLI read them through `figure`.

This module is pure declarations (it imports nothing of shequn), so the settings
(`shequn.config`) can check a goal's metric against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "ratio", "money", "table"]
Unit = Literal["count", "percent", "factor", "money", "table"]
Lang = Literal["zh_CN", "en"]


@dataclass(frozen=True)
class Flag:
    """A fact about one member in one scope (SQL aggregate over `source` rows)."""

    name: str
    source: str
    expr: str
    combine: Literal["MAX", "MIN", "SUM"] = "MAX"


@dataclass(frozen=True)
class Fact:
    """A count or sum per scope (SQL aggregate over `source` rows)."""

    name: str
    source: str
    expr: str
    money: bool = False


@dataclass(frozen=True)
class Metric:
    """One figure of docs/metrics.md.

    Attributes:
        name: the snake_case name of docs/metrics.md (the JSON key).
        label: the Chinese label shown in tables.
        english: the English label.
        kind: count, ratio, money, or table (a per-channel / per-item breakdown).
        value: SQL over facts; for a ratio, its numerator.
        per: for a ratio, SQL over facts for the denominator.
        percent: whether a ratio reads as a percentage (not a count per something).
        frequency: "period" (measured over a review period) or "day" (one local day).
        threshold: for a daily figure, the name a threshold writes (`active_rate`).
        goal: for a daily figure, the metric whose goal target a `goal` bound reads (a
            figure of the same meaning), or None when no goal measures it.
    """

    name: str
    label: str
    english: str
    kind: Kind
    value: str = ""
    per: str | None = None
    percent: bool = True
    frequency: Literal["period", "day"] = "period"
    threshold: str = ""
    goal: str | None = None

    def label_in(self, lang: str) -> str:
        """The label in `lang` ("zh_CN" or "en")."""
        return self.label if lang == "zh_CN" else self.english

    @property
    def unit(self) -> Unit:
        """How a value reads: a count, a percent, a factor (x per y), money or a table."""
        if self.kind == "ratio":
            return "percent" if self.percent else "factor"
        return self.kind


_IN_P = "{ps} <= {col} AND {col} < {pe}"


def _in_p(col: str) -> str:
    return _IN_P.replace("{col}", col)


FLAGS: tuple[Flag, ...] = (
    Flag("at_start", "iv_p", "MAX(CASE WHEN start_ts <= {ps} AND {ps} < end_ts THEN 1 ELSE 0 END)"),
    Flag("at_end", "iv_p", "MAX(CASE WHEN start_ts <= {pe} AND {pe} < end_ts THEN 1 ELSE 0 END)"),
    Flag(
        "during",
        "iv_p",
        "MAX(CASE WHEN start_ts < {pe} AND end_ts > {ps} AND start_ts < end_ts THEN 1 ELSE 0 END)",
    ),
    Flag("seed", "iv_p", "MAX(seed)"),
    Flag("reached", "iv_p", "MAX(reached)"),
    Flag("active", "activity", "MAX(1)"),
    Flag("speaker", "activity", "MAX(spoke)"),
    Flag("left_p", "leaves_p", "MAX(1)"),
    Flag("paid_orders", "orders_p", "SUM(CASE WHEN net > 0 THEN 1 ELSE 0 END)", "SUM"),
    Flag("spent", "orders_p", "SUM(net)", "SUM"),
    Flag("first_join", "first_joins", "MIN(ts)", "MIN"),
    Flag("first_paid", "orders_all", "MIN(CASE WHEN net > 0 THEN first_ts END)", "MIN"),
)


def _members_with(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


FACTS: tuple[Fact, ...] = (
    Fact("at_start", "members", _members_with("at_start = 1")),
    Fact("at_end", "members", _members_with("at_end = 1")),
    Fact("during", "members", _members_with("during = 1")),
    Fact("active", "members", _members_with("active = 1")),
    Fact("speakers", "members", _members_with("speaker = 1")),
    Fact("churned", "members", _members_with("at_start = 1 AND left_p = 1")),
    Fact("buyers", "members", _members_with("paid_orders > 0")),
    Fact("repurchasers", "members", _members_with("paid_orders >= 2")),
    Fact("seeds", "members", _members_with("seed = 1")),
    Fact("reached", "members", _members_with("reached = 1")),
    Fact("cohort", "members", _members_with(_in_p("first_join"))),
    Fact(
        "converted",
        "members",
        _members_with(_in_p("first_join") + " AND first_paid < first_join + {cohort_us}"),
    ),
    Fact("joins", "events", "SUM(CASE WHEN type = 'join' THEN 1 ELSE 0 END)"),
    Fact("leaves", "events", "SUM(CASE WHEN type = 'leave' THEN 1 ELSE 0 END)"),
    Fact("messages", "events", "SUM(CASE WHEN type = 'message' THEN 1 ELSE 0 END)"),
    Fact(
        "channel_joins",
        "events",
        "SUM(CASE WHEN type = 'join' AND channel IS NOT NULL THEN 1 ELSE 0 END)",
    ),
    Fact(
        "gmv",
        "events",
        "SUM(CASE WHEN type = 'order' THEN COALESCE(amount, 0) ELSE 0 END)",
        money=True,
    ),
    Fact("orders", "orders", "SUM(CASE WHEN net > 0 THEN 1 ELSE 0 END)"),
    Fact("invited", "invited", "COUNT(*)"),
    Fact("visits", "channels", "SUM(visits)"),
    Fact("visit_joins", "channels", "SUM(CASE WHEN visits > 0 THEN channel_joins ELSE 0 END)"),
    Fact("dau", "days", "SUM(CASE WHEN day = {last} THEN dau ELSE 0 END)"),
    Fact("dau_sum", "days", "SUM(CASE WHEN day >= {ds} AND day < {de} THEN dau ELSE 0 END)"),
    Fact("wau", "window", "COUNT(DISTINCT CASE WHEN day >= {last} - 6 THEN member END)"),
    Fact("mau", "window", "COUNT(DISTINCT member)"),
    Fact("tasks_due", "tasks", "SUM(CASE WHEN " + _in_p("due") + " THEN 1 ELSE 0 END)"),
    Fact(
        "tasks_on_time",
        "tasks",
        "SUM(CASE WHEN " + _in_p("due") + " AND done_ts <= due THEN 1 ELSE 0 END)",
    ),
)


def _count(name: str, label: str, english: str, value: str) -> Metric:
    return Metric(name, label, english, "count", value)


def _ratio(
    name: str, label: str, english: str, value: str, per: str, percent: bool = True
) -> Metric:
    return Metric(name, label, english, "ratio", value, per, percent)


METRICS: tuple[Metric, ...] = (
    _count("members_at_start", "期初成员数", "members at start", "at_start"),
    _count("members_at_end", "期末成员数", "members at end", "at_end"),
    _count("members_during", "期间成员数", "members during", "during"),
    _count("joins", "入群数", "joins", "joins"),
    _count("leaves", "退群数", "leaves", "leaves"),
    _count("net_growth", "净增长", "net growth", "at_end - at_start"),
    _ratio("growth_rate", "用户增长率", "growth rate", "at_end - at_start", "at_start"),
    _ratio("churn_rate", "流失率", "churn rate", "churned", "at_start"),
    _count("dau", "日活(末日)", "DAU (last day)", "dau"),
    _count("wau", "周活(末日)", "WAU (last day)", "wau"),
    _count("mau", "月活(末日)", "MAU (last day)", "mau"),
    _count("active_members", "活跃成员数", "active members", "active"),
    _ratio("active_rate", "活跃度", "active rate", "active", "during"),
    _ratio("speaking_rate", "发言率", "speaking rate", "speakers", "during"),
    _ratio("stickiness", "黏性(DAU/MAU)", "stickiness", "dau_sum", "{days} * mau"),
    _count("messages", "消息数", "messages", "messages"),
    _ratio("messages_per_active", "人均消息数", "messages per active", "messages", "active", False),
    _count("visits", "访问数", "visits", "visits"),
    _count("channel_joins", "渠道入群数", "channel joins", "channel_joins"),
    _ratio("traffic_conversion", "引流转化率", "traffic conversion", "visit_joins", "visits"),
    Metric("by_channel", "分渠道", "by channel", "table"),
    _count("buyers", "购买人数", "buyers", "buyers"),
    _ratio("purchase_conversion", "成交转化率", "purchase conversion", "buyers", "during"),
    _ratio("repurchase_rate", "复购率", "repurchase rate", "repurchasers", "buyers"),
    _count("orders", "订单数", "orders", "orders"),
    Metric("gmv", "成交额", "GMV", "money", "gmv"),
    Metric("aov", "客单价", "average order value", "money", "gmv", "orders"),
    Metric("arpu", "人均贡献", "revenue per member", "money", "gmv", "during"),
    _ratio("join_cohort_conversion", "新人转化率", "join-cohort conversion", "converted", "cohort"),
    _ratio("k_factor", "K 因子", "k-factor", "invited", "at_start", False),
    _ratio("fission_multiplier", "裂变倍增率", "fission multiplier", "reached", "seeds", False),
    Metric("content_ctr", "内容点击率", "content CTR", "table"),
    _ratio("sop_on_time_rate", "SOP 执行率", "SOP on-time rate", "tasks_on_time", "tasks_due"),
)

DERIVED: tuple[Metric, ...] = (
    _ratio("replication_success_rate", "复制成功率", "replication success rate", "", ""),
)


def _daily(
    name: str, label: str, english: str, kind: Kind, threshold: str, goal: str | None
) -> Metric:
    return Metric(name, label, english, kind, frequency="day", threshold=threshold, goal=goal)


# A `goal` bound compares a day's value with the target of a goal on `goal`: only where
# the goal's metric means the same for one day. `active_rate` of a period is active ÷
# members during it; the daily active rate is DAU ÷ members at the day's end: no goal.
DAILY: tuple[Metric, ...] = (
    _daily("daily_members", "日末成员数", "members at day end", "count", "members",
           "members_at_end"),
    _daily("daily_joins", "当日入群数", "joins of the day", "count", "joins", "joins"),
    _daily("daily_leaves", "当日退群数", "leaves of the day", "count", "leaves", "leaves"),
    _daily("daily_messages", "当日消息数", "messages of the day", "count", "messages",
           "messages"),
    _daily("daily_dau", "当日日活", "DAU of the day", "count", "dau", "dau"),
    _daily("daily_active_rate", "日活跃率", "daily active rate", "ratio", "active_rate", None),
    _daily("daily_orders", "当日订单数", "orders of the day", "count", "orders", "orders"),
    _daily("daily_gmv", "当日成交额", "GMV of the day", "money", "gmv", "gmv"),
)  # fmt: skip

FIGURES: tuple[Metric, ...] = (*METRICS, *DERIVED, *DAILY)
BY_NAME: dict[str, Metric] = {m.name: m for m in FIGURES}
DAILY_BY_THRESHOLD: dict[str, Metric] = {m.threshold: m for m in DAILY}


def figure(name: str) -> Metric | None:
    """The registry entry of a figure (metric, derived or daily), or None."""
    return BY_NAME.get(name)


def goal_metrics() -> tuple[str, ...]:
    """The metric names a goal may use: every single-valued metric of a period."""
    return tuple(m.name for m in METRICS if m.kind != "table")
