"""Which goals a review shows, over which windows, and their results.

- No period: judged over the review period.
- `week` / `month`: each week (by its Thursday, ISO style) or whole month of the review
  period, with a summary ("3 of 4 weeks met"); over the review period itself when no
  week or month belongs to it.
- Fixed dates (`2026-10`, `2026-W43`, from/to): shown when they overlap the review period.
- A horizon (`day N`): shown when its evaluation date (creation + N days) falls in the
  review period, or while it is still running (not yet due, with the value so far).
- A long-term goal is also shown when a milestone serving it is, so milestones always
  appear under the goal they serve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from shequn.goals.evaluate import FLAT, GoalResult, GoalSpec, Status, Trend, evaluate_goal
from shequn.periods import Period, previous, units

Metrics = Mapping[str, Mapping[str, Any]]
Figures = Callable[[Period], Metrics]


def goal_window(goal: GoalSpec, period: Period, created: date | None = None) -> Period | None:
    """The dates a goal is measured over in a review of `period`.

    Review-period goals (and week or month goals) use `period`; fixed goals their own
    dates; horizon goals days 0..N-1 after the community's creation `created` (None
    when unknown).
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
    figures: Figures,
    *,
    created: Mapping[str, date] | None = None,
    as_of: date | None = None,
) -> list[GoalResult]:
    """The goals a review of `period` shows, judged, long-term goals before their milestones.

    Args:
        goals: every goal of the scope under review.
        period: the review period.
        figures: metric dicts for a window (`shequn.analytics.engine.compute` or a test table).
        created: creation date per community, for horizon goals.
        as_of: the day after the last day with data; a window ending later is not yet
            due (measured up to `as_of`, status "pending"). None: everything is due.
    """
    goals = list(goals)
    created = created or {}
    shown: list[GoalResult] = []
    for goal in goals:
        result = _review_result(goal, period, figures, created.get(goal.community), as_of)
        if result is not None:
            shown.append(result)
    served = {s for r in shown for s in r.goal.serves}
    ids = {r.goal.id for r in shown}
    for goal in goals:
        if goal.id in served and goal.id not in ids:
            window = goal_window(goal, period, created.get(goal.community))
            shown.append(judge(goal, window, figures, as_of))
    return arrange(shown)


def _review_result(
    goal: GoalSpec, period: Period, figures: Figures, created: date | None, as_of: date | None
) -> GoalResult | None:
    if goal.period in ("week", "month") and goal.metric is not None:
        parts = units(goal.period, period)
        if parts and parts != [period]:
            return recurring(goal, period, parts, figures, as_of)
    window = goal_window(goal, period, created)
    if window is not None and goal.period in ("fixed", "horizon"):
        due = as_of is None or window.end <= as_of
        overlaps = window.start < period.end and period.start < window.end
        judged_now = period.start <= window.end < period.end
        if goal.period == "fixed" and not overlaps:
            return None
        if goal.period == "horizon" and not (judged_now or (not due and overlaps)):
            return None
    return judge(goal, window, figures, as_of)


def judge(
    goal: GoalSpec,
    window: Period | None,
    figures: Figures,
    as_of: date | None,
    *,
    trend: bool = True,
) -> GoalResult:
    """One goal over one window, with the trend against the window before (not for horizons)."""
    if window is None or goal.metric is None:
        return evaluate_goal(goal, None, None, window=window)
    due = as_of is None or window.end <= as_of
    if as_of is not None and as_of <= window.start:
        return evaluate_goal(goal, None, None, due=False, window=window)  # not begun yet
    measured = window if due or as_of is None else Period(window.start, as_of, "custom")
    actual = _value(figures(measured), goal.community, goal.metric)
    before = None
    if trend and goal.period != "horizon":
        before = _value(figures(previous(window)), goal.community, goal.metric)
    return evaluate_goal(goal, actual, before, due=due, window=window)


def recurring(
    goal: GoalSpec, period: Period, parts: list[Period], figures: Figures, as_of: date | None
) -> GoalResult:
    """A week or month goal over each of `parts`, summed up: met when every part is met.

    The trend compares the share of parts met with the previous period's.
    """
    results = tuple(judge(goal, p, figures, as_of) for p in parts)
    earlier = [
        judge(goal, p, figures, as_of, trend=False) for p in units(goal.period, previous(period))
    ]
    met = sum(1 for r in results if r.status == "met")
    before_met = sum(1 for r in earlier if r.status == "met")
    trend: Trend | None = None
    if earlier:
        delta = met / len(results) - before_met / len(earlier)
        trend = "flat" if abs(delta) < FLAT else ("better" if delta > 0 else "worse")
    return GoalResult(
        goal,
        None,
        None,
        _summary_status([r.status for r in results]),
        None,
        None,
        trend,
        window=period,
        units=results,
        met_units=met,
        previous_met=(before_met, len(earlier)) if earlier else None,
    )


def _summary_status(statuses: list[Status]) -> Status:
    if all(s == "met" for s in statuses):
        return "met"
    if all(s in ("met", "pending") for s in statuses):
        return "pending"
    if all(s == "no_data" for s in statuses):
        return "no_data"
    return "missed"


def arrange(results: Iterable[GoalResult]) -> list[GoalResult]:
    """Long-term goals in order, each followed by the milestones that serve it; then the rest."""
    results = list(results)
    ids = {r.goal.id for r in results}
    placed: set[str] = set()
    ordered: list[GoalResult] = []
    for long in (r for r in results if r.goal.level == "long"):
        ordered.append(long)
        for short in results:
            if short.goal.level != "short" or short.goal.id in placed:
                continue
            first = next((s for s in short.goal.serves if s in ids), None)
            if first == long.goal.id:
                ordered.append(short)
                placed.add(short.goal.id)
    ordered += [r for r in results if r.goal.level == "short" and r.goal.id not in placed]
    return ordered


def milestones(result: GoalResult, results: Iterable[GoalResult]) -> tuple[int, int]:
    """(milestones met, milestones) of a long-term goal among `results`."""
    serving = [r for r in results if result.goal.id in r.goal.serves]
    return sum(1 for r in serving if r.status == "met"), len(serving)


def _value(metrics: Metrics, scope: str, metric: str) -> Any:
    return metrics.get(scope, {}).get(metric)
