"""Replication success rate (复制成功率) from hand-made goal results."""

from __future__ import annotations

from shequn.goals.evaluate import GoalSpec, evaluate_goal
from shequn.review.replication import CommunityOutcome, replication_rates

GOAL = GoalSpec("x:long:0", "x", "30% buy", "purchase_conversion", 0.3, "at_least", "long")
NOTE = GoalSpec("x:long:1", "x", "be kind", None, None, "at_least", "long")


def outcome(key: str, template: str, reached: bool, *values: float | None) -> CommunityOutcome:
    results = (*(evaluate_goal(GOAL, v) for v in values), evaluate_goal(NOTE, None))
    return CommunityOutcome(key, template, reached, results if reached else ())


def test_rate_is_all_met_over_reached_per_template() -> None:
    rates = replication_rates(
        [
            outcome("a", "camp", True, 0.35),  # met
            outcome("b", "camp", True, 0.35, 0.2),  # one goal missed
            outcome("c", "camp", True, 0.31),  # met
            outcome("d", "camp", False),  # not yet at its evaluation date
            outcome("e", "camp", True, None),  # no data counts as not met
            outcome("f", "shop", False),
            outcome("g", "", True, 0.5),  # no template: not in any rate
        ]
    )
    assert [(r.template, r.met, r.reached, r.communities, r.rate) for r in rates] == [
        ("camp", 2, 4, 5, 0.5),
        ("shop", 0, 0, 1, None),
    ]


def test_community_without_measurable_goals_is_not_judged() -> None:
    only_note = CommunityOutcome("a", "camp", True, (evaluate_goal(NOTE, None),))
    (rate,) = replication_rates([only_note, outcome("b", "camp", True, 0.4)])
    assert (rate.met, rate.reached, rate.rate) == (1, 1, 1.0)
