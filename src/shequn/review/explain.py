"""The diagnosis, the data-quality warnings and the playbooks' outcomes as sentences."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shequn.review.diagnosis import MIN_BASE, Decline, GoalDiagnosis, StageCheck
from shequn.review.funnel import STAGES
from shequn.review.i18n import fmt_share, fmt_value, metric_label, t
from shequn.review.quality import Warning
from shequn.review.texts import say, stage_name

if TYPE_CHECKING:
    from shequn.goals.evaluate import GoalResult
    from shequn.review.build import Review

# The metric an action's stage moves (stages outside the funnel included).
STAGE_METRIC = dict(STAGES) | {"retention": "churn_rate", "growth": "growth_rate"}


def _p(p: float | None) -> str:
    return "—" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def diagnosis_text(review: Review) -> str:
    """The funnel section's headline: goal first, then what failed, or the decline."""
    lang, found = review.lang, review.diagnosis
    sep = say(lang, "sep")
    if found.state == "missed":
        return sep.join(_where(review, d) + _missed(lang, d) for d in found.missed)
    head = say(lang, f"diag.{found.state}", scope=review.scope_name)
    if found.decline is None:
        return head + sep + say(lang, "diag.no_decline", min=MIN_BASE)
    return head + sep + _decline(lang, found.decline)


def _where(review: Review, found: GoalDiagnosis) -> str:
    """The community of a goal, in a review of several ("" in a community's own)."""
    community = found.result.goal.community
    if community == review.scope:
        return ""
    return say(review.lang, "diag.in", community=review.names.get(community, community))


def _missed(lang: str, found: GoalDiagnosis) -> str:
    goal, result = found.result.goal, found.result
    metric = goal.metric or ""
    head = say(
        lang,
        "diag.missed",
        goal=goal.text,
        metric=metric_label(lang, metric),
        actual=_actual(lang, result),
        direction=say(lang, f"direction.{goal.direction}"),
        target=fmt_value(metric, goal.target),
    )
    sep = say(lang, "sep")
    if found.failed is not None:
        return head + sep + _failed(lang, found.failed)
    thin = [stage_name(lang, c.stage) for c in found.checks if c.verdict == "not_enough_data"]
    why = say(lang, "diag.unclear.data", stages=", ".join(thin)) if thin else ""
    return head + sep + say(lang, "diag.unclear", why=why)


def _actual(lang: str, result: GoalResult) -> str:
    """The figure a goal was judged on; for a goal judged per week or month, how many of
    those were met (it has no single figure)."""
    if result.actual is None and result.units and result.met_units is not None:
        kind = f"units.{result.goal.period}"
        return t(lang, kind, met=result.met_units, total=len(result.units))
    return fmt_value(result.goal.metric or "", result.actual)


def _failed(lang: str, check: StageCheck) -> str:
    against = say(
        lang,
        f"against.{check.source}",
        target=fmt_value(check.metric, check.target),
        p=_p(check.p_value),
    )
    about = _stage(lang, check.stage, check.metric, check.actual)
    return say(lang, "diag.failed", against=against, **about)


def _decline(lang: str, decline: Decline) -> str:
    about = _stage(lang, decline.stage, decline.metric, decline.actual)
    return say(
        lang,
        "diag.decline",
        previous=fmt_value(decline.metric, decline.previous),
        share=fmt_share(decline.change),
        base_before=f"{decline.base_before:,}",
        base=f"{decline.base:,}",
        p=_p(decline.p_value),
        **about,
    )


def _stage(lang: str, stage: str, metric: str, actual: float | None) -> dict[str, str]:
    """A stage's name, its metric's name and value, as the sentences use them."""
    return {
        "stage": stage_name(lang, stage),
        "metric": metric_label(lang, metric),
        "actual": fmt_value(metric, actual),
    }


def warning_text(lang: str, scope: str, warning: Warning) -> str:
    """One data-quality warning as a sentence."""
    return say(lang, f"quality.{warning.key}", scope=scope, **warning.values)


def ran_text(review: Review, playbook: str, stage: str) -> str:
    """What a suggested playbook did in the period, and its stage's metric before → after."""
    lang, run = review.lang, review.runs.get(playbook)
    if run is None:
        return say(lang, "ran.none", playbook=playbook)
    done = say(
        lang,
        "ran",
        playbook=playbook,
        sent=run.sent,
        on_time=run.on_time,
        done=run.done,
        missed=run.missed,
    )
    metric = STAGE_METRIC.get(stage)
    if metric is None:
        return done
    before = fmt_value(metric, _value(review.figures_before.get(metric)))
    after = fmt_value(metric, _value(review.figures.get(metric)))
    return f"{done}{say(lang, 'ran.sep')}{metric_label(lang, metric)} {before} → {after}"


def _value(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
