"""Goals as the review reads them, and their evaluation against measured values.

`shequn.config.Goal` holds what the operator wrote; `GoalSpec` is its normalized form
with the scope, the window kind (period or horizon) and the long-term goal it serves.
Evaluation is pure: it takes the measured value and the previous period's value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from shequn.config import Community, Goal
from shequn.errors import InputError
from shequn.review.periods import PERIOD_HINT, Period, parse_period

Status = Literal["met", "missed", "no_data", "pending", "untracked"]
Trend = Literal["better", "worse", "flat"]
_HORIZON = re.compile(r"^day\s*(\d+)$", re.IGNORECASE)
FLAT = 1e-9


@dataclass(frozen=True)
class GoalSpec:
    """A goal, normalized.

    Attributes:
        id: `<community>:long:<n>` or `<community>:short:<n>`.
        community: the community whose settings hold it.
        scope: "community" (this community) or "template" (every community of its template).
        level: "long" or "short".
        period: "review" (the review's period; written as week, month or nothing),
            "fixed" (its own dates, `fixed`) or "horizon" (days 0..horizon-1 after creation).
        serves: ids of the long-term goals a short-term goal serves.
    """

    id: str
    community: str
    text: str
    metric: str | None
    target: float | None
    direction: Literal["at_least", "at_most"]
    level: Literal["long", "short"]
    scope: Literal["community", "template"] = "community"
    period: Literal["review", "fixed", "horizon"] = "review"
    fixed: Period | None = None
    horizon: int | None = None
    serves: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoalResult:
    """A goal against its measured value."""

    goal: GoalSpec
    actual: float | None
    previous: float | None
    status: Status
    gap: float | None  # signed: > 0 means better than the target
    gap_ratio: float | None  # gap / |target|
    trend: Trend | None
    window: Period | None = None


def parse_goal_period(text: str | None, where: str) -> tuple[str, Period | None, int | None]:
    """Split a goal's `period` into (kind, fixed dates, horizon days)."""
    if text is None or text.strip().lower() in ("", "week", "month"):
        return "review", None, None
    if m := _HORIZON.match(text.strip()):
        return "horizon", None, int(m[1])
    try:
        return "fixed", parse_period(text, field=where), None
    except InputError:
        raise InputError(
            f"{text!r} is not a goal period",
            field=where,
            hint="write week, month, day 30, or " + PERIOD_HINT,
        ) from None


def community_goals(community: Community) -> list[GoalSpec]:
    """The goals of one community, long-term first; short-term ones serve the long-term ones."""
    specs: list[GoalSpec] = []
    long_ids = tuple(f"{community.key}:long:{i}" for i in range(len(community.long_term_goals)))
    for level, goals in (
        ("long", community.long_term_goals),
        ("short", community.short_term_goals),
    ):
        for i, goal in enumerate(goals):
            where = f"communities.{community.key}.{level}_term_goals.{i}.period"
            specs.append(_spec(community.key, level, i, goal, where, long_ids))
    return specs


def _spec(
    key: str, level: str, index: int, goal: Goal, where: str, long_ids: tuple[str, ...]
) -> GoalSpec:
    kind, fixed, horizon = parse_goal_period(goal.period, where)
    return GoalSpec(
        id=f"{key}:{level}:{index}",
        community=key,
        text=goal.text,
        metric=goal.metric,
        target=goal.target,
        direction=goal.direction,
        level=level,  # type: ignore[arg-type]
        period=kind,  # type: ignore[arg-type]
        fixed=fixed,
        horizon=horizon,
        serves=long_ids if level == "short" else (),
    )


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


def evaluate_goal(
    goal: GoalSpec,
    actual: object,
    previous: object = None,
    *,
    due: bool = True,
    window: Period | None = None,
) -> GoalResult:
    """Judge a goal: met or missed by how much, and the trend against the previous period.

    Args:
        goal: the goal.
        actual: the measured value over the goal's window (None: no data, e.g. a ratio
            whose denominator was 0).
        previous: the value over the window before, for the trend.
        due: False when a horizon goal's evaluation date has not come yet.
        window: the dates the value was measured over (shown in reports).
    """
    now, before = _number(actual), _number(previous)
    sign = 1.0 if goal.direction == "at_least" else -1.0
    trend: Trend | None = None
    if now is not None and before is not None:
        delta = sign * (now - before)
        trend = "flat" if abs(delta) < FLAT else ("better" if delta > 0 else "worse")
    if goal.metric is None or goal.target is None:
        return GoalResult(goal, now, before, "untracked", None, None, trend, window)
    if now is None:
        return GoalResult(goal, None, before, "no_data", None, None, trend, window)
    gap = sign * (now - goal.target)
    ratio = gap / abs(goal.target) if goal.target else None
    status: Status = "met" if gap >= -FLAT else "missed"
    if not due:
        status = "pending"
    return GoalResult(goal, now, before, status, gap, ratio, trend, window)
