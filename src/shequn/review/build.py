"""The review (复盘) as data: pure functions from metric dicts and goals to a `Review`.

Renderers (shequn.reports) turn a `Review` into terminal, Markdown, HTML or Excel output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from shequn.review.drivers import (
    Driver,
    channel_buyer_drivers,
    channel_traffic_drivers,
    cohort_drivers,
    community_drivers,
)
from shequn.review.funnel import STAGE_OF_METRIC, Funnel, diagnose, stage_targets
from shequn.review.goals import GoalResult, GoalSpec, evaluate_goal
from shequn.review.knowledge import Action, actions_for
from shequn.review.periods import Period, previous
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


def goal_window(goal: GoalSpec, period: Period, created: Any = None) -> Period | None:
    """The dates a goal is measured over in a review of `period`.

    Review-period goals use `period`; fixed goals their own dates; horizon goals days
    0..N-1 after the community's creation date `created` (None when unknown).
    """
    if goal.period == "fixed":
        return goal.fixed
    if goal.period == "horizon":
        if created is None or goal.horizon is None:
            return None
        return Period(created, created + timedelta(days=goal.horizon), "custom")
    return period


def evaluate_goals(
    goals: Iterable[GoalSpec],
    period: Period,
    figures: Callable[[Period], Metrics],
    *,
    created: Mapping[str, Any] | None = None,
    as_of: Any = None,
) -> list[GoalResult]:
    """Evaluate each goal over its window, with the trend against the window before.

    Args:
        goals: the goals to judge.
        period: the review period.
        figures: metric dicts for a window (`shequn.analytics.engine.compute` or a test table).
        created: creation date per community, for horizon goals.
        as_of: the day after the last day with data; a horizon window ending later is
            not yet due (measured up to `as_of`, status "pending").
    """
    results = []
    for goal in goals:
        window = goal_window(goal, period, (created or {}).get(goal.community))
        if window is None or goal.metric is None:
            results.append(evaluate_goal(goal, None, None, window=window))
            continue
        due = as_of is None or window.end <= as_of
        measured = window if due else Period(window.start, max(as_of, window.start), "custom")
        actual = _value(figures(measured), goal.community, goal.metric)
        before = None
        if goal.period != "horizon":
            before = _value(figures(previous(window)), goal.community, goal.metric)
        results.append(evaluate_goal(goal, actual, before, due=due, window=window))
    return results


def _value(metrics: Metrics, scope: str, metric: str) -> Any:
    return metrics.get(scope, {}).get(metric)


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
    results = tuple(goals)
    row = current.get(scope, {})
    # Community goals are targets for that community only, not for the sum of all of them.
    targets = stage_targets(r.goal for r in results) if scope != WORKSPACE else {}
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
