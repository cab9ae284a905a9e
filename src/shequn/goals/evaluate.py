"""Goals as the review reads them, and their evaluation against measured values.

`shequn.config.Goal` holds what the operator wrote and `shequn.goals.gather` gathers them;
`GoalSpec` is the normalized form, one per community a goal applies to, with the window
kind (period or horizon) and the long-term goals it serves. Evaluation is pure: it
takes the measured value and the previous period's value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from shequn.config import Goal, Settings
from shequn.errors import InputError
from shequn.goals.gather import TEMPLATE, WORKSPACE, GoalEntry
from shequn.periods import PERIOD_HINT, Period, horizon_days, parse_period

Status = Literal["met", "missed", "no_data", "pending", "untracked"]
Trend = Literal["better", "worse", "flat"]
Scope = Literal["community", "template", "workspace"]
# The window a goal is measured over: the review's, a calendar week or month, fixed
# dates, or a horizon of days from the community's start.
GoalWindow = Literal["review", "week", "month", "fixed", "horizon"]
_CALENDAR: dict[str, GoalWindow] = {"week": "week", "month": "month"}
FLAT = 1e-9


@dataclass(frozen=True)
class GoalSpec:
    """A goal, normalized: one per community it applies to.

    Attributes:
        id: the goal's id (`<id>@<community>` for each community of a template goal);
            goals without an id get `<community>:long:<n>` or `<file>:short:<n>`.
        community: the community it is measured for, or "*" for the whole workspace.
        scope: "community", "template" (one of a template's communities) or "workspace".
        level: "long" or "short".
        period: "review" (no period: the review's period), "week" or "month" (each week
            or month of the review period), "fixed" (its own dates, `fixed`) or
            "horizon" (days 0..horizon-1 after the community's creation).
        serves: ids of the long-term goals a short-term goal serves.
    """

    id: str
    community: str
    text: str
    metric: str | None
    target: float | None
    direction: Literal["at_least", "at_most"]
    level: Literal["long", "short"]
    scope: Scope = "community"
    period: GoalWindow = "review"
    fixed: Period | None = None
    horizon: int | None = None
    serves: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoalResult:
    """A goal against its measured value.

    A week or month goal reviewed over a longer period is one result per week or month
    (`units`) under a summary result whose `met_units` counts the units met.
    """

    goal: GoalSpec
    actual: float | None
    previous: float | None
    status: Status
    gap: float | None  # signed: > 0 means better than the target
    gap_ratio: float | None  # gap / |target|
    trend: Trend | None
    window: Period | None = None
    units: tuple[GoalResult, ...] = ()
    met_units: int | None = None
    previous_met: tuple[int, int] | None = None  # (met, of) over the previous period


def parse_goal_period(text: str | None, where: str) -> tuple[GoalWindow, Period | None, int | None]:
    """Split a goal's `period` into (kind, fixed dates, horizon days)."""
    if text is None or not text.strip():
        return "review", None, None
    if (calendar := _CALENDAR.get(text.strip().lower())) is not None:
        return calendar, None, None
    if (days := horizon_days(text, bare=False)) is not None:
        return "horizon", None, days
    try:
        return "fixed", parse_period(text, field=where), None
    except InputError:
        raise InputError(
            f"{text!r} is not a goal period",
            field=where,
            hint="write week, month, day 30, or " + PERIOD_HINT,
        ) from None


def _window(goal: Goal) -> tuple[GoalWindow, Period | None, int | None]:
    if goal.horizon is not None:
        return "horizon", None, goal.horizon
    if goal.from_ is not None and goal.to is not None:
        return "fixed", Period(goal.from_, goal.to, "custom"), None
    return parse_goal_period(goal.period, "period")


def goal_specs(entries: Iterable[GoalEntry], settings: Settings) -> list[GoalSpec]:
    """One spec per goal and community it applies to, with `serves` resolved.

    A milestone serves the instance of its long-term goal for the same community (else
    the workspace's, else every instance). A short-term goal without `serves` in a
    community block (or file) serves the long-term goals beside it, as before ids.
    """
    entries = list(entries)
    by_template: dict[str, list[str]] = {}
    for c in settings.communities:
        by_template.setdefault(c.template, []).append(c.key)
    instances: dict[str, dict[str, str]] = {}
    for e in entries:
        instances[e.id] = {c: _spec_id(e, c) for c in _communities(e, by_template)}
    specs = []
    for e in entries:
        served = [e.goal.serves] if e.goal.serves else []
        if e.level == "short" and not served:
            served = [x.id for x in entries if x.level == "long" and x.group == e.group]
        for community in _communities(e, by_template):
            serves = tuple(
                sid for s in served for sid in _instance(instances.get(s, {}), community)
            )
            specs.append(_spec(e, community, serves))
    return specs


def _communities(e: GoalEntry, by_template: dict[str, list[str]]) -> list[str]:
    if e.scope.startswith(TEMPLATE):
        return by_template.get(e.scope.removeprefix(TEMPLATE), [])
    return [e.scope]


def _spec_id(e: GoalEntry, community: str) -> str:
    return f"{e.id}@{community}" if e.scope.startswith(TEMPLATE) else e.id


def _instance(ids: dict[str, str], community: str) -> list[str]:
    if community in ids:
        return [ids[community]]
    if WORKSPACE in ids:
        return [ids[WORKSPACE]]
    return list(ids.values())


def _spec(e: GoalEntry, community: str, serves: tuple[str, ...]) -> GoalSpec:
    kind, fixed, horizon = _window(e.goal)
    scope: Scope = "template" if e.scope.startswith(TEMPLATE) else "community"
    return GoalSpec(
        id=_spec_id(e, community),
        community=community,
        text=e.goal.label,
        metric=e.goal.metric,
        target=e.goal.target,
        direction=e.goal.direction,
        level=e.level,
        scope="workspace" if community == WORKSPACE else scope,
        period=kind,
        fixed=fixed,
        horizon=horizon,
        serves=serves,
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
        status: Status = "no_data" if due else "pending"
        return GoalResult(goal, None, before, status, None, None, trend, window)
    gap = sign * (now - goal.target)
    ratio = gap / abs(goal.target) if goal.target else None
    status = "met" if gap >= -FLAT else "missed"
    if not due:
        status = "pending"
    return GoalResult(goal, now, before, status, gap, ratio, trend, window)
