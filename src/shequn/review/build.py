"""The review (复盘) as data: pure functions from metric dicts and goals to a `Review`.

Renderers (shequn.reports) turn a `Review` into terminal, Markdown, HTML or Excel output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shequn.goals.evaluate import GoalResult
from shequn.periods import Period, previous
from shequn.review.drivers import (
    Driver,
    channel_buyer_drivers,
    channel_traffic_drivers,
    cohort_drivers,
    community_drivers,
)
from shequn.review.evaluation import arrange
from shequn.review.funnel import STAGE_OF_METRIC, Funnel, diagnose, stage_targets
from shequn.review.knowledge import Action, actions_for
from shequn.review.replication import ReplicationRate

Metrics = Mapping[str, Mapping[str, Any]]
WORKSPACE = "*"


@dataclass(frozen=True)
class Review:
    """Everything a report shows, in one language."""

    lang: str
    scope: str  # a community key, or "*" for the whole workspace
    scope_name: str
    period: Period
    previous: Period
    goals: tuple[GoalResult, ...]
    funnel: Funnel
    drivers: tuple[Driver, ...]
    actions: tuple[Action, ...]
    replication: tuple[ReplicationRate, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    currency: str = "CNY"


def build_review(
    *,
    lang: str,
    scope: str,
    period: Period,
    current: Metrics,
    before: Metrics,
    goals: Iterable[GoalResult],
    knowledge: Iterable[Action],
    replication: Iterable[ReplicationRate] = (),
    names: Mapping[str, str] | None = None,
    currency: str = "CNY",
) -> Review:
    """Assemble the review of `scope` for `period` from metric dicts and judged goals.

    Args:
        lang: zh_CN or en.
        scope: a community key or "*".
        period: the review period.
        current: `compute` output for `period`.
        before: `compute` output for the previous period.
        goals: the judged goals of the scope.
        knowledge: the actions to choose suggestions from.
        replication: rates per template.
        names: display names per community key.
        currency: shown next to money.
    """
    names = dict(names or {})
    results = tuple(arrange(goals))
    row = current.get(scope, {})
    # Community goals are targets for that community only, not for the sum of all of
    # them; only goals judged over exactly the review period are its stages' targets.
    over_period = [r.goal for r in results if r.window == period and not r.units]
    targets = stage_targets(g for g in over_period if g.community == scope)
    funnel = diagnose(row, before.get(scope, {}), targets)
    drivers = _drivers(current, scope, funnel, results, names)
    drivers += cohort_drivers(row, before.get(scope, {}), period.label, previous(period).label)
    stages = [funnel.weakest.key] if funnel.weakest else []
    stages += [
        STAGE_OF_METRIC[r.goal.metric]
        for r in results
        if r.status == "missed" and r.goal.metric in STAGE_OF_METRIC
    ]
    return Review(
        lang=lang,
        scope=scope,
        scope_name=names.get(scope, scope),
        period=period,
        previous=previous(period),
        goals=results,
        funnel=funnel,
        drivers=tuple(drivers),
        actions=tuple(actions_for(knowledge, stages)),
        replication=tuple(replication),
        names=names,
        currency=currency,
    )


def _drivers(
    current: Metrics,
    scope: str,
    funnel: Funnel,
    results: tuple[GoalResult, ...],
    names: Mapping[str, str],
) -> list[Driver]:
    by_channel = current.get(scope, {}).get("by_channel") or {}
    found = channel_buyer_drivers(by_channel) + channel_traffic_drivers(by_channel)
    if scope == WORKSPACE:
        focus = funnel.weakest.metric if funnel.weakest else None
        missed = [r.goal for r in results if r.status == "missed" and r.goal.metric]
        if focus is None and missed:
            focus = missed[0].metric
        if focus:
            higher = not any(g.metric == focus and g.direction == "at_most" for g in missed)
            found += community_drivers(current, focus, higher_is_better=higher, names=names)
    return found


def attainment(result: GoalResult) -> float | None:
    """Actual ÷ target for at-least goals, target ÷ actual for at-most goals (1.0 = on target)."""
    goal, actual = result.goal, result.actual
    if actual is None or goal.target is None:
        return None
    if goal.direction == "at_least":
        return actual / goal.target if goal.target else None
    return goal.target / actual if actual else None


def as_float(value: Any) -> float | None:
    """A metric value as a float for charts and spreadsheets (None stays None)."""
    return float(value) if isinstance(value, int | float | Decimal) else None
