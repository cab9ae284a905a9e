"""The funnel's weakest-stage rule and its one-sentence explanation."""

from __future__ import annotations

from shequn.goals.evaluate import GoalSpec
from shequn.review.funnel import diagnose, explain, stage_targets

CURRENT = {
    "traffic_conversion": 0.08,
    "active_rate": 0.45,
    "purchase_conversion": 0.04,
    "repurchase_rate": 0.2,
    "k_factor": 0.05,
}
PREVIOUS = {
    "traffic_conversion": 0.10,
    "active_rate": 0.5,
    "purchase_conversion": 0.05,
    "repurchase_rate": 0.3,
    "k_factor": 0.05,
}


def test_weakest_is_largest_shortfall_relative_to_target() -> None:
    # active_rate 0.45 vs 0.6 is 25% short; purchase_conversion 0.04 vs 0.05 is 20% short.
    funnel = diagnose(CURRENT, PREVIOUS, {"active_rate": 0.6, "purchase_conversion": 0.05})
    assert funnel.reason == "shortfall"
    assert funnel.weakest is not None
    assert funnel.weakest.key == "activity"
    assert round(funnel.weakest.shortfall or 0, 6) == 0.25
    assert explain(funnel, "en") == (
        "The weakest stage is join → active: active rate was 45.0%, 15.0 pp below the target "
        "60.0% (25% short), against 50.0% in the previous period."
    )
    assert explain(funnel, "zh_CN") == (
        "最薄弱环节是「入群 → 活跃」：活跃度为 45.0%，比目标 60.0% 低 15.0 个百分点"
        "（差 25%），上期为 50.0%。"
    )


def test_relative_shortfall_beats_absolute_one() -> None:
    # purchase 0.04 vs 0.08 is 50% short (4 pp); active 0.45 vs 0.6 is 25% short (15 pp).
    funnel = diagnose(CURRENT, PREVIOUS, {"active_rate": 0.6, "purchase_conversion": 0.08})
    assert funnel.weakest is not None and funnel.weakest.key == "conversion"


def test_all_targets_met_falls_back_to_largest_drop() -> None:
    # repurchase fell 33%, traffic 20%, activity 10%, conversion 20%; targets all met.
    funnel = diagnose(CURRENT, PREVIOUS, {"active_rate": 0.4, "traffic_conversion": 0.05})
    assert funnel.reason == "drop"
    assert funnel.weakest is not None and funnel.weakest.key == "repurchase"
    assert explain(funnel, "en") == (
        "The weakest stage is first purchase → repurchase: repurchase rate fell from 30.0% to "
        "20.0% (33% lower), the largest drop of any stage."
    )
    assert explain(funnel, "zh_CN") == (
        "最薄弱环节是「首单 → 复购」：复购率从上期的 30.0% 降到 20.0%（下降 33%），"
        "是各环节中降幅最大的。"
    )


def test_nothing_short_nothing_dropped() -> None:
    funnel = diagnose(PREVIOUS, CURRENT, {})
    # PREVIOUS vs CURRENT: every stage rose or stayed (k_factor equal).
    assert (funnel.weakest, funnel.reason) == (None, None)
    assert explain(funnel, "en") == (
        "Every stage met its target and none fell against the previous period."
    )


def test_none_values_are_skipped_not_zero() -> None:
    current = {**CURRENT, "active_rate": None, "repurchase_rate": None}
    funnel = diagnose(current, PREVIOUS, {"active_rate": 0.9})
    # active_rate has no data, so no shortfall; the largest drop among the rest is traffic
    # and conversion (both -20%); the earlier stage wins the tie.
    assert funnel.reason == "drop"
    assert funnel.weakest is not None and funnel.weakest.key == "traffic"


def test_stage_targets_only_review_period_at_least_goals() -> None:
    goals = [
        GoalSpec(
            "c:long:0",
            "c",
            "",
            "purchase_conversion",
            0.3,
            "at_least",
            "long",
            period="horizon",
            horizon=30,
        ),
        GoalSpec("c:short:0", "c", "", "purchase_conversion", 0.08, "at_least", "short"),
        GoalSpec("c:short:1", "c", "", "churn_rate", 0.1, "at_most", "short"),
    ]
    assert stage_targets(goals) == {"purchase_conversion": 0.08}
    assert stage_targets(goals[:1]) == {}  # a day-30 horizon is not a monthly target
