"""The review's experiments section: for each SOP step with an experiment, whether it
moved its outcome (experiments.results)."""

from __future__ import annotations

from datetime import datetime

from shequn.clock import FrozenClock
from shequn.review.i18n import t
from shequn.review.sections import Section
from shequn.workspace import Workspace


def _pct(value: float) -> str:
    return "–" if value != value else f"{value:+.1%}"  # NaN: not measured


def experiments_section(ws: Workspace, lang: str, now: datetime) -> Section:
    """One row per comparison of each experiment, as of `now`."""
    from shequn.experiments.results import results

    rows = []
    for r in results(ws, FrozenClock(now)):
        spec = r.declared.step.experiment
        assert spec is not None
        for c in r.comparisons:
            rows.append(
                (
                    r.declared.id,
                    spec.outcome,
                    r.status,
                    f"{c.arm} {c.n} vs {c.reference} {c.n_reference}",
                    _pct(c.diff),
                    f"{_pct(c.low)} … {_pct(c.high)}",
                    "–" if c.p_value != c.p_value else f"{c.p_value:.3f}",
                    "–" if c.mde != c.mde else f"±{c.mde:.1%}",
                    c.verdict if r.final else f"({r.status}) {c.verdict}",
                )
            )
    note = t(lang, "experiments.rule") if rows else t(lang, "experiments.none")
    columns = tuple(t(lang, "experiments.cols").split("|"))
    return Section("experiments", t(lang, "section.experiments"), columns, tuple(rows), note)
