"""The diagnosis of a review: goal first, then the funnel stages that feed each goal.

For each goal of the scope missed over the review period, the stages that feed it are
judged, each against its own target:

- the goal's own target, for the stage whose metric the goal is on;
- a goal on that stage's metric over the same period (declared in settings);
- else the stage's previous level: it failed only if it fell *significantly* (a
  one-sided two-proportion test at `ALPHA`).

A stage whose base (the members, buyers or visits its rate is taken over) is below
`MIN_BASE` in a period is "not enough data", never a finding. The failed stage of a
goal is the one furthest short of its target, relative to the target. Only when no goal
is missed (or none is set) does the diagnosis look for the largest significant decline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from shequn.domain.metrics import BY_NAME, METRICS
from shequn.goals.evaluate import GoalResult
from shequn.review.funnel import STAGE_OF_METRIC, STAGES

MIN_BASE = 30
ALPHA = 0.05
# The funnel stages (by metric) that feed a goal on each metric, upstream first; the
# goal's own metric is judged against the goal's target.
FEEDS: dict[str, tuple[str, ...]] = {
    "traffic_conversion": ("traffic_conversion",),
    "joins": ("traffic_conversion",),
    "growth_rate": ("traffic_conversion", "churn_rate"),
    "net_growth": ("traffic_conversion", "churn_rate"),
    "active_rate": ("active_rate",),
    "speaking_rate": ("active_rate",),
    "stickiness": ("active_rate",),
    "messages": ("active_rate",),
    "purchase_conversion": ("active_rate", "purchase_conversion"),
    "buyers": ("active_rate", "purchase_conversion"),
    "gmv": ("active_rate", "purchase_conversion", "repurchase_rate"),
    "repurchase_rate": ("purchase_conversion", "repurchase_rate"),
    "churn_rate": ("active_rate", "churn_rate"),
    "k_factor": ("active_rate", "k_factor"),
    "fission_multiplier": ("active_rate", "k_factor"),
}
# Stage metrics where lower is better.
LOWER_IS_BETTER = frozenset({"churn_rate"})
# Rates that are no proportion (a member may invite several): tested as Poisson rates.
UNBOUNDED = frozenset({"k_factor"})

Verdict = Literal["met", "missed", "not_enough_data", "no_data"]
Source = Literal["goal", "declared", "previous"]


def base_metric(metric: str) -> str | None:
    """The count metric a rate is taken over (``active_rate`` → ``members_during``)."""
    per = BY_NAME[metric].per if metric in BY_NAME else None
    return next((m.name for m in METRICS if m.kind == "count" and m.value == per), None)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float | Decimal) else None


@dataclass(frozen=True)
class StageCheck:
    """One stage that feeds a goal, against its own target."""

    stage: str
    metric: str
    actual: float | None
    target: float | None
    source: Source
    verdict: Verdict
    base: int | None  # the count the rate is over, this period
    p_value: float | None = None  # against the previous level

    @property
    def shortfall(self) -> float:
        """How far worse than the target, relative to it (0 when met or unknown)."""
        if self.verdict != "missed" or self.actual is None or not self.target:
            return 0.0
        gap = self.actual - self.target
        return abs(gap / self.target)


@dataclass(frozen=True)
class GoalDiagnosis:
    """A missed goal, the stages that feed it, and the one that failed."""

    result: GoalResult
    checks: tuple[StageCheck, ...]
    failed: StageCheck | None


@dataclass(frozen=True)
class Decline:
    """A stage that fell significantly against the previous period."""

    stage: str
    metric: str
    actual: float
    previous: float
    base: int
    base_before: int
    p_value: float

    @property
    def change(self) -> float:
        return (self.actual - self.previous) / self.previous if self.previous else 0.0


@dataclass(frozen=True)
class Diagnosis:
    """What the review concludes, in order of importance."""

    state: Literal["no_goals", "unjudged", "missed", "met"]
    missed: tuple[GoalDiagnosis, ...]
    decline: Decline | None

    @property
    def focus(self) -> str | None:
        """The metric the review is about: the first failed stage, else the decline."""
        for found in self.missed:
            if found.failed is not None:
                return found.failed.metric
        return self.decline.metric if self.decline else None

    @property
    def stages(self) -> list[str]:
        """The stages to suggest actions for."""
        found = [d.failed.stage for d in self.missed if d.failed is not None]
        found += [STAGE_OF_METRIC[d.result.goal.metric or ""] for d in self.missed if not d.failed]
        if self.decline:
            found.append(self.decline.stage)
        return list(dict.fromkeys(found))


def decline_p(now: float, base: float, before: float, base_before: float, bounded: bool) -> float:
    """One-sided p-value that the rate fell from `before` to `now` (two-proportion z-test;
    for unbounded rates the Poisson variance)."""
    pooled = (now * base + before * base_before) / (base + base_before)
    variance = pooled * (1 - pooled) if bounded else pooled
    se = math.sqrt(max(variance, 0.0) * (1 / base + 1 / base_before))
    if se == 0:
        return 1.0
    return 0.5 * math.erfc(((before - now) / se) / math.sqrt(2))


class _Rows:
    """The scope's metric values this period and the one before."""

    def __init__(self, current: Mapping[str, Any], before: Mapping[str, Any]) -> None:
        self.current, self.before = current, before

    def value(self, metric: str, previous: bool = False) -> float | None:
        return _num((self.before if previous else self.current).get(metric))

    def base(self, metric: str, previous: bool = False) -> int | None:
        name = base_metric(metric)
        value = self.value(name, previous) if name else None
        return int(value) if value is not None else None

    def fell(self, metric: str) -> tuple[bool, float | None]:
        """Whether `metric` fell significantly, and the p-value (None: not testable)."""
        now, then = self.value(metric), self.value(metric, True)
        n_now, n_then = self.base(metric), self.base(metric, True)
        if None in (now, then, n_now, n_then) or min(n_now or 0, n_then or 0) < MIN_BASE:
            return False, None
        assert now is not None and then is not None and n_now and n_then
        if metric in LOWER_IS_BETTER:  # worse is a rise: test the periods the other way
            p = decline_p(then, n_then, now, n_now, True)
        else:
            p = decline_p(now, n_now, then, n_then, metric not in UNBOUNDED)
        return p < ALPHA, p


def _check(rows: _Rows, metric: str, goal: GoalResult, declared: Mapping[str, float]) -> StageCheck:
    stage, actual, base = STAGE_OF_METRIC[metric], rows.value(metric), rows.base(metric)
    source: Source = "previous"
    target = rows.value(metric, True)
    if metric == goal.goal.metric:
        target, source = goal.goal.target, "goal"
    elif metric in declared:
        target, source = declared[metric], "declared"
    if actual is None:
        return StageCheck(stage, metric, None, target, source, "no_data", base)
    if base is None or base < MIN_BASE:
        return StageCheck(stage, metric, actual, target, source, "not_enough_data", base)
    if source == "previous":
        fell, p = rows.fell(metric)
        verdict: Verdict = "missed" if fell else ("met" if p is not None else "not_enough_data")
        return StageCheck(stage, metric, actual, target, source, verdict, base, p)
    lower = metric in LOWER_IS_BETTER or (source == "goal" and goal.goal.direction == "at_most")
    worse = target is not None and (actual > target if lower else actual < target)
    return StageCheck(stage, metric, actual, target, source, "missed" if worse else "met", base)


def diagnose_goals(
    results: Iterable[GoalResult],
    current: Mapping[str, Any],
    before: Mapping[str, Any],
    declared: Mapping[str, float],
) -> Diagnosis:
    """The diagnosis of one scope.

    Args:
        results: the scope's goals judged over the review period (units excluded).
        current: the scope's metric values over the review period.
        before: the same over the previous period.
        declared: stage targets from goals on stage metrics over the review period.
    """
    results = [r for r in results if r.goal.metric and r.goal.target is not None]
    rows = _Rows(current, before)
    missed = []
    for result in results:
        if result.status != "missed" or result.goal.metric not in FEEDS:
            continue
        checks = tuple(_check(rows, m, result, declared) for m in FEEDS[result.goal.metric])
        short = [c for c in checks if c.verdict == "missed"]
        failed = max(short, key=lambda c: c.shortfall, default=None)
        missed.append(GoalDiagnosis(result, checks, failed))
    if missed:
        return Diagnosis("missed", tuple(missed), None)
    judged = [r for r in results if r.status in ("met", "missed")]
    state: Literal["no_goals", "unjudged", "met"] = (
        "met" if judged else ("unjudged" if results else "no_goals")
    )
    return Diagnosis(state, (), largest_decline(current, before))


def combine(parts: Iterable[Diagnosis], decline: Decline | None) -> Diagnosis:
    """One diagnosis from those of several communities (or goal windows); `decline` is
    the reviewed scope's, named only when no goal is missed."""
    parts = list(parts)
    missed = tuple(found for part in parts for found in part.missed)
    if missed:
        return Diagnosis("missed", missed, None)
    states = {part.state for part in parts}
    state: Literal["no_goals", "unjudged", "met"] = (
        "met" if "met" in states else ("unjudged" if "unjudged" in states else "no_goals")
    )
    return Diagnosis(state, (), decline)


def largest_decline(current: Mapping[str, Any], before: Mapping[str, Any]) -> Decline | None:
    """The funnel stage with the largest relative fall among significant ones."""
    rows = _Rows(current, before)
    found = []
    for stage, metric in (*STAGES, ("retention", "churn_rate")):
        fell, p = rows.fell(metric)
        if not fell or p is None:
            continue
        now, then = rows.value(metric), rows.value(metric, True)
        base, base_before = rows.base(metric), rows.base(metric, True)
        assert now is not None and then is not None and base and base_before
        found.append(Decline(stage, metric, now, then, base, base_before, p))
    return max(found, key=lambda d: abs(d.change), default=None)
