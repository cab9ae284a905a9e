"""The funnel: each stage's conversion against its target and the previous period.

visits → joins → active → first purchase → repurchase → referral. Which stage failed is
decided goal first, in review/diagnosis.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from shequn.goals.evaluate import GoalSpec

STAGES: tuple[tuple[str, str], ...] = (
    ("traffic", "traffic_conversion"),
    ("activity", "active_rate"),
    ("conversion", "purchase_conversion"),
    ("repurchase", "repurchase_rate"),
    ("referral", "k_factor"),
)
STAGE_OF_METRIC: dict[str, str] = {
    **{metric: stage for stage, metric in STAGES},
    "speaking_rate": "activity",
    "stickiness": "activity",
    "messages": "activity",
    "churn_rate": "retention",
    "growth_rate": "growth",
    "joins": "growth",
    "net_growth": "growth",
    "fission_multiplier": "referral",
    "buyers": "conversion",
    "gmv": "conversion",
}


@dataclass(frozen=True)
class Stage:
    """One funnel stage's figures."""

    key: str
    metric: str
    actual: float | None
    previous: float | None
    target: float | None

    @property
    def shortfall(self) -> float | None:
        """How far below target, relative to the target (0.25 = 25% short); None if unknown."""
        if self.target is None or self.actual is None or self.target <= 0:
            return None
        return (self.target - self.actual) / self.target

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (-0.2 = fell by 20%)."""
        if self.actual is None or not self.previous:
            return None
        return (self.actual - self.previous) / self.previous


@dataclass(frozen=True)
class Funnel:
    """All stages, in funnel order."""

    stages: tuple[Stage, ...]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float | Decimal) else None


def stage_targets(goals: Iterable[GoalSpec]) -> dict[str, float]:
    """Targets for the funnel metrics from at-least goals measured over the review period.

    Goals with their own dates or a horizon ("day 30") are judged over other windows, so
    they are not targets for the review period's conversion.
    """
    targets: dict[str, float] = {}
    for goal in goals:
        if goal.period in ("fixed", "horizon"):
            continue
        if goal.metric and goal.target is not None and goal.direction == "at_least":
            targets.setdefault(goal.metric, goal.target)
    return targets


def funnel_of(
    current: Mapping[str, Any], previous: Mapping[str, Any], targets: Mapping[str, float]
) -> Funnel:
    """The stages from two metric dicts.

    Args:
        current: metric values of the scope for the review period.
        previous: the same for the previous period (may be empty).
        targets: target per metric name.
    """
    return Funnel(
        tuple(
            Stage(
                key,
                metric,
                _num(current.get(metric)),
                _num(previous.get(metric)),
                targets.get(metric),
            )
            for key, metric in STAGES
        )
    )
