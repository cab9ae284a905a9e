"""The review (复盘) as data: pure functions from metric dicts and goals to a `Review`.

Renderers (shequn.reports) turn a `Review` into terminal, Markdown, HTML or Excel output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from shequn.goals.evaluate import GoalResult
from shequn.members.flow import Flow
from shequn.periods import Period, previous
from shequn.review.diagnosis import Diagnosis, combine, diagnose_goals, largest_decline
from shequn.review.drivers import (
    Driver,
    channel_buyer_drivers,
    channel_traffic_drivers,
    cohort_drivers,
    community_drivers,
)
from shequn.review.evaluation import arrange
from shequn.review.funnel import Funnel, funnel_of, stage_targets
from shequn.review.knowledge import Action, actions_for
from shequn.review.playbook_runs import PlaybookRun
from shequn.review.quality import Warning
from shequn.review.replication import ReplicationRate
from shequn.review.sections import Section

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
    diagnosis: Diagnosis
    drivers: tuple[Driver, ...]
    actions: tuple[Action, ...]
    replication: tuple[ReplicationRate, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    currency: str = "CNY"
    warnings: tuple[Warning, ...] = ()
    runs: Mapping[str, PlaybookRun] = field(default_factory=dict)
    figures: Mapping[str, Any] = field(default_factory=dict)  # the scope's, this period
    figures_before: Mapping[str, Any] = field(default_factory=dict)
    extra: tuple[Section, ...] = ()  # features' own sections (review.sections)
    member_flow: tuple[Flow, ...] = ()  # lifecycle moves (shequn.review.members_section)
    bot: Mapping[str, float | int | None] = field(default_factory=dict)  # the group bot's figures


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
    warnings: Iterable[Warning] = (),
    runs: Mapping[str, PlaybookRun] | None = None,
    window_figures: Callable[[Period], Metrics] | None = None,
    extra: Iterable[Section] = (),
    bot: Mapping[str, float | int | None] | None = None,
) -> Review:
    """Assemble the review of `scope` for `period` from metric dicts and judged goals.

    Args:
        lang, scope, period: zh_CN or en; a community key or "*"; the review period.
        current, before: `compute` output for `period` and for the period before it.
        goals, knowledge: the judged goals of the scope; the actions to suggest from.
        replication, names, currency: rates per template; display names; money unit.
        warnings, runs: the scope's data-quality warnings; what each playbook did.
        window_figures: `compute` output for any window (a goal over its own dates).
        extra: sections of other features (experiments, activities), shown last.
        bot: the group bot's figures of the scope (shequn.bot.report), if any.
    """
    names = dict(names or {})
    results = tuple(arrange(goals))
    row, row_before = current.get(scope, {}), before.get(scope, {})
    # Only the scope's own goals, over exactly this period, are its stages' targets.
    own = [r for r in results if r.goal.community == scope]
    targets = stage_targets(r.goal for r in own if r.window == period and not r.units)
    diagnosis = _diagnose(results, scope, period, current, before, window_figures)
    drivers = _drivers(current, scope, diagnosis, results, names)
    drivers += cohort_drivers(row, row_before, period.label, previous(period).label)
    return Review(
        lang=lang,
        scope=scope,
        scope_name=names.get(scope, scope),
        period=period,
        previous=previous(period),
        goals=results,
        funnel=funnel_of(row, row_before, targets),
        diagnosis=diagnosis,
        drivers=tuple(drivers),
        actions=tuple(actions_for(knowledge, diagnosis.stages)),
        replication=tuple(replication),
        names=names,
        currency=currency,
        warnings=tuple(warnings),
        runs=dict(runs or {}),
        figures=row,
        figures_before=row_before,
        extra=tuple(extra),
        bot=dict(bot or {}),
    )


def _diagnose(
    results: tuple[GoalResult, ...],
    scope: str,
    period: Period,
    current: Metrics,
    before: Metrics,
    window_figures: Callable[[Period], Metrics] | None,
) -> Diagnosis:
    """Goal first and per community: each community's goals on its own figures, over
    each goal's window; the workspace review covers every community."""
    communities = [scope]
    if scope == WORKSPACE:
        communities += sorted({r.goal.community for r in results} - {WORKSPACE})
    parts = []
    for community in communities:
        own = [r for r in results if r.goal.community == community]
        windows = dict.fromkeys(r.window or period for r in own) or {period: None}
        for window in windows:
            group = [r for r in own if (r.window or period) == window]
            if window == period or window_figures is None:
                now, then = current.get(community, {}), before.get(community, {})
                declared = stage_targets(r.goal for r in group if not r.units)
            else:
                now = window_figures(window).get(community, {})
                then = window_figures(previous(window)).get(community, {})
                declared = {}
            parts.append(diagnose_goals(group, now, then, declared))
    return combine(parts, largest_decline(current.get(scope, {}), before.get(scope, {})))


def _drivers(
    current: Metrics,
    scope: str,
    diagnosis: Diagnosis,
    results: tuple[GoalResult, ...],
    names: Mapping[str, str],
) -> list[Driver]:
    by_channel = current.get(scope, {}).get("by_channel") or {}
    found = channel_buyer_drivers(by_channel) + channel_traffic_drivers(by_channel)
    if scope == WORKSPACE:
        focus = diagnosis.focus
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
