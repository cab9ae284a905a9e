"""Replication success rate (复制成功率) per template (docs/metrics.md, "Goals and replication").

A community is evaluated at its evaluation date: its creation (first event) plus the
longest `day N` horizon among its goals, or `DEFAULT_HORIZON` days when it has none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shequn.goals.evaluate import GoalResult

DEFAULT_HORIZON = 30


@dataclass(frozen=True)
class CommunityOutcome:
    """One community's goals at its evaluation date."""

    community: str
    template: str
    reached: bool
    results: tuple[GoalResult, ...] = ()

    @property
    def judged(self) -> bool:
        """Reached its evaluation date and has at least one goal with a metric and target."""
        return self.reached and any(r.status != "untracked" for r in self.results)

    @property
    def all_met(self) -> bool:
        """Every goal with a metric and target was met (no data counts as not met)."""
        tracked = [r for r in self.results if r.status != "untracked"]
        return bool(tracked) and all(r.status == "met" for r in tracked)


@dataclass(frozen=True)
class ReplicationRate:
    """The rate for one template, with its numerator and denominator."""

    template: str
    met: int
    reached: int
    communities: int

    @property
    def rate(self) -> float | None:
        return self.met / self.reached if self.reached else None


def replication_rates(outcomes: Iterable[CommunityOutcome]) -> list[ReplicationRate]:
    """Per template (communities without a template are left out), sorted by template.

    `reached` counts the communities that reached their evaluation date and have goals to
    judge; `met` those of them whose goals were all met; `communities` all of the template.
    """
    groups: dict[str, list[CommunityOutcome]] = {}
    for outcome in outcomes:
        if outcome.template:
            groups.setdefault(outcome.template, []).append(outcome)
    return [
        ReplicationRate(
            template,
            met=sum(1 for o in group if o.judged and o.all_met),
            reached=sum(1 for o in group if o.judged),
            communities=len(group),
        )
        for template, group in sorted(groups.items())
    ]
