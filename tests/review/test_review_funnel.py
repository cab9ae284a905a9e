"""The goal-first diagnosis on hand-built figures where the answer is known, and the
sentences that explain it."""

from __future__ import annotations

import html
import math
from io import BytesIO, StringIO

import pytest
from openpyxl import load_workbook
from rich.console import Console

from shequn.goals.evaluate import GoalResult, GoalSpec, evaluate_goal
from shequn.periods import month
from shequn.reports.html import render_html
from shequn.reports.markdown import render_markdown
from shequn.reports.terminal import print_review
from shequn.reports.xlsx import render_xlsx
from shequn.review.build import Review, build_review
from shequn.review.diagnosis import decline_p, diagnose_goals
from shequn.review.explain import diagnosis_text
from shequn.review.funnel import stage_targets

OCT = month(2026, 10)
# 500 members in both months; activity steady (45% → 44%, far from significant).
STEADY = {
    "members_during": 500,
    "members_at_start": 480,
    "buyers": 30,
    "visits": 0,
    "active_rate": 0.45,
    "purchase_conversion": 0.06,
    "repurchase_rate": 0.2,
    "churn_rate": 0.05,
    "k_factor": 0.01,
}
BEFORE = {**STEADY, "active_rate": 0.44, "purchase_conversion": 0.07, "buyers": 35}


def goal(metric: str, target: float, direction: str = "at_least", text: str = "") -> GoalSpec:
    return GoalSpec(f"c:{metric}", "c", text or metric, metric, target, direction, "long")  # type: ignore[arg-type]


def judged(spec: GoalSpec, current: dict) -> GoalResult:
    return evaluate_goal(spec, current.get(spec.metric or ""), None, window=OCT)


def review(lang: str, results: list[GoalResult], current: dict, before: dict) -> Review:
    return build_review(
        lang=lang,
        scope="c",
        period=OCT,
        current={"c": current},
        before={"c": before},
        goals=results,
        knowledge=[],
        names={"c": "Tea"},
    )


def test_a_missed_goal_is_traced_to_the_stage_that_failed() -> None:
    # Purchase conversion 6% against 30%: activity held (44% → 45%), so the failed stage
    # is active → first purchase, against the goal's own target.
    spec = goal("purchase_conversion", 0.3, text="30% buy")
    found = diagnose_goals([judged(spec, STEADY)], STEADY, BEFORE, {})
    assert found.state == "missed"
    (missed,) = found.missed
    assert [(c.stage, c.source, c.verdict) for c in missed.checks] == [
        ("activity", "previous", "met"),
        ("conversion", "goal", "missed"),
    ]
    assert missed.failed is missed.checks[1]
    r = review("en", [judged(spec, STEADY)], STEADY, BEFORE)
    assert diagnosis_text(r) == (
        "Missed: 30% buy — purchase conversion was 6.0%, target at least 30.0%. The stage "
        "that failed is active → first purchase: purchase conversion 6.0%, against the "
        "target 30.0%."
    )
    assert diagnosis_text(review("zh_CN", [judged(spec, STEADY)], STEADY, BEFORE)) == (
        "未达成「30% buy」：成交转化率为 6.0%，目标不低于 30.0%。"
        "出问题的环节是「活跃 → 首单」：成交转化率 6.0%，目标为 30.0%。"
    )


def test_an_upstream_stage_that_fell_significantly_is_the_failed_one() -> None:
    # A GMV goal missed; activity fell from 50% to 30% of 400 members (z ≈ 5.8), the
    # purchase and repurchase rates held: the failed stage is join → active.
    now = {**STEADY, "members_during": 400, "active_rate": 0.30, "gmv": 800}
    then = {**STEADY, "members_during": 400, "active_rate": 0.50}
    spec = goal("gmv", 1000.0, text="GMV 1000")
    found = diagnose_goals([judged(spec, now)], now, then, {})
    (missed,) = found.missed
    assert missed.failed is not None and missed.failed.stage == "activity"
    assert missed.failed.p_value is not None and missed.failed.p_value < 0.001
    assert diagnosis_text(review("en", [judged(spec, now)], now, then)).endswith(
        "The stage that failed is join → active: active rate 30.0%, against 50.0% the period "
        "before, a significant fall (p = < 0.001)."
    )


def test_a_declared_stage_target_is_used() -> None:
    spec = goal("purchase_conversion", 0.3)
    found = diagnose_goals([judged(spec, STEADY)], STEADY, BEFORE, {"active_rate": 0.9})
    checks = found.missed[0].checks
    assert (checks[0].source, checks[0].target, checks[0].verdict) == ("declared", 0.9, "missed")
    # 45% against 90% is 50% short; 6% against 30% is 80% short: conversion still fails.
    assert found.missed[0].failed is checks[1]


def test_tiny_volumes_are_not_enough_data() -> None:
    tiny = {**STEADY, "members_during": 8, "active_rate": 0.25}
    spec = goal("active_rate", 0.6, text="60% active")
    found = diagnose_goals([judged(spec, tiny)], tiny, BEFORE, {})
    (missed,) = found.missed
    assert [c.verdict for c in missed.checks] == ["not_enough_data"]
    assert missed.failed is None
    assert diagnosis_text(review("en", [judged(spec, tiny)], tiny, BEFORE)) == (
        "Missed: 60% active — active rate was 25.0%, target at least 60.0%. No stage that "
        "feeds it is clearly below its own target (not enough data: join → active)."
    )


def test_no_goals_is_said_and_only_a_significant_decline_is_named() -> None:
    # Referral: one invitation among 1,000 members, then none (k-factor 0.001 → 0, the
    # largest relative fall, 100%) is noise (z = 1); activity 26.7% → 22.7% of 1,000
    # members is not (z ≈ 2.07): the decline named is activity's.
    then = {**STEADY, "members_during": 1000, "members_at_start": 1000}
    then |= {"active_rate": 0.267, "k_factor": 0.001}
    now = {**then, "active_rate": 0.227, "k_factor": 0.0}
    found = diagnose_goals([], now, then, {})
    assert found.state == "no_goals" and found.decline is not None
    assert found.decline.stage == "activity"
    assert diagnosis_text(review("en", [], now, then)) == (
        "No goals are set for Tea, so nothing is met or missed. Add long_term_goals / "
        "short_term_goals under the community in shequn.toml. The largest significant fall "
        "is join → active: active rate went from 26.7% to 22.7% (1,000 → 1,000 in the base, "
        "p = 0.019)."
    )
    assert "Every stage met its target" not in diagnosis_text(review("en", [], now, then))


def test_no_goals_and_no_significant_fall() -> None:
    text = diagnosis_text(review("en", [], STEADY, BEFORE))
    assert text == (
        "No goals are set for Tea, so nothing is met or missed. Add long_term_goals / "
        "short_term_goals under the community in shequn.toml. No stage fell significantly "
        "against the previous period (two-proportion test, p < 0.05, at least 30 in each "
        "period)."
    )


def test_goals_met_then_the_decline() -> None:
    spec = goal("active_rate", 0.4)
    found = diagnose_goals([judged(spec, STEADY)], STEADY, BEFORE, {})
    assert (found.state, found.missed, found.decline) == ("met", (), None)
    assert diagnosis_text(review("en", [judged(spec, STEADY)], STEADY, BEFORE)).startswith(
        "Every goal with a target was met. No stage fell significantly"
    )


def test_a_churn_goal_fails_at_retention() -> None:
    now = {**STEADY, "churn_rate": 0.29}
    spec = goal("churn_rate", 0.1, "at_most", text="churn ≤ 10%")
    found = diagnose_goals([judged(spec, now)], now, BEFORE, {})
    (missed,) = found.missed
    assert missed.failed is not None
    assert (missed.failed.stage, missed.failed.verdict) == ("retention", "missed")


def test_unknown_purchase_conversion_is_no_data() -> None:
    # No orders: purchase conversion is None (review/quality.py), never a stage that failed.
    now = {**STEADY, "purchase_conversion": None, "gmv": None}
    spec = goal("purchase_conversion", 0.3)
    result = judged(spec, now)
    assert result.status == "no_data"
    found = diagnose_goals([result], now, BEFORE, {})
    assert found.state == "unjudged" and found.missed == ()


@pytest.mark.parametrize(
    ("now", "base", "before", "base_before", "z"),
    [
        # pooled 0.247, se = sqrt(0.247 · 0.753 · 2/1000) = 0.01929
        (0.227, 1000, 0.267, 1000, 0.04 / math.sqrt(0.247 * 0.753 * 0.002)),
        (0.5, 100, 0.5, 100, 0.0),
    ],
)
def test_decline_p_is_the_one_sided_two_proportion_test(
    now: float, base: int, before: float, base_before: int, z: float
) -> None:
    expected = 0.5 * math.erfc(z / math.sqrt(2))
    assert decline_p(now, base, before, base_before, True) == pytest.approx(expected)


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


def test_the_workspace_review_diagnoses_each_community_on_each_goals_window() -> None:
    # Community "c" missed a goal judged over September; its stages are read from
    # September's figures (activity fell from 45% to 20%), not October's.
    sept = month(2026, 9)
    spec = GoalSpec("c:camp", "c", "camp", "purchase_conversion", 0.3, "at_least", "long")
    result = evaluate_goal(spec, 0.06, None, window=sept)
    windows = {
        sept: {"c": {**STEADY, "active_rate": 0.2}},
        month(2026, 8): {"c": {**STEADY, "active_rate": 0.45}},
    }
    r = build_review(
        lang="en",
        scope="*",
        period=OCT,
        current={"*": STEADY, "c": STEADY, "d": STEADY},
        before={"*": BEFORE, "c": BEFORE, "d": BEFORE},
        goals=[result],
        knowledge=[],
        names={"c": "Camp", "*": "all"},
        window_figures=lambda window: windows[window],
    )
    (missed,) = r.diagnosis.missed
    activity = missed.checks[0]
    assert (activity.actual, activity.target, activity.verdict) == (0.2, 0.45, "missed")
    # activity is 56% short of its previous level, conversion 80% short of the goal
    assert missed.failed is missed.checks[1]
    assert diagnosis_text(r).startswith("[Camp] Missed: camp — purchase conversion was 6.0%")


def _shown(r: Review, fmt: str) -> str:
    """The review as the user reads it in one output format."""
    if fmt == "md":
        return render_markdown(r)
    if fmt == "html":
        return html.unescape(render_html(r, echarts_js="var echarts;"))
    if fmt == "xlsx":
        book = load_workbook(BytesIO(render_xlsx(r)))
        return "\n".join(
            "\n".join([sheet.title, *(str(c.value) for row in sheet.iter_rows() for c in row)])
            for sheet in book
        )
    out = StringIO()
    print_review(r, Console(file=out, width=1000, color_system=None))
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["md", "html", "xlsx", "terminal"])
def test_every_format_shows_the_diagnosis(fmt: str) -> None:
    tiny = {**STEADY, "members_during": 8, "active_rate": 0.25}
    spec = goal("active_rate", 0.6, text="60% active")
    shown = _shown(review("en", [judged(spec, tiny)], tiny, BEFORE), fmt)
    assert "(not enough data: join → active)" in shown
    assert "not enough data" in shown.split("Stages of the missed goals")[1]
    shown = _shown(review("en", [], STEADY, BEFORE), fmt)
    assert "No goals are set for Tea" in shown
    assert "Every stage met its target" not in shown
